"""The one device contract: every backend of every device kind (MEA, board, memristor, ...).

Lifecycle, with the words of a ROS 2 managed node::

    construct  -> validates and keeps its arguments (provenance), touches no device
    configure  -> opens the device (or builds the model); the device is in its safe state
    arm        -> the device takes input (stimulation, input events, programming pulses)
    safe_state -> drops what is queued and takes no input until ``arm``; recording goes on
    shutdown   -> safe state, then releases the device; ``configure`` may open it again

:meth:`DeviceBackend.info` gives the same provenance for every kind (SpikeInterface's
``_kwargs``): kind, registered name, class, construction arguments, state, counters, plus what
the kind adds (layout, neuron count, crossbar shape).

Input is refused whole in one declared way: a backend that can never take input (a replay)
says so with ``accepts_input = False`` and ``input_refusal`` (the reason); a device not armed
takes none either. Each kind's input call asks :meth:`DeviceBackend.admit` before it hands
anything to the device, which raises :class:`InputRefused` (the count and the reason) and
counts the items in ``refused_total``. Items refused one by one by a safety guard (a charge
limit, a voltage limit) are the kind's verdict, not an exception.

Kinds add their calls on top (template methods: the public call validates, the backend's
private ``_...`` method acts and never re-validates): MEA ``advance``/``stimulate``, board
``advance``/``deliver`` (both :class:`StreamingBackend`), memristor ``read``/``program``.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from neurohybrid.core.errors import DeviceError, NeurohybridError
from neurohybrid.core.events import SpikeEvents
from neurohybrid.core.validate import Bounds

UNCONFIGURED = "unconfigured"
SAFE = "safe"
ARMED = "armed"
SHUT_DOWN = "shut down"

SAFE_STATE_REASON = "safe_state: no input taken until arm() is called"
"""Why input is refused while a device is configured but not armed."""

ADVANCE_MAX_S = 120.0
"""Longest single advance of a streaming device, second (a whole 110 s session of Serb et al.
2020; streaming nodes advance by milliseconds)."""

_ADVANCE_BOUNDS = Bounds(0.0, ADVANCE_MAX_S, low_open=True)


class InputRefused(NeurohybridError, ValueError):
    """Input refused whole (a device that takes none, or one not armed): ``count`` items, ``reason``."""

    def __init__(self, reason: str, count: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.count = count


def provenance(value: Any) -> Any:
    """Plain-data form of a construction argument (dataclasses become dicts, numpy scalars numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class DeviceBackend(ABC):
    """What every device backend is: lifecycle, provenance, counters, one way to refuse input.

    ``delivered_total`` counts input items handed to the device, ``refused_total`` items refused
    (whole batches and single items), ``dropped_total`` queued items dropped by ``safe_state``.
    """

    kind: ClassVar[str] = "device"
    """Device kind: mea, board, memristor."""
    name: ClassVar[str] = "abstract"
    """Name the backend is registered under in its kind's registry."""
    accepts_input: ClassVar[bool] = True
    """False for a backend that can never take input (a replayed recording)."""
    input_refusal: ClassVar[str] = ""
    """The reason given for every input item when ``accepts_input`` is False."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = dict(kwargs)
        self._state = UNCONFIGURED
        self.delivered_total = 0
        self.refused_total = 0
        self.dropped_total = 0

    # --- state -------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """unconfigured, safe, armed or shut down."""
        return self._state

    @property
    def configured(self) -> bool:
        """True between ``configure()`` and ``shutdown()``."""
        return self._state in (SAFE, ARMED)

    @property
    def armed(self) -> bool:
        """True while the device takes input."""
        return self._state == ARMED

    # --- lifecycle ---------------------------------------------------------------------------
    def configure(self) -> None:
        """Open the device and validate its settings; it starts in its safe state (idempotent)."""
        if not self.configured:
            self._configure()
            self._state = SAFE

    def arm(self) -> None:
        """Let the device take input."""
        self.require_configured("arm")
        self._arm()
        self._state = ARMED

    def safe_state(self) -> int:
        """Drop everything queued and take no input until ``arm``; returns the items dropped."""
        if not self.configured:
            return 0
        dropped = int(self._safe_state())
        self.dropped_total += dropped
        self._state = SAFE
        return dropped

    def shutdown(self) -> None:
        """Safe state, then release the device; ``configure`` may be called again."""
        if self.configured:
            self.safe_state()
            self._shutdown()
            self._state = SHUT_DOWN

    def require_configured(self, action: str) -> None:
        """DeviceError naming the backend and its state unless it is configured."""
        if not self.configured:
            raise DeviceError(f"{self.kind} backend {self.name!r} cannot {action}: state is "
                              f"{self._state!r}, call configure() first")

    def admit(self, count: int, what: str) -> None:
        """The one way input is refused whole: raise InputRefused unless the device takes ``count`` items.

        Called by each kind's input method before the items reach the device; refused items
        are counted in ``refused_total``. ``what`` names the items (e.g. "weighted event(s)").
        """
        if count == 0 or (self.accepts_input and self._state == ARMED):
            return
        reason = self.input_refusal if not self.accepts_input else SAFE_STATE_REASON
        self.refused_total += count
        raise InputRefused(f"{reason}: {count} {what} refused ({self.kind} backend {self.name!r})", count)

    # --- provenance --------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Kind, name, class, construction arguments, state and counters, plus the kind's own."""
        cls = type(self)
        return {
            "device_kind": self.kind,
            "backend": self.name,
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "kwargs": {k: provenance(v) for k, v in self._kwargs.items()},
            "state": self._state,
            "accepts_input": self.accepts_input,
            "delivered_total": self.delivered_total,
            "refused_total": self.refused_total,
            "dropped_total": self.dropped_total,
            **self._describe(),
        }

    def _describe(self) -> dict[str, Any]:
        """What the kind adds to ``info()`` (plain data)."""
        return {}

    # --- what a backend implements -----------------------------------------------------------
    @abstractmethod
    def _configure(self) -> None:
        """Open the device / build the model; raise ConfigError or DeviceError on failure."""

    def _arm(self) -> None:
        """Enable the device's outputs (stimulators, programming); nothing by default."""

    @abstractmethod
    def _safe_state(self) -> int:
        """Drop queued input and stop acting on the device; return the items dropped."""

    @abstractmethod
    def _shutdown(self) -> None:
        """Release the device."""


class StreamingBackend(DeviceBackend):
    """A device that runs on its own clock and reports spikes (MEA, board): ``advance``, ``now_ns``."""

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """Device clock, nanoseconds."""

    def advance(self, duration_s: float) -> SpikeEvents:
        """Run the device ``duration_s`` (0 < d <= ADVANCE_MAX_S) further; return its events."""
        if not _ADVANCE_BOUNDS.contains(duration_s):
            raise ValueError(f"duration_s={duration_s!r} outside allowed {_ADVANCE_BOUNDS.text()}")
        self.require_configured("advance")
        return self._advance(float(duration_s))

    @abstractmethod
    def _advance(self, duration_s: float) -> SpikeEvents:
        """Run a validated duration further and return the events, times in the device clock."""
