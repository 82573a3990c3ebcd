"""A cultured hippocampal network as an Izhikevich spiking network (the MEA digital twin).

Neuron model (Izhikevich, IEEE Trans. Neural Netw. 14:1569, 2003; 15:1063, 2004), v in mV,
u in mV, time in ms, I in the model's current units::

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I
    du/dt = a (b v - u)
    if v >= 30 mV:  v <- c,  u <- u + d

Excitatory cells are regular spiking (a=0.02, b=0.2, c=-65+15 r^2, d=8-6 r^2) and inhibitory
cells fast spiking (a=0.02+0.08 r, b=0.25-0.05 r, c=-65, d=2), r ~ U(0, 1) per cell, exactly
the heterogeneity of Izhikevich (2003). ``v`` is integrated with forward Euler at ``dt_s``.

Input current ``I = bias + noise + I_syn + I_stim + extra``:

* ``noise``: white Gaussian current, standard deviation ``noise_std * sqrt(1 ms / dt)`` per step,
  so the diffusion does not depend on ``dt_s`` (Izhikevich 2003 used 5 and 2 per 1 ms step
  for excitatory and inhibitory cells as "thalamic" input; we use a weaker drive so that the
  culture fires sparsely between bursts).
* ``I_syn``: recurrent input through a random sparse connectivity (each ordered pair connected
  with probability ``connection_probability``); a presynaptic spike adds ``w_ij * e_j`` to
  ``I_syn`` of its targets, and ``I_syn`` decays with ``tau_syn_s`` (AMPA / GABA-A lumped).
* Short-term synaptic depression of excitatory synapses (Tsodyks & Markram, PNAS 94:719, 1997):
  each excitatory neuron j holds resources ``x_j``; a spike uses ``e_j = U x_j`` and leaves
  ``x_j (1 - U)``; ``x_j`` recovers to 1 with ``tau_rec_s``. Depression terminates network
  bursts and its recovery sets the inter-burst interval (a few seconds), as in models of
  cultured networks (Tsodyks, Uziel & Markram, J. Neurosci. 20:RC50, 2000; Wagenaar, Pine &
  Potter, BMC Neurosci. 7:11, 2006 for the bursting phenomenology).
* ``I_stim``: the capacitive stimulation current: ``inject_stimulus`` adds
  ``amplitude * neuron_gain`` at ``time_s`` and the current decays with ``tau_stim_s``, a slow
  displacement current through a capacitive (TiO2) electrode; a weak pulse gives an EPSP-like
  subthreshold depolarisation, a strong one evokes action potentials (Serb et al. 2020).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.ragged import run_positions
from neurohybrid.core.units import MS_PER_S
from neurohybrid.core.validate import check_int, check_positive, check_real

SPIKE_PEAK_MV = 30.0  # spike cut-off (Izhikevich 2003)
V_REST_MV = -65.0  # initial membrane potential (Izhikevich 2003)
# Regular-spiking / fast-spiking parameters with heterogeneity r (Izhikevich 2003).
RS_A, RS_B, RS_C, RS_C_SPREAD, RS_D, RS_D_SPREAD = 0.02, 0.2, -65.0, 15.0, 8.0, -6.0
FS_A, FS_A_SPREAD, FS_B, FS_B_SPREAD, FS_C, FS_D = 0.02, 0.08, 0.25, -0.05, -65.0, 2.0
NOISE_BLOCK_STEPS = 200  # noise drawn 200 steps at a time: bounded memory for long calls
NOISE_REFERENCE_DT_MS = 1.0  # noise_std is given per 1 ms step, as in Izhikevich (2003)
# Quadratic membrane polynomial 0.04 v^2 + 5 v + 140 (Izhikevich 2003).
IZH_V2, IZH_V1, IZH_V0 = 0.04, 5.0, 140.0
MAX_DT_S = 1e-3  # forward Euler on the quadratic model needs steps of at most 1 ms


class IzhikevichCulture:
    """Izhikevich network of RS excitatory and FS inhibitory cells spread over a dish.

    Defaults are tuned so that 1000 neurons fire ~1-3 Hz on average, most spikes inside
    network bursts that recur every few seconds (see the module docstring for the model).
    Times are seconds on the culture's own clock (``now_s``); membrane potentials in mV.
    """

    def __init__(
        self,
        n_neurons: int = 1000,
        excitatory_fraction: float = 0.8,
        area_um: tuple[float, float] = (1600.0, 1600.0),
        seed: int = 0,
        dt_s: float = 5e-4,
        connection_probability: float = 0.05,
        weight_exc: float = 25.0,
        weight_inh: float = 6.0,
        tau_syn_s: float = 5e-3,
        depression_u: float = 0.3,
        tau_rec_s: float = 6.0,
        bias_current: float = 0.0,
        noise_std_exc: float = 2.3,
        noise_std_inh: float = 2.0,
        tau_stim_s: float = 3e-3,
    ) -> None:
        self.n_neurons = check_int("n_neurons", n_neurons, 2)
        frac = check_real("excitatory_fraction", excitatory_fraction, 0.0, 1.0)
        if len(area_um) != 2:
            raise ConfigError(f"area_um={area_um!r} must be (width_um, height_um)")
        width, height = check_positive("area_um[0]", area_um[0]), check_positive("area_um[1]", area_um[1])
        self.dt_s = check_positive("dt_s", dt_s, MAX_DT_S)
        p_conn = check_positive("connection_probability", connection_probability, 1.0)
        w_exc, w_inh = check_real("weight_exc", weight_exc, 0.0), check_real("weight_inh", weight_inh, 0.0)
        self._tau_syn_s = check_positive("tau_syn_s", tau_syn_s)
        self._u_dep = check_positive("depression_u", depression_u, 1.0)
        self._tau_rec_s = check_positive("tau_rec_s", tau_rec_s)
        self._tau_stim_s = check_positive("tau_stim_s", tau_stim_s)
        self._bias = check_real("bias_current", bias_current)
        noise = (check_real("noise_std_exc", noise_std_exc, 0.0), check_real("noise_std_inh", noise_std_inh, 0.0))
        self._rng = np.random.default_rng(seed)
        self._grow_cells(int(round(frac * self.n_neurons)), width, height)
        self._connect(p_conn, w_exc, w_inh)
        self._noise_std = np.where(self.is_excitatory, *noise) * math.sqrt(
            NOISE_REFERENCE_DT_MS / (self.dt_s * MS_PER_S)
        )
        self._reset_state()

    def _grow_cells(self, n_exc: int, width_um: float, height_um: float) -> None:
        """Positions and Izhikevich (2003) parameters: RS excitatory cells first, then FS inhibitory."""
        n, rng = self.n_neurons, self._rng
        self.is_excitatory = np.zeros(n, dtype=bool)
        self.is_excitatory[:n_exc] = True
        self.positions_um = rng.uniform((0.0, 0.0), (width_um, height_um), size=(n, 2))
        r = rng.uniform(size=n)
        exc = self.is_excitatory
        self._a = np.where(exc, RS_A, FS_A + FS_A_SPREAD * r)
        self._b = np.where(exc, RS_B, FS_B + FS_B_SPREAD * r)
        self._c = np.where(exc, RS_C + RS_C_SPREAD * r**2, FS_C)
        self._d = np.where(exc, RS_D + RS_D_SPREAD * r**2, FS_D)

    def _connect(self, p_conn: float, w_exc: float, w_inh: float) -> None:
        """W[i, j]: weight from presynaptic j to postsynaptic i; uniform(0, w) magnitudes as in
        Izhikevich (2003), negative for inhibitory presynaptic cells; no autapses."""
        n, rng = self.n_neurons, self._rng
        mask = sp.random_array((n, n), density=p_conn, format="coo", rng=rng, data_sampler=rng.uniform)
        keep = mask.row != mask.col
        rows, cols, mag = mask.row[keep], mask.col[keep], mask.data[keep]
        data = np.where(self.is_excitatory[cols], w_exc * mag, -w_inh * mag)
        self._weights = sp.csc_array((data, (rows, cols)), shape=(n, n))
        self._weights.sum_duplicates()

    def _reset_state(self) -> None:
        """Every neuron at rest, no input, nothing queued or recorded."""
        n = self.n_neurons
        self.membrane_mv = np.full(n, V_REST_MV)
        self._u = self._b * self.membrane_mv
        self._i_syn = np.zeros(n)
        self._i_stim = np.zeros(n)
        self._resources = np.ones(n)  # x_j of Tsodyks-Markram depression (only used if exc)
        self._last_spike_s = np.full(n, -np.inf)
        self._step = 0
        self._stim_time_s = np.empty(0)
        self._stim_drive = np.empty((0, n))
        self._record_idx = np.empty(0, dtype=np.intp)
        self.last_trace_mv = np.empty((0, 0))
        self.last_trace_time_s = np.empty(0)

    @property
    def now_s(self) -> float:
        """Culture clock, seconds since construction."""
        return self._step * self.dt_s

    @property
    def n_queued_stimuli(self) -> int:
        """Stimuli injected but not yet applied."""
        return len(self._stim_time_s)

    def record_neurons(self, neuron_idx: np.ndarray) -> None:
        """Record the membrane potential of these neurons during each ``advance``.

        After each call, ``last_trace_mv`` (n_steps, k) holds v (mV) after every step and
        ``last_trace_time_s`` (n_steps,) the culture time of each row.
        """
        idx = np.asarray(neuron_idx, dtype=np.intp).ravel()
        if len(idx) and (idx.min() < 0 or idx.max() >= self.n_neurons):
            raise ConfigError(f"neuron_idx outside allowed [0, {self.n_neurons - 1}]")
        self._record_idx = idx

    def inject_stimulus(self, neuron_gain: np.ndarray, amplitude: np.ndarray | float, time_s: np.ndarray | float) -> None:
        """Queue stimulation currents: at ``time_s`` add ``amplitude * neuron_gain`` to I_stim.

        ``neuron_gain`` is (n_neurons,) or (m, n_neurons) (dimensionless coupling, 0..1),
        ``amplitude`` and ``time_s`` scalars or (m,) (model current units; culture seconds).
        A stimulus whose time is already past is applied at the next step.
        """
        gain = np.atleast_2d(np.asarray(neuron_gain, dtype=np.float64))
        if gain.shape[1] != self.n_neurons:
            raise ValueError(f"neuron_gain has {gain.shape[1]} columns, expected {self.n_neurons}")
        amp = np.broadcast_to(np.asarray(amplitude, dtype=np.float64), (len(gain),))
        times = np.broadcast_to(np.asarray(time_s, dtype=np.float64), (len(gain),))
        if not (np.all(np.isfinite(amp)) and np.all(np.isfinite(times))):
            raise ValueError("stimulus amplitude and time_s must be finite")
        drive = np.concatenate([self._stim_drive, gain * amp[:, None]])
        t_all = np.concatenate([self._stim_time_s, times])
        order = np.argsort(t_all, kind="stable")
        self._stim_time_s, self._stim_drive = t_all[order], drive[order]

    def clear_stimuli(self) -> None:
        """Drop every queued (not yet applied) stimulus."""
        self._stim_time_s = np.empty(0)
        self._stim_drive = np.empty((0, self.n_neurons))

    def advance(
        self, duration_s: float, extra_current: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run ``duration_s`` further; return (neuron_idx intp, spike_time_s float64).

        Steps are taken until the clock reaches the nearest step to ``now_s + duration_s``.
        ``extra_current`` (n_neurons,) is added to I for every step of this call.
        Spike times are culture times, sorted, monotonic across calls.
        """
        dur = float(duration_s)
        if not (math.isfinite(dur) and dur >= 0.0):
            raise ValueError(f"duration_s={duration_s!r} outside allowed [0, inf)")
        n_steps = max(int(round((self.now_s + dur) / self.dt_s)) - self._step, 0)
        drive = self._drive(extra_current)
        step_times = (self._step + np.arange(1, n_steps + 1)) * self.dt_s
        spikes_idx, spikes_t = self._integrate(drive, step_times)
        self.last_trace_time_s = step_times
        self._step += n_steps
        if not spikes_idx:
            return np.empty(0, dtype=np.intp), np.empty(0)
        return np.concatenate(spikes_idx), np.concatenate(spikes_t)

    def _drive(self, extra_current: np.ndarray | None) -> np.ndarray:
        """The constant input of this call: the bias plus ``extra_current``."""
        n = self.n_neurons
        drive = np.full(n, self._bias)
        if extra_current is not None:
            extra = np.asarray(extra_current, dtype=np.float64)
            if extra.shape != (n,):
                raise ValueError(f"extra_current has shape {extra.shape}, expected ({n},)")
            drive += extra
        return drive

    def _integrate(self, drive: np.ndarray, step_times: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Forward Euler on the Izhikevich equations (2003) over ``step_times``, in place.

        Queued stimuli are applied at their step, in time order; the recorded neurons' v after
        each step goes to ``last_trace_mv``. Returns the spikes of each step that had any.
        """
        n, n_steps = self.n_neurons, len(step_times)
        dt_ms = self.dt_s * MS_PER_S
        syn_decay = math.exp(-self.dt_s / self._tau_syn_s)
        stim_decay = math.exp(-self.dt_s / self._tau_stim_s)
        a_dt = self._a * dt_ms
        v, u = self.membrane_mv, self._u
        i_syn, i_stim = self._i_syn, self._i_stim
        rec = self._record_idx
        trace = np.empty((n_steps, len(rec)))
        spikes_idx: list[np.ndarray] = []
        spikes_t: list[np.ndarray] = []
        # number of queued stimuli due at each step of this call (applied in time order)
        due = np.searchsorted(self._stim_time_s, step_times, side="right")
        applied = 0
        tmp = np.empty(n)
        for k in range(n_steps):
            if k % NOISE_BLOCK_STEPS == 0:  # same random stream whatever the block size
                noise = self._rng.standard_normal((min(NOISE_BLOCK_STEPS, n_steps - k), n))
                noise *= self._noise_std
                noise += drive
            if due[k] > applied:
                i_stim += self._stim_drive[applied : due[k]].sum(axis=0)
                applied = due[k]
            np.multiply(v, IZH_V2, out=tmp)
            tmp += IZH_V1
            tmp *= v
            tmp += IZH_V0
            tmp -= u
            tmp += noise[k % NOISE_BLOCK_STEPS]
            tmp += i_syn
            tmp += i_stim
            tmp *= dt_ms
            u += a_dt * (self._b * v - u)
            v += tmp
            i_syn *= syn_decay
            i_stim *= stim_decay
            fired = np.flatnonzero(v >= SPIKE_PEAK_MV)
            if len(fired):
                t_now = (self._step + k + 1) * self.dt_s
                self._fire(fired, t_now)
                spikes_idx.append(fired)
                spikes_t.append(np.full(len(fired), t_now))
            trace[k] = v[rec]
        self._stim_time_s = self._stim_time_s[applied:]
        self._stim_drive = self._stim_drive[applied:]
        self.last_trace_mv = trace
        return spikes_idx, spikes_t

    def _fire(self, fired: np.ndarray, t_now_s: float) -> None:
        """Reset the neurons that fired and add their (depressed) synaptic input to their targets."""
        self.membrane_mv[fired] = self._c[fired]
        self._u[fired] += self._d[fired]
        eff = self._release(fired, t_now_s)
        w = self._weights
        starts = w.indptr[fired]
        lengths = w.indptr[fired + 1] - starts
        if lengths.any():
            offs = run_positions(starts, lengths)
            self._i_syn += np.bincount(
                w.indices[offs], weights=w.data[offs] * np.repeat(eff, lengths), minlength=self.n_neurons
            )

    def _release(self, fired: np.ndarray, t_now_s: float) -> np.ndarray:
        """Efficacy of the fired neurons' synapses (Tsodyks-Markram depression, exc only)."""
        elapsed = t_now_s - self._last_spike_s[fired]
        x = 1.0 - (1.0 - self._resources[fired]) * np.exp(-elapsed / self._tau_rec_s)
        exc = self.is_excitatory[fired]
        eff = np.where(exc, self._u_dep * x, 1.0)
        self._resources[fired] = np.where(exc, x * (1.0 - self._u_dep), 1.0)
        self._last_spike_s[fired] = t_now_s
        return eff
