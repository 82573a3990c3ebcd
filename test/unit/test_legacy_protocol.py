"""The 2017 UDP codec and legacy clock: byte-exact packets, exact times, malformed input dropped."""

import struct

import numpy as np
import pytest

from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP
from neurohybrid.legacy.protocol import (
    FIELD_MAX,
    HALF_WRAP_TICKS,
    SENDER_AXON,
    SENDER_DENDRITE,
    SENDER_SYNAPSE,
    TICK_NS,
    WRAP_TICKS,
    LegacyClock,
    decode,
    encode,
    encode_synapse,
    spike_kinds,
    weight_to_byte,
)

EDGE_IDS = [0, 1, 2**23 - 1, 2**23, FIELD_MAX - 1, FIELD_MAX]
EDGE_TICKS = [0, 1, 2**23, FIELD_MAX, 12345, FIELD_MAX - 1]


def test_dendrite_packets_round_trip_ids_kinds_and_ticks_exactly_at_24_bit_edges():
    kinds = [0, 1, 2, 0, 1, 2]
    packets = decode(encode(SENDER_DENDRITE, EDGE_IDS, kinds, EDGE_TICKS)).packets
    assert packets.sender.tolist() == [SENDER_DENDRITE] * 6
    assert packets.neuron_id.tolist() == EDGE_IDS
    assert packets.kind.tolist() == kinds
    assert packets.ticks.tolist() == EDGE_TICKS


def test_synapse_packets_round_trip_post_ids_weight_bytes_and_ticks():
    weights = [0, 1, 127, 128, 254, 255]
    packets = decode(encode_synapse(EDGE_IDS, weights, EDGE_TICKS)).packets
    assert packets.sender.tolist() == [SENDER_SYNAPSE] * 6
    assert packets.neuron_id.tolist() == EDGE_IDS
    assert packets.weight_byte.tolist() == weights
    assert packets.ticks.tolist() == EDGE_TICKS


def test_encoded_bytes_equal_struct_pack_of_the_published_layout():
    rng = np.random.default_rng(7)
    n = 500
    sender = rng.choice([SENDER_AXON, SENDER_DENDRITE, SENDER_SYNAPSE], n)
    ids = rng.integers(0, FIELD_MAX + 1, n)
    tag = rng.integers(0, 3, n)
    ticks = rng.integers(0, FIELD_MAX + 1, n)
    expected = [struct.pack("!II", (int(s) << 24) | int(i), (int(k) << 24) | int(t))
                for s, i, k, t in zip(sender, ids, tag, ticks)]
    assert encode(sender, ids, tag, ticks) == expected


def test_known_packet_bytes_from_the_protocol_description():
    # 'D', neuron 21, spontaneous AP (2) at tick 0x0A0B0C
    assert encode(SENDER_DENDRITE, 21, 2, 0x0A0B0C) == [b"D\x00\x00\x15\x02\x0a\x0b\x0c"]
    assert encode_synapse(63, 200, 1) == [b"S\x00\x00\x3f\xc8\x00\x00\x01"]


def test_a_single_bytes_object_is_one_datagram():
    result = decode(struct.pack("!II", (SENDER_AXON << 24) | 9, 40))
    assert result.packets.neuron_id.tolist() == [9] and result.packets.ticks.tolist() == [40]
    assert result.n_malformed == 0


@pytest.mark.parametrize("field, args", [
    ("neuron_id", (SENDER_DENDRITE, FIELD_MAX + 1, 0, 0)),
    ("neuron_id", (SENDER_DENDRITE, -1, 0, 0)),
    ("tag", (SENDER_SYNAPSE, 0, 256, 0)),
    ("ticks", (SENDER_DENDRITE, 0, 0, WRAP_TICKS)),
    ("ticks", (SENDER_DENDRITE, 0, 0, 1.5)),
    ("sender", (ord("X"), 0, 0, 0)),
])
def test_encode_refuses_a_field_out_of_range_naming_it(field, args):
    with pytest.raises(ValueError, match=field):
        encode(*args)


def test_malformed_datagrams_are_counted_by_reason_and_the_rest_kept_in_order():
    good = encode(SENDER_DENDRITE, [5, 6], [1, 2], [100, 200])
    datagrams = [b"", good[0], b"abc", b"123456789", good[1] * 2,
                 struct.pack("!II", (ord("X") << 24) | 1, 0),
                 struct.pack("!II", (SENDER_DENDRITE << 24) | 1, (3 << 24) | 7),
                 struct.pack("!II", (SENDER_DENDRITE << 24) | 1, (255 << 24) | 7),
                 good[1]]
    result = decode(datagrams)
    assert result.packets.neuron_id.tolist() == [5, 6]
    assert result.index.tolist() == [1, 8]
    assert result.n_malformed == 7
    assert sorted(result.rejected.values()) == [1, 2, 4]
    length_reason = next(r for r in result.rejected if "length" in r)
    assert "0, 3, 9, 16" in length_reason and result.rejected[length_reason] == 4
    assert any("'X'" in r for r in result.rejected)
    kind_reason = next(r for r in result.rejected if "kind" in r)
    assert "3, 255" in kind_reason and result.rejected[kind_reason] == 2


def test_axon_packets_may_use_any_kind_byte():
    result = decode(encode(SENDER_AXON, [1, 2], [0, 200], [3, 4]))
    assert result.n_malformed == 0 and len(result.packets) == 2


def test_random_garbage_never_raises_and_every_datagram_is_kept_or_counted():
    rng = np.random.default_rng(11)
    datagrams = [rng.bytes(int(n)) for n in rng.integers(0, 20, 2000)]
    result = decode(datagrams)
    assert len(result.packets) + result.n_malformed == len(datagrams)


def test_empty_input_decodes_to_no_packets():
    result = decode([])
    assert len(result.packets) == 0 and result.n_malformed == 0


def test_dendrite_timestamps_become_exact_nanoseconds():
    clock = LegacyClock(anchored=False)
    ticks = np.array([0, 1, 20_000, 20_000 + HALF_WRAP_TICKS - 1])
    ns = clock.to_ns(np.full(4, SENDER_DENDRITE), ticks)
    assert ns.tolist() == (ticks * TICK_NS).tolist()


def test_timestamp_wrap_at_2_pow_24_ticks_continues_the_clock_within_and_across_batches():
    clock = LegacyClock(anchored=False)
    d = SENDER_DENDRITE
    first = clock.to_ns(np.full(3, d), np.array([FIELD_MAX - 1, FIELD_MAX, 0]))
    second = clock.to_ns(np.full(3, d), np.array([3, HALF_WRAP_TICKS, FIELD_MAX - 2]))
    third = clock.to_ns(np.full(1, d), np.array([1]))
    ticks = np.concatenate([first, second, third]) // TICK_NS
    assert ticks.tolist() == [FIELD_MAX - 1, FIELD_MAX, WRAP_TICKS, WRAP_TICKS + 3,
                              WRAP_TICKS + HALF_WRAP_TICKS, 2 * WRAP_TICKS - 3, 2 * WRAP_TICKS + 1]


def test_a_late_timestamp_stays_earlier_and_is_not_taken_for_a_wrap():
    clock = LegacyClock(anchored=False)
    late = (1100 - HALF_WRAP_TICKS) % WRAP_TICKS  # a step of exactly -2**23 ticks: still earlier
    ticks = clock.to_ns(np.full(4, SENDER_DENDRITE), np.array([1000, 900, 1100, late])) // TICK_NS
    assert ticks.tolist() == [1000, 900, 1100, 1100 - HALF_WRAP_TICKS]


def test_axon_intervals_accumulate_into_the_clock_across_batches():
    clock = LegacyClock(anchored=False)
    a = SENDER_AXON
    first = clock.to_ns(np.full(3, a), np.array([20, 0, 100]))
    second = clock.to_ns(np.full(2, a), np.array([FIELD_MAX, 5]))
    assert (first // TICK_NS).tolist() == [20, 20, 120]
    assert (second // TICK_NS).tolist() == [120 + FIELD_MAX, 125 + FIELD_MAX]


def test_mixed_senders_keep_separate_clocks_in_one_batch():
    clock = LegacyClock(anchored=False)
    sender = np.array([SENDER_AXON, SENDER_DENDRITE, SENDER_AXON, SENDER_DENDRITE])
    ticks = clock.session_ticks(sender, np.array([10, 5000, 10, 5001]))
    assert ticks.tolist() == [10, 5000, 20, 5001]


def test_reset_starts_a_new_session_clock():
    clock = LegacyClock(anchored=False)
    clock.to_ns(np.array([SENDER_AXON, SENDER_DENDRITE]), np.array([50, 8_000_000]))
    clock.reset(0)
    assert not clock.started
    ticks = clock.session_ticks(np.array([SENDER_AXON, SENDER_DENDRITE]), np.array([7, 3]))
    assert ticks.tolist() == [7, 3]


def test_silence_longer_than_the_session_timeout_starts_a_new_session():
    s = 1_000_000_000
    clock = LegacyClock(anchored=False, session_timeout_ns=20 * s)
    a = np.full(1, SENDER_AXON)
    assert clock.to_ns(a, np.array([100]), arrival_lab_ns=1 * s).tolist() == [100 * TICK_NS]
    assert clock.to_ns(a, np.array([100]), arrival_lab_ns=21 * s).tolist() == [200 * TICK_NS]
    assert clock.sessions == 1
    assert clock.to_ns(a, np.array([7]), arrival_lab_ns=41 * s + 1).tolist() == [7 * TICK_NS]
    assert clock.sessions == 2


def test_session_timeout_must_be_positive():
    with pytest.raises(ValueError, match="session_timeout_ns"):
        LegacyClock(session_timeout_ns=0)


def test_anchored_clock_puts_the_latest_first_packet_at_its_arrival_on_the_lab_clock():
    arrival = 1_700_000_000_123_456_789
    clock = LegacyClock(anchored=True, zero_lab_ns=5)
    ns = clock.to_ns(np.full(2, SENDER_DENDRITE), np.array([400, 1000]), arrival_lab_ns=arrival)
    assert ns.tolist() == [arrival - 600 * TICK_NS, arrival]
    later = clock.to_ns(np.full(1, SENDER_DENDRITE), np.array([1001]), arrival_lab_ns=arrival + 10**9)
    assert later.tolist() == [arrival + TICK_NS]
    assert clock.now_ns(arrival + 7) == arrival + 7


def test_session_clock_publishes_session_time_and_reads_now_from_the_lab_clock():
    clock = LegacyClock(anchored=False, zero_lab_ns=10**12)
    ns = clock.to_ns(np.full(1, SENDER_AXON), np.array([40]), arrival_lab_ns=5 * 10**12)
    assert ns.tolist() == [40 * TICK_NS]
    assert clock.epoch_ns == 0 and clock.now_ns(5 * 10**12 + 1000) == 40 * TICK_NS + 1000


def test_to_ticks_inverts_timestamps_exactly_including_after_wraps():
    for anchored in (True, False):
        clock = LegacyClock(anchored=anchored, zero_lab_ns=0)
        raw = np.array([FIELD_MAX - 3, FIELD_MAX, 2, 2**23 + 2, FIELD_MAX, 4])
        ns = clock.to_ns(np.full(len(raw), SENDER_DENDRITE), raw, arrival_lab_ns=1_234_567_890_000_000_000)
        assert clock.to_ticks(ns).tolist() == raw.tolist()


def test_to_ticks_floors_between_ticks_and_wraps_negative_and_large_times():
    clock = LegacyClock(anchored=False)
    t = np.array([0, TICK_NS - 1, TICK_NS, -1, WRAP_TICKS * TICK_NS + 3 * TICK_NS + 7])
    assert clock.to_ticks(t).tolist() == [0, 0, 1, FIELD_MAX, 3]
    assert clock.to_ticks(t).dtype == np.uint32


def test_clock_refuses_ticks_and_senders_outside_the_protocol():
    clock = LegacyClock()
    with pytest.raises(ValueError, match="ticks"):
        clock.session_ticks(np.array([SENDER_DENDRITE]), np.array([WRAP_TICKS]))
    with pytest.raises(ValueError, match="sender"):
        clock.session_ticks(np.array([ord("X")]), np.array([0]))


def test_kinds_map_dendrite_bytes_and_axon_spikes_to_event_kinds():
    packets = decode(encode([SENDER_DENDRITE] * 3 + [SENDER_AXON], 1, [0, 1, 2, 0], 0)).packets
    assert spike_kinds(packets).tolist() == [KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP,
                                             KIND_SILICON_SPIKE]
    with pytest.raises(ValueError, match="'S'"):
        spike_kinds(decode(encode_synapse(1, 1, 1)).packets)


def test_weight_to_byte_rounds_as_the_hub_and_refuses_weights_outside_0_1():
    assert weight_to_byte(np.array([0.0, 1.0, 0.5, 1 / 255, 0.3])).tolist() == [0, 255, 128, 1, 76]
    for bad in (-0.01, 1.01, np.nan):
        with pytest.raises(ValueError, match="weight"):
            weight_to_byte(np.array([0.2, bad]))
