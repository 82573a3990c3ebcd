"""Izhikevich culture: spontaneous bursting activity, stimulation responses, determinism."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.mea.culture import IzhikevichCulture


@pytest.fixture(scope="module")
def spontaneous():
    culture = IzhikevichCulture(seed=0)
    parts = [culture.advance(0.5) for _ in range(24)]
    idx = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    return culture, idx, t


def test_spontaneous_rate_is_between_half_and_five_hz(spontaneous):
    culture, idx, _ = spontaneous
    rate_hz = len(idx) / culture.n_neurons / culture.now_s
    assert 0.5 <= rate_hz <= 5.0


def test_spontaneous_activity_has_recurring_network_bursts(spontaneous):
    culture, _, t = spontaneous
    counts, _ = np.histogram(t, bins=np.arange(0.0, culture.now_s + 1e-9, 0.05))
    pop_rate_hz = counts / culture.n_neurons / 0.05
    burst_bins = pop_rate_hz > 20.0  # 20 Hz per neuron: a synchronous population event
    onsets = np.flatnonzero(burst_bins[1:] & ~burst_bins[:-1])
    assert 2 <= len(onsets) <= 12  # every 1-6 s over 12 s
    assert counts[burst_bins].sum() > 0.3 * counts.sum()


def test_spike_times_are_monotonic_across_calls(spontaneous):
    _, _, t = spontaneous
    assert np.all(np.diff(t) >= 0)


def test_same_seed_gives_same_spikes_whatever_the_chunking():
    a = IzhikevichCulture(n_neurons=200, seed=4)
    b = IzhikevichCulture(n_neurons=200, seed=4)
    ia, ta = a.advance(1.0)
    parts = [b.advance(0.01) for _ in range(100)]
    np.testing.assert_array_equal(ia, np.concatenate([p[0] for p in parts]))
    np.testing.assert_allclose(ta, np.concatenate([p[1] for p in parts]))


def _quiet_culture():
    return IzhikevichCulture(n_neurons=20, noise_std_exc=0.0, noise_std_inh=0.0, weight_exc=0.0, weight_inh=0.0)


def test_weak_stimulus_gives_subthreshold_epsp():
    culture = _quiet_culture()
    culture.advance(0.2)
    culture.record_neurons([0])
    v_rest = culture.membrane_mv[0]
    gain = np.zeros(20)
    gain[0] = 1.0
    culture.inject_stimulus(gain, 4.0, culture.now_s)
    idx, _ = culture.advance(0.03)
    depolarisation = culture.last_trace_mv[:, 0].max() - v_rest
    assert 1.0 < depolarisation < 15.0
    assert 0 not in idx


def test_strong_stimulus_evokes_action_potential_within_few_ms():
    culture = _quiet_culture()
    culture.advance(0.2)
    t_stim = culture.now_s + 0.005
    gain = np.zeros(20)
    gain[3] = 1.0
    culture.inject_stimulus(gain, 30.0, t_stim)
    idx, t = culture.advance(0.03)
    assert 3 in idx
    assert 0.0 < t[idx == 3][0] - t_stim < 0.01
    assert set(idx) == {3}


def test_clear_stimuli_drops_queued_stimulus():
    culture = _quiet_culture()
    culture.inject_stimulus(np.ones(20), 30.0, 0.01)
    culture.clear_stimuli()
    idx, _ = culture.advance(0.05)
    assert len(idx) == 0 and culture.n_queued_stimuli == 0


def test_extra_current_drives_firing():
    culture = _quiet_culture()
    idx, _ = culture.advance(0.2, extra_current=np.full(20, 10.0))
    assert len(idx) > 20


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"n_neurons": 1}, "n_neurons"),
        ({"excitatory_fraction": 1.5}, "excitatory_fraction"),
        ({"dt_s": 0.0}, "dt_s"),
        ({"dt_s": 0.01}, "dt_s"),
        ({"area_um": (0.0, 10.0)}, "area_um"),
        ({"tau_rec_s": -1.0}, "tau_rec_s"),
        ({"connection_probability": 2.0}, "connection_probability"),
    ],
)
def test_bad_config_is_refused_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        IzhikevichCulture(**kwargs)
