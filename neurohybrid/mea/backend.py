"""The MEA device-kind interface: one ABC, many backends found by name in ``MEA_BACKENDS``.

As in lava (one Process interface, several ProcessModels) and neo (``BaseRawIO`` with small
per-format subclasses), the MEA node only knows ``MEABackend``; ``sim`` (the culture twin),
replay readers and hardware drivers implement it and register themselves::

    @MEA_BACKENDS.register("sim")
    class SimMEABackend(MEABackend): ...

    backend = MEA_BACKENDS.create("sim", layout=mcs60_layout(), limits=StimulationLimits())

Life cycle (mirrors a ROS 2 managed node): ``configure()`` opens the device and validates,
``advance()`` / ``stimulate()`` run it, ``safe_state()`` stops stimulation, ``close()`` releases.

Template methods (neo pattern): the public ``stimulate`` checks every command against the
``StimulationGuard`` and hands only accepted commands to the backend's ``_stimulate``; backends
never re-validate and never see a refused command. A subclass implements ``_configure``,
``_close``, ``_advance``, ``_stimulate``, ``_safe_state`` and ``now_ns``.

Event conventions of ``advance``: ``source_id`` is the electrode index (0..n_channels-1 in the
layout's order), ``time_ns`` is in the device clock, ``kind`` is one of KIND_PSP,
KIND_EVOKED_AP, KIND_SPONTANEOUS_AP (Padova's event kinds, Serb et al. 2020).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from neurohybrid.errors import ConfigError, DeviceError
from neurohybrid.events import SpikeEvents, StimulusBatch
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationGuard, StimulationLimits, StimulationVerdict
from neurohybrid.registry import BackendRegistry

MEA_BACKENDS: BackendRegistry["MEABackend"] = BackendRegistry("mea")


class MEABackend(ABC):
    """A microelectrode array that records spike events and delivers guarded stimuli.

    ``delivered_total`` counts commands accepted by the guard and handed to the device,
    ``refused_total`` commands refused by the guard.
    """

    def __init__(self, layout: ElectrodeLayout, limits: StimulationLimits, **kwargs: Any) -> None:
        if not isinstance(layout, ElectrodeLayout):
            raise ConfigError(f"layout={layout!r} must be an ElectrodeLayout")
        if not isinstance(limits, StimulationLimits):
            raise ConfigError(f"limits={limits!r} must be a StimulationLimits")
        self._layout = layout
        self._limits = limits
        self._kwargs = dict(kwargs)
        self._guard = StimulationGuard(limits, layout.n_channels)
        self._configured = False
        self.delivered_total = 0
        self.refused_total = 0

    @property
    def layout(self) -> ElectrodeLayout:
        """The electrode layout (source_id i is electrode ``layout.labels[i]``)."""
        return self._layout

    @property
    def limits(self) -> StimulationLimits:
        """The stimulation safety limits enforced by ``stimulate``."""
        return self._limits

    @property
    def configured(self) -> bool:
        """True between ``configure()`` and ``close()``."""
        return self._configured

    @property
    @abstractmethod
    def now_ns(self) -> int:
        """Device clock, nanoseconds."""

    def info(self) -> dict[str, Any]:
        """Provenance: backend class, construction arguments, layout and limits."""
        return {
            "backend": type(self).__name__,
            "kwargs": dict(self._kwargs),
            "n_channels": self._layout.n_channels,
            "labels": list(self._layout.labels),
            "limits": self._limits.to_dict(),
        }

    def configure(self) -> None:
        """Open the device (or build the model) and validate its settings."""
        self._configure()
        self._configured = True

    def close(self) -> None:
        """Stop stimulation and release the device; ``configure`` may be called again."""
        if self._configured:
            self._safe_state()
            self._close()
        self._configured = False

    def advance(self, duration_s: float) -> SpikeEvents:
        """Run the device ``duration_s`` further on its clock; return the events detected."""
        self._require_configured("advance")
        dur = float(duration_s)
        if not (math.isfinite(dur) and dur >= 0.0):
            raise ValueError(f"duration_s={duration_s!r} outside allowed [0, inf)")
        return self._advance(dur)

    def stimulate(self, batch: StimulusBatch) -> StimulationVerdict:
        """Check ``batch`` against the limits; deliver only accepted commands, each whole.

        Commands with ``time_ns`` in the future (device clock) are queued and delivered at that
        time; past ones are delivered at once. Calling ``stimulate`` ends a ``safe_state``.
        """
        self._require_configured("stimulate")
        verdict = self._guard.check(batch, self.now_ns)
        accepted = batch.select(verdict.accepted)
        if len(accepted):
            self._stimulate(accepted)
        self.delivered_total += len(accepted)
        self.refused_total += verdict.n_refused
        return verdict

    def safe_state(self) -> None:
        """Drop every queued stimulus; deliver nothing more until ``stimulate`` is called."""
        if self._configured:
            self._safe_state()

    def _require_configured(self, what: str) -> None:
        if not self._configured:
            raise DeviceError(f"{type(self).__name__}.{what}() called before configure()")

    @abstractmethod
    def _configure(self) -> None:
        """Open the device / build the model; raise ConfigError or DeviceError on failure."""

    @abstractmethod
    def _close(self) -> None:
        """Release the device."""

    @abstractmethod
    def _advance(self, duration_s: float) -> SpikeEvents:
        """Run ``duration_s`` (validated, >= 0) further and return the detected events."""

    @abstractmethod
    def _stimulate(self, batch: StimulusBatch) -> None:
        """Deliver (or queue until their ``time_ns``) commands already accepted by the guard."""

    @abstractmethod
    def _safe_state(self) -> None:
        """Drop queued stimuli and stop stimulating."""
