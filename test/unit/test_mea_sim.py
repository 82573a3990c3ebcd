"""Simulated MEA backend: spontaneous events, evoked APs, PSPs, guard, safe state, registry."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError, DeviceError, UnknownBackendError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SPONTANEOUS_AP, SpikeEvents, StimulusBatch
from neurohybrid.mea import MEA_BACKENDS, SimMEABackend, StimulationLimits, mcs60_layout
from neurohybrid.mea.template import TemplateMEABackend

MS = 1_000_000


def make_sim(**kwargs):
    backend = MEA_BACKENDS.create("sim", layout=mcs60_layout(), limits=StimulationLimits(), **kwargs)
    backend.configure()
    backend.arm()
    return backend


def run(backend, seconds, step_s=0.01):
    return SpikeEvents.concat([backend.advance(step_s) for _ in range(int(round(seconds / step_s)))])


def one(backend, electrode, amplitude_ua, time_ns=None, phase_width_us=100.0):
    t = backend.now_ns if time_ns is None else time_ns
    return StimulusBatch([electrode], [amplitude_ua], [phase_width_us], [1], [t], [0], [1.0], [0], [0])


def close_electrode(backend):
    """An electrode whose nearest neuron is within 30 um (strongly coupled)."""
    d = np.linalg.norm(backend.layout.positions_um[:, None] - backend.neuron_positions_um[None], axis=-1)
    return int(np.flatnonzero(d.min(axis=1) < 30.0)[0])


@pytest.fixture(scope="module")
def spontaneous():
    backend = make_sim()
    return backend, run(backend, 4.0, step_s=0.1)


def test_spontaneous_activity_gives_spontaneous_events_on_electrodes(spontaneous):
    backend, events = spontaneous
    assert len(events) > 100
    assert set(np.unique(events.kind)) == {KIND_SPONTANEOUS_AP}
    assert events.source_id.max() < 60
    assert events.time_ns.min() >= 1_000_000_000  # nothing during the 1 s noise estimate
    assert backend.now_ns == 4_000_000_000


def test_strong_stimulus_yields_evoked_ap_on_its_electrode():
    backend = make_sim()
    run(backend, 1.5)
    e = close_electrode(backend)
    t0 = backend.now_ns
    verdict = backend.stimulate(one(backend, e, 50.0))
    assert verdict.accepted.all()
    events = run(backend, 0.05)
    mine = events.select((events.source_id == e) & (events.kind == KIND_EVOKED_AP))
    assert len(mine) >= 1
    assert np.all((mine.time_ns - t0 >= 2 * MS) & (mine.time_ns - t0 <= 20 * MS))
    assert not np.any((events.source_id == e) & (events.kind == KIND_PSP))


def test_weak_stimulus_yields_one_psp_at_peak_depolarisation():
    backend = make_sim()
    run(backend, 1.5)
    e = close_electrode(backend)
    t0 = backend.now_ns
    backend.stimulate(one(backend, e, 5.0))
    events = run(backend, 0.05)
    psp = events.select(events.kind == KIND_PSP)
    assert psp.source_id.tolist() == [e]
    assert 0 < psp.time_ns[0] - t0 <= 20 * MS
    assert not np.any((events.source_id == e) & (events.kind == KIND_EVOKED_AP))


def test_refused_command_is_never_delivered():
    stimulated, twin = make_sim(seed=5), make_sim(seed=5)
    run(stimulated, 1.2)
    run(twin, 1.2)
    verdict = stimulated.stimulate(one(stimulated, close_electrode(stimulated), 80.0))
    assert not verdict.accepted.any() and "amplitude_ua=80.0" in verdict.reasons[0]
    a, b = run(stimulated, 0.3), run(twin, 0.3)
    np.testing.assert_array_equal(a.time_ns, b.time_ns)
    np.testing.assert_array_equal(stimulated.culture.membrane_mv, twin.culture.membrane_mv)
    assert (stimulated.delivered_total, stimulated.refused_total) == (0, 1)


def test_safe_state_drops_queued_stimuli():
    stimulated, twin = make_sim(seed=6), make_sim(seed=6)
    run(stimulated, 1.2)
    run(twin, 1.2)
    e = close_electrode(stimulated)
    stimulated.stimulate(one(stimulated, e, 50.0, time_ns=stimulated.now_ns + 30 * MS))
    assert stimulated.delivered_total == 1
    stimulated.safe_state()
    a, b = run(stimulated, 0.2), run(twin, 0.2)
    np.testing.assert_array_equal(a.time_ns, b.time_ns)
    assert not np.any(a.kind == KIND_EVOKED_AP) and not np.any(a.kind == KIND_PSP)


def test_future_stimulus_is_applied_at_its_time():
    backend = make_sim()
    run(backend, 1.5)
    e = close_electrode(backend)
    t_stim = backend.now_ns + 25 * MS
    backend.stimulate(one(backend, e, 50.0, time_ns=t_stim))
    events = run(backend, 0.06)
    evoked = events.select(events.kind == KIND_EVOKED_AP)
    assert len(evoked) >= 1 and np.all(evoked.time_ns >= t_stim + 2 * MS)


def test_unknown_backend_error_lists_available_backends():
    with pytest.raises(UnknownBackendError, match="available: .*sim"):
        MEA_BACKENDS.create("mea9000", layout=mcs60_layout(), limits=StimulationLimits())


def test_info_keeps_construction_kwargs_for_provenance():
    backend = SimMEABackend(mcs60_layout(), StimulationLimits(), n_neurons=300, seed=2)
    info = backend.info()
    assert info["backend"] == "sim" and info["class"].endswith("SimMEABackend") and info["n_channels"] == 60
    assert info["kwargs"]["n_neurons"] == 300 and info["kwargs"]["seed"] == 2
    assert info["limits"]["max_amplitude_ua"] == 50.0


def test_advance_before_configure_is_a_device_error():
    backend = SimMEABackend(mcs60_layout(), StimulationLimits())
    with pytest.raises(DeviceError, match="configure"):
        backend.advance(0.01)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"stim_radius_um": 0.0}, "stim_radius_um"),
        ({"evoked_window_s": (0.02, 0.002)}, "evoked_window_s"),
        ({"threshold_k": 0.0}, "threshold_k"),
        ({"n_neurons": 1}, "n_neurons"),
        ({"fs_hz": 1000.0}, "fs_hz"),
    ],
)
def test_bad_config_is_refused_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        SimMEABackend(mcs60_layout(), StimulationLimits(), **kwargs).configure()


def test_template_backend_is_a_recipe_not_a_registered_backend():
    assert "template" not in MEA_BACKENDS.names()
    backend = TemplateMEABackend(mcs60_layout(), StimulationLimits(), device_id="MEA2100-1")
    assert backend.info()["kwargs"]["device_id"] == "MEA2100-1"
    with pytest.raises(NotImplementedError):
        backend.configure()
