"""summarize(): counts, rates, gaps, refusals, plasticity, resistances and latencies of a known recording."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.analysis.summary import sequence_gaps, summarize
from neurohybrid.io.reader import Recording
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.nodes.convert import fill_stimulation, to_array
from neurohybrid.testing.mock import mock_stimulus

T0_NS = 1_700_000_000_000_000_000
S = 1_000_000_000
MS = 1_000_000


def _stamp(m, t_ns: int, frame: str):
    m.header.stamp.sec, m.header.stamp.nanosec = divmod(t_ns, S)
    m.header.frame_id = frame
    return m


def _spikes(seq: int, t_ns: int, frame: str, kinds: list[int]):
    m = nh.SpikeBatch(seq=seq)
    m.source_id = to_array(np.arange(len(kinds)), np.uint32)
    m.time_ns = to_array(np.full(len(kinds), t_ns), np.int64)
    m.kind = to_array(kinds, np.uint8)
    return _stamp(m, t_ns, frame)


def _stim(t_ns: int, n: int, pre_stamp_ns: int):
    m = fill_stimulation(nh.StimulationCommand(pre_frame="padova/mea", pre_stamp_ns=pre_stamp_ns), mock_stimulus(n))
    return _stamp(m, t_ns, "southampton/hub")


def _weighted(t_ns: int, pre_stamp_ns: int):
    m = nh.WeightedEventBatch(pre_frame="zurich/board", pre_stamp_ns=pre_stamp_ns)
    return _stamp(m, t_ns, "southampton/hub")


def _plastic(t_ns: int, direction: int, accepted: bool, synapse_id: int = 0):
    m = nh.PlasticityEvent(rule="rate", synapse_id=synapse_id, direction=direction, accepted=accepted,
                           resistance_after_ohm=5000.0 if accepted else float("nan"))
    return _stamp(m, t_ns, "southampton/memristor")


def _refusal(t_ns: int, category: int, count: int):
    return _stamp(nh.Refusal(category=category, reason="x", count=count, total=count), t_ns, "padova/mea")


def _states(t_ns: int, ids: list[int], resistance: list[float]):
    m = nh.SynapseStates(synapse_id=to_array(ids, np.uint32), wordline=to_array(ids, np.uint16),
                         bitline=to_array(ids, np.uint16), resistance_ohm=to_array(resistance, np.float64),
                         weight=to_array(np.zeros(len(ids)), np.float32),
                         weight_byte=to_array(np.zeros(len(ids)), np.uint8),
                         pre=[f"zurich:{i}" for i in ids], post=[f"padova:{i}" for i in ids])
    return _stamp(m, t_ns, "southampton/memristor")


LTP, LTD = nh.PlasticityEvent.LTP, nh.PlasticityEvent.LTD
STIM, PROG = nh.Refusal.CATEGORY_STIMULATION, nh.Refusal.CATEGORY_PROGRAMMING
# (log time from T0, topic, message): 10 s of a small, fully known experiment.
SCRIPT = [
    (0 * S, "/padova/spikes", _spikes(0, T0_NS, "padova/mea", [0, 0, 1, 2, 2])),
    (1 * S, "/padova/spikes", _spikes(1, T0_NS + S, "padova/mea", [0, 0, 1, 2])),
    (2 * S, "/padova/spikes", _spikes(3, T0_NS + 2 * S, "padova/mea", [2, 2])),  # seq 2 lost
    (1 * S, "/zurich/spikes", _spikes(5, T0_NS + S, "zurich/board", [3] * 4)),
    (2 * S, "/zurich/spikes", _spikes(6, T0_NS + 2 * S, "zurich/board", [3] * 3)),
    (3 * S, "/padova/stimulation", _stim(T0_NS + 3 * S, 3, T0_NS + 3 * S - 10 * MS)),
    (4 * S, "/padova/stimulation", _stim(T0_NS + 4 * S, 2, T0_NS + 4 * S - 10 * MS)),
    (3 * S, "/zurich/weighted_events", _weighted(T0_NS + 3 * S, T0_NS + 3 * S - 2 * MS)),
    (4 * S, "/zurich/weighted_events", _weighted(T0_NS + 4 * S, T0_NS + 4 * S - 4 * MS)),
    (5 * S, "/padova/refusals", _refusal(T0_NS + 5 * S, STIM, 2)),
    (5 * S, "/southampton/refusals", _refusal(T0_NS + 5 * S, PROG, 1)),
    *[(6 * S, "/southampton/plasticity", _plastic(T0_NS + 6 * S, LTP, True)) for _ in range(3)],
    (6 * S, "/southampton/plasticity", _plastic(T0_NS + 6 * S, LTP, False)),
    *[(7 * S, "/southampton/plasticity", _plastic(T0_NS + 7 * S, LTD, True)) for _ in range(2)],
    (0 * S, "/southampton/synapse_states", _states(T0_NS, [0, 1], [5000.0, 8000.0])),
    (5 * S, "/southampton/synapse_states", _states(T0_NS + 5 * S, [0], [6000.0])),
    (10 * S, "/southampton/synapse_states", _states(T0_NS + 10 * S, [0, 1], [7000.0, 4000.0])),
]


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    path = tmp_path_factory.mktemp("summary") / "known.mcap"
    with RecordingWriter(path) as w:
        for t_ns, topic, m in SCRIPT:
            w.write(topic, f"neurohybrid/msg/{type(m).__name__}", serialize_message(m), T0_NS + t_ns, T0_NS + t_ns)
    return summarize(Recording.open(path))


def test_summary_is_strict_json(summary):
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_duration_is_the_span_of_log_times(summary):
    assert summary["duration_s"] == pytest.approx(10.0)
    assert summary["truncated"] is False


def test_events_are_counted_per_lab_and_kind_with_rates(summary):
    padova, zurich = summary["events"]["padova"], summary["events"]["zurich"]
    assert padova["by_kind"] == {"psp": 4, "evoked_ap": 2, "spontaneous_ap": 5}
    assert padova["total"] == 11 and padova["rate_hz"] == pytest.approx(1.1)
    assert padova["rate_hz_by_kind"]["psp"] == pytest.approx(0.4)
    assert zurich["by_kind"] == {"silicon_spike": 7} and zurich["topic"] == "/zurich/spikes"
    assert padova["batches"] == 3 and padova["sources"] == 5


def test_sequence_gaps_are_counted_per_spike_topic(summary):
    assert summary["sequence_gaps"] == {"/padova/spikes": 1, "/zurich/spikes": 0}


def test_stimulation_commands_are_set_against_stimulation_refusals_only(summary):
    assert summary["stimulation"] == {"commands": 5, "refused": 2, "delivered": 3}
    assert summary["refusals"] == {"stimulation": 2, "programming": 1}


def test_ltp_and_ltd_are_counted_accepted_and_refused(summary):
    assert summary["plasticity"] == {"ltp": {"accepted": 3, "refused": 1}, "ltd": {"accepted": 2, "refused": 0}}


def test_each_synapse_has_its_first_and_last_resistance(summary):
    s0, s1 = summary["synapses"]["0"], summary["synapses"]["1"]
    assert (s0["resistance_start_ohm"], s0["resistance_end_ohm"], s0["change_ohm"]) == (5000.0, 7000.0, 2000.0)
    assert (s1["resistance_start_ohm"], s1["resistance_end_ohm"]) == (8000.0, 4000.0)
    assert (s1["pre"], s1["post"]) == ("zurich:1", "padova:1")


def test_hop_latency_percentiles_are_in_ms(summary):
    zurich = summary["latency_ms"]["zurich->hub"]
    assert zurich["n"] == 2
    assert zurich["p50"] == pytest.approx(3.0) and zurich["p99"] == pytest.approx(3.98)
    assert summary["latency_ms"]["padova->hub"]["p50"] == pytest.approx(10.0)


@pytest.mark.parametrize("seq, gaps", [
    ([], 0), ([5], 0), ([0, 1, 2], 0), ([0, 2, 5], 3), ([3, 1, 2, 2], 0), ([0, 0, 4], 3),
])
def test_sequence_gaps_count_numbers_never_seen_despite_reordering_and_duplicates(seq, gaps):
    assert sequence_gaps(np.array(seq, np.uint64)) == gaps
