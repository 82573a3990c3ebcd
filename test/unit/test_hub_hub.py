"""The hub end to end: routing through the crossbar, stimulation, plasticity, refusals, gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import (
    KIND_EVOKED_AP,
    KIND_PSP,
    KIND_SILICON_SPIKE,
    KIND_SPONTANEOUS_AP,
    SpikeEvents,
)
from neurohybrid.hub import Connectivity, Hub, StimulusMap, Synapse, WeightMap
from neurohybrid.memristor.backend import MemristorBackend
from neurohybrid.memristor.plasticity import PLASTICITY_RULES
from neurohybrid.memristor.sim import SimMemristorBackend

REPO_ROOT = Path(__file__).resolve().parents[2]
LABS = {"padova": "mea", "zurich": "board"}
MS = 1_000_000
S = 1_000_000_000


def loop_connectivity() -> Connectivity:
    """The paper's loop zurich:0 -> padova:24 -> zurich:1, plus a fan-out of zurich:0."""
    return Connectivity(
        [
            Synapse(0, "zurich", 0, "padova", 24, 0, 0, 0.001),
            Synapse(1, "padova", 24, "zurich", 1, 0, 1, 0.002),
            Synapse(2, "zurich", 0, "padova", 30, 3, 7, 0.050),
            Synapse(3, "zurich", 0, "zurich", 5, 4, 4, 0.0),
        ],
        LABS,
    )


def sim_backend(**kwargs) -> SimMemristorBackend:
    backend = SimMemristorBackend(**kwargs)
    backend.configure()
    backend.arm()
    return backend


def make_hub(conn: Connectivity, backend: MemristorBackend | None = None, rule: str = "rate",
             **rule_params) -> Hub:
    backend = backend if backend is not None else sim_backend(seed=3, read_noise=0.0)
    return Hub(
        conn, backend, PLASTICITY_RULES.create(rule, n_synapses=len(conn), **rule_params),
        WeightMap(), StimulusMap(),
    )


def spikes(ids, times_ns, kind) -> SpikeEvents:
    ids = np.asarray(ids)
    return SpikeEvents(ids, np.asarray(times_ns), np.broadcast_to(kind, ids.shape))


def true_resistance(hub: Hub, synapse_id: int) -> float:
    conn = hub.connectivity
    return float(hub.memristor.resistance_ohm[conn.wordline[synapse_id], conn.bitline[synapse_id]])


class StepCrossbar(MemristorBackend):
    """Deterministic crossbar for exact numbers: each pulse moves R by 100 ohm per volt sign."""

    name = "step"
    STEP_OHM = 100.0

    def __init__(self, initial_ohm: np.ndarray, **kwargs) -> None:
        super().__init__(**kwargs)
        self.r_ohm = np.array(initial_ohm, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, int]:
        return self.r_ohm.shape

    def _configure(self) -> None:
        pass

    def _shutdown(self) -> None:
        pass

    def _read(self, wordline, bitline):
        return self.r_ohm[wordline, bitline].copy()

    def _pulse(self, wordline, bitline, amplitude_v, width_s):
        self.r_ohm[wordline, bitline] += self.STEP_OHM * np.sign(amplitude_v)


def step_backend(**kwargs) -> StepCrossbar:
    r = np.full((8, 8), 6500.0)
    r[0, 0], r[0, 1], r[3, 7], r[4, 4] = 4000.0, 9000.0, 5000.0, 8000.0
    backend = StepCrossbar(r, **kwargs)
    backend.configure()
    backend.arm()
    return backend


# ---------------------------------------------------------------- routing


def test_spike_fans_out_with_weights_from_the_device_and_delay_added():
    hub = make_hub(loop_connectivity(), step_backend())
    out = hub.on_spikes("zurich", spikes([0], [10 * MS], KIND_SILICON_SPIKE))
    assert out.n_routed == 3
    padova = out.weighted["padova"]
    assert padova.synapse_id.tolist() == [0, 2]
    assert padova.post_id.tolist() == [24, 30]
    assert padova.pre_time_ns.tolist() == [10 * MS, 10 * MS]
    assert padova.delivery_time_ns.tolist() == [11 * MS, 60 * MS]
    assert padova.weight_byte.tolist() == [0, 51]  # 4 kOhm -> 0; 5 kOhm -> 255 * 1/5
    zurich = out.weighted["zurich"]
    assert (zurich.post_id.tolist(), zurich.weight_byte.tolist()) == ([5], [204])
    assert zurich.delivery_time_ns.tolist() == [10 * MS]


def test_only_mea_labs_get_stimulation_scaled_by_weight_and_zero_weights_dropped():
    hub = make_hub(loop_connectivity(), step_backend())
    out = hub.on_spikes("zurich", spikes([0], [10 * MS], KIND_SILICON_SPIKE))
    assert set(out.stimulation) == {"padova"}
    stim = out.stimulation["padova"]
    assert stim.electrode.tolist() == [30]  # synapse 0 has weight 0: no command
    np.testing.assert_allclose(stim.amplitude_ua, [30.0 * 0.2], rtol=1e-6)
    assert stim.time_ns.tolist() == [60 * MS]
    assert stim.synapse_id.tolist() == [2]


def test_a_lab_of_kind_legacy_gets_weighted_events_but_no_stimulation():
    conn = Connectivity(loop_connectivity().synapses, {"padova": "legacy", "zurich": "board"})
    out = make_hub(conn, step_backend()).on_spikes("zurich", spikes([0], [0], KIND_SILICON_SPIKE))
    assert "padova" in out.weighted and out.stimulation == {}


def test_routing_matches_a_brute_force_loop_on_random_data():
    rng = np.random.default_rng(42)
    devices = rng.choice(1024, 600, replace=False)
    labs = ("padova", "zurich")
    synapses = [
        Synapse(i, labs[rng.integers(2)], int(rng.integers(0, 30)), labs[rng.integers(2)],
                int(rng.integers(0, 30)), int(d // 32), int(d % 32), float(rng.integers(0, 20)) * 1e-3)
        for i, d in enumerate(devices)
    ]
    conn = Connectivity(synapses, LABS)
    hub = make_hub(conn)
    r_true = hub.memristor.resistance_ohm
    n = 2000
    ids = rng.integers(0, 35, n)
    times = np.sort(rng.integers(0, S, n))
    out = hub.on_spikes("zurich", spikes(ids, times, KIND_SILICON_SPIKE))

    expected = []
    for e in range(n):
        for s in synapses:
            if s.pre_lab == "zurich" and s.pre_id == ids[e]:
                _, byte = WeightMap().to_weight(r_true[s.wordline, s.bitline])
                expected.append((s.post_lab, int(ids[e]), int(times[e]), s.post_id, s.synapse_id,
                                 int(byte), int(times[e]) + round(s.delay_s * S)))
    got = [
        (lab, *row)
        for lab, w in out.weighted.items()
        for row in zip(w.pre_id.tolist(), w.pre_time_ns.tolist(), w.post_id.tolist(),
                       w.synapse_id.tolist(), w.weight_byte.tolist(), w.delivery_time_ns.tolist())
    ]
    assert out.n_routed == len(expected) > n // 2
    assert sorted(got) == sorted(expected)
    for w in out.weighted.values():
        assert np.all(np.diff(w.delivery_time_ns) >= 0)


def test_unsorted_batches_are_processed_in_time_order_and_hub_time_replaces_event_time():
    hub = make_hub(loop_connectivity(), step_backend())
    events = spikes([0, 0], [5 * MS, 1 * MS], KIND_SILICON_SPIKE)
    out = hub.on_spikes("zurich", events, hub_time_ns=np.array([50 * MS, 20 * MS]))
    assert out.weighted["zurich"].pre_time_ns.tolist() == [20 * MS, 50 * MS]


def test_hub_time_of_the_wrong_length_is_rejected():
    hub = make_hub(loop_connectivity(), step_backend())
    with pytest.raises(ValueError, match="hub_time_ns has shape"):
        hub.on_spikes("zurich", spikes([0, 0], [0, 1], KIND_SILICON_SPIKE), hub_time_ns=np.array([0]))


def test_events_from_an_unknown_lab_are_rejected():
    with pytest.raises(ValueError, match="unknown lab 'rome'"):
        make_hub(loop_connectivity(), step_backend()).on_spikes("rome", SpikeEvents.empty())


def test_an_empty_batch_produces_nothing():
    out = make_hub(loop_connectivity(), step_backend()).on_spikes("zurich", SpikeEvents.empty())
    assert (out.n_routed, out.weighted, out.stimulation, len(out.plasticity), out.refusals) == (0, {}, {}, 0, [])


def test_psps_are_not_routed_but_aps_of_both_kinds_are():
    hub = make_hub(loop_connectivity(), step_backend())
    for kind, routed in ((KIND_PSP, 0), (KIND_EVOKED_AP, 1), (KIND_SPONTANEOUS_AP, 1)):
        out = hub.on_spikes("padova", spikes([24], [S], kind))
        assert out.n_routed == routed, kind


# ---------------------------------------------------------------- plasticity


@pytest.mark.parametrize("kind", [KIND_PSP, KIND_SPONTANEOUS_AP])
def test_psps_and_spontaneous_aps_trigger_plasticity(kind):
    hub = make_hub(loop_connectivity(), step_backend())
    out = hub.on_spikes("padova", spikes([24], [2 * S], kind))
    # No presynaptic spike of synapse 0 in the last second: fewer than 5 -> LTD (Serb et al. 2020).
    rec = out.plasticity
    assert rec.synapse_id.tolist() == [0]
    assert rec.direction.tolist() == [-1]
    assert rec.amplitude_v.tolist() == [-4.0] and rec.width_s.tolist() == [100e-6]
    assert rec.accepted.tolist() == [True] and rec.reason == ("",)
    assert (rec.r_before_ohm.tolist(), rec.r_after_ohm.tolist()) == ([4000.0], [3900.0])
    assert (rec.wordline.tolist(), rec.bitline.tolist()) == ([0], [0])
    assert rec.time_ns.tolist() == [2 * S] and rec.pre_count.tolist() == [0]
    assert rec.r_before is rec.r_before_ohm and rec.r_after is rec.r_after_ohm


def test_evoked_aps_do_not_trigger_plasticity():
    hub = make_hub(loop_connectivity(), step_backend())
    out = hub.on_spikes("padova", spikes([24], [2 * S], KIND_EVOKED_AP))
    assert len(out.plasticity) == 0
    assert hub.memristor.r_ohm[0, 0] == 4000.0


def test_silicon_spikes_are_postsynaptic_events_for_synapses_into_the_board():
    hub = make_hub(loop_connectivity(), step_backend())
    pre = np.arange(25) * 40 * MS  # 25 padova APs in one second: above 20 Hz
    hub.on_spikes("padova", spikes(np.full(25, 24), pre, KIND_EVOKED_AP))
    out = hub.on_spikes("zurich", spikes([1], [S - 1], KIND_SILICON_SPIKE))
    assert out.plasticity.synapse_id.tolist() == [1]
    assert out.plasticity.direction.tolist() == [1]
    assert out.plasticity.pre_count.tolist() == [25]
    assert hub.memristor.r_ohm[0, 1] == 9100.0


def run_phase(hub: Hub, start_ns: int, duration_s: float, pre_hz: float, post_hz: float,
              batch_ns: int = 100 * MS) -> int:
    """Drive zurich:0 at ``pre_hz`` and PSPs of padova:24 at ``post_hz``; return pulses accepted."""
    end_ns = start_ns + int(duration_s * S)
    pre_t = np.arange(start_ns, end_ns, int(S / pre_hz))
    post_t = np.arange(start_ns + int(S / post_hz) // 2, end_ns, int(S / post_hz))
    accepted = 0
    for t0 in range(start_ns, end_ns, batch_ns):
        for lab, ids, t, kind in (("zurich", 0, pre_t, KIND_SILICON_SPIKE), ("padova", 24, post_t, KIND_PSP)):
            sel = t[(t >= t0) & (t < t0 + batch_ns)]
            out = hub.on_spikes(lab, spikes(np.full(len(sel), ids), sel, kind), now_ns=t0 + batch_ns)
            accepted += int(out.plasticity.accepted.sum())
    return accepted


def test_rate_rule_with_the_sim_crossbar_raises_r_at_high_rate_and_lowers_it_at_low_rate():
    hub = make_hub(loop_connectivity(), sim_backend(seed=11))
    r0 = true_resistance(hub, 0)
    assert run_phase(hub, 0, 3.0, pre_hz=40.0, post_hz=10.0) >= 20
    r_high = true_resistance(hub, 0)
    assert r_high > r0 * 1.05
    assert run_phase(hub, 3 * S, 3.0, pre_hz=2.0, post_hz=10.0) >= 20
    r_low = true_resistance(hub, 0)
    assert r_low < r_high * 0.95
    states = hub.synapse_states()
    assert states["resistance_ohm"][0] == pytest.approx(r_low, rel=0.05)


def test_refused_programming_is_reported_and_leaves_r_unchanged():
    backend = sim_backend(seed=5, read_noise=0.0, limits={"max_abs_voltage_v": 3.0})
    hub = make_hub(loop_connectivity(), backend)
    r0 = true_resistance(hub, 0)
    out = hub.on_spikes("padova", spikes([24, 24], [2 * S, 3 * S], KIND_PSP))
    assert out.plasticity.accepted.tolist() == [False, False]
    assert np.isnan(out.plasticity.r_after_ohm).all()
    assert len(out.refusals) == 2
    assert all("synapse 0" in r and "LTD" in r and "max_abs_voltage_v" in r for r in out.refusals)
    assert all("max_abs_voltage_v" in r for r in out.plasticity.reason)
    assert true_resistance(hub, 0) == r0


def test_a_backend_in_safe_state_refuses_every_pulse():
    backend = step_backend()
    backend.safe_state()
    out = make_hub(loop_connectivity(), backend).on_spikes("padova", spikes([24], [2 * S], KIND_PSP))
    assert out.plasticity.accepted.tolist() == [False]
    assert "safe_state" in out.refusals[0]
    assert backend.r_ohm[0, 0] == 4000.0


def test_programming_uses_now_ns_for_the_device_rate_limit():
    backend = step_backend(limits={"max_pulses_per_s": 2})
    hub = make_hub(loop_connectivity(), backend)
    out = hub.on_spikes("padova", spikes([24, 24, 24], [2 * S, 2 * S + 1, 2 * S + 2], KIND_PSP), now_ns=5 * S)
    assert out.plasticity.accepted.tolist() == [True, True, False]
    assert "max_pulses_per_s" in out.refusals[0]


def test_marked_gap_blocks_programming_over_the_missing_window():
    hub = make_hub(loop_connectivity(), step_backend())
    hub.mark_gap("zurich", int(1.5 * S), int(1.8 * S))
    blocked = hub.on_spikes("padova", spikes([24], [2 * S], KIND_PSP))
    assert len(blocked.plasticity) == 0
    later = hub.on_spikes("padova", spikes([24], [3 * S], KIND_PSP))
    assert later.plasticity.direction.tolist() == [-1]


def test_mark_gap_validates_lab_and_order():
    hub = make_hub(loop_connectivity(), step_backend())
    with pytest.raises(ValueError, match="unknown lab 'rome'"):
        hub.mark_gap("rome", 0, 1)
    with pytest.raises(ValueError, match="precedes start_ns"):
        hub.mark_gap("zurich", 10, 5)


def test_stdp_rule_plugs_in_unchanged():
    hub = make_hub(loop_connectivity(), step_backend(), rule="stdp")
    hub.on_spikes("zurich", spikes([0], [S], KIND_SILICON_SPIKE))
    out = hub.on_spikes("padova", spikes([24], [S + 10 * MS], KIND_PSP))
    assert out.plasticity.direction.tolist() == [1]
    assert hub.memristor.r_ohm[0, 0] == 4100.0


# ---------------------------------------------------------------- state, construction, imports


def test_synapse_states_report_every_synapse_from_one_read():
    hub = make_hub(loop_connectivity(), step_backend())
    states = hub.synapse_states()
    assert states["synapse_id"].tolist() == [0, 1, 2, 3]
    assert states["resistance_ohm"].tolist() == [4000.0, 9000.0, 5000.0, 8000.0]
    assert states["weight_byte"].tolist() == [0, 255, 51, 204]
    np.testing.assert_allclose(states["weight"], [0.0, 1.0, 0.2, 0.8], rtol=1e-6)
    assert states["pre"].tolist() == ["zurich:0", "padova:24", "zurich:0", "zurich:0"]
    assert states["post"].tolist() == ["padova:24", "zurich:1", "padova:30", "zurich:5"]
    assert (states["wordline"].tolist(), states["bitline"].tolist()) == ([0, 0, 3, 4], [0, 1, 7, 4])
    np.testing.assert_allclose(states["delay_s"], [0.001, 0.002, 0.05, 0.0])


def test_connectivity_outside_the_backend_crossbar_is_rejected():
    with pytest.raises(ConfigError, match=r"bitline=7 outside the memristor backend's crossbar \(allowed 0\.\.3\)"):
        make_hub(loop_connectivity(), sim_backend(n_wordlines=8, n_bitlines=4))


def test_rule_sized_for_another_network_is_rejected():
    rule = PLASTICITY_RULES.create("rate", n_synapses=3)
    with pytest.raises(ConfigError, match="n_synapses=3 differs from the connectivity's 4 synapses"):
        Hub(loop_connectivity(), step_backend(), rule, WeightMap(), StimulusMap())


def test_static_synapses_are_read_for_weights_but_never_programmed(tmp_path):
    import numpy as np

    from neurohybrid.core.events import KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
    from neurohybrid.hub.connectivity import load_connectivity
    from neurohybrid.hub.hub import Hub
    from neurohybrid.hub.stimulus import StimulusMap
    from neurohybrid.hub.weights import WeightMap
    from neurohybrid.memristor.plasticity import PLASTICITY_RULES
    from neurohybrid.memristor.sim import SimMemristorBackend

    path = tmp_path / "c.yaml"
    path.write_text(
        "labs: {padova: mea, zurich: board}\n"
        "synapses:\n"
        "  - {pre: 'zurich:0', post: 'padova:1', device: [0, 0]}\n"
        "  - {pre: 'zurich:0', post: 'padova:2', device: [0, 1], plastic: false}\n")
    conn = load_connectivity(path)
    assert conn.plastic.tolist() == [True, False]
    mem = SimMemristorBackend(seed=1)
    mem.configure()
    mem.arm()
    hub = Hub(conn, mem, PLASTICITY_RULES.create("rate", n_synapses=2), WeightMap(), StimulusMap())
    r0 = mem.resistance_ohm.copy()
    t = np.arange(50) * 10_000_000 + 2_000_000_000
    out = hub.on_spikes("zurich", SpikeEvents(np.zeros(50), t, np.full(50, KIND_SILICON_SPIKE)))
    assert len(out.weighted["padova"]) == 100, "both synapses route"
    hub.on_spikes("padova", SpikeEvents([1, 2], [t[-1] + 1, t[-1] + 1], [KIND_SPONTANEOUS_AP] * 2))
    r1 = mem.resistance_ohm
    assert r1[0, 0] > r0[0, 0], "the plastic synapse is potentiated (50 pre spikes in 1 s)"
    assert r1[0, 1] == r0[0, 1], "the static synapse keeps its state"


def test_plastic_flag_must_be_boolean(tmp_path):
    import pytest

    from neurohybrid.core.errors import ConfigError
    from neurohybrid.hub.connectivity import load_connectivity

    path = tmp_path / "c.yaml"
    path.write_text("labs: {padova: mea, zurich: board}\n"
                    "synapses:\n  - {pre: 'zurich:0', post: 'padova:1', device: [0, 0], plastic: maybe}\n")
    with pytest.raises(ConfigError, match="plastic='maybe' must be true or false"):
        load_connectivity(path)


def test_route_then_learn_gives_what_on_spikes_gives():
    rng = np.random.default_rng(9)
    whole, split = make_hub(loop_connectivity()), make_hub(loop_connectivity())
    n_pulses = 0
    for b in range(40):
        lab, kind, ids = (("zurich", KIND_SILICON_SPIKE, [0, 1, 5]), ("padova", KIND_SPONTANEOUS_AP, [24]))[b % 2]
        batch = spikes(rng.choice(ids, 30), np.sort(rng.integers(b * 50 * MS, (b + 1) * 50 * MS, 30)), kind)
        expected = whole.on_spikes(lab, batch)
        routed = split.route(lab, batch)
        assert routed.output.n_routed == expected.n_routed
        assert routed.output.weighted.keys() == expected.weighted.keys()
        for target, w in expected.weighted.items():
            np.testing.assert_array_equal(routed.output.weighted[target].weight_byte, w.weight_byte)
        assert len(routed.output.plasticity) == 0
        plasticity, refusals = split.learn(routed)
        np.testing.assert_array_equal(plasticity.r_after_ohm, expected.plasticity.r_after_ohm)
        assert refusals == expected.refusals
        n_pulses += len(plasticity)
    assert n_pulses > 0
