"""DPI neuron and synapse twin: parameters, dynamics, mismatch, input events."""

import dataclasses

import numpy as np
import pytest

from neurohybrid.board.dpi import (
    DPINeuronParams,
    DPIPopulation,
    DPISynapseParams,
    InputSchedule,
)
from neurohybrid.core.errors import ConfigError

I0_A = DPINeuronParams().i0_a


def _rates_hz(pop: DPIPopulation, n_steps: int) -> np.ndarray:
    neuron_idx, _ = pop.step(n_steps)
    return np.bincount(neuron_idx, minlength=pop.n) / (n_steps * pop.dt_s)


def test_default_time_constants_follow_teili_biases() -> None:
    # tau = Cmem UT / (kappa Itau) = 1.5 pF * 25 mV / (0.7 * 8 pA)
    assert DPINeuronParams().tau_s == pytest.approx(6.696e-3, rel=1e-3)
    assert DPISynapseParams().tau_s == pytest.approx(5.357e-3, rel=1e-3)


@pytest.mark.parametrize(
    ("cls", "key", "value", "name"),
    [
        (DPINeuronParams, "itau_a", -1e-12, "neuron.itau_a"),
        (DPINeuronParams, "cmem_f", float("nan"), "neuron.cmem_f"),
        (DPINeuronParams, "kappa", 1.5, "neuron.kappa"),
        (DPINeuronParams, "refractory_s", -1e-3, "neuron.refractory_s"),
        (DPISynapseParams, "base_weight_a", -5e-12, "synapse.base_weight_a"),
        (DPISynapseParams, "itau_a", float("inf"), "synapse.itau_a"),
    ],
)
def test_params_out_of_range_raise_config_error_naming_key(cls, key, value, name) -> None:
    with pytest.raises(ConfigError, match=rf"{name}=.*allowed"):
        cls(**{key: value})


def test_threshold_not_above_i0_is_refused() -> None:
    with pytest.raises(ConfigError, match="neuron.threshold_a"):
        DPINeuronParams(threshold_a=0.1e-12)


def test_params_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DPINeuronParams().itau_a = 1e-12  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"n": 0}, "n="),
        ({"n": 4, "mismatch": -0.1}, "mismatch="),
        ({"n": 4, "mismatch": 0.9}, "mismatch="),
        ({"n": 4, "dt_s": 1e-2}, "dt_s="),
        ({"n": 4, "dt_s": 0.0}, "dt_s="),
        ({"n": 4, "seed": -1}, "seed="),
    ],
)
def test_population_config_errors_name_key(kwargs, key) -> None:
    with pytest.raises(ConfigError, match=key):
        DPIPopulation(**kwargs)


def test_dt_above_a_tenth_of_fastest_tau_is_refused() -> None:
    fast = DPISynapseParams(itau_a=200e-12)  # tau_syn ~ 0.27 ms
    with pytest.raises(ConfigError, match=r"dt_s=.*fastest time constant"):
        DPIPopulation(2, synapse=fast, dt_s=1e-4)


def test_dc_bias_setter_validates_and_names_key() -> None:
    pop = DPIPopulation(3, mismatch=0.0)
    with pytest.raises(ConfigError, match="i_dc_a"):
        pop.i_dc_a = np.array([0.0, -1e-9, 0.0])
    with pytest.raises(ConfigError, match="i_dc_a"):
        pop.i_dc_a = float("nan")
    pop.i_dc_a = 2e-9
    np.testing.assert_array_equal(pop.i_dc_a, [2e-9] * 3)
    with pytest.raises(ValueError):
        pop.i_dc_a[0] = 1.0  # read-only view: set through the property


def test_fi_curve_is_monotonic_and_silent_without_input() -> None:
    dc_a = np.linspace(0.0, 20e-9, 21)
    pop = DPIPopulation(len(dc_a), mismatch=0.0)
    pop.i_dc_a = dc_a
    rates = _rates_hz(pop, 10_000)
    assert rates[0] == 0.0
    assert np.all(np.diff(rates) >= 0.0)
    assert rates[-1] > 100.0


def test_no_two_spikes_closer_than_each_neurons_refractory_period() -> None:
    pop = DPIPopulation(64, mismatch=0.2, seed=3)
    pop.i_dc_a = 200e-9  # drive far above rheobase: ISI set by the refractory period
    neuron_idx, step_idx = pop.step(3000)
    assert len(neuron_idx) > 1000
    order = np.lexsort((step_idx, neuron_idx))
    n_sorted, s_sorted = neuron_idx[order], step_idx[order]
    same = n_sorted[1:] == n_sorted[:-1]
    isi_steps = (s_sorted[1:] - s_sorted[:-1])[same]
    assert np.all(isi_steps >= pop.refractory_steps[n_sorted[1:][same]])
    assert isi_steps.min() < 10, "mismatch must give some neurons a refractory below 1 ms"


def test_nominal_neurons_never_fire_twice_within_one_millisecond() -> None:
    nominal = DPIPopulation(4, mismatch=0.0)
    nominal.i_dc_a = 200e-9
    n_idx, s_idx = nominal.step(2000)
    isi_s = np.diff(s_idx[n_idx == 0]) * nominal.dt_s
    assert len(isi_s) > 100
    assert isi_s.min() >= DPINeuronParams().refractory_s - 1e-12


def test_imem_and_isyn_never_fall_below_i0() -> None:
    pop = DPIPopulation(32, mismatch=0.1, seed=1)
    pop.i_dc_a = np.linspace(0, 8e-9, 32)
    for _ in range(20):
        pop.step(50)
        assert pop.imem_a.min() >= I0_A
        assert pop.isyn_a.min() >= DPISynapseParams().i0_a


def test_weighted_event_raises_isyn_by_weight_times_base_weight() -> None:
    pop = DPIPopulation(3, mismatch=0.1, seed=7)
    before = pop.isyn_a.copy()
    pop.step(1, InputSchedule([1], [0], [0.4]))
    jump = pop.isyn_a - before
    assert jump[1] == pytest.approx(0.4 * pop.base_weight_a[1], rel=1e-12)
    assert jump[0] == 0.0 and jump[2] == 0.0


def test_events_to_one_neuron_in_one_step_add_up() -> None:
    pop = DPIPopulation(2, mismatch=0.0)
    pop.step(1, InputSchedule([0, 0, 0], [0, 0, 0], [0.5, 0.25, 1.0]))
    assert pop.isyn_a[0] - I0_A == pytest.approx(1.75 * DPISynapseParams().base_weight_a)


def test_synaptic_current_decays_with_the_dpi_time_constant() -> None:
    syn = DPISynapseParams(base_weight_a=1e-9)
    pop = DPIPopulation(1, synapse=syn, mismatch=0.0)
    pop.step(1, InputSchedule([0], [0], [1.0]))
    start = pop.isyn_a[0]
    n = 100
    pop.step(n)
    expected = start * (1.0 - pop.dt_s / syn.tau_s) ** n  # forward Euler of -Isyn/tau_syn
    assert pop.isyn_a[0] == pytest.approx(expected, rel=1e-9)


def test_event_applies_at_its_step_not_before() -> None:
    pop = DPIPopulation(1, mismatch=0.0)
    with pytest.raises(ValueError, match="step_idx 7 outside this call's window"):
        pop.step(5, InputSchedule([0], [7], [1.0]))
    assert pop.step_count == 0 and pop.isyn_a[0] == I0_A
    pop.step(6)
    assert pop.isyn_a[0] == I0_A
    pop.step(1, InputSchedule([0], [6], [1.0]))
    assert pop.isyn_a[0] > I0_A
    assert pop.step_count == 7


def test_past_events_apply_at_the_first_step() -> None:
    pop = DPIPopulation(1, mismatch=0.0)
    pop.step(10)
    pop.step(1, InputSchedule([0], [2], [1.0]))
    assert pop.isyn_a[0] - I0_A == pytest.approx(DPISynapseParams().base_weight_a)


def test_input_for_unknown_neuron_is_refused() -> None:
    pop = DPIPopulation(4, mismatch=0.0)
    with pytest.raises(ValueError, match=r"post_idx 4 outside allowed \[0, 3\]"):
        pop.step(1, InputSchedule([4], [0], [1.0]))


@pytest.mark.parametrize("weight", [-0.1, float("nan"), float("inf")])
def test_input_schedule_refuses_negative_or_non_finite_weight(weight: float) -> None:
    with pytest.raises(ValueError, match="weight"):
        InputSchedule([0], [0], [weight])


def test_input_schedule_refuses_columns_of_different_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        InputSchedule([0, 1], [0], [1.0])


def test_mismatch_is_reproducible_for_a_seed_and_scales_with_spread() -> None:
    a = DPIPopulation(4096, mismatch=0.1, seed=11)
    b = DPIPopulation(4096, mismatch=0.1, seed=11)
    c = DPIPopulation(4096, mismatch=0.1, seed=12)
    np.testing.assert_array_equal(a.itau_a, b.itau_a)
    np.testing.assert_array_equal(a.threshold_a, b.threshold_a)
    assert not np.array_equal(a.itau_a, c.itau_a)
    for arr, nominal in ((a.itau_a, 8e-12), (a.ith_a, 0.9e-12), (a.iagain_a, 50e-12)):
        assert np.std(arr / nominal) == pytest.approx(0.1, abs=0.01)
        assert np.mean(arr / nominal) == pytest.approx(1.0, abs=0.01)
    wide = DPIPopulation(4096, mismatch=0.2, seed=11)
    assert np.std(wide.itau_a) > 1.8 * np.std(a.itau_a)
    none = DPIPopulation(16, mismatch=0.0)
    assert np.all(none.itau_a == 8e-12)
    assert np.all(none.refractory_steps == 10)


def test_mismatch_spreads_firing_rates_reproducibly() -> None:
    def rates(seed: int) -> np.ndarray:
        pop = DPIPopulation(64, mismatch=0.1, seed=seed)
        pop.i_dc_a = 8e-9
        return _rates_hz(pop, 3000)

    r1, r2 = rates(5), rates(5)
    np.testing.assert_array_equal(r1, r2)
    assert np.std(r1) > 5.0
    assert not np.array_equal(r1, rates(6))


def test_mismatched_parameters_stay_positive_and_read_only() -> None:
    pop = DPIPopulation(10_000, mismatch=0.5, seed=2)
    for arr in (pop.itau_a, pop.ith_a, pop.iagain_a, pop.threshold_a, pop.base_weight_a):
        assert arr.min() > 0.0
    with pytest.raises(ValueError):
        pop.itau_a[0] = 1.0


def test_time_to_step_bins_exact_multiples_of_dt_into_their_own_step() -> None:
    pop = DPIPopulation(1, mismatch=0.0)
    times = np.arange(1000) * 1e-4
    np.testing.assert_array_equal(pop.time_to_step(times), np.arange(1000))
    assert pop.time_to_step(np.array([1.49e-4]))[0] == 1


def test_step_rejects_negative_step_count() -> None:
    with pytest.raises(ValueError, match="n_steps"):
        DPIPopulation(1).step(-1)
