"""The interface every neuromorphic-board backend implements, and their registry.

Template method (as neo's ``BaseRawIO``): the public methods validate their arguments and the
backend's state, then call the private ``_configure``/``_advance``/``_deliver``/... that a
backend implements; backends never re-validate. A backend keeps its construction keyword
arguments for provenance (SpikeInterface ``_kwargs``), returned by :meth:`BoardBackend.info`.

Lifecycle (ROS 2 managed nodes): ``configure()`` opens the device, ``advance``/``deliver``
stream, ``safe_state()`` drops queued input, ``close()`` releases the device.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from neurohybrid.errors import DeviceError
from neurohybrid.events import SpikeEvents
from neurohybrid.registry import BackendRegistry

ADVANCE_MAX_S = 120.0
"""Longest single advance accepted by any board backend, second (a whole 110 s session of
Serb et al. 2020; streaming nodes advance by milliseconds)."""


def _provenance(value: Any) -> Any:
    """Plain-data form of a construction argument (dataclasses become dicts)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class BoardBackend(ABC):
    """A neuromorphic board: deliver weighted input events, advance time, collect spikes.

    Times are integers in nanoseconds of the device clock; neuron ids are 0..n_neurons-1.
    """

    name = "abstract"
    """Registered name of the backend (set by each concrete class)."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = dict(kwargs)
        self._state = "unconfigured"
        self.delivered_total = 0
        self.dropped_total = 0

    # --- provenance ----------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Backend name, class, construction kwargs and counters, as plain data."""
        cls = type(self)
        return {
            "device_kind": "board",
            "backend": self.name,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "kwargs": {k: _provenance(v) for k, v in self._kwargs.items()},
            "state": self._state,
            "delivered_total": self.delivered_total,
            "dropped_total": self.dropped_total,
        }

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def configured(self) -> bool:
        """True between ``configure()`` and ``close()``."""
        return self._state == "configured"

    def configure(self) -> None:
        """Open and configure the device (again after ``close()``)."""
        self._configure()
        self._state = "configured"

    def close(self) -> None:
        """Release the device; further streaming needs ``configure()``."""
        if self._state == "configured":
            self._close()
        self._state = "closed"

    def _require_configured(self, action: str) -> None:
        if self._state != "configured":
            raise DeviceError(f"board backend {self.name!r} cannot {action}: state is "
                              f"{self._state!r}, call configure() first")

    # --- streaming -----------------------------------------------------------------------
    def advance(self, duration_s: float) -> SpikeEvents:
        """Run the device for ``duration_s`` seconds; return its spikes (KIND_SILICON_SPIKE)."""
        is_number = isinstance(duration_s, (int, float, np.integer, np.floating))
        if not (is_number and not isinstance(duration_s, bool) and math.isfinite(duration_s)
                and 0.0 < duration_s <= ADVANCE_MAX_S):
            raise ValueError(f"duration_s={duration_s!r} outside allowed (0, {ADVANCE_MAX_S:g}]")
        self._require_configured("advance")
        return self._advance(float(duration_s))

    def deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        """Queue weighted input events for neurons ``post_id`` at device times ``time_ns``.

        The batch is refused whole (ValueError) if any neuron id is unknown or any weight is
        outside [0, 1] or NaN. Events apply at their time; past times apply at once.
        """
        ids_raw = np.asarray(post_id)
        t_raw = np.asarray(time_ns)
        w = np.asarray(weight, dtype=np.float64)
        if not (ids_raw.ndim == t_raw.ndim == w.ndim == 1):
            raise ValueError("post_id, time_ns and weight must be 1-D arrays")
        if not len(ids_raw) == len(t_raw) == len(w):
            raise ValueError(f"post_id, time_ns and weight differ in length: "
                             f"{len(ids_raw)}, {len(t_raw)}, {len(w)}")
        if len(ids_raw) and (ids_raw.dtype.kind not in "iu" or t_raw.dtype.kind not in "iu"):
            raise ValueError(f"post_id and time_ns must be integer arrays, got "
                             f"{ids_raw.dtype} and {t_raw.dtype}")
        ids = ids_raw.astype(np.int64)
        n = self.n_neurons
        bad = (ids < 0) | (ids >= n)
        if bad.any():
            raise ValueError(f"neuron id {int(ids[bad][0])} outside allowed [0, {n - 1}]")
        bad = ~((w >= 0.0) & (w <= 1.0))
        if bad.any():
            raise ValueError(f"weight {float(w[bad][0])!r} outside allowed [0, 1]")
        self._require_configured("deliver")
        self._deliver(ids, t_raw.astype(np.int64), w)
        self.delivered_total += len(ids)

    def safe_state(self) -> None:
        """Put the device in its safe state: drop all queued input (counted in dropped_total)."""
        if self._state == "configured":
            self.dropped_total += self._safe_state()

    # --- what a backend implements ---------------------------------------------------------
    @property
    @abstractmethod
    def n_neurons(self) -> int:
        """Number of addressable neurons."""

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """Current device time, nanoseconds."""

    @abstractmethod
    def _configure(self) -> None:
        """Open and configure the device."""

    @abstractmethod
    def _close(self) -> None:
        """Release the device."""

    @abstractmethod
    def _advance(self, duration_s: float) -> SpikeEvents:
        """Run the device for a validated duration and return its spikes."""

    @abstractmethod
    def _deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        """Queue validated events (int64 ids in range, int64 ns, float64 weights in [0, 1])."""

    @abstractmethod
    def _safe_state(self) -> int:
        """Drop queued input; return how many events were dropped."""


BOARD_BACKENDS: BackendRegistry[BoardBackend] = BackendRegistry("board")
"""Board backends by name; ``sim`` is registered by :mod:`neurohybrid.board.sim`."""
