"""The MEA device kind: the device contract plus ``advance``/``stimulate``; backends by name.

As in lava (one Process interface, several ProcessModels) and neo (``BaseRawIO`` with small
per-format subclasses), the MEA node only knows ``MEABackend``; ``sim`` (the culture twin),
``replay`` and hardware drivers implement it and register themselves::

    @MEA_BACKENDS.register("sim")
    class SimMEABackend(MEABackend): ...

    backend = MEA_BACKENDS.create("sim", layout=mcs60_layout(), limits=StimulationLimits())

Lifecycle and provenance are those of every device (:mod:`neurohybrid.core.device`):
``configure`` (safe state) -> ``arm`` -> ``advance`` / ``stimulate`` -> ``safe_state`` (queued
stimuli dropped, no stimulation until ``arm``) -> ``shutdown``.

Template methods (neo pattern): the public ``stimulate`` refuses the whole batch when the device
takes no stimulation (:meth:`~neurohybrid.core.device.DeviceBackend.admit`), checks every
command against the ``StimulationGuard`` and hands only accepted commands to the backend's
``_stimulate``; backends never re-validate and never see a refused command. A subclass
implements ``_configure``, ``_shutdown``, ``_advance``, ``_safe_state``, ``now_ns`` and, if it
takes stimulation, ``_stimulate``.

Event conventions of ``advance``: ``source_id`` is the electrode index (0..n_channels-1 in the
layout's order), ``time_ns`` is in the device clock, ``kind`` is one of KIND_PSP,
KIND_EVOKED_AP, KIND_SPONTANEOUS_AP (Padova's event kinds, Serb et al. 2020).
"""

from __future__ import annotations

from typing import Any

from neurohybrid.core.device import StreamingBackend
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import StimulusBatch
from neurohybrid.core.registry import BackendRegistry
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationGuard, StimulationLimits, StimulationVerdict

MEA_BACKENDS: BackendRegistry["MEABackend"] = BackendRegistry("mea")


class MEABackend(StreamingBackend):
    """A microelectrode array that records spike events and delivers guarded stimuli.

    ``delivered_total`` counts commands accepted by the guard and handed to the device,
    ``refused_total`` commands refused (by the guard, or whole batches the device does not take).
    """

    kind = "mea"

    def __init__(self, layout: ElectrodeLayout, limits: StimulationLimits, **kwargs: Any) -> None:
        if not isinstance(layout, ElectrodeLayout):
            raise ConfigError(f"layout={layout!r} must be an ElectrodeLayout")
        if not isinstance(limits, StimulationLimits):
            raise ConfigError(f"limits={limits!r} must be a StimulationLimits")
        super().__init__(**kwargs)
        self._layout = layout
        self._limits = limits
        self._guard = StimulationGuard(limits, layout.n_channels)

    @property
    def layout(self) -> ElectrodeLayout:
        """The electrode layout (source_id i is electrode ``layout.labels[i]``)."""
        return self._layout

    @property
    def limits(self) -> StimulationLimits:
        """The stimulation safety limits enforced by ``stimulate``."""
        return self._limits

    def _describe(self) -> dict[str, Any]:
        return {"n_channels": self._layout.n_channels, "labels": list(self._layout.labels),
                "limits": self._limits.to_dict()}

    def stimulate(self, batch: StimulusBatch) -> StimulationVerdict:
        """Check ``batch`` against the limits; deliver only accepted commands, each whole.

        Commands with ``time_ns`` in the future (device clock) are queued and delivered at that
        time; past ones are delivered at once. A device that is not armed, or takes no
        stimulation at all, refuses the whole batch (InputRefused).
        """
        self.require_configured("stimulate")
        self.admit(len(batch), "stimulation command(s)")
        verdict = self._guard.check(batch, self.now_ns)
        accepted = batch.select(verdict.accepted)
        if len(accepted):
            self._stimulate(accepted)
        self.delivered_total += len(accepted)
        self.refused_total += verdict.n_refused
        return verdict

    def _stimulate(self, batch: StimulusBatch) -> None:
        """Deliver (or queue until their ``time_ns``) commands already accepted by the guard.

        Every backend that takes stimulation (``accepts_input``) implements this.
        """
        raise NotImplementedError(f"{type(self).__name__} takes stimulation but does not deliver it")
