"""Online spike detection on MEA channels: band-pass, robust noise level, negative threshold.

The standard online detector of MEA systems (MCS MC_Rack / Multi Channel Experimenter spike
detector; Quiroga, Nadasdy & Ben-Shaul, Neural Comput. 16:1661, 2004):

1. Butterworth band-pass ``band_hz`` of order ``filter_order`` (scipy ``butter(..., output="sos")``),
   causal, computed exactly as ``scipy.signal.sosfilt`` (float32) with the per-channel filter
   state carried across chunks, so chunked input gives the same result as the whole signal.
2. Noise level per channel ``sigma = median(|x|) / 0.6745`` (Quiroga et al. 2004) on the first
   ``noise_window_s`` of filtered data (exact median, kept channel-major so each channel's
   median is a contiguous in-place partition). **No detections are made in that first
   window**; the estimate is then frozen.
3. A spike starts at a downward crossing of ``-threshold_k * sigma``.
4. **Each spike is reported at its negative peak**: the minimum of the filtered signal within
   ``peak_window_s`` from the crossing; ``amplitude_uv`` is that (negative) filtered value.
   A spike is reported by the call whose chunk contains the end of its peak window (never twice).
5. **The refractory period is counted from the peak**: a spike is dropped unless its peak is
   lower than the whole ``refractory_s`` of filtered signal before it, so a shallower peak less
   than ``refractory_s`` after a deeper one (the second negative lobe of an extracellular spike,
   or noise re-crossing the threshold on it) is not a new spike; this is the backward half of
   SpikeInterface's ``detect_peaks`` rule (peak = minimum within ``exclude_sweep_ms`` of itself).
   Counted from the threshold crossing, as before, those lobes were reported as new spikes.

Steps 1 and 3-5 run fused in one compiled pass, sample by sample and vectorised across
channels (:func:`neurohybrid.mea.detector_kernel.detect_chunk`).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import check_int, check_positive, check_real
from neurohybrid.mea.detector_kernel import detect_chunk

MAD_TO_SIGMA = 0.6745  # median(|x|) / 0.6745 = sigma for Gaussian noise (Quiroga et al. 2004)
MAX_FILTER_ORDER = 8
DEFAULT_PEAK_WINDOW_S = 5e-4  # negative peak of a spike follows its crossing within ~0.5 ms


MAX_SLICE_SAMPLES = 4096  # long chunks are split so the kernel's output buffers stay small


class OnlineSpikeDetector:
    """Band-pass + robust-threshold spike detector over ``n_channels``, fed chunk by chunk.

    ``sigma_uv`` is the robust noise level per channel (uV), None until ``noise_window_s`` of
    data has been seen.
    """

    def __init__(
        self,
        n_channels: int,
        fs_hz: float,
        band_hz: tuple[float, float] = (300.0, 3000.0),
        threshold_k: float = 5.0,
        refractory_s: float = 1e-3,
        noise_window_s: float = 1.0,
        filter_order: int = 3,
        peak_window_s: float = DEFAULT_PEAK_WINDOW_S,
    ) -> None:
        n_channels = check_int("n_channels", n_channels, 1)
        fs = check_positive("fs_hz", fs_hz)
        nyquist = fs / 2.0
        lo, hi = (float(b) for b in band_hz)
        if not (0.0 < lo < hi < nyquist):
            raise ConfigError(f"band_hz={tuple(band_hz)!r} outside allowed 0 < low < high < {nyquist} (Nyquist)")
        k = check_positive("threshold_k", threshold_k)
        refr = check_real("refractory_s", refractory_s, 0.0)
        win = check_real("noise_window_s", noise_window_s, 1.0 / fs)
        filter_order = check_int("filter_order", filter_order, 1, MAX_FILTER_ORDER)
        peak = check_real("peak_window_s", peak_window_s, 1.0 / fs)

        self.n_channels = int(n_channels)
        self.fs_hz = fs
        self.band_hz = (lo, hi)
        self.threshold_k = k
        self.refractory_s = refr
        self.noise_window_s = win
        self.peak_window_s = peak
        self._refractory_n = int(round(refr * fs))
        self._noise_n = int(round(win * fs))
        self._peak_n = int(round(peak * fs))
        sos = signal.butter(int(filter_order), (lo, hi), btype="bandpass", fs=fs, output="sos")
        self._sos = np.ascontiguousarray(sos, dtype=np.float32)
        n_ch = self.n_channels
        self._z0 = np.zeros((len(sos), n_ch), dtype=np.float32)  # sosfilt's zi[:, 0]
        self._z1 = np.zeros((len(sos), n_ch), dtype=np.float32)  # sosfilt's zi[:, 1]
        self._search_left = np.zeros(n_ch, dtype=np.int64)
        self._min_val = np.zeros(n_ch, dtype=np.float32)
        self._min_pos = np.zeros(n_ch, dtype=np.int64)
        self._history = np.full((self._refractory_n + self._peak_n + 1, n_ch), np.inf, dtype=np.float32)
        self._no_detection = np.full(n_ch, -np.inf, dtype=np.float32)
        self._no_output = np.empty((0, n_ch), dtype=np.float32)

        self.sigma_uv: np.ndarray | None = None
        self._threshold32 = self._no_detection
        self._noise_abs: np.ndarray | None = None  # (n_channels, noise samples): |filtered| window
        self._n_filtered = 0  # samples filtered so far (absolute index of the next sample)
        # loads (or compiles) the kernel now rather than on the first streamed chunk
        self._run(np.empty((0, n_ch), dtype=np.float32), self._no_detection, self._no_output, 0)

    @property
    def threshold_uv(self) -> np.ndarray | None:
        """Detection threshold per channel (uV, negative), None before the noise estimate."""
        return None if self.sigma_uv is None else -self.threshold_k * self.sigma_uv

    def filter(self, chunk_uv: np.ndarray) -> np.ndarray:
        """Band-pass the next chunk (n_samples, n_channels), carrying the state; float32 uV.

        Filtering only: the detection state is left as it is, so do not mix with ``process``.
        """
        x = self._check(chunk_uv)
        y = np.empty_like(x)
        self._run(x, self._no_detection, y, self._n_filtered)
        return y

    def process(self, chunk_uv: np.ndarray, t0_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Detect spikes in the next chunk whose first sample is at ``t0_ns``.

        Returns (channel uint32, time_ns int64, amplitude_uv float32), sorted by time then
        channel within the call; times are the negative peaks (see the module docstring), so a
        spike reported by the next call may precede the last one of this call by up to
        ``peak_window_s``. Long chunks are processed in slices of ``MAX_SLICE_SAMPLES``.
        """
        x = self._check(chunk_uv)
        chunk_start = self._n_filtered
        parts = [self._process_slice(x[i : i + MAX_SLICE_SAMPLES]) for i in range(0, len(x), MAX_SLICE_SAMPLES)]
        if not parts:
            return np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.float32)
        ch, index, amplitude = (np.concatenate(p) for p in zip(*parts))
        time_ns = int(t0_ns) + np.round((index - chunk_start) * (NS_PER_S / self.fs_hz)).astype(np.int64)
        order = np.lexsort((ch, time_ns))
        return ch[order].astype(np.uint32), time_ns[order], amplitude[order]

    def _check(self, chunk_uv: np.ndarray) -> np.ndarray:
        # contiguous and writable float32 only: a read-only chunk (a replayed file's buffer)
        # would otherwise compile a second kernel in the middle of a stream
        x = np.require(chunk_uv, np.float32, "CW")
        if x.ndim != 2 or x.shape[1] != self.n_channels:
            raise ValueError(f"chunk_uv has shape {x.shape}, expected (n_samples, {self.n_channels})")
        return x

    def _run(self, x: np.ndarray, threshold: np.ndarray, y_out: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One kernel pass over ``x`` (absolute first sample ``start``): (channel, peak index, uV)."""
        capacity = self.n_channels * (len(x) // max(self._peak_n, 2) + 2)
        ch = np.empty(capacity, dtype=np.int64)
        index = np.empty(capacity, dtype=np.int64)
        amplitude = np.empty(capacity, dtype=np.float32)
        n = detect_chunk(x, self._sos, self._z0, self._z1, threshold, self._search_left, self._min_val,
                         self._min_pos, self._history, start, self._peak_n, self._refractory_n, y_out,
                         ch, index, amplitude)
        return ch[:n], index[:n], amplitude[:n]

    def _process_slice(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        start = self._n_filtered
        self._n_filtered += len(x)
        if self.sigma_uv is not None:
            return self._run(x, self._threshold32, self._no_output, start)
        n_noise = min(self._noise_n - start, len(x))
        y = np.empty((n_noise, self.n_channels), dtype=np.float32)
        self._run(x[:n_noise], self._no_detection, y, start)
        self._collect_noise(y, start)
        return self._run(x[n_noise:], self._threshold32, self._no_output, start + n_noise)

    def _collect_noise(self, y: np.ndarray, start: int) -> None:
        """Store |y| channel-major; on the window's last sample freeze sigma and the threshold."""
        if self._noise_abs is None:
            self._noise_abs = np.empty((self.n_channels, self._noise_n), dtype=np.float32)
        np.abs(y.T, out=self._noise_abs[:, start : start + len(y)])
        if start + len(y) == self._noise_n:
            median = np.median(self._noise_abs, axis=1, overwrite_input=True)
            self.sigma_uv = median.astype(np.float64) / MAD_TO_SIGMA
            self._threshold32 = (-self.threshold_k * self.sigma_uv).astype(np.float32)
            self._noise_abs = None
