"""The memristor-crossbar interface every backend (simulator, ArC TWO, ...) implements.

Backends are found by name in :data:`MEMRISTOR_BACKENDS`. The public methods validate
their arguments and enforce safety, then call the backend's private primitives
(template method, as neo's ``BaseRawIO``): a backend implements ``_open``, ``_close``,
``_read`` and ``_pulse`` and never re-validates.

Programming follows the original hub (Serb et al. 2020): each accepted pulse is applied
and "the device is read again afterwards", so :class:`ProgramResult` carries the
resistance read before and after every accepted pulse. Pulses outside
:class:`~neurohybrid.memristor.limits.ProgrammingLimits` are refused whole, never clipped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from neurohybrid.errors import ConfigError, DeviceError
from neurohybrid.memristor.crossbar import per_pulse, rounds, validate_addresses
from neurohybrid.memristor.limits import ProgrammingGuard, ProgrammingLimits
from neurohybrid.registry import BackendRegistry

MEMRISTOR_BACKENDS: BackendRegistry["MemristorBackend"] = BackendRegistry("memristor")

#: Reason given for every pulse while the backend is in its safe state.
SAFE_STATE_REASON = "safe_state: programming disabled until arm() is called"


@dataclass(frozen=True)
class ProgramResult:
    """Outcome of :meth:`MemristorBackend.program`, one entry per requested pulse.

    ``accepted`` (bool); ``reasons``: one message per refused pulse (limit, value, allowed
    range), in order; ``refused_index``: the pulse each reason belongs to;
    ``resistance_before_ohm`` / ``resistance_after_ohm``: read just before and just after
    the pulse (ohm, with read noise), NaN where refused.
    """

    accepted: np.ndarray
    reasons: list[str]
    refused_index: np.ndarray
    resistance_before_ohm: np.ndarray
    resistance_after_ohm: np.ndarray


def limits_from(value: ProgrammingLimits | Mapping[str, float] | None) -> ProgrammingLimits:
    """Programming limits from an instance, a config mapping or None (defaults)."""
    if value is None:
        return ProgrammingLimits()
    if isinstance(value, ProgrammingLimits):
        return value
    if isinstance(value, Mapping):
        return ProgrammingLimits.from_mapping(value)
    raise ConfigError(f"limits={value!r} must be a ProgrammingLimits or a mapping")


class MemristorBackend(ABC):
    """A crossbar of memristive synapses: read resistances, program with safe pulses.

    Lifecycle: construct (validates arguments, touches no device) -> :meth:`configure`
    (opens the device, arms programming) -> :meth:`read` / :meth:`program` ->
    :meth:`safe_state` (programming refused until :meth:`arm`) -> :meth:`close`.
    Construction keyword arguments are kept for provenance (:meth:`info`).
    """

    name: str = "abstract"

    def __init__(
        self, limits: ProgrammingLimits | Mapping[str, float] | None = None, **kwargs: Any
    ) -> None:
        self._kwargs = {"limits": limits_from(limits).to_dict(), **kwargs}
        self.limits = limits_from(limits)
        self._guard: ProgrammingGuard | None = None
        self._configured = False
        self._armed = False
        self.programmed_total = 0
        self.refused_total = 0

    @property
    @abstractmethod
    def shape(self) -> tuple[int, int]:
        """(word lines, bit lines) of the crossbar."""

    @property
    def armed(self) -> bool:
        """Whether programming is enabled (configured and not in safe state)."""
        return self._armed

    def configure(self) -> None:
        """Open the device and arm programming; idempotent."""
        if not self._configured:
            self._open()
            self._guard = ProgrammingGuard(self.limits, self.shape)
            self._configured = True
        self._armed = True

    def close(self) -> None:
        """Enter the safe state and release the device; idempotent."""
        if self._configured:
            self.safe_state()
            self._close()
            self._configured = False

    def safe_state(self) -> None:
        """Stop programming: every pulse is refused until :meth:`arm` (reads still work)."""
        self._armed = False

    def arm(self) -> None:
        """Re-enable programming after :meth:`safe_state` (the rate history is kept)."""
        self._require_configured()
        self._armed = True

    def read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        """Resistance (ohm) of the addressed devices; addresses are validated first."""
        self._require_configured()
        wl, bl = validate_addresses(wordline, bitline, self.shape)
        return self._read(wl, bl)

    def read_all(self) -> np.ndarray:
        """Resistance (ohm) of every device, shape (n_wl, n_bl)."""
        self._require_configured()
        return self._read_all()

    def program(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
        now_ns: np.ndarray | int,
    ) -> ProgramResult:
        """Apply programming pulses that pass every limit; refuse the others whole.

        ``amplitude_v`` (V) and ``width_s`` (s) are scalars or one per pulse; ``now_ns`` is
        the hub time of the request (ns, scalar or per pulse) for the rate limit. Pulses are
        applied in order; each accepted device is read just before and after its pulse.
        """
        self._require_configured()
        wl, bl = validate_addresses(wordline, bitline, self.shape)
        n = len(wl)
        before = np.full(n, np.nan)
        after = np.full(n, np.nan)
        if not self._armed:
            accepted = np.zeros(n, bool)
            refused = np.arange(n)
            reasons = [
                f"pulse {i} (wordline {wl[i]}, bitline {bl[i]}) refused: {SAFE_STATE_REASON}"
                for i in range(n)
            ]
        else:
            verdict = self._guard.check(wl, bl, amplitude_v, width_s, now_ns)
            accepted, reasons, refused = verdict.accepted, verdict.reasons, verdict.refused_index
            amplitude = per_pulse("amplitude_v", amplitude_v, n, np.float64)
            width = per_pulse("width_s", width_s, n, np.float64)
            todo = np.flatnonzero(accepted)
            for part in rounds(wl[todo] * self.shape[1] + bl[todo]):
                idx = todo[part]
                before[idx] = self._read(wl[idx], bl[idx])
                self._pulse(wl[idx], bl[idx], amplitude[idx], width[idx])
                after[idx] = self._read(wl[idx], bl[idx])
        self.programmed_total += int(accepted.sum())
        self.refused_total += n - int(accepted.sum())
        return ProgramResult(accepted, reasons, refused, before, after)

    def info(self) -> dict[str, Any]:
        """Provenance: backend name, construction arguments, shape, state and counters."""
        return {
            "backend": self.name,
            "kwargs": dict(self._kwargs),
            "shape": self.shape,
            "configured": self._configured,
            "armed": self._armed,
            "programmed_total": self.programmed_total,
            "refused_total": self.refused_total,
        }

    def _require_configured(self) -> None:
        if not self._configured:
            raise DeviceError(
                f"memristor backend {self.name!r} is not configured; call configure() first"
            )

    def _read_all(self) -> np.ndarray:
        """Read every device; backends with a faster bulk read override this."""
        wl, bl = np.divmod(np.arange(self.shape[0] * self.shape[1]), self.shape[1])
        return self._read(wl, bl).reshape(self.shape)

    @abstractmethod
    def _open(self) -> None:
        """Open the device (raise DeviceError on failure)."""

    @abstractmethod
    def _close(self) -> None:
        """Release the device."""

    @abstractmethod
    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        """Read validated addresses (int64 arrays); resistance in ohm."""

    @abstractmethod
    def _pulse(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
    ) -> None:
        """Apply accepted pulses; each address appears at most once per call."""
