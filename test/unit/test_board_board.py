"""DynapBoard: addressing, background activity, input queue and timing."""

import numpy as np
import pytest

from neurohybrid.board.board import DynapBoard
from neurohybrid.board.dpi import DPISynapseParams
from neurohybrid.core.errors import ConfigError

STRONG_SYNAPSE = DPISynapseParams(base_weight_a=20e-9)  # one w=1 event fires a nominal neuron


def _quiet_board(**kwargs) -> DynapBoard:
    """A small board without background, so every spike comes from the test's input."""
    defaults = dict(cores_per_chip=1, neurons_per_core=16, background_rate_hz=0.0,
                    mismatch=0.0, synapse=STRONG_SYNAPSE)
    defaults.update(kwargs)
    return DynapBoard(**defaults)


def test_default_board_is_one_chip_of_four_cores_of_256_neurons() -> None:
    board = DynapBoard()
    assert board.n_neurons == 1024
    assert board.now_s == 0.0


def test_neuron_ids_are_chip_major_then_core_then_neuron() -> None:
    board = DynapBoard(n_chips=4, background_rate_hz=0.0)
    assert board.n_neurons == 4096
    assert board.neuron_id(0, 0, 5) == 5
    assert board.neuron_id(0, 1, 0) == 256
    assert board.neuron_id(1, 0, 0) == 1024
    assert board.neuron_id(3, 3, 255) == 4095
    ids = np.arange(board.n_neurons)
    chip, core, neuron = board.address(ids)
    np.testing.assert_array_equal(board.neuron_id(chip, core, neuron), ids)


def test_addresses_outside_the_board_are_refused_naming_the_field() -> None:
    board = DynapBoard(background_rate_hz=0.0)
    with pytest.raises(ValueError, match=r"core 4 outside allowed \[0, 3\]"):
        board.neuron_id(0, 4, 0)
    with pytest.raises(ValueError, match=r"neuron id 1024 outside allowed \[0, 1023\]"):
        board.address(np.array([1024]))


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"n_chips": 0}, "n_chips="),
        ({"cores_per_chip": 17}, "cores_per_chip="),
        ({"neurons_per_core": 2.5}, "neurons_per_core="),
        ({"background_rate_hz": -1.0}, "background_rate_hz="),
        ({"background_weight_a": float("nan")}, "background_weight_a="),
        ({"dc_bias_a": 1.0}, "dc_bias_a="),
        ({"dt_s": 5e-3}, "dt_s="),
        ({"mismatch": 2.0}, "mismatch="),
        ({"input_base_weight_a": -1e-9}, "input_base_weight_a="),
        ({"input_base_weight_a": 0.0}, "input_base_weight_a="),
    ],
)
def test_board_config_errors_name_key(kwargs, key) -> None:
    with pytest.raises(ConfigError, match=key):
        DynapBoard(**kwargs)


def test_background_makes_population_fire_at_5_to_50_hz() -> None:
    board = DynapBoard(seed=4)
    board.advance(0.1)
    neuron_id, time_s = board.advance(1.0)
    rates = np.bincount(neuron_id, minlength=board.n_neurons) / 1.0
    assert 5.0 <= rates.mean() <= 50.0
    assert np.median(rates) >= 5.0
    assert np.all(np.diff(time_s) >= 0.0)
    assert time_s.min() >= 0.1 and time_s.max() < 1.1


def test_background_rate_tunes_population_rate() -> None:
    def mean_rate(rate_hz: float) -> float:
        board = DynapBoard(cores_per_chip=1, background_rate_hz=rate_hz, seed=1)
        neuron_id, _ = board.advance(1.0)
        return len(neuron_id) / board.n_neurons

    low, high = mean_rate(5.0), mean_rate(30.0)
    assert mean_rate(0.0) == 0.0
    assert 2.0 < low < high
    assert high > 4.0 * low


def test_output_does_not_depend_on_how_time_is_cut_into_advances() -> None:
    post = np.array([3, 100, 3, 7])
    t_s = np.array([0.0123, 0.05, 0.2501, 1.0004])
    w = np.array([1.0, 0.5, 0.25, 1.0])
    one = DynapBoard(cores_per_chip=1, seed=9)
    ids_a, t_a = one.advance(1.2, post, t_s, w)  # crosses a background block boundary (1 s)
    many = DynapBoard(cores_per_chip=1, seed=9)
    many.schedule(post, t_s, w)
    parts = [many.advance(d) for d in (0.01, 0.0305, 0.1, 0.8595, 0.15, 0.05, 0.00001)]
    ids_b = np.concatenate([p[0] for p in parts])
    t_b = np.concatenate([p[1] for p in parts])
    assert len(ids_a) > 1000
    np.testing.assert_array_equal(ids_a, ids_b)
    np.testing.assert_allclose(t_a, t_b, rtol=0, atol=1e-12)
    assert many.now_s == pytest.approx(1.2)
    assert one.applied_total == many.applied_total == 4


def test_weighted_input_fires_its_target_after_its_time_only() -> None:
    board = _quiet_board()
    ids, _ = board.advance(0.01, np.array([7]), np.array([0.015]), np.array([1.0]))
    assert len(ids) == 0 and board.pending_count == 1
    ids, t = board.advance(0.02)
    assert board.pending_count == 0
    assert set(ids.tolist()) == {7}
    assert 0.015 < t[0] < 0.025


def test_input_base_weight_scalar_sets_the_synaptic_jump() -> None:
    board = DynapBoard(cores_per_chip=1, neurons_per_core=4, background_rate_hz=0.0,
                       mismatch=0.0, input_base_weight_a=20e-9)
    assert board.population.synapse.base_weight_a == 20e-9
    ids, _ = board.advance(0.02, np.array([1]), np.array([0.001]), np.array([1.0]))
    assert ids.tolist() == [1]


def test_teili_default_base_weight_leaves_one_event_subthreshold() -> None:
    board = DynapBoard(cores_per_chip=1, neurons_per_core=4, background_rate_hz=0.0, mismatch=0.0)
    ids, _ = board.advance(0.002, np.array([1]), np.array([0.001]), np.array([1.0]))
    assert board.population.isyn_a[1] > 0.5 * DPISynapseParams().base_weight_a
    ids_later, _ = board.advance(0.05)
    assert len(ids) == len(ids_later) == 0


def test_zero_weight_input_does_nothing() -> None:
    board = _quiet_board()
    ids, _ = board.advance(0.05, np.array([2]), np.array([0.001]), np.array([0.0]))
    assert len(ids) == 0


def test_past_events_apply_at_once_and_are_counted_late() -> None:
    board = _quiet_board()
    board.advance(0.05)
    board.schedule(np.array([4]), np.array([0.01]), np.array([1.0]))
    assert board.late_total == 1
    ids, t = board.advance(0.02)
    assert ids.tolist() == [4]
    assert 0.05 <= t[0] < 0.06


def test_schedule_refuses_the_whole_batch_on_a_bad_event() -> None:
    board = _quiet_board()
    with pytest.raises(ValueError, match=r"neuron id 16 outside allowed \[0, 15\]"):
        board.schedule(np.array([1, 16]), np.array([0.0, 0.0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"weight 1.5 outside allowed \[0, 1\]"):
        board.schedule(np.array([1, 2]), np.array([0.0, 0.0]), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"weight nan outside allowed"):
        board.schedule(np.array([1]), np.array([0.0]), np.array([np.nan]))
    with pytest.raises(ValueError, match="time_s"):
        board.schedule(np.array([1]), np.array([np.inf]), np.array([0.5]))
    assert board.pending_count == 0


def test_clear_pending_drops_queued_input() -> None:
    board = _quiet_board()
    board.schedule(np.array([1, 2]), np.array([0.01, 0.02]), np.array([1.0, 1.0]))
    assert board.clear_pending() == 2
    ids, _ = board.advance(0.05)
    assert len(ids) == 0


@pytest.mark.parametrize("duration", [0.0, -1.0, float("nan"), 1e5])
def test_advance_refuses_bad_durations(duration: float) -> None:
    with pytest.raises(ValueError, match="duration_s"):
        _quiet_board().advance(duration)


def test_fractional_durations_carry_over_without_drift() -> None:
    board = _quiet_board()
    for _ in range(10):
        board.advance(0.00015)
    assert board.step_count == 15


def test_dc_bias_drives_the_board_with_mismatch() -> None:
    board = DynapBoard(cores_per_chip=1, background_rate_hz=0.0, dc_bias_a=8e-9, seed=2)
    assert np.std(board.population.i_dc_a) > 0.05 * 8e-9
    ids, _ = board.advance(0.2)
    assert len(np.unique(ids)) > 0.9 * board.n_neurons


def test_quiet_neurons_get_no_background_and_bad_ids_are_refused():
    from neurohybrid.board.board import DynapBoard
    from neurohybrid.core.errors import ConfigError

    board = DynapBoard(n_chips=1, cores_per_chip=1, neurons_per_core=32, background_rate_hz=50.0,
                       quiet_neurons=(0, 1), seed=3)
    ids, _ = board.advance(1.0)
    assert len(ids) > 100 and not set(ids.tolist()) & {0, 1}
    with pytest.raises(ConfigError, match="quiet_neurons"):
        DynapBoard(n_chips=1, cores_per_chip=1, neurons_per_core=32, quiet_neurons=(32,))


def test_input_delivered_out_of_order_is_applied_in_time_order() -> None:
    """A reordering link hands over later events first; the board still applies them by time."""
    board = _quiet_board()
    board.schedule(np.array([3]), np.array([0.030]), np.array([1.0]))
    board.schedule(np.array([5]), np.array([0.010]), np.array([1.0]))
    ids, t = board.advance(0.05)
    assert ids.tolist() == [5, 3]
    assert t[0] < t[1]
