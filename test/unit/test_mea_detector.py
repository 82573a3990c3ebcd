"""Online spike detector: chunk invariance, noise estimate, thresholding, refractory, errors."""

import numpy as np
import pytest
from scipy import signal

from neurohybrid.core.errors import ConfigError
from neurohybrid.mea.detector import OnlineSpikeDetector

FS = 20000.0
N_CH = 8


def _signal(seed=0, seconds=2.0, spikes_per_channel=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 6.0, size=(int(seconds * FS), N_CH)).astype(np.float32)
    truth = []
    shape = -60.0 * np.hanning(12)  # filtered: ~-35 uV peak, ringing stays above threshold
    for ch in range(N_CH):
        starts = np.sort(rng.choice(np.arange(int(1.1 * FS), len(x) - 100, 200), spikes_per_channel, replace=False))
        for s in starts:
            x[s : s + 12, ch] += shape
            truth.append((ch, s))
    return x, truth


def _run(det, x, chunk):
    parts = [det.process(x[i : i + chunk], int(round(i * 1e9 / FS))) for i in range(0, len(x), chunk)]
    return tuple(np.concatenate(p) for p in zip(*parts))


def test_chunked_input_gives_same_spikes_as_whole_signal():
    x, _ = _signal()
    whole = OnlineSpikeDetector(N_CH, FS).process(x, 0)
    assert len(whole[0]) > 0
    for chunk in (1, 37, 200, 5000):
        ch, t_ns, amp = _run(OnlineSpikeDetector(N_CH, FS), x, chunk)
        order = np.lexsort((ch, t_ns))  # calls are each sorted; ties may straddle two calls
        ch, t_ns, amp = ch[order], t_ns[order], amp[order]
        np.testing.assert_array_equal(ch, whole[0])
        np.testing.assert_array_equal(t_ns, whole[1])
        np.testing.assert_array_equal(amp, whole[2])


def test_filter_matches_scipy_sosfilt():
    x, _ = _signal()
    det = OnlineSpikeDetector(N_CH, FS)
    y = np.concatenate([det.filter(x[i : i + 333]) for i in range(0, len(x), 333)])
    sos = signal.butter(3, (300.0, 3000.0), btype="bandpass", fs=FS, output="sos")
    np.testing.assert_allclose(y, signal.sosfilt(sos, x.astype(np.float64), axis=0), atol=1e-3)


def test_detects_every_injected_spike_at_its_negative_peak_once():
    x, truth = _signal()
    ch, t_ns, amp = OnlineSpikeDetector(N_CH, FS).process(x, 0)
    assert len(truth) <= len(ch) <= len(truth) + 3  # a few 5-sigma noise crossings allowed
    peak_samples = np.round(t_ns * FS / 1e9).astype(int)
    for c, s in truth:
        hit = (ch == c) & (np.abs(peak_samples - (s + 6)) <= 8)
        assert hit.sum() == 1
    assert ch.dtype == np.uint32 and t_ns.dtype == np.int64 and amp.dtype == np.float32
    assert np.all(amp < 0) and np.all(np.diff(t_ns) >= 0)


def test_noise_level_is_mad_estimate_and_no_detection_before_it():
    x, _ = _signal()
    x[:100, 0] -= 500.0  # a huge event inside the noise window is not reported
    det = OnlineSpikeDetector(N_CH, FS, noise_window_s=1.0)
    ch, t_ns, _ = det.process(x[: int(FS)], 0)
    assert len(ch) == 0 and det.sigma_uv is not None
    sos = signal.butter(3, (300.0, 3000.0), btype="bandpass", fs=FS, output="sos")
    y = signal.sosfilt(sos, x[: int(FS)].astype(np.float64), axis=0)
    np.testing.assert_allclose(det.sigma_uv, np.median(np.abs(y), axis=0) / 0.6745, rtol=1e-3)
    np.testing.assert_allclose(det.threshold_uv, -5.0 * det.sigma_uv)


def test_refractory_keeps_one_spike_per_period():
    x, _ = _signal(spikes_per_channel=0)
    s = int(1.5 * FS)
    for offset in (0, 10, 60):  # 0.5 ms apart (merged) then 3 ms later (kept)
        x[s + offset : s + offset + 6, 0] -= 120.0 * np.hanning(6)
    ch, t_ns, _ = OnlineSpikeDetector(N_CH, FS, refractory_s=2e-3).process(x, 0)
    assert np.count_nonzero(ch == 0) == 2


def test_refractory_counts_back_from_the_peak_so_a_deeper_spike_after_a_shallow_one_is_kept():
    x, _ = _signal(spikes_per_channel=0)
    s = int(1.5 * FS)
    x[s : s + 6, 0] -= 60.0 * np.hanning(6)  # shallow spike, then a deeper one 0.75 ms later
    x[s + 15 : s + 21, 0] -= 200.0 * np.hanning(6)
    ch, t_ns, amp = OnlineSpikeDetector(N_CH, FS, refractory_s=2e-3).process(x, 0)
    assert np.count_nonzero(ch == 0) == 2
    assert amp[ch == 0][1] < amp[ch == 0][0]


def test_times_follow_t0_of_the_chunk():
    x, _ = _signal()
    _, t_a, _ = OnlineSpikeDetector(N_CH, FS).process(x, 0)
    _, t_b, _ = OnlineSpikeDetector(N_CH, FS).process(x, 5_000_000_000)
    np.testing.assert_array_equal(t_b - t_a, 5_000_000_000)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"band_hz": (300.0, 12000.0)}, "band_hz"),
        ({"band_hz": (3000.0, 300.0)}, "band_hz"),
        ({"threshold_k": 0.0}, "threshold_k"),
        ({"threshold_k": -5.0}, "threshold_k"),
        ({"refractory_s": -1e-3}, "refractory_s"),
        ({"noise_window_s": 0.0}, "noise_window_s"),
        ({"filter_order": 0}, "filter_order"),
        ({"fs_hz": -1.0}, "fs_hz"),
        ({"n_channels": 0}, "n_channels"),
    ],
)
def test_bad_config_is_refused_naming_the_key(kwargs, key):
    args = {"n_channels": N_CH, "fs_hz": FS, **kwargs}
    with pytest.raises(ConfigError, match=key):
        OnlineSpikeDetector(**args)


def test_wrong_chunk_shape_is_refused():
    with pytest.raises(ValueError, match="chunk_uv"):
        OnlineSpikeDetector(N_CH, FS).process(np.zeros((10, N_CH + 1)), 0)
