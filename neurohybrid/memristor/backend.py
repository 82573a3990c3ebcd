"""The memristor device kind: the device contract plus ``read``/``program``; backends by name.

Backends (simulator, ArC TWO, ...) are found by name in :data:`MEMRISTOR_BACKENDS`. The public
methods validate their arguments and enforce safety, then call the backend's private
primitives (template method, as neo's ``BaseRawIO``): a backend implements ``_configure``,
``_shutdown``, ``_read`` and ``_pulse`` and never re-validates. Lifecycle and provenance are
those of every device (:mod:`neurohybrid.core.device`): ``configure`` (safe state: reads work,
programming is refused) -> ``arm`` -> ``read`` / ``program`` -> ``safe_state`` -> ``shutdown``.

Programming follows the original hub (Serb et al. 2020): each accepted pulse is applied
and "the device is read again afterwards", so :class:`ProgramResult` carries the
resistance read before and after every accepted pulse. Pulses outside
:class:`~neurohybrid.memristor.limits.ProgrammingLimits` are refused whole, never clipped.

Tiles: a backend may drive several crossbars of one ``shape`` (``n_tiles``, e.g. one ArC TWO
per 32x32 tile); a device is addressed by ``(tile, wordline, bitline)`` and ``tile`` defaults
to 0, so a one-tile backend reads as before. The private primitives see the tiles stacked
along the word lines: ``row = tile * n_wordlines + wordline`` (one address space of
``n_tiles * n_wordlines`` rows), which is also the layout of :meth:`read_all`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from neurohybrid.core.device import DeviceBackend
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.registry import BackendRegistry
from neurohybrid.memristor.crossbar import per_pulse, rounds, validate_addresses, validate_tiles
from neurohybrid.memristor.limits import ProgrammingGuard, ProgrammingLimits

MEMRISTOR_BACKENDS: BackendRegistry["MemristorBackend"] = BackendRegistry("memristor")


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


class MemristorBackend(DeviceBackend):
    """A crossbar of memristive synapses: read resistances, program with safe pulses.

    ``delivered_total`` counts pulses applied, ``refused_total`` pulses refused (by the limits,
    or whole batches while the device is not armed).
    """

    kind = "memristor"

    def __init__(
        self, limits: ProgrammingLimits | Mapping[str, float] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(limits=limits_from(limits).to_dict(), **kwargs)
        self.limits = limits_from(limits)
        self._guard: ProgrammingGuard | None = None

    @property
    @abstractmethod
    def shape(self) -> tuple[int, int]:
        """(word lines, bit lines) of one crossbar tile."""

    @property
    def n_tiles(self) -> int:
        """Crossbar tiles driven by this backend, each of ``shape``; 1 unless a backend drives more."""
        return 1

    @property
    def stacked_shape(self) -> tuple[int, int]:
        """(n_tiles * word lines, bit lines): the tiles stacked along the word lines."""
        return self.n_tiles * self.shape[0], self.shape[1]

    def _rows(self, wordline: np.ndarray, bitline: np.ndarray, tile: np.ndarray | int | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Validated stacked rows and bit lines of (tile, wordline, bitline) addresses."""
        wl, bl = validate_addresses(wordline, bitline, self.shape)
        return validate_tiles(tile, len(wl), self.n_tiles) * self.shape[0] + wl, bl

    def configure(self) -> None:
        """Open the device with a fresh programming-rate history; idempotent."""
        if not self.configured:
            super().configure()
            self._guard = ProgrammingGuard(self.limits, self.stacked_shape)

    def read(self, wordline: np.ndarray, bitline: np.ndarray, tile: np.ndarray | int | None = None) -> np.ndarray:
        """Resistance (ohm) of the addressed devices (``tile`` default 0); addresses are validated first."""
        self.require_configured("read")
        rows, bl = self._rows(wordline, bitline, tile)
        return self._read(rows, bl)

    def read_all(self) -> np.ndarray:
        """Resistance (ohm) of every device, shape (n_tiles * n_wl, n_bl) (tiles stacked; (n_wl, n_bl) for one)."""
        self.require_configured("read")
        return self._read_all()

    def program(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
        now_ns: np.ndarray | int,
        tile: np.ndarray | int | None = None,
    ) -> ProgramResult:
        """Apply programming pulses that pass every limit; refuse the others whole.

        ``amplitude_v`` (V) and ``width_s`` (s) are scalars or one per pulse; ``now_ns`` is
        the hub time of the request (ns, scalar or per pulse) for the rate limit. Pulses are
        applied in order; each accepted device is read just before and after its pulse. A
        device that is not armed refuses the whole batch (InputRefused). ``tile``: scalar or
        one per pulse, default 0.
        """
        self.require_configured("program")
        wl, bl = self._rows(wordline, bitline, tile)
        n = len(wl)
        self.admit(n, "programming pulse(s)")
        before = np.full(n, np.nan)
        after = np.full(n, np.nan)
        verdict = self._guard.check(wl, bl, amplitude_v, width_s, now_ns)
        amplitude = per_pulse("amplitude_v", amplitude_v, n, np.float64)
        width = per_pulse("width_s", width_s, n, np.float64)
        todo = np.flatnonzero(verdict.accepted)
        for part in rounds(wl[todo] * self.shape[1] + bl[todo]):  # wl: stacked rows
            idx = todo[part]
            before[idx] = self._read(wl[idx], bl[idx])
            self._pulse(wl[idx], bl[idx], amplitude[idx], width[idx])
            after[idx] = self._read(wl[idx], bl[idx])
        n_accepted = len(todo)
        self.delivered_total += n_accepted
        self.refused_total += n - n_accepted
        return ProgramResult(verdict.accepted, verdict.reasons, verdict.refused_index, before, after)

    def _describe(self) -> dict[str, Any]:
        return {"shape": self.shape, "n_tiles": self.n_tiles}

    def _safe_state(self) -> int:
        """Programming is synchronous: nothing is ever queued."""
        return 0

    def _read_all(self) -> np.ndarray:
        """Read every device; backends with a faster bulk read override this."""
        rows, cols = self.stacked_shape
        wl, bl = np.divmod(np.arange(rows * cols), cols)
        return self._read(wl, bl).reshape(rows, cols)

    @abstractmethod
    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        """Read validated addresses (int64 arrays; ``wordline`` is the stacked row); resistance in ohm."""

    @abstractmethod
    def _pulse(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
    ) -> None:
        """Apply accepted pulses (``wordline``: stacked row); each address appears at most once per call."""
