"""Extracellular voltage on MEA electrodes from the culture's spikes (microvolt, float32).

Each spike of neuron i adds ``amplitude_uv[i, ch] * template(t - t_spike)`` to channel ch,
plus white Gaussian noise of ``noise_uv_rms`` per sample.

* Template: a biphasic extracellular action potential, a sharp negative trough (Gaussian,
  sd ``TROUGH_SD_S``) followed by a slower positive repolarisation hump, ~1.6 ms long, normalised
  to a trough of -1 (shape as recorded by planar MEAs from somata, Buzsaki, Anastassiou & Koch,
  Nat. Rev. Neurosci. 13:407, 2012; Gold et al., J. Neurophysiol. 95:3113, 2006).
* Amplitude versus lateral distance d between soma and electrode:
  ``A(d) = A_ref * (d_ref^2 + h^2) / (d^2 + h^2)``, a 1/r^2 (dipole-like) far-field decay with the
  soma a height ``h`` above the electrode (Pettersen & Einevoll, Biophys. J. 94:784, 2008:
  extracellular spike amplitude falls off between 1/r^2 and 1/r^3 beyond ~50 um).
  ``A_ref`` is drawn per neuron uniformly in ``peak_uv_at_ref`` (default 50..150 uV at
  ``d_ref`` = 20 um), giving unit-to-unit amplitude spread; beyond ``max_distance_um`` a neuron
  is not seen at all.
* Noise: thermal + biological background of planar MEAs, 5-10 uV rms over the recording band
  (MCS MEA2100 specification: < 10 uV peak-to-peak amplifier noise; biological noise adds more).
  White and Gaussian. Drawing 20 M normal samples per second (1,024 channels at 20 kHz) costs more
  than the rest of the MEA twin, so the samples come from a bank of ``NOISE_BANK_SAMPLES``
  i.i.d. standard normals drawn once from the seed: each sample instant takes a contiguous run of
  the bank (one value per channel) at an offset drawn uniformly at random. Every sample is
  N(0, noise_uv_rms^2) and the samples of a run are independent; runs of the bank recur (about
  every bank length / channel count draws), a structure no threshold detector on this path can see.
"""

from __future__ import annotations

import math

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import check_positive, check_real
from neurohybrid.mea.extracellular_kernel import add_spikes
from neurohybrid.mea.layout import ElectrodeLayout

DEFAULT_FS_HZ = 25_000.0  # MCS MEA2100 sampling rate (25-50 kHz)
DEFAULT_NOISE_UV_RMS = 6.0  # planar-MEA noise level, 5-10 uV rms (see module docstring)
REFERENCE_DISTANCE_UM = 20.0  # distance at which peak_uv_at_ref is defined
DEFAULT_PEAK_UV_AT_REF = (50.0, 150.0)  # trough magnitude (uV) of a neuron 20 um away
SOMA_HEIGHT_UM = 10.0  # soma centre above the electrode plane (~ a soma radius)
DEFAULT_MAX_DISTANCE_UM = 150.0  # beyond this a spike is below 1 % of its reference amplitude
TEMPLATE_DURATION_S = 1.6e-3  # whole biphasic waveform
TROUGH_TIME_S = 0.3e-3  # trough after the spike time
TROUGH_SD_S = 0.1e-3  # trough width (sd of its Gaussian)
HUMP_TIME_S = 0.7e-3  # positive repolarisation peak after the spike time
HUMP_SD_S = 0.25e-3  # repolarisation width
HUMP_RATIO = 0.3  # positive peak / trough magnitude
NOISE_BANK_SAMPLES = 1 << 21  # 8 MB of float32 standard normals (see the module docstring)


def spike_template(fs_hz: float) -> np.ndarray:
    """Biphasic extracellular spike sampled at ``fs_hz``, trough normalised to -1 (float64)."""
    t = np.arange(int(math.ceil(TEMPLATE_DURATION_S * fs_hz))) / fs_hz
    trough = np.exp(-0.5 * ((t - TROUGH_TIME_S) / TROUGH_SD_S) ** 2)
    hump = np.exp(-0.5 * ((t - HUMP_TIME_S) / HUMP_SD_S) ** 2)
    wave = HUMP_RATIO * hump - trough
    return wave / -wave.min()


class ExtracellularModel:
    """Renders spikes of neurons at ``neuron_positions_um`` onto the electrodes of ``layout``.

    Call ``render`` with consecutive chunks: waveforms that run past a chunk's end are kept in a
    carry-over buffer and added to the start of the next chunk, and spikes later than a chunk are
    kept until the chunk that contains them. ``amplitude_uv`` (n_neurons, n_channels) holds the
    trough magnitude (uV, positive) of each neuron on each channel.
    """

    def __init__(
        self,
        layout: ElectrodeLayout,
        neuron_positions_um: np.ndarray,
        fs_hz: float = DEFAULT_FS_HZ,
        noise_uv_rms: float = DEFAULT_NOISE_UV_RMS,
        seed: int = 0,
        peak_uv_at_ref: tuple[float, float] = DEFAULT_PEAK_UV_AT_REF,
        max_distance_um: float = DEFAULT_MAX_DISTANCE_UM,
    ) -> None:
        fs = check_real("fs_hz", fs_hz, 1.0 / TROUGH_SD_S)
        noise = check_real("noise_uv_rms", noise_uv_rms, 0.0)
        lo, hi = (float(x) for x in peak_uv_at_ref)
        if not (math.isfinite(hi) and 0.0 <= lo <= hi):
            raise ConfigError(f"peak_uv_at_ref={peak_uv_at_ref!r} must satisfy 0 <= low <= high")
        max_d = check_positive("max_distance_um", max_distance_um)
        pos = np.asarray(neuron_positions_um, dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 2:
            raise ConfigError(f"neuron_positions_um must have shape (n, 2), got {pos.shape}")
        self.layout = layout
        self.fs_hz = fs
        self.noise_uv_rms = noise
        self._rng = np.random.default_rng(seed)
        self.template = spike_template(fs)
        ref_uv = self._rng.uniform(lo, hi, size=len(pos))
        d2 = ((pos[:, None, :] - layout.positions_um[None, :, :]) ** 2).sum(axis=-1)
        h2 = SOMA_HEIGHT_UM**2
        gain = (REFERENCE_DISTANCE_UM**2 + h2) / (d2 + h2)
        gain[d2 > max_d**2] = 0.0
        self.amplitude_uv = (ref_uv[:, None] * gain).astype(np.float32)
        # sparse (neuron -> visible channels) rows, so rendering costs per visible pair only
        neuron_of_pair, self._pair_channel = np.nonzero(self.amplitude_uv)
        self._pair_amp_uv = self.amplitude_uv[neuron_of_pair, self._pair_channel]
        self._pair_ptr = np.searchsorted(neuron_of_pair, np.arange(len(pos) + 1))
        self._carry = np.zeros((0, layout.n_channels), dtype=np.float32)
        self._pending_neuron = np.empty(0, dtype=np.intp)
        self._pending_time_s = np.empty(0)
        self._noise_bank = self._rng.standard_normal(NOISE_BANK_SAMPLES, dtype=np.float32) if noise > 0 else None
        # load (or compile) the kernel now, never on a streamed chunk
        none = np.empty(0, np.int64)
        add_spikes(np.zeros((1, 1), np.float32), none, none, none, self._pair_channel, self._pair_amp_uv, self.template)

    def _noise(self, n_samples: int) -> np.ndarray:
        """White noise (n_samples, n_channels), uV: runs of the bank at random offsets (one per sample)."""
        n_ch = self.layout.n_channels
        offsets = self._rng.integers(0, NOISE_BANK_SAMPLES - n_ch + 1, n_samples)
        runs = np.lib.stride_tricks.sliding_window_view(self._noise_bank, n_ch)[offsets]
        runs *= np.float32(self.noise_uv_rms)
        return runs

    def render(
        self, spike_neuron: np.ndarray, spike_time_s: np.ndarray, t0_s: float, n_samples: int
    ) -> np.ndarray:
        """Voltage (n_samples, n_channels) float32 in uV for samples t0_s + k / fs_hz.

        Spikes before ``t0_s`` contribute only their part inside the chunk; spikes at or after
        the chunk's end are kept and rendered by the chunk that contains them.
        """
        n_ch = self.layout.n_channels
        n_tpl = len(self.template)
        neuron = np.concatenate([self._pending_neuron, np.asarray(spike_neuron, dtype=np.intp)])
        t_s = np.concatenate([self._pending_time_s, np.asarray(spike_time_s, dtype=np.float64)])
        start = np.round((t_s - t0_s) * self.fs_hz).astype(np.int64)
        later = start >= n_samples
        self._pending_neuron, self._pending_time_s = neuron[later], t_s[later]
        neuron, start = neuron[~later], start[~later]

        out = np.zeros((n_samples + n_tpl, n_ch), dtype=np.float32)
        out[: len(self._carry)] += self._carry
        first = self._pair_ptr[neuron]
        add_spikes(out, start, first, self._pair_ptr[neuron + 1] - first, self._pair_channel,
                   self._pair_amp_uv, self.template)
        if self._noise_bank is not None:
            out[:n_samples] += self._noise(n_samples)
        self._carry = out[n_samples:].copy()
        return out[:n_samples]
