"""Plasticity rules of Serb et al. 2020: rate counts, STDP windows, gaps, bounded memory."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError, UnknownBackendError
from neurohybrid.memristor.plasticity import (
    DIRECTION_LTD,
    DIRECTION_LTP,
    PLASTICITY_RULES,
    PulseRequest,
    SpikeHistory,
)

MS = 1_000_000
S = 1_000_000_000
T_POST = 10 * S


def rate_rule(n_synapses: int = 4, **params):
    rule = PLASTICITY_RULES.create("rate", n_synapses=n_synapses, **params)
    rule.invalidate(0)
    return rule


def pre_train(rule, synapse: int, count: int, end_ns: int = T_POST, span_ns: int = 900 * MS):
    times = end_ns - np.linspace(0, span_ns, count).astype(np.int64)
    return rule.on_pre(np.full(count, synapse), np.sort(times))


def test_rate_rule_25_pre_spikes_in_the_last_second_ask_for_one_ltp_pulse():
    rule = rate_rule()
    assert len(pre_train(rule, 0, 25)) == 0  # on_pre never programs in the rate rule
    req = rule.on_post([0], [T_POST])
    assert len(req) == 1
    assert req.direction[0] == DIRECTION_LTP
    assert req.amplitude_v[0] == 4.0 and req.width_s[0] == 100e-6
    assert req.pre_count[0] == 25 and req.trigger_time_ns[0] == T_POST


def test_rate_rule_3_pre_spikes_ask_for_ltd_and_10_for_nothing():
    rule = rate_rule()
    pre_train(rule, 1, 3)
    pre_train(rule, 2, 10)
    req = rule.on_post([1, 2], [T_POST, T_POST])
    np.testing.assert_array_equal(req.synapse_id, [1])
    assert req.direction[0] == DIRECTION_LTD and req.amplitude_v[0] == -4.0
    assert req.pre_count[0] == 3


def test_rate_rule_thresholds_are_strict():
    rule = rate_rule()
    pre_train(rule, 0, 20)
    pre_train(rule, 1, 5)
    assert len(rule.on_post([0, 1], [T_POST, T_POST])) == 0


def test_rate_rule_does_not_count_spikes_one_second_old_or_older():
    rule = rate_rule()
    old = T_POST - S - np.arange(30) * MS  # 1 s old and older
    rule.on_pre(np.zeros(30, int), np.sort(old))
    req = rule.on_post([0], [T_POST])
    assert req.direction[0] == DIRECTION_LTD and req.pre_count[0] == 0
    rule.on_pre(np.zeros(21, int), np.full(21, T_POST - S + 1))
    assert rule.on_post([0], [T_POST]).direction[0] == DIRECTION_LTP


def test_rate_rule_counts_match_a_brute_force_count_on_random_traffic():
    rng = np.random.default_rng(5)
    n_syn = 64
    rule = rate_rule(n_syn, history_size=4096)
    syn = rng.integers(0, n_syn, 20_000)
    t = np.sort(rng.integers(0, 5 * S, 20_000))
    for part in np.array_split(np.arange(len(t)), 7):
        rule.on_pre(syn[part], t[part])
    post_syn = np.arange(n_syn)
    req = rule.on_post(post_syn, np.full(n_syn, 5 * S))
    expected = np.array([np.sum((syn == s) & (t > 4 * S) & (t <= 5 * S)) for s in post_syn])
    wanted = (expected > 20) | (expected < 5)
    np.testing.assert_array_equal(req.synapse_id, post_syn[wanted])
    np.testing.assert_array_equal(req.pre_count, expected[wanted])


def test_rate_rule_with_full_history_still_detects_ltp_from_a_lower_bound():
    rule = rate_rule(history_size=32)
    pre_train(rule, 0, 1000)
    req = rule.on_post([0], [T_POST])
    assert req.direction[0] == DIRECTION_LTP and req.pre_count[0] == 32


def test_rate_rule_does_nothing_when_forgotten_spikes_make_the_count_uncertain():
    rule = rate_rule(history_size=32)
    pre_train(rule, 0, 3, end_ns=T_POST - 500 * MS, span_ns=10 * MS)
    rule.on_pre(np.zeros(32, int), T_POST + 1 + np.arange(32))  # late batch fills the ring
    assert len(rule.on_post([0], [T_POST])) == 0
    assert rule.info()["uncertain_total"] == 1


def test_spike_history_memory_is_bounded():
    history = SpikeHistory(8, 16)
    history.add(np.zeros(10_000, np.int64), np.arange(10_000, dtype=np.int64))
    count, exact = history.count(np.array([0]), np.array([9_990]), np.array([10_000]))
    assert history._times_ns.shape == (8, 16)
    assert count[0] == 10 and exact[0]
    assert history.forgotten_max_ns[0] == 10_000 - 16 - 1


def test_gap_in_the_window_blocks_both_ltp_and_ltd():
    rule = rate_rule()
    pre_train(rule, 0, 25)
    rule.mark_gap(T_POST - 300 * MS, T_POST - 200 * MS)
    assert len(rule.on_post([0, 1], [T_POST, T_POST])) == 0
    assert rule.info()["gap_blocked_total"] == 2


def test_gap_outside_the_window_does_not_block():
    rule = rate_rule()
    pre_train(rule, 0, 25)
    rule.mark_gap(T_POST - 3 * S, T_POST - S)  # ends exactly where the window starts
    assert len(rule.on_post([0], [T_POST])) == 1


def test_gap_for_some_synapses_blocks_only_those():
    rule = rate_rule()
    rule.mark_gap(T_POST - 300 * MS, T_POST - 200 * MS, synapse_id=[1])
    req = rule.on_post([0, 1], [T_POST, T_POST])
    np.testing.assert_array_equal(req.synapse_id, [0])


def test_invalidate_blocks_windows_reaching_before_the_given_time():
    rule = PLASTICITY_RULES.create("rate", n_synapses=2)
    rule.invalidate(T_POST - 500 * MS)
    assert len(rule.on_post([0], [T_POST])) == 0
    assert len(rule.on_post([0], [T_POST + 500 * MS])) == 1


def test_old_gaps_are_forgotten():
    rule = rate_rule()
    rule.mark_gap(S, 2 * S)
    rule.on_post([0], [1000 * S])
    assert rule.info()["active_gaps"] == 0


def stdp_rule(**params):
    rule = PLASTICITY_RULES.create("stdp", n_synapses=4, **params)
    rule.invalidate(0)
    return rule


def test_stdp_pre_within_100_ms_before_post_asks_for_ltp():
    rule = stdp_rule()
    rule.on_pre([0, 1], [T_POST - 50 * MS, T_POST - 150 * MS])
    req = rule.on_post([0, 1], [T_POST, T_POST])
    np.testing.assert_array_equal(req.synapse_id, [0])
    assert req.direction[0] == DIRECTION_LTP and req.amplitude_v[0] == 4.0
    assert req.pre_count[0] == 1


def test_stdp_post_within_37p5_ms_before_pre_asks_for_ltd():
    rule = stdp_rule()
    rule.on_post([0, 1], [T_POST - 20 * MS, T_POST - 50 * MS])
    req = rule.on_pre([0, 1], [T_POST, T_POST])
    np.testing.assert_array_equal(req.synapse_id, [0])
    assert req.direction[0] == DIRECTION_LTD and req.amplitude_v[0] == -4.0


def test_stdp_simultaneous_spikes_count_as_causal_not_as_ltd():
    rule = stdp_rule()
    rule.on_post([0], [T_POST])
    assert len(rule.on_pre([0], [T_POST])) == 0
    assert rule.on_post([0], [T_POST]).direction[0] == DIRECTION_LTP


def test_stdp_gap_blocks_programming():
    rule = stdp_rule()
    rule.on_pre([0], [T_POST - 50 * MS])
    rule.mark_gap(T_POST - 10 * MS, T_POST - 5 * MS)
    assert len(rule.on_post([0], [T_POST])) == 0


@pytest.mark.parametrize(
    "name, params, key",
    [
        ("rate", dict(window=1.0), "window_s"),
        ("rate", dict(window_s=0.0), "rate.window_s"),
        ("rate", dict(ltp_count=20.5), "rate.ltp_count"),
        ("rate", dict(ltd_count=30), "rate.ltd_count"),
        ("rate", dict(ltp_amplitude_v=-4.0), "rate.ltp_amplitude_v"),
        ("rate", dict(ltd_width_s=float("nan")), "rate.ltd_width_s"),
        ("rate", dict(history_size=10), "rate.history_size"),
        ("stdp", dict(ltd_window_s=-1.0), "stdp.ltd_window_s"),
    ],
)
def test_invalid_rule_parameters_raise_config_error_naming_the_key(name, params, key):
    with pytest.raises(ConfigError, match=key):
        PLASTICITY_RULES.create(name, n_synapses=4, **params)


def test_invalid_synapse_count_raises_config_error():
    with pytest.raises(ConfigError, match="n_synapses"):
        PLASTICITY_RULES.create("rate", n_synapses=0)


def test_bad_event_batches_raise_value_error_naming_the_field():
    rule = rate_rule()
    with pytest.raises(ValueError, match="synapse_id 4 outside allowed range 0..3"):
        rule.on_post([4], [0])
    with pytest.raises(ValueError, match="differ in length"):
        rule.on_pre([0, 1], [0])
    with pytest.raises(ValueError, match="time_ns must hold integers"):
        rule.on_pre([0], [0.5])
    with pytest.raises(ValueError, match="end_ns"):
        rule.mark_gap(10, 5)


def test_unknown_rule_name_lists_the_registered_rules():
    with pytest.raises(UnknownBackendError, match="rate, stdp"):
        PLASTICITY_RULES.create("hebb", n_synapses=4)


def test_pulse_request_coerces_dtypes_and_concatenates():
    req = PulseRequest([1], [4.0], [1e-4], [1], [5], [25])
    assert req.synapse_id.dtype == np.uint32 and req.direction.dtype == np.int8
    assert req.trigger_time_ns.dtype == np.int64 and req.pre_count.dtype == np.uint32
    both = PulseRequest.concat([req, PulseRequest.empty(), req])
    assert len(both) == 2
    with pytest.raises(ValueError, match="width_s"):
        PulseRequest([1], [4.0], [1e-4, 1e-4], [1], [5], [25])


def test_info_reports_rule_parameters_and_counters():
    rule = rate_rule()
    pre_train(rule, 0, 25)
    rule.on_post([0, 1], [T_POST, T_POST])
    info = rule.info()
    assert info["rule"] == "rate" and info["params"]["window_s"] == 1.0
    assert info["ltp_total"] == 1 and info["ltd_total"] == 1
