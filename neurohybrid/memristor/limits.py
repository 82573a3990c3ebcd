"""Programming safety limits for the memristor crossbar: refuse whole, never clip.

A programming pulse is accepted only if its amplitude, its width and the rate of accepted
pulses on its device are all within :class:`ProgrammingLimits`; otherwise it is refused
whole and the verdict says which limit, which value and which range. The defaults bracket
the Serb et al. 2020 programming pulses (+/-4.0 V, 100 us, at most one per postsynaptic
event) with margin, and stay below the original hub's throughput (well under 100 events/s).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np
from numba import njit

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NEVER_NS, NS_PER_S
from neurohybrid.core.validate import Bounds, unknown_keys
from neurohybrid.memristor.crossbar import per_pulse, validate_addresses

#: Trailing window over which the pulse rate of a device is counted, ns (1 s).
RATE_WINDOW_NS = NS_PER_S
#: Ceilings on the limits themselves (instrument ranges): ArC TWO sources at most +/-13.5 V;
#: 1 s pulses and 1,000 pulses/s/device bound the guard's memory (a ring per device).
MAX_ALLOWED_VOLTAGE_V = 13.5
MAX_ALLOWED_WIDTH_S = 1.0
MAX_ALLOWED_RATE_PER_S = 1000.0


LIMIT_PARAMS = ParamSet("memristor programming limits (a pulse beyond any is refused whole)", [
    ParamSpec("max_abs_voltage_v", 5.0, "largest |programming voltage|", "V",
              Bounds(0.0, MAX_ALLOWED_VOLTAGE_V, low_open=True)),
    ParamSpec("max_width_s", 1e-3, "longest programming pulse", "s", Bounds(0.0, MAX_ALLOWED_WIDTH_S, low_open=True)),
    ParamSpec("max_pulses_per_s", 50.0, "accepted pulses per device in any trailing 1 s (whole pulses count)",
              "1/s", Bounds(1.0, MAX_ALLOWED_RATE_PER_S)),
])


@dataclass(frozen=True)
class ProgrammingLimits:
    """Limits every programming pulse must meet.

    ``max_abs_voltage_v``: |amplitude| ceiling, V; ``max_width_s``: pulse-width ceiling, s
    (widths must be > 0); ``max_pulses_per_s``: accepted pulses per device in any trailing
    1 s window (whole pulses; the integer part counts).
    """

    max_abs_voltage_v: float = LIMIT_PARAMS["max_abs_voltage_v"].default
    max_width_s: float = LIMIT_PARAMS["max_width_s"].default
    max_pulses_per_s: float = LIMIT_PARAMS["max_pulses_per_s"].default

    def __post_init__(self) -> None:
        LIMIT_PARAMS.check_fields(self)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float]) -> "ProgrammingLimits":
        """Build from a config mapping; unknown keys raise ConfigError listing the known ones."""
        unknown_keys(mapping, LIMIT_PARAMS, "ProgrammingLimits")
        return cls(**mapping)

    def to_dict(self) -> dict[str, float]:
        """Limits as a plain dict (for provenance and YAML)."""
        return asdict(self)


@dataclass(frozen=True)
class ProgrammingVerdict:
    """Outcome of :meth:`ProgrammingGuard.check`.

    ``accepted``: one bool per pulse; ``reasons``: one message per refused pulse, in pulse
    order, each naming the pulse index, its address, the limit, the value and the allowed
    range; ``refused_index``: the pulse index each reason belongs to.
    """

    accepted: np.ndarray
    reasons: list[str]
    refused_index: np.ndarray


class ProgrammingGuard:
    """Checks programming pulses against :class:`ProgrammingLimits` and tracks pulse rates.

    The rate limit counts only accepted pulses, per device, over the trailing 1 s; each
    device keeps a ring of its last ``floor(max_pulses_per_s)`` accepted pulse times, so
    memory is bounded. ``shape`` is the crossbar size (word lines, bit lines).
    """

    def __init__(
        self, limits: ProgrammingLimits | None = None, shape: tuple[int, int] = (32, 32)
    ) -> None:
        self.limits = ProgrammingLimits() if limits is None else limits
        if not isinstance(self.limits, ProgrammingLimits):
            raise ConfigError(f"limits={limits!r} must be a ProgrammingLimits")
        if len(shape) != 2 or min(shape) < 1:
            raise ConfigError(f"shape={shape!r} must be (n_wordlines, n_bitlines), each >= 1")
        self.shape = (int(shape[0]), int(shape[1]))
        n_devices = self.shape[0] * self.shape[1]
        self._per_window = int(self.limits.max_pulses_per_s)
        self._ring_ns = np.full((n_devices, self._per_window), NEVER_NS, np.int64)
        self._head = np.zeros(n_devices, np.int64)
        self._admit(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, bool))  # load/compile the kernel now, not on a live pulse

    def check(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
        now_ns: np.ndarray | int,
    ) -> ProgrammingVerdict:
        """Decide, pulse by pulse in order, which pulses may be applied; record the accepted.

        ``amplitude_v`` (V) and ``width_s`` (s) are scalars or one per pulse; ``now_ns``
        (hub clock, ns) is one time for the batch or one per pulse. NaN amplitudes or
        widths are refused. Accepted pulses count toward the rate limit immediately.
        """
        wl, bl = validate_addresses(wordline, bitline, self.shape)
        n = len(wl)
        amplitude = per_pulse("amplitude_v", amplitude_v, n, np.float64)
        width = per_pulse("width_s", width_s, n, np.float64)
        now = per_pulse("now_ns", now_ns, n, np.int64)
        lim = self.limits
        reason = np.full(n, "", dtype=object)
        bad_v = ~(np.abs(amplitude) <= lim.max_abs_voltage_v)
        reason[bad_v] = [
            f"max_abs_voltage_v: amplitude_v={a!r} outside allowed [-{lim.max_abs_voltage_v}, "
            f"{lim.max_abs_voltage_v}] V"
            for a in amplitude[bad_v].tolist()
        ]
        bad_w = ~bad_v & ~((width > 0) & (width <= lim.max_width_s))
        reason[bad_w] = [
            f"max_width_s: width_s={w!r} outside allowed (0, {lim.max_width_s}] s"
            for w in width[bad_w].tolist()
        ]
        accepted = ~(bad_v | bad_w)
        flat = wl * self.shape[1] + bl
        rate_ok = self._admit(flat, now, accepted)
        bad_r = accepted & ~rate_ok
        reason[bad_r] = [
            f"max_pulses_per_s: at least {self._per_window + 1} pulses on this device in the "
            f"trailing 1 s, allowed at most {self._per_window} (max_pulses_per_s="
            f"{lim.max_pulses_per_s})"
        ] * int(bad_r.sum())
        accepted &= rate_ok
        refused = np.flatnonzero(~accepted)
        reasons = [
            f"pulse {i} (wordline {wl[i]}, bitline {bl[i]}) refused: {reason[i]}"
            for i in refused.tolist()
        ]
        return ProgrammingVerdict(accepted, reasons, refused)

    def _admit(self, flat: np.ndarray, now: np.ndarray, candidate: np.ndarray) -> np.ndarray:
        """Rate check of the candidate pulses, device by device in order; record accepted ones.

        A pulse at t is admitted iff the device's oldest remembered accepted pulse (the
        ``floor(max_pulses_per_s)``-th most recent) is at or before t - 1 s.
        """
        # One array type for the compiled check (contiguous, writable), whatever the caller
        # passed (a broadcast scalar is read-only): another type would compile a new kernel.
        return _admit_in_order(np.require(flat, np.int64, "CW"), np.require(now, np.int64, "CW"),
                               np.require(candidate, np.bool_, "CW"), self._ring_ns, self._head,
                               RATE_WINDOW_NS)


@njit(cache=True)
def _admit_in_order(
    flat: np.ndarray, now: np.ndarray, candidate: np.ndarray, ring_ns: np.ndarray, head: np.ndarray,
    window_ns: int,
) -> np.ndarray:
    """The rate check of :meth:`ProgrammingGuard._admit`, pulse by pulse (compiled: one pass).

    ``ring_ns[device]`` holds the device's last accepted pulse times (ns), ``head[device]`` the
    slot of the oldest; both are updated in place for each admitted pulse.
    """
    per_window = ring_ns.shape[1]
    admitted = np.zeros(flat.shape[0], np.bool_)
    for i in range(flat.shape[0]):
        if not candidate[i]:
            continue
        dev = flat[i]
        slot = head[dev]
        if ring_ns[dev, slot] <= now[i] - window_ns:
            admitted[i] = True
            ring_ns[dev, slot] = now[i]
            head[dev] = (slot + 1) % per_window
    return admitted
