"""The simulated MEA: Izhikevich culture + extracellular rendering + online spike detection.

``SimMEABackend`` (registered as "sim") is the embedded default of the Padova site: a culture
(``IzhikevichCulture``) grown over the electrode layout, its spikes rendered as extracellular
voltage on every electrode (``ExtracellularModel``) and detected online
(``OnlineSpikeDetector``) exactly as hardware data would be.

Stimulation coupling. An accepted command is ``pulse_count`` pulses, the k-th at
``max(time_ns, now) + k * pulse_interval_s``. Each pulse adds to every neuron a capacitive
stimulation current ``stim_coupling_per_nc * Q * g(d)`` (culture current units, decaying with
the culture's ``tau_stim_s``), with Q the charge per phase (nC) and d the distance from the
electrode: ``g(d) = exp(-d / stim_length_um)`` for ``d <= stim_radius_um``, else 0. With the
defaults, 1 nC (10 uA x 100 us) depolarises a neuron 25 um away by a few mV (EPSP-like,
subthreshold) and 5 nC (50 uA x 100 us) makes the neurons within ~60 um fire within a few ms,
mirroring Padova's capacitive TiO2 stimulation (Serb et al. 2020). Stimulus artefacts are not
modelled.

Event kinds (Padova's, Serb et al. 2020), decided per electrode:

* A spike detected on electrode e at t with a delivered pulse on e at s and
  ``s + evoked_window_s[0] <= t <= s + evoked_window_s[1]`` -> KIND_EVOKED_AP.
* Any other detected spike -> KIND_SPONTANEOUS_AP.
* A delivered pulse on e with no evoked AP on e in its window -> one KIND_PSP event on e at the
  time of the peak membrane potential, within the window ``[s, s + evoked_window_s[1]]``, of the
  neuron nearest to e. It is emitted once the window has been fully analysed (after
  ``evoked_window_s[1]`` + the detector's peak window), so it may come one call late and earlier
  in time than other events of that call.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SPONTANEOUS_AP, SpikeEvents, StimulusBatch
from neurohybrid.core.node_params import SEED_BOUNDS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds, check_positive
from neurohybrid.mea.backend import MEA_BACKENDS, MEABackend
from neurohybrid.mea.culture import IzhikevichCulture
from neurohybrid.mea.detector import OnlineSpikeDetector
from neurohybrid.mea.extracellular import DEFAULT_NOISE_UV_RMS, ExtracellularModel
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationLimits

CULTURE_MARGIN_UM = 100.0  # neurons also grow this far beyond the outermost electrodes
DEFAULT_STIM_COUPLING_PER_NC = 6.0  # culture current per nC at d = 0 (tuned, see docstring)
DEFAULT_STIM_LENGTH_UM = 50.0  # decay length of the stimulation coupling
DEFAULT_STIM_RADIUS_UM = 100.0  # no coupling beyond this distance
DEFAULT_PULSE_INTERVAL_S = 5e-3  # spacing of the pulses of one command (200 Hz train)
DEFAULT_EVOKED_WINDOW_S = (2e-3, 20e-3)  # direct + early synaptic responses, after artefact
DECISION_MARGIN_S = 1e-3  # slack on top of the detector's peak-window latency

SIM_PARAMS = ParamSet("MEA sim backend (culture twin)", [
    ParamSpec("n_neurons", 1000, "cultured neurons", "", Bounds(10, 100_000, integer=True)),
    ParamSpec("seed", 0, "random seed of the culture and its recording", "", SEED_BOUNDS),
    ParamSpec("threshold_k", 5.0, "detector threshold, x robust noise level (MAD/0.6745)", "", Bounds(2.0, 20.0)),
    ParamSpec("fs_hz", 25000.0, "extracellular sampling rate", "Hz", Bounds(1000.0, 50_000.0)),
])


@MEA_BACKENDS.register("sim")
class SimMEABackend(MEABackend):
    """A simulated culture on an MEA: spontaneous bursts, evoked APs and PSP-like responses."""

    name = "sim"

    def __init__(
        self,
        layout: ElectrodeLayout,
        limits: StimulationLimits,
        n_neurons: int = 1000,
        excitatory_fraction: float = 0.8,
        fs_hz: float = 25000.0,
        threshold_k: float = 5.0,
        noise_uv_rms: float = DEFAULT_NOISE_UV_RMS,
        seed: int = 0,
        stim_coupling_per_nc: float = DEFAULT_STIM_COUPLING_PER_NC,
        stim_length_um: float = DEFAULT_STIM_LENGTH_UM,
        stim_radius_um: float = DEFAULT_STIM_RADIUS_UM,
        pulse_interval_s: float = DEFAULT_PULSE_INTERVAL_S,
        evoked_window_s: tuple[float, float] = DEFAULT_EVOKED_WINDOW_S,
        culture: dict[str, Any] | None = None,
        detector: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            layout,
            limits,
            n_neurons=n_neurons,
            excitatory_fraction=excitatory_fraction,
            fs_hz=fs_hz,
            threshold_k=threshold_k,
            noise_uv_rms=noise_uv_rms,
            seed=seed,
            stim_coupling_per_nc=stim_coupling_per_nc,
            stim_length_um=stim_length_um,
            stim_radius_um=stim_radius_um,
            pulse_interval_s=pulse_interval_s,
            evoked_window_s=tuple(evoked_window_s),
            culture=dict(culture or {}),
            detector=dict(detector or {}),
        )
        for key in SIM_PARAMS:
            SIM_PARAMS[key].check(self._kwargs[key])
        for key in ("stim_coupling_per_nc", "stim_length_um", "stim_radius_um", "pulse_interval_s"):
            check_positive(key, self._kwargs[key])
        w0, w1 = (float(w) for w in evoked_window_s)
        if not (0.0 <= w0 < w1 and math.isfinite(w1)):
            raise ConfigError(f"evoked_window_s={tuple(evoked_window_s)!r} must satisfy 0 <= start < end")
        self._window_ns = (int(round(w0 * NS_PER_S)), int(round(w1 * NS_PER_S)))
        self._samples = 0

    @property
    def now_ns(self) -> int:
        """Device clock (ns): samples rendered so far / fs_hz."""
        return int(round(self._samples * NS_PER_S / self._fs_hz)) if self.configured else 0

    @property
    def culture(self) -> IzhikevichCulture:
        """The simulated culture (for inspection and tests)."""
        self.require_configured("inspect its culture")
        return self._culture

    @property
    def neuron_positions_um(self) -> np.ndarray:
        """Neuron positions (n_neurons, 2) in the layout's frame, micrometre."""
        self.require_configured("give neuron positions")
        return self._neuron_pos_um

    def _configure(self) -> None:
        kw = self._kwargs
        self._fs_hz = float(kw["fs_hz"])
        culture_seed, ecx_seed = np.random.SeedSequence(kw["seed"]).generate_state(2)
        pos = self.layout.positions_um
        origin = pos.min(axis=0) - CULTURE_MARGIN_UM
        width, height = pos.max(axis=0) + CULTURE_MARGIN_UM - origin
        self._culture = IzhikevichCulture(
            n_neurons=kw["n_neurons"],
            excitatory_fraction=kw["excitatory_fraction"],
            area_um=(float(width), float(height)),
            seed=int(culture_seed),
            **kw["culture"],
        )
        self._neuron_pos_um = self._culture.positions_um + origin
        self._ecx = ExtracellularModel(
            self.layout, self._neuron_pos_um, fs_hz=self._fs_hz, noise_uv_rms=kw["noise_uv_rms"], seed=int(ecx_seed)
        )
        self._detector = OnlineSpikeDetector(
            self.layout.n_channels, self._fs_hz, threshold_k=kw["threshold_k"], **kw["detector"]
        )
        dist = np.linalg.norm(pos[:, None, :] - self._neuron_pos_um[None, :, :], axis=-1)
        gain = np.exp(-dist / float(kw["stim_length_um"]))
        gain[dist > float(kw["stim_radius_um"])] = 0.0
        self._gain = gain  # (n_channels, n_neurons)
        self._nearest = np.argmin(dist, axis=1)
        self._culture.record_neurons(self._nearest)
        self._samples = 0
        self._clear_queue()
        self._rec_electrode = np.empty(0, dtype=np.int64)
        self._rec_time_ns = np.empty(0, dtype=np.int64)
        self._rec_evoked = np.empty(0, dtype=bool)
        self._rec_peak_mv = np.empty(0)
        self._rec_peak_ns = np.empty(0, dtype=np.int64)

    def _shutdown(self) -> None:
        self._clear_queue()

    def _clear_queue(self) -> None:
        self._q_electrode = np.empty(0, dtype=np.int64)
        self._q_time_ns = np.empty(0, dtype=np.int64)
        self._q_drive = np.empty(0)

    def _safe_state(self) -> int:
        dropped = len(self._q_electrode) + self._culture.n_queued_stimuli
        self._clear_queue()
        self._culture.clear_stimuli()
        return dropped

    def _stimulate(self, batch: StimulusBatch) -> None:
        counts = batch.pulse_count.astype(np.int64)
        row = np.repeat(np.arange(len(batch)), counts)
        k = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
        start = np.maximum(batch.time_ns[row], self.now_ns)
        interval_ns = int(round(float(self._kwargs["pulse_interval_s"]) * NS_PER_S))
        drive = float(self._kwargs["stim_coupling_per_nc"]) * batch.charge_per_phase_nc()[row]
        self._q_electrode = np.concatenate([self._q_electrode, batch.electrode[row].astype(np.int64)])
        self._q_time_ns = np.concatenate([self._q_time_ns, start + k * interval_ns])
        self._q_drive = np.concatenate([self._q_drive, drive])

    def _advance(self, duration_s: float) -> SpikeEvents:
        n_samples = int(round(duration_s * self._fs_hz))
        t0_ns = self.now_ns
        t0_s = self._samples / self._fs_hz
        t1_ns = int(round((self._samples + n_samples) * NS_PER_S / self._fs_hz))
        self._deliver_due(t1_ns)
        neuron, spike_s = self._culture.advance(t0_s + n_samples / self._fs_hz - self._culture.now_s)
        voltage_uv = self._ecx.render(neuron, spike_s, t0_s, n_samples)
        self._samples += n_samples
        channel, time_ns, _ = self._detector.process(voltage_uv, t0_ns)
        kind = self._classify(channel.astype(np.int64), time_ns)
        self._track_peaks()
        psp = self._resolve_psps()
        return SpikeEvents.concat([SpikeEvents(channel, time_ns, kind), psp])

    def _deliver_due(self, t1_ns: int) -> None:
        """Hand the pulses due before ``t1_ns`` to the culture and open their response windows."""
        due = self._q_time_ns < t1_ns
        if not due.any():
            return
        elec, when = self._q_electrode[due], self._q_time_ns[due]
        self._culture.inject_stimulus(self._gain[elec], self._q_drive[due], when / NS_PER_S)
        self._q_electrode, self._q_time_ns, self._q_drive = (
            self._q_electrode[~due],
            self._q_time_ns[~due],
            self._q_drive[~due],
        )
        self._rec_electrode = np.concatenate([self._rec_electrode, elec])
        self._rec_time_ns = np.concatenate([self._rec_time_ns, when])
        self._rec_evoked = np.concatenate([self._rec_evoked, np.zeros(len(elec), dtype=bool)])
        self._rec_peak_mv = np.concatenate([self._rec_peak_mv, np.full(len(elec), -np.inf)])
        self._rec_peak_ns = np.concatenate([self._rec_peak_ns, when])

    def _classify(self, channel: np.ndarray, time_ns: np.ndarray) -> np.ndarray:
        """Kinds of detected spikes; marks the pulses that evoked an AP."""
        lag = time_ns[:, None] - self._rec_time_ns[None, :]
        hit = (
            (channel[:, None] == self._rec_electrode[None, :])
            & (lag >= self._window_ns[0])
            & (lag <= self._window_ns[1])
        )
        self._rec_evoked |= hit.any(axis=0)
        return np.where(hit.any(axis=1), KIND_EVOKED_AP, KIND_SPONTANEOUS_AP).astype(np.uint8)

    def _track_peaks(self) -> None:
        """Update each open pulse's peak depolarisation of the neuron nearest its electrode."""
        if not len(self._rec_time_ns):
            return
        trace = self._culture.last_trace_mv[:, self._rec_electrode]  # (steps, pulses)
        t_ns = np.round(self._culture.last_trace_time_s * NS_PER_S).astype(np.int64)[:, None]
        inside = (t_ns >= self._rec_time_ns[None, :]) & (t_ns <= self._rec_time_ns[None, :] + self._window_ns[1])
        masked = np.where(inside, trace, -np.inf)
        if not len(masked):
            return
        best = np.argmax(masked, axis=0)
        value = masked[best, np.arange(masked.shape[1])]
        better = value > self._rec_peak_mv
        self._rec_peak_mv[better] = value[better]
        self._rec_peak_ns[better] = t_ns[best[better], 0]

    def _resolve_psps(self) -> SpikeEvents:
        """PSP events for pulses whose window is final and evoked no AP; forget final pulses."""
        latency_s = self._detector.peak_window_s + DECISION_MARGIN_S
        margin_ns = self._window_ns[1] + int(round(latency_s * NS_PER_S))
        final = self._rec_time_ns + margin_ns <= self.now_ns
        psp = final & ~self._rec_evoked
        events = SpikeEvents(
            self._rec_electrode[psp], self._rec_peak_ns[psp], np.full(int(psp.sum()), KIND_PSP)
        )
        keep = ~final
        self._rec_electrode = self._rec_electrode[keep]
        self._rec_time_ns = self._rec_time_ns[keep]
        self._rec_evoked = self._rec_evoked[keep]
        self._rec_peak_mv = self._rec_peak_mv[keep]
        self._rec_peak_ns = self._rec_peak_ns[keep]
        return events
