"""Extracellular rendering: spike amplitude vs distance, noise level, chunk carry-over."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.mea.extracellular import ExtracellularModel, spike_template
from neurohybrid.mea.layout import ElectrodeLayout

FS = 25000.0
LAYOUT = ElectrodeLayout(np.array([[0.0, 0.0], [200.0, 0.0]]), ("a", "b"))
NEURONS = np.array([[20.0, 0.0], [0.0, 60.0], [1000.0, 1000.0]])


def _model(noise=0.0):
    return ExtracellularModel(LAYOUT, NEURONS, fs_hz=FS, noise_uv_rms=noise, seed=1)


def test_template_is_biphasic_and_one_to_two_ms_long():
    tpl = spike_template(FS)
    assert tpl.min() == pytest.approx(-1.0)
    assert tpl.max() > 0.1
    assert np.argmin(tpl) < np.argmax(tpl)
    assert 1e-3 <= len(tpl) / FS <= 2e-3


def test_neuron_20um_away_gives_50_to_150_uv_negative_peak():
    v = _model().render(np.array([0]), np.array([0.001]), 0.0, 250)
    assert -150.0 <= v[:, 0].min() <= -50.0


def test_amplitude_decays_with_distance_and_far_neuron_is_invisible():
    model = _model()
    assert model.amplitude_uv[1, 0] < model.amplitude_uv[0, 0] * 0.5 * (1.5 / 0.5)
    assert model.amplitude_uv[0, 1] < model.amplitude_uv[0, 0]
    assert np.all(model.amplitude_uv[2] == 0.0)
    v = model.render(np.array([2]), np.array([0.001]), 0.0, 250)
    assert np.all(v == 0.0)


def test_noise_rms_matches_setting_and_is_seeded():
    a = ExtracellularModel(LAYOUT, NEURONS, fs_hz=FS, noise_uv_rms=7.0, seed=3)
    b = ExtracellularModel(LAYOUT, NEURONS, fs_hz=FS, noise_uv_rms=7.0, seed=3)
    va = a.render(np.empty(0, int), np.empty(0), 0.0, 25000)
    assert va.dtype == np.float32 and va.shape == (25000, 2)
    assert va.std() == pytest.approx(7.0, rel=0.03)
    np.testing.assert_array_equal(va, b.render(np.empty(0, int), np.empty(0), 0.0, 25000))


def test_chunked_rendering_equals_one_chunk_for_straddling_and_late_spikes():
    spikes_n = np.array([0, 1, 0])
    spikes_t = np.array([0.0095, 0.0099, 0.0150])  # straddle the 10 ms boundary; one in chunk 2
    whole = _model().render(spikes_n, spikes_t, 0.0, 500)
    model = _model()
    first = model.render(spikes_n, spikes_t, 0.0, 250)  # the 15 ms spike is kept for later
    second = model.render(np.empty(0, int), np.empty(0), 0.01, 250)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, atol=1e-4)


def test_spike_before_chunk_contributes_only_its_tail():
    model = _model()
    v = model.render(np.array([0]), np.array([-0.0004]), 0.0, 100)
    tpl = spike_template(FS) * model.amplitude_uv[0, 0]
    np.testing.assert_allclose(v[: len(tpl) - 10, 0], tpl[10:], atol=1e-4)


def test_overlapping_spikes_add_on_every_channel_that_sees_them():
    """The compiled rendering is the sum of each spike's scaled template, channel by channel."""
    model = _model()
    neurons, times = np.array([0, 1, 0, 1]), np.array([0.0010, 0.0011, 0.0012, -0.0002])
    v = model.render(neurons, times, 0.0, 200)
    tpl = spike_template(FS)
    expected = np.zeros((200 + len(tpl), 2))
    for n, t in zip(neurons, times):
        start = int(round(t * FS))
        for k in range(max(0, -start), len(tpl)):
            expected[start + k] += model.amplitude_uv[n] * tpl[k]
    np.testing.assert_allclose(v, expected[:200], atol=1e-3)


def test_a_spike_long_before_the_chunk_adds_nothing():
    v = _model().render(np.array([0, 1]), np.array([-1e6, -1.0]), 0.0, 100)
    assert np.all(v == 0.0)


@pytest.mark.parametrize(
    "kwargs, key",
    [({"fs_hz": 100.0}, "fs_hz"), ({"noise_uv_rms": -1.0}, "noise_uv_rms"), ({"max_distance_um": 0.0}, "max_distance_um")],
)
def test_bad_config_is_refused_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        ExtracellularModel(LAYOUT, NEURONS, **kwargs)
