"""The DPI twin against an independent Brian2 implementation of the same equations.

Same dt (0.1 ms), forward Euler, no mismatch, a handful of neurons with different DC inputs
and one input spike train on their synapses: spike steps must agree exactly.
"""

import numpy as np
import pytest

from neurohybrid.board.dpi import DPINeuronParams, DPIPopulation, DPISynapseParams, InputSchedule

b2 = pytest.importorskip("brian2")

# brian2 2.9 still calls pyparsing's camelCase API; those deprecation warnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DT_S = 1e-4
DURATION_STEPS = 4000
DC_INPUTS_A = np.array([0.0, 3.0e-9, 3.9e-9, 4.2e-9, 6.0e-9, 12.0e-9])
INPUT_STEPS = np.array([50, 51, 300, 310, 320, 900, 1500, 1503, 2200, 2201, 2202, 3100])
INPUT_WEIGHT = 0.6
NEURON = DPINeuronParams()
SYNAPSE = DPISynapseParams(base_weight_a=8e-9)


def _brian2_spikes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(neuron, step) of Brian2's spikes and its final Imem, for the module's set-up."""
    b2.prefs.codegen.target = "numpy"  # no compilation: the oracle stays fast and portable
    b2.start_scope()
    amp, farad, volt, second = b2.amp, b2.farad, b2.volt, b2.second
    namespace = {
        "Ith": NEURON.ith_a * amp, "Itau": NEURON.itau_a * amp, "I0": NEURON.i0_a * amp,
        "Iagain": NEURON.iagain_a * amp, "Iath": NEURON.iath_a * amp,
        "Ianorm": NEURON.ianorm_a * amp, "Ispkthr": NEURON.threshold_a * amp,
        "tau": NEURON.cmem_f * farad * NEURON.ut_v * volt / (NEURON.kappa * NEURON.itau_a * amp),
        "tau_syn": SYNAPSE.csyn_f * farad * SYNAPSE.ut_v * volt
        / (SYNAPSE.kappa * SYNAPSE.itau_a * amp),
        "base_weight": SYNAPSE.base_weight_a * amp,
        "Imax": 1 * amp,
    }
    eqs = """
    dImem/dt = ((Ith/Itau)*(Isyn + Idc + Ia) - Ith - (1 - Ia/Itau)*Imem)
               / (tau*(Ith/(Imem + I0) + 1)) : amp (unless refractory)
    dIsyn/dt = -Isyn/tau_syn : amp
    Ia = Iagain/(1 + exp(-(Imem - Iath)/Ianorm)) : amp
    Idc : amp (constant)
    """
    n = len(DC_INPUTS_A)
    group = b2.NeuronGroup(n, eqs, threshold="Imem > Ispkthr", reset="Imem = I0",
                           refractory=NEURON.refractory_s * second, method="euler",
                           namespace=namespace, dt=DT_S * second)
    group.Imem = NEURON.i0_a * amp
    group.Isyn = SYNAPSE.i0_a * amp
    group.Idc = DC_INPUTS_A * amp
    # The twin floors Imem and Isyn at I0 right after each Euler update.
    group.run_regularly("Imem = clip(Imem, I0, Imax)\nIsyn = clip(Isyn, I0, Imax)",
                        when="groups", order=1)
    source = b2.SpikeGeneratorGroup(1, np.zeros(len(INPUT_STEPS), int), INPUT_STEPS * DT_S * second,
                                    dt=DT_S * second)
    syn = b2.Synapses(source, group, "w : 1", on_pre="Isyn_post += w*base_weight",
                      namespace=namespace, dt=DT_S * second)
    syn.connect()
    syn.w = INPUT_WEIGHT
    monitor = b2.SpikeMonitor(group)
    net = b2.Network(group, source, syn, monitor)
    net.run(DURATION_STEPS * DT_S * second, namespace=namespace)
    steps = np.rint(np.asarray(monitor.t / second) / DT_S).astype(np.int64)
    return np.asarray(monitor.i, np.int64), steps, np.asarray(group.Imem / amp)


def _twin_spikes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(DC_INPUTS_A)
    pop = DPIPopulation(n, NEURON, SYNAPSE, mismatch=0.0, seed=0, dt_s=DT_S)
    pop.i_dc_a = DC_INPUTS_A
    post = np.tile(np.arange(n), len(INPUT_STEPS))
    steps = np.repeat(INPUT_STEPS, n)
    inputs = InputSchedule(post, steps, np.full(len(post), INPUT_WEIGHT))
    neuron_idx, step_idx = pop.step(DURATION_STEPS, inputs)
    return neuron_idx, step_idx, pop.imem_a.copy()


@pytest.fixture(scope="module")
def both() -> tuple[tuple, tuple]:
    previous_target = b2.prefs.codegen.target
    try:
        return _brian2_spikes(), _twin_spikes()
    finally:
        b2.prefs.codegen.target = previous_target


def _as_set(neuron: np.ndarray, step: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(neuron.tolist(), step.tolist()))


def test_twin_spike_steps_equal_brian2_spike_steps(both: tuple) -> None:
    (b_neuron, b_step, _), (t_neuron, t_step, _) = both
    assert len(b_neuron) > 50, "set-up must make the neurons fire"
    assert _as_set(t_neuron, t_step) == _as_set(b_neuron, b_step)


def test_every_regime_is_exercised_by_the_oracle(both: tuple) -> None:
    (b_neuron, _, _), _ = both
    counts = np.bincount(b_neuron, minlength=len(DC_INPUTS_A))
    assert counts[0] > 0, "input events alone must make the undriven neuron fire"
    assert counts[-1] > counts[1], "the strongest DC input must fire most"


def test_twin_final_membrane_current_matches_brian2(both: tuple) -> None:
    (_, _, b_imem), (_, _, t_imem) = both
    np.testing.assert_allclose(t_imem, b_imem, rtol=1e-6, atol=1e-18)
