"""Plasticity rules: turn pre- and postsynaptic spikes into memristor programming requests.

Two rules from Serb et al., Sci. Rep. 10, 2590 (2020), found by name in
:data:`PLASTICITY_RULES`:

* ``rate`` (the published rule): on each postsynaptic event, count the synapse's
  presynaptic spikes in the last ``window_s`` = 1.0 s. More than ``ltp_count`` = 20 (above
  20 Hz): LTP, one +4.0 V, 100 us pulse. Fewer than ``ltd_count`` = 5 (below 5 Hz): LTD, one
  -4.0 V, 100 us pulse. In between: nothing.
* ``stdp`` (the earlier timing-based variant): a postsynaptic spike with a presynaptic spike
  of the synapse less than ``ltp_window_s`` = 100 ms before (or at the same time) asks for
  LTP; a presynaptic spike with a postsynaptic spike less than ``ltd_window_s`` = 37.5 ms
  before it asks for LTD.

Both ``on_pre`` and ``on_post`` return a :class:`PulseRequest` (empty when nothing is due);
the device's own response decides how far R moves. Which events are postsynaptic is the
caller's business: Padova's evoked APs (kind 1) do not trigger plasticity, so the hub does
not pass them to ``on_post`` (PSPs and spontaneous APs it does).

Times are int64 ns of one clock (the hub's). Every window is ``(t - window, t]``.

Fail-safe on missing data: the caller marks intervals with no data (link loss, start-up)
with :meth:`PlasticityRule.mark_gap` / :meth:`PlasticityRule.invalidate`; a rule never asks
for a pulse whose decision window overlaps a gap (fewer counted spikes must not read as LTD).
Spike memory is bounded: each synapse keeps its last ``history_size`` spike times; when a
count cannot be exact because older spikes were forgotten, the rule only acts if the
decision is certain anyway (LTP on a lower bound above ``ltp_count``) and otherwise does
nothing and counts the event as uncertain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.registry import BackendRegistry
from neurohybrid.core.units import NEVER_NS, NS_PER_S
from neurohybrid.core.validate import Bounds, check_int, unknown_keys
from neurohybrid.memristor.crossbar import occurrence_rank

PLASTICITY_RULES: BackendRegistry["PlasticityRule"] = BackendRegistry("plasticity")

DIRECTION_LTP = 1
DIRECTION_LTD = -1
#: A gap is forgotten once it ended this long before the start of the longest window of
#: the latest event seen (late events within this margin still see it), ns.
GAP_RETENTION_NS = 60 * NS_PER_S
#: Ceiling on synapse counts (1,024 devices on ArC TWO; larger for scaling studies).
MAX_SYNAPSES = 1 << 24
#: Range of pulse amplitudes a rule may request, V: up to the ArC TWO range (+/-13.5 V;
#: the programming guard applies the stricter operating limits), down to 1 mV (a zero
#: amplitude would be no pulse at all).
MAX_RULE_AMPLITUDE_V = 13.5
MIN_RULE_AMPLITUDE_V = 1e-3
#: Shortest pulse a rule may request, s: pyarc2's ``pulse_one`` takes whole nanoseconds.
MIN_RULE_WIDTH_S = 1e-9

PULSE_PARAMS = ParamSet("programming pulses of every rule (Serb et al. 2020: +4.0 V / -4.0 V, 100 us)", [
    ParamSpec("ltp_amplitude_v", 4.0, "LTP pulse amplitude", "V",
              Bounds(MIN_RULE_AMPLITUDE_V, MAX_RULE_AMPLITUDE_V)),
    ParamSpec("ltd_amplitude_v", -4.0, "LTD pulse amplitude", "V",
              Bounds(-MAX_RULE_AMPLITUDE_V, -MIN_RULE_AMPLITUDE_V)),
    ParamSpec("ltp_width_s", 100e-6, "LTP pulse width", "s", Bounds(MIN_RULE_WIDTH_S, 1.0)),
    ParamSpec("ltd_width_s", 100e-6, "LTD pulse width", "s", Bounds(MIN_RULE_WIDTH_S, 1.0)),
])


@dataclass(frozen=True)
class PulseRequest:
    """Programming pulses a rule asks for, one row per pulse (arrays of one length).

    ``synapse_id`` (uint32); ``amplitude_v`` (float64, V); ``width_s`` (float64, s);
    ``direction`` (int8, +1 LTP, -1 LTD); ``trigger_time_ns`` (int64, time of the spike
    that triggered it); ``pre_count`` (uint32, presynaptic spikes counted in the decision
    window; a lower bound when the history was full).
    """

    synapse_id: np.ndarray
    amplitude_v: np.ndarray
    width_s: np.ndarray
    direction: np.ndarray
    trigger_time_ns: np.ndarray
    pre_count: np.ndarray

    _SPEC: ClassVar[dict[str, type]] = {
        "synapse_id": np.uint32,
        "amplitude_v": np.float64,
        "width_s": np.float64,
        "direction": np.int8,
        "trigger_time_ns": np.int64,
        "pre_count": np.uint32,
    }

    def __post_init__(self) -> None:
        length = None
        for name, dtype in self._SPEC.items():
            arr = np.ascontiguousarray(getattr(self, name), dtype=dtype)
            if arr.ndim != 1:
                raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
            if length is not None and len(arr) != length:
                raise ValueError(f"{name} has {len(arr)} entries, expected {length}")
            length = len(arr)
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return len(self.synapse_id)

    @classmethod
    def empty(cls) -> "PulseRequest":
        """A request with no pulses (one shared read-only instance: the rule answers most batches so)."""
        return _NO_PULSES

    @classmethod
    def concat(cls, requests: list["PulseRequest"]) -> "PulseRequest":
        """Join requests in the given order."""
        requests = [r for r in requests if len(r)]
        if not requests:
            return cls.empty()
        if len(requests) == 1:
            return requests[0]
        return cls(*(np.concatenate([getattr(r, n) for r in requests]) for n in cls._SPEC))

    def select(self, mask: np.ndarray) -> "PulseRequest":
        """Rows where the boolean ``mask`` is true."""
        return PulseRequest(*(getattr(self, n)[mask] for n in self._SPEC))


def _no_pulses() -> PulseRequest:
    request = PulseRequest(*(np.empty(0, dtype) for dtype in PulseRequest._SPEC.values()))
    for name in PulseRequest._SPEC:
        getattr(request, name).flags.writeable = False
    return request


_NO_PULSES = _no_pulses()


class SpikeHistory:
    """The last ``size`` spike times of each synapse, in a ring per synapse (bounded memory).

    ``forgotten_max_ns`` keeps the latest time among overwritten entries, so a count over a
    window is known to be exact when nothing forgotten could fall inside it.
    """

    def __init__(self, n_synapses: int, size: int) -> None:
        self.size = size
        self._times_ns = np.full((n_synapses, size), NEVER_NS, np.int64)
        self._head = np.zeros(n_synapses, np.int64)
        self.forgotten_max_ns = np.full(n_synapses, NEVER_NS, np.int64)

    def add(self, synapse_id: np.ndarray, time_ns: np.ndarray) -> None:
        """Store spikes (in order per synapse); O(batch), vectorised."""
        if len(synapse_id) == 0:
            return
        n_syn = len(self._head)
        per_synapse = np.bincount(synapse_id, minlength=n_syn)
        rank = occurrence_rank(synapse_id)
        surplus = np.maximum(per_synapse - self.size, 0)
        keep = rank >= surplus[synapse_id]
        np.maximum.at(self.forgotten_max_ns, synapse_id[~keep], time_ns[~keep])
        syn = synapse_id[keep]
        slot = (self._head[syn] + rank[keep] - surplus[syn]) % self.size
        np.maximum.at(self.forgotten_max_ns, syn, self._times_ns[syn, slot])
        self._times_ns[syn, slot] = time_ns[keep]
        self._head = (self._head + np.minimum(per_synapse, self.size)) % self.size

    def count(
        self, synapse_id: np.ndarray, low_ns: np.ndarray, high_ns: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Spikes with time in [low_ns, high_ns] per query, and whether each count is exact."""
        rows = self._times_ns[synapse_id]
        inside = (rows >= low_ns[:, None]) & (rows <= high_ns[:, None])
        return inside.sum(axis=1), self.forgotten_max_ns[synapse_id] < low_ns


class GapLog:
    """Closed intervals [start_ns, end_ns] with missing data, for all or some synapses."""

    def __init__(self, n_synapses: int) -> None:
        self._n = n_synapses
        self._start_ns = np.empty(0, np.int64)
        self._end_ns = np.empty(0, np.int64)
        self._synapses = np.empty((0, n_synapses), bool)

    def __len__(self) -> int:
        return len(self._start_ns)

    def mark(self, start_ns: int, end_ns: int, synapse_id: np.ndarray | None) -> None:
        """Record a gap; ``synapse_id`` None means every synapse."""
        mask = np.ones(self._n, bool) if synapse_id is None else np.zeros(self._n, bool)
        if synapse_id is not None:
            mask[synapse_id] = True
        self._start_ns = np.append(self._start_ns, np.int64(start_ns))
        self._end_ns = np.append(self._end_ns, np.int64(end_ns))
        self._synapses = np.vstack([self._synapses, mask])

    def overlaps(
        self, synapse_id: np.ndarray, low_ns: np.ndarray, high_ns: np.ndarray
    ) -> np.ndarray:
        """Whether each window [low_ns, high_ns] of each synapse overlaps a gap."""
        if len(self) == 0:
            return np.zeros(len(synapse_id), bool)
        starts_before_end = self._start_ns[None, :] <= high_ns[:, None]
        ends_after_start = self._end_ns[None, :] >= low_ns[:, None]
        hit = starts_before_end & ends_after_start
        return (hit & self._synapses[:, synapse_id].T).any(axis=1)

    def forget_before(self, time_ns: int) -> None:
        """Drop gaps that ended before ``time_ns``."""
        keep = self._end_ns >= time_ns
        self._start_ns, self._end_ns = self._start_ns[keep], self._end_ns[keep]
        self._synapses = self._synapses[keep]


def _synapse_ids(n_synapses: int, synapse_id: np.ndarray) -> np.ndarray:
    """Validate synapse indices: 1-D integers in 0..n_synapses-1; returned as int64."""
    syn = np.atleast_1d(np.asarray(synapse_id))
    if syn.ndim != 1:
        raise ValueError(f"synapse_id must be a 1-D array, got shape {syn.shape}")
    if syn.size and syn.dtype.kind not in "iu":
        raise ValueError(f"synapse_id must hold integers, got dtype {syn.dtype}")
    syn = syn.astype(np.int64)
    bad = (syn < 0) | (syn >= n_synapses)
    if bad.any():
        raise ValueError(
            f"synapse_id {int(syn[bad][0])} outside allowed range 0..{n_synapses - 1}"
        )
    return syn


def _events(
    n_synapses: int, synapse_id: np.ndarray, time_ns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an event batch: synapse ids in range, integer times, equal lengths."""
    syn = _synapse_ids(n_synapses, synapse_id)
    t = np.atleast_1d(np.asarray(time_ns))
    if t.ndim != 1:
        raise ValueError(f"time_ns must be a 1-D array, got shape {t.shape}")
    if t.size and t.dtype.kind not in "iu":
        raise ValueError(f"time_ns must hold integers, got dtype {t.dtype}")
    if len(syn) != len(t):
        raise ValueError(f"synapse_id and time_ns differ in length: {len(syn)}, {len(t)}")
    return syn, t.astype(np.int64)


class PlasticityRule(ABC):
    """Interface of a plasticity rule over ``n_synapses`` memristive synapses.

    Subclasses declare ``PARAMS`` (their own parameters, on top of the common
    :data:`PULSE_PARAMS`) and implement ``_on_pre`` / ``_on_post``; the public methods validate
    their arguments first (template method). Errors name a parameter as ``<rule>.<name>``.
    """

    name: ClassVar[str]
    PARAMS: ClassVar[ParamSet]

    def __init__(self, n_synapses: int, **params: float) -> None:
        self.n_synapses = check_int("n_synapses", n_synapses, 1, MAX_SYNAPSES)
        self.params = self._validate(params)
        self._gaps = GapLog(self.n_synapses)
        self._latest_ns = NEVER_NS
        self._counters = dict.fromkeys(
            ("ltp_total", "ltd_total", "gap_blocked_total", "uncertain_total"), 0
        )

    @classmethod
    def all_params(cls) -> ParamSet:
        """The rule's parameters: its own, then the pulse parameters every rule takes."""
        return cls.PARAMS.join(f"{cls.name} rule", PULSE_PARAMS)

    def _validate(self, params: dict[str, float]) -> dict[str, float]:
        specs = self.all_params()
        unknown_keys(params, specs, f"{self.name} rule parameter")
        try:
            return specs.check(params)
        except ConfigError as exc:
            raise ConfigError(f"{self.name}.{exc}") from None

    def on_pre(self, synapse_id: np.ndarray, time_ns: np.ndarray) -> PulseRequest:
        """Presynaptic spikes (synapse index, time ns); returns pulses due now (maybe none)."""
        syn, t = _events(self.n_synapses, synapse_id, time_ns)
        self._observe(t)
        return self._on_pre(syn, t) if len(syn) else PulseRequest.empty()

    def on_post(self, synapse_id: np.ndarray, time_ns: np.ndarray) -> PulseRequest:
        """Postsynaptic events, one row per synapse of the firing neuron; returns pulses due."""
        syn, t = _events(self.n_synapses, synapse_id, time_ns)
        self._observe(t)
        return self._on_post(syn, t) if len(syn) else PulseRequest.empty()

    def mark_gap(self, start_ns: int, end_ns: int, synapse_id: np.ndarray | None = None) -> None:
        """Data is missing in [start_ns, end_ns] (for ``synapse_id``, default all synapses).

        No pulse is requested from a decision window that overlaps the gap.
        """
        for key, value in (("start_ns", start_ns), ("end_ns", end_ns)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{key}={value!r} must be an integer time in ns")
        if end_ns < start_ns:
            raise ValueError(f"end_ns={end_ns} is before start_ns={start_ns}")
        syn = None if synapse_id is None else _synapse_ids(self.n_synapses, synapse_id)
        self._gaps.mark(int(start_ns), int(end_ns), syn)

    def invalidate(self, until_ns: int) -> None:
        """All data before ``until_ns`` is missing (call at start-up with the session start)."""
        self.mark_gap(int(NEVER_NS), int(until_ns) - 1)

    def info(self) -> dict[str, Any]:
        """Provenance and counters: rule name, parameters, pulses asked for, events skipped."""
        return {
            "rule": self.name,
            "n_synapses": self.n_synapses,
            "params": dict(self.params),
            "active_gaps": len(self._gaps),
            **self._counters,
        }

    def _observe(self, time_ns: np.ndarray) -> None:
        """Track the latest time seen and forget gaps no window can reach any more."""
        if len(time_ns) == 0:
            return
        self._latest_ns = max(self._latest_ns, int(time_ns.max()))
        horizon = self._latest_ns - self._max_window_ns() - GAP_RETENTION_NS
        self._gaps.forget_before(horizon)

    def _request(
        self, syn: np.ndarray, t: np.ndarray, direction: np.ndarray, pre_count: np.ndarray
    ) -> PulseRequest:
        """Build a request, amplitudes and widths from the LTP/LTD parameters."""
        ltp = direction == DIRECTION_LTP
        p = self.params
        self._counters["ltp_total"] += int(ltp.sum())
        self._counters["ltd_total"] += int((~ltp).sum())
        return PulseRequest(
            syn,
            np.where(ltp, p["ltp_amplitude_v"], p["ltd_amplitude_v"]),
            np.where(ltp, p["ltp_width_s"], p["ltd_width_s"]),
            direction,
            t,
            pre_count,
        )

    def _unblocked(
        self, want: np.ndarray, syn: np.ndarray, low_ns: np.ndarray, high_ns: np.ndarray
    ) -> np.ndarray:
        """``want`` where the decision window [low_ns, high_ns] overlaps no gap.

        Wanted pulses dropped for a gap are counted in ``gap_blocked_total``.
        """
        act = want.copy()
        idx = np.flatnonzero(want)
        blocked = self._gaps.overlaps(syn[idx], low_ns[idx], high_ns[idx])
        act[idx[blocked]] = False
        self._counters["gap_blocked_total"] += int(blocked.sum())
        return act

    @abstractmethod
    def _max_window_ns(self) -> int:
        """Longest decision window of the rule, ns."""

    @abstractmethod
    def _on_pre(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        """Handle validated presynaptic spikes."""

    @abstractmethod
    def _on_post(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        """Handle validated postsynaptic events."""




@PLASTICITY_RULES.register("rate")
class RateRule(PlasticityRule):
    """Rate rule of Serb et al. 2020: pre spikes in the last ``window_s`` at each post event.

    count > ``ltp_count`` -> LTP pulse; count < ``ltd_count`` -> LTD pulse; else nothing.
    ``history_size`` spike times are kept per synapse (counts are exact up to it).
    """

    name = "rate"
    PARAMS = ParamSet("rate rule", [
        ParamSpec("window_s", 1.0, "window of the presynaptic count", "s", Bounds(1e-3, 60.0)),
        ParamSpec("ltp_count", 20, "LTP when the count exceeds this", "spikes", Bounds(0, 100_000, integer=True)),
        ParamSpec("ltd_count", 5, "LTD when the count is below this", "spikes", Bounds(0, 100_000, integer=True)),
        ParamSpec("history_size", 256, "spike times kept per synapse (exact counts up to it)", "spikes",
                  Bounds(1, 100_000, integer=True)),
    ])

    def __init__(self, n_synapses: int, **params: float) -> None:
        super().__init__(n_synapses, **params)
        p = self.params
        if p["ltd_count"] > p["ltp_count"]:
            raise ConfigError(
                f"rate.ltd_count={p['ltd_count']} must not exceed rate.ltp_count={p['ltp_count']}"
            )
        if p["history_size"] <= p["ltp_count"]:
            raise ConfigError(
                f"rate.history_size={p['history_size']} outside allowed "
                f"[ltp_count + 1 = {p['ltp_count'] + 1}, 100000]"
            )
        self._window_ns = int(round(p["window_s"] * NS_PER_S))
        self._pre = SpikeHistory(self.n_synapses, p["history_size"])

    def _max_window_ns(self) -> int:
        return self._window_ns

    def _on_pre(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        self._pre.add(syn, t)
        return PulseRequest.empty()

    def _on_post(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        low = t - self._window_ns + 1
        count, exact = self._pre.count(syn, low, t)
        ltp = count > self.params["ltp_count"]
        ltd = exact & (count < self.params["ltd_count"])
        self._counters["uncertain_total"] += int((~exact & ~ltp).sum())
        act = self._unblocked(ltp | ltd, syn, low, t)
        direction = np.where(ltp, DIRECTION_LTP, DIRECTION_LTD)[act]
        return self._request(syn[act], t[act], direction, count[act])


@PLASTICITY_RULES.register("stdp")
class PairStdpRule(PlasticityRule):
    """Pair-based timing rule, the earlier variant of Serb et al. 2020.

    Post spike at t with a pre spike in (t - ``ltp_window_s``, t] -> LTP pulse.
    Pre spike at t with a post spike in (t - ``ltd_window_s``, t) -> LTD pulse.
    ``history_size`` spike times are kept per synapse and side.
    """

    name = "stdp"
    PARAMS = ParamSet("stdp rule", [
        ParamSpec("ltp_window_s", 0.1, "LTP window (post after pre)", "s", Bounds(1e-6, 10.0)),
        ParamSpec("ltd_window_s", 0.0375, "LTD window (pre after post)", "s", Bounds(1e-6, 10.0)),
        ParamSpec("history_size", 16, "spike times kept per synapse and side", "spikes",
                  Bounds(1, 100_000, integer=True)),
    ])

    def __init__(self, n_synapses: int, **params: float) -> None:
        super().__init__(n_synapses, **params)
        self._ltp_ns = int(round(self.params["ltp_window_s"] * NS_PER_S))
        self._ltd_ns = int(round(self.params["ltd_window_s"] * NS_PER_S))
        self._pre = SpikeHistory(self.n_synapses, self.params["history_size"])
        self._post = SpikeHistory(self.n_synapses, self.params["history_size"])

    def _max_window_ns(self) -> int:
        return max(self._ltp_ns, self._ltd_ns)

    def _on_pre(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        low = t - self._ltd_ns + 1
        post_count, _ = self._post.count(syn, low, t - 1)
        act = self._unblocked(post_count > 0, syn, low, t)
        self._pre.add(syn, t)
        ltd = np.full(int(act.sum()), DIRECTION_LTD)
        return self._request(syn[act], t[act], ltd, np.ones(len(ltd)))

    def _on_post(self, syn: np.ndarray, t: np.ndarray) -> PulseRequest:
        low = t - self._ltp_ns + 1
        pre_count, _ = self._pre.count(syn, low, t)
        act = self._unblocked(pre_count > 0, syn, low, t)
        self._post.add(syn, t)
        ltp = np.full(int(act.sum()), DIRECTION_LTP)
        return self._request(syn[act], t[act], ltp, pre_count[act])
