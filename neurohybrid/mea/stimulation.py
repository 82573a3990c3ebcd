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

from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit

from neurohybrid.core.events import StimulusBatch
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds, check_int

NC_PER_UA_US = 1e-3  # 1 uA * 1 us = 1 pC = 1e-3 nC
RATE_WINDOW_NS = NS_PER_S  # trailing window of the per-electrode budgets: 1 s
BUDGET_RTOL = 1e-9  # a budget filled exactly (up to float rounding of the sums) is allowed


LIMIT_PARAMS = ParamSet("MEA stimulation limits (a command beyond any is refused whole)", [
    ParamSpec("max_amplitude_ua", 50.0, "largest stimulus current per phase", "uA", Bounds(0, 1000, low_open=True)),
    ParamSpec("max_phase_width_us", 500.0, "longest phase", "us", Bounds(0, 10_000, low_open=True)),
    ParamSpec("max_charge_per_phase_nc", 10.0, "largest charge per phase", "nC", Bounds(0, 1000, low_open=True)),
    ParamSpec("max_charge_per_electrode_per_s_nc", 200.0, "charge per electrode in any trailing 1 s", "nC",
              Bounds(0, 100_000, low_open=True)),
    ParamSpec("max_pulse_rate_hz", 100.0, "pulses per electrode in any trailing 1 s", "Hz",
              Bounds(0, 10_000, low_open=True)),
    ParamSpec("max_pulse_count", 10, "pulses per command", "", Bounds(1, 1000, integer=True)),
])


@dataclass(frozen=True)
class StimulationLimits:
    """Safety limits for MEA current stimulation (see the module docstring for the sources)."""

    max_amplitude_ua: float = LIMIT_PARAMS["max_amplitude_ua"].default
    max_phase_width_us: float = LIMIT_PARAMS["max_phase_width_us"].default
    max_charge_per_phase_nc: float = LIMIT_PARAMS["max_charge_per_phase_nc"].default
    max_charge_per_electrode_per_s_nc: float = LIMIT_PARAMS["max_charge_per_electrode_per_s_nc"].default
    max_pulse_rate_hz: float = LIMIT_PARAMS["max_pulse_rate_hz"].default
    max_pulse_count: int = LIMIT_PARAMS["max_pulse_count"].default

    def __post_init__(self) -> None:
        LIMIT_PARAMS.check_fields(self)

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
        self.limits = limits
        self.n_electrodes = check_int("n_electrodes", n_electrodes, 1)
        self._hist_electrode = np.empty(0, dtype=np.int64)
        self._hist_time_ns = np.empty(0, dtype=np.int64)
        self._hist_charge_nc = np.empty(0)
        self._hist_pulses = np.empty(0)
        empty_i, empty_f = np.empty(0, np.int64), np.empty(0)  # load the compiled check now, not mid-stream
        _budget_refusals(empty_i, empty_i, empty_f, empty_f, empty_i, empty_i, empty_f, empty_f,
                         np.empty(0, np.bool_), RATE_WINDOW_NS, 1.0, 1.0)

    def check(self, batch: StimulusBatch, now_ns: int) -> StimulationVerdict:
        """Decide every command of ``batch`` at device time ``now_ns``; record the accepted ones."""
        lim = self.limits
        n = len(batch)
        reasons = np.full(n, "", dtype=object)
        charge = batch.charge_per_phase_nc()
        amp, width = batch.amplitude_ua, batch.phase_width_us
        count = batch.pulse_count.astype(np.int64)
        rules = (
            ("electrode", batch.electrode, batch.electrode < self.n_electrodes, lambda: f"[0, {self.n_electrodes - 1}]"),
            ("amplitude_ua", amp, (amp > 0) & (amp <= lim.max_amplitude_ua), lambda: f"(0, {lim.max_amplitude_ua}]"),
            ("phase_width_us", width, (width > 0) & (width <= lim.max_phase_width_us),
             lambda: f"(0, {lim.max_phase_width_us}]"),
            ("pulse_count", count, (count >= 1) & (count <= lim.max_pulse_count), lambda: f"[1, {lim.max_pulse_count}]"),
            ("charge_per_phase_nc", charge, charge <= lim.max_charge_per_phase_nc,
             lambda: f"(0, {lim.max_charge_per_phase_nc}]"),
        )
        ok = np.ones(n, dtype=bool)
        for _, _, passed, _ in rules:
            ok &= passed  # NaN compares False, so it fails here
        if not ok.all():  # reasons only where something failed: the first rule it broke
            seen = np.ones(n, dtype=bool)
            for name, values, passed, allowed in rules:
                for i in np.flatnonzero(seen & ~passed):
                    reasons[i] = f"{name}={values[i].item()!r} outside allowed {allowed()}"
                seen &= passed
        when = np.maximum(batch.time_ns, int(now_ns))
        self._prune(int(now_ns))
        ok = self._check_budgets(batch.electrode.astype(np.int64), when, charge * count, count, ok, reasons)
        return StimulationVerdict(ok, [str(r) for r in reasons[~ok]])

    def _prune(self, now_ns: int) -> None:
        """Forget accepted commands that can no longer fall in a window with a new command."""
        if not len(self._hist_time_ns) or self._hist_time_ns.min() > now_ns - RATE_WINDOW_NS:
            return
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
        max_pulses = lim.max_pulse_rate_hz * RATE_WINDOW_NS / NS_PER_S
        refused, window_q, window_p, end_ns = _budget_refusals(
            self._hist_electrode, self._hist_time_ns, self._hist_charge_nc, self._hist_pulses,
            np.require(electrode, np.int64, "CW"), np.require(when_ns, np.int64, "CW"),
            np.require(charge_nc, np.float64, "CW"), np.require(pulses, np.float64, "CW"), ok,
            RATE_WINDOW_NS, lim.max_charge_per_electrode_per_s_nc * (1 + BUDGET_RTOL),
            max_pulses * (1 + BUDGET_RTOL))
        for k, victim in enumerate(refused.tolist()):
            reasons[victim] = self._budget_reason(float(window_q[k]), float(window_p[k]), max_pulses,
                                                  int(electrode[victim]), int(end_ns[k]))
        accepted = np.flatnonzero(ok)
        if len(accepted):
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


@njit(cache=True)
def _budget_refusals(
    hist_e: np.ndarray, hist_t: np.ndarray, hist_q: np.ndarray, hist_p: np.ndarray,
    cand_e: np.ndarray, cand_t: np.ndarray, cand_q: np.ndarray, cand_p: np.ndarray, ok: np.ndarray,
    window_ns: int, max_q: float, max_p: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The budget check of :meth:`StimulationGuard._check_budgets`, electrode by electrode (compiled).

    Over one electrode's accepted history and its candidates (``ok``), ordered by time (history
    first, then candidates in batch order, at equal times): every window (t_i - 1 s, t_i] must hold
    at most ``max_q`` nC and ``max_p`` pulses. While one does not, the latest candidate of the first
    such window is refused (``ok`` set False in place) and the check repeats. Returns the refused
    candidates and, for each, its window's charge (nC), pulses and end time (ns).
    """
    n = cand_e.shape[0]
    refused = np.empty(n, np.int64)
    out_q = np.empty(n)
    out_p = np.empty(n)
    out_t = np.empty(n, np.int64)
    n_refused = 0
    done = np.zeros(n, np.bool_)
    for first in range(n):
        if done[first] or not ok[first]:
            continue
        elec = cand_e[first]
        mine = np.flatnonzero((cand_e == elec) & ok)
        done[mine] = True
        hist = np.flatnonzero(hist_e == elec)
        while True:
            live = mine[ok[mine]]
            m = hist.shape[0] + live.shape[0]
            t = np.empty(m, np.int64)
            q = np.empty(m)
            p = np.empty(m)
            src = np.empty(m, np.int64)
            t[:hist.shape[0]] = hist_t[hist]
            q[:hist.shape[0]] = hist_q[hist]
            p[:hist.shape[0]] = hist_p[hist]
            src[:hist.shape[0]] = -1
            t[hist.shape[0]:] = cand_t[live]
            q[hist.shape[0]:] = cand_q[live]
            p[hist.shape[0]:] = cand_p[live]
            src[hist.shape[0]:] = live
            order = np.argsort(t, kind="mergesort")  # stable: history, then batch order, at equal t
            t, q, p, src = t[order], q[order], p[order], src[order]
            cq = np.zeros(m + 1)
            cp = np.zeros(m + 1)
            for i in range(m):
                cq[i + 1] = cq[i] + q[i]
                cp[i + 1] = cp[i] + p[i]
            lo = 0
            hi = 0
            over = -1
            for i in range(m):
                while t[lo] <= t[i] - window_ns:
                    lo += 1
                if hi < i + 1:
                    hi = i + 1
                while hi < m and t[hi] <= t[i]:
                    hi += 1
                wq = cq[hi] - cq[lo]
                wp = cp[hi] - cp[lo]
                if wq > max_q or wp > max_p:
                    over = i
                    break
            if over < 0:
                break
            victim = -1
            for k in range(hi - 1, lo - 1, -1):
                if src[k] >= 0:
                    victim = src[k]
                    break
            if victim < 0:  # only already-accepted commands: nothing of this batch to refuse
                break
            ok[victim] = False
            refused[n_refused] = victim
            out_q[n_refused] = wq
            out_p[n_refused] = wp
            out_t[n_refused] = t[over]
            n_refused += 1
    return refused[:n_refused], out_q[:n_refused], out_p[:n_refused], out_t[:n_refused]
