"""Stimulation safety limits and the guard that refuses unsafe MEA stimulus commands whole.

A command (one row of a ``StimulusBatch``) is ``pulse_count`` biphasic, charge-balanced current
pulses of ``amplitude_ua`` per phase and ``phase_width_us`` per phase on one electrode.
Charge per phase ``Q = amplitude_ua * phase_width_us * 1e-3`` nC. The charge a command puts
through its electrode is counted as ``Q * pulse_count`` (one phase per pulse: the cathodic
charge; the anodic phase returns it).

Where the default limits come from:

* ``max_charge_per_phase_nc = 10 nC``: a chosen default, not a standard. For scale: the Shannon
  criterion ``log10(Q/A) = k - log10(Q)`` with k = 1.85 (Shannon, IEEE TBME 39:424, 1992; Q in
  uC/phase, A in cm^2) allows ~22 nC for a 30 um disc (A = 7.1e-6 cm^2), but it was derived for
  macroelectrodes (Cogan et al., J. Neural Eng. 13:021001, 2016). The reversible charge-injection
  capacity of TiN, the usual MCS electrode material, is ~0.9 mC/cm^2 (Cogan, Annu. Rev. Biomed.
  Eng. 10:275, 2008), i.e. ~6 nC for a 30 um TiN electrode: **lower this limit to <= 6 nC for
  standard 30 um TiN MEAs**. The larger capacitive TiO2 electrodes used in Padova (Serb et al.
  2020) tolerate more.
* ``max_amplitude_ua = 50 uA`` and ``max_phase_width_us = 500 us``: the range of MEA stimulation
  protocols in the literature (e.g. Wagenaar, Pine & Potter, J. Neurosci. Methods 138:27, 2004:
  biphasic +-0.1..0.9 V or a few to tens of uA, 100-400 us per phase); chosen defaults.
* ``max_charge_per_electrode_per_s_nc = 200 nC`` (trailing 1 s) and ``max_pulse_rate_hz = 100``:
  chosen defaults bounding the time-averaged current (200 nC/s = 0.2 uA mean) and the pulse
  rate, to limit electrode corrosion and tissue damage from sustained high-rate stimulation
  (McCreery et al., IEEE TBME 37:996, 1990: damage grows with rate and duration).
* ``max_pulse_count = 10`` pulses per command: a chosen default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from neurohybrid.errors import ConfigError
from neurohybrid.events import StimulusBatch

NC_PER_UA_US = 1e-3  # 1 uA * 1 us = 1 pC = 1e-3 nC
RATE_WINDOW_NS = 1_000_000_000  # trailing window of the per-electrode budgets: 1 s
BUDGET_RTOL = 1e-9  # a budget filled exactly (up to float rounding of the sums) is allowed


@dataclass(frozen=True)
class StimulationLimits:
    """Safety limits for MEA current stimulation (see the module docstring for the sources)."""

    max_amplitude_ua: float = 50.0
    max_phase_width_us: float = 500.0
    max_charge_per_phase_nc: float = 10.0
    max_charge_per_electrode_per_s_nc: float = 200.0
    max_pulse_rate_hz: float = 100.0
    max_pulse_count: int = 10

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{f.name}={value!r} must be a number in (0, inf)")
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{f.name}={value!r} outside allowed (0, inf)")
        if int(self.max_pulse_count) != self.max_pulse_count:
            raise ConfigError(f"max_pulse_count={self.max_pulse_count!r} must be an integer >= 1")

    def to_dict(self) -> dict[str, float]:
        """The limits as a plain dict (for provenance)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class StimulationVerdict:
    """Outcome of a guard check: ``accepted[i]`` per command, one reason per refused command."""

    accepted: np.ndarray
    reasons: list[str] = field(default_factory=list)

    @property
    def n_accepted(self) -> int:
        """Number of accepted commands."""
        return int(np.count_nonzero(self.accepted))

    @property
    def n_refused(self) -> int:
        """Number of refused commands."""
        return len(self.accepted) - self.n_accepted


class StimulationGuard:
    """Accepts or refuses each stimulus command whole (never clips), with rolling budgets.

    Per-command checks: electrode index, amplitude, phase width, pulse count and charge per
    phase, each within its limit (NaN or negative -> refused). Per-electrode budgets over the
    trailing 1 s: delivered charge and number of pulses. Only accepted commands count.

    A command's budget time is ``max(time_ns, now_ns)`` (a past command is delivered at once).
    Every 1 s window ending at an accepted command must stay within budget. If a batch would
    break a budget, the latest command in the first over-budget window of that electrode is
    refused and the check repeats, so the earliest commands are kept.
    """

    def __init__(self, limits: StimulationLimits, n_electrodes: int) -> None:
        if isinstance(n_electrodes, bool) or int(n_electrodes) != n_electrodes or n_electrodes < 1:
            raise ConfigError(f"n_electrodes={n_electrodes!r} outside allowed [1, inf) (integer)")
        self.limits = limits
        self.n_electrodes = int(n_electrodes)
        self._hist_electrode = np.empty(0, dtype=np.int64)
        self._hist_time_ns = np.empty(0, dtype=np.int64)
        self._hist_charge_nc = np.empty(0)
        self._hist_pulses = np.empty(0)

    def check(self, batch: StimulusBatch, now_ns: int) -> StimulationVerdict:
        """Decide every command of ``batch`` at device time ``now_ns``; record the accepted ones."""
        lim = self.limits
        n = len(batch)
        reasons = np.full(n, "", dtype=object)
        charge = batch.charge_per_phase_nc()
        amp, width = batch.amplitude_ua, batch.phase_width_us
        count = batch.pulse_count.astype(np.int64)
        rules = [
            ("electrode", batch.electrode, batch.electrode < self.n_electrodes, f"[0, {self.n_electrodes - 1}]"),
            ("amplitude_ua", amp, (amp > 0) & (amp <= lim.max_amplitude_ua), f"(0, {lim.max_amplitude_ua}]"),
            ("phase_width_us", width, (width > 0) & (width <= lim.max_phase_width_us), f"(0, {lim.max_phase_width_us}]"),
            ("pulse_count", count, (count >= 1) & (count <= lim.max_pulse_count), f"[1, {lim.max_pulse_count}]"),
            ("charge_per_phase_nc", charge, charge <= lim.max_charge_per_phase_nc, f"(0, {lim.max_charge_per_phase_nc}]"),
        ]
        ok = np.ones(n, dtype=bool)
        for name, values, passed, allowed in rules:
            failed = ok & ~passed  # NaN compares False, so it fails here
            for i in np.flatnonzero(failed):
                reasons[i] = f"{name}={values[i].item()!r} outside allowed {allowed}"
            ok &= passed
        when = np.maximum(batch.time_ns, int(now_ns))
        self._prune(int(now_ns))
        ok = self._check_budgets(batch.electrode.astype(np.int64), when, charge * count, count, ok, reasons)
        return StimulationVerdict(ok, [str(r) for r in reasons[~ok]])

    def _prune(self, now_ns: int) -> None:
        """Forget accepted commands that can no longer fall in a window with a new command."""
        keep = self._hist_time_ns > now_ns - RATE_WINDOW_NS
        self._hist_electrode = self._hist_electrode[keep]
        self._hist_time_ns = self._hist_time_ns[keep]
        self._hist_charge_nc = self._hist_charge_nc[keep]
        self._hist_pulses = self._hist_pulses[keep]

    def _check_budgets(
        self,
        electrode: np.ndarray,
        when_ns: np.ndarray,
        charge_nc: np.ndarray,
        pulses: np.ndarray,
        ok: np.ndarray,
        reasons: np.ndarray,
    ) -> np.ndarray:
        lim = self.limits
        max_pulses = lim.max_pulse_rate_hz * RATE_WINDOW_NS / 1e9
        n_hist = len(self._hist_time_ns)
        while True:
            cand = np.flatnonzero(ok)
            e = np.concatenate([self._hist_electrode, electrode[cand]])
            t = np.concatenate([self._hist_time_ns, when_ns[cand]])
            q = np.concatenate([self._hist_charge_nc, charge_nc[cand]])
            p = np.concatenate([self._hist_pulses, pulses[cand].astype(np.float64)])
            source = np.concatenate([np.full(n_hist, -1), cand])  # -1: already accepted earlier
            order = np.lexsort((source, t, e))
            e, t, q, p, source = e[order], t[order], q[order], p[order], source[order]
            # sums over the window (t_i - 1 s, t_i] of the same electrode, by cumulative sums on
            # a key that sorts by electrode then time; t_rel >= 1 s keeps windows per electrode
            t_rel = t - (t.min() if len(t) else 0) + RATE_WINDOW_NS
            key = e * (int(t_rel.max(initial=0)) + 1) + t_rel
            lo = np.searchsorted(key, key - RATE_WINDOW_NS, side="right")
            hi = np.searchsorted(key, key, side="right")
            cq = np.concatenate([[0.0], np.cumsum(q)])
            cp = np.concatenate([[0.0], np.cumsum(p)])
            window_q = cq[hi] - cq[lo]
            window_p = cp[hi] - cp[lo]
            over = (window_q > lim.max_charge_per_electrode_per_s_nc * (1 + BUDGET_RTOL)) | (
                window_p > max_pulses * (1 + BUDGET_RTOL)
            )
            if not over.any():
                break
            for elec in np.unique(e[over]):  # loops over refusals only
                end = np.flatnonzero(over & (e == elec))[0]
                in_window = np.arange(lo[end], hi[end])
                victim = source[in_window[source[in_window] >= 0][-1]]
                ok[victim] = False
                reasons[victim] = self._budget_reason(
                    float(window_q[end]), float(window_p[end]), max_pulses, int(elec), int(t[end])
                )
        accepted = np.flatnonzero(ok)
        self._hist_electrode = np.concatenate([self._hist_electrode, electrode[accepted]])
        self._hist_time_ns = np.concatenate([self._hist_time_ns, when_ns[accepted]])
        self._hist_charge_nc = np.concatenate([self._hist_charge_nc, charge_nc[accepted]])
        self._hist_pulses = np.concatenate([self._hist_pulses, pulses[accepted].astype(np.float64)])
        return ok

    def _budget_reason(
        self, window_q: float, window_p: float, max_pulses: float, electrode: int, end_ns: int
    ) -> str:
        lim = self.limits
        where = f"(electrode {electrode}, 1 s window ending at {end_ns} ns)"
        if window_q > lim.max_charge_per_electrode_per_s_nc * (1 + BUDGET_RTOL):
            return (
                f"charge_per_electrode_per_s_nc={window_q!r} outside allowed "
                f"[0, {lim.max_charge_per_electrode_per_s_nc}] {where}"
            )
        return f"pulse_rate_hz={window_p!r} outside allowed [0, {lim.max_pulse_rate_hz}] {where}"
