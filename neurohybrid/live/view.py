"""Everything the live page shows, aggregated from the graph's messages into bounded frames.

A frame (one JSON object, sent at ``update_hz`` <= 20 Hz) holds, per lab, a uniform sample of the
spikes since the previous frame (at most ``raster_points_per_s / update_hz`` points, whatever the
spike rate) and the population rate of every spike in closed bins; the crossbar's resistances and
weights (when they changed, and every ``crossbar_key_s`` for a page that has just opened); LTP/LTD
decisions, stimulation commands vs refusals, the labs' links and all refusals (totals, and the
entries new since the previous frame). Times are seconds since ``epoch_ns`` in the hub's clock:
each lab's spike times are mapped with the clock offset its own ``LinkStatus`` reports, as the hub
does, so the labs' rasters share one time axis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds
from neurohybrid.live.activity import TIME_DECIMALS, LabActivity
from neurohybrid.live.crossbar import CrossbarView
from neurohybrid.live.ledger import CATEGORY_STIMULATION, PlasticityLog, RefusalLog, StimulationTally
from neurohybrid.live.links import LinkReport, LinkTable

MAX_PLASTICITY_PER_FRAME = 50
"""Plasticity decisions listed per frame (the rest are counted in ``more``): the hub programs a
device at most ``max_pulses_per_s`` (50) times a second, so at 10 Hz none is left out."""
MAX_REFUSALS_PER_FRAME = 10
"""Refusals listed per frame with their reasons (the page shows the latest 8; all are counted)."""


VIEW_PARAMS = ParamSet("live view", [
    ParamSpec("update_hz", 10.0, "frames per second sent to the page", "Hz", Bounds(1.0, 20.0)),
    ParamSpec("raster_points_per_s", 1000, "raster points per lab per second (a uniform sample)", "points/s",
              Bounds(10, 100_000, integer=True)),
    ParamSpec("rate_bin_s", 0.05, "population-rate bin", "s", Bounds(0.005, 1.0)),
    ParamSpec("max_window_s", 60.0, "longest time window the page keeps", "s", Bounds(1.0, 600.0)),
    ParamSpec("n_wordlines", 32, "crossbar word lines", "", Bounds(1, 1024, integer=True)),
    ParamSpec("n_bitlines", 32, "crossbar bit lines", "", Bounds(1, 1024, integer=True)),
    ParamSpec("crossbar_key_s", 1.0, "period of full crossbar frames", "s", Bounds(0.1, 60.0)),
])
"""What the view sends and keeps; :class:`ViewSettings` holds one checked set of these."""


@dataclass(frozen=True)
class ViewSettings:
    """How much the view sends: frame rate (Hz), raster points per lab per second, rate bin (s),
    the longest time window the page keeps (s), the crossbar's size and the crossbar key period (s).
    """

    update_hz: float = VIEW_PARAMS["update_hz"].default  # type: ignore[assignment]
    raster_points_per_s: int = VIEW_PARAMS["raster_points_per_s"].default  # type: ignore[assignment]
    rate_bin_s: float = VIEW_PARAMS["rate_bin_s"].default  # type: ignore[assignment]
    max_window_s: float = VIEW_PARAMS["max_window_s"].default  # type: ignore[assignment]
    n_wordlines: int = VIEW_PARAMS["n_wordlines"].default  # type: ignore[assignment]
    n_bitlines: int = VIEW_PARAMS["n_bitlines"].default  # type: ignore[assignment]
    crossbar_key_s: float = VIEW_PARAMS["crossbar_key_s"].default  # type: ignore[assignment]

    def __post_init__(self) -> None:
        VIEW_PARAMS.check_fields(self)

    @property
    def points_per_frame(self) -> int:
        """Raster points of one lab in one frame."""
        return max(1, round(self.raster_points_per_s / self.update_hz))


FRAME_SCHEMA: dict[str, Any] = {
    "title": "neurohybrid live view frame",
    "description": "Aggregated view of the running experiment (neurohybrid.live.view); times in s since epoch_ns",
    "type": "object",
    "properties": {
        "seq": {"type": "integer", "description": "frame number"},
        "epoch_ns": {"type": ["integer", "null"], "description": "time zero of the frame's times, hub clock, ns"},
        "now": {"type": ["number", "null"], "description": "latest data time, s"},
        "period_s": {"type": "number"},
        "labs": {"type": "object", "description": "per lab: sampled raster points, population rate (Hz), counts"},
        "crossbar": {"type": ["object", "null"], "description": "resistance_ohm and weight, row-major"},
        "plasticity": {"type": "object", "description": "LTP/LTD accepted/refused, new decisions"},
        "stimulation": {"type": "object", "description": "commands, refused, delivered"},
        "links": {"type": "object", "description": "per lab: link_up, rtt_ms, clock_offset_ms, late events"},
        "refusals": {"type": "object", "description": "per source and category, new reasons"},
        "malformed": {"type": "integer", "description": "messages the view counted and dropped"},
    },
}
"""JSON schema of a frame, advertised with the Foxglove channel."""


class LiveView:
    """Aggregates the experiment between frames; :meth:`frame` hands out one and starts the next."""

    def __init__(self, settings: ViewSettings = ViewSettings()) -> None:
        self.settings = settings
        self._bin_ns = int(round(settings.rate_bin_s * NS_PER_S))
        self.labs: dict[str, LabActivity] = {}
        self.crossbar = CrossbarView(settings.n_wordlines, settings.n_bitlines)
        self.plasticity = PlasticityLog(MAX_PLASTICITY_PER_FRAME)
        self.stimulation = StimulationTally()
        self.refusals = RefusalLog(MAX_REFUSALS_PER_FRAME)
        self.links = LinkTable()
        self.epoch_ns: int | None = None
        self.malformed = 0
        self._seq = 0
        self._crossbar_sent = (-1, 0)  # (version, frame seq) of the last frame that carried it
        self._key_frames = max(1, round(settings.crossbar_key_s * settings.update_hz))

    def _relative_s(self, hub_ns: int) -> float:
        if self.epoch_ns is None:
            self.epoch_ns = (int(hub_ns) // NS_PER_S) * NS_PER_S
        return round((int(hub_ns) - self.epoch_ns) / NS_PER_S, TIME_DECIMALS)

    # -- inputs ------------------------------------------------------------------------------
    def add_spikes(self, lab: str, source_id: np.ndarray, time_ns: np.ndarray, kind: np.ndarray,
                   slice_end_ns: int) -> None:
        """One spike batch of ``lab`` (times in the lab's clock, ns; data complete up to ``slice_end_ns``)."""
        offset = self.links.offset_ns(lab)
        activity = self.labs.get(lab)
        if activity is None:
            s = self.settings
            activity = self.labs[lab] = LabActivity(
                s.points_per_frame, self._bin_ns, max_bins=math.ceil(s.max_window_s / s.rate_bin_s),
                smooth_bins=round(1.0 / s.rate_bin_s), seed=len(self.labs))
        hub_times = np.asarray(time_ns, np.int64) + offset
        self._relative_s(int(hub_times[0]) if len(hub_times) else int(slice_end_ns) + offset)
        activity.add(np.asarray(source_id), hub_times, np.asarray(kind), int(slice_end_ns) + offset)

    def set_states(self, wordline: np.ndarray, bitline: np.ndarray, resistance_ohm: np.ndarray,
                   weight: np.ndarray) -> None:
        """A ``SynapseStates`` message (ValueError if its arrays disagree or leave the grid)."""
        self.crossbar.set_states(wordline, bitline, resistance_ohm, weight)

    def add_plasticity(self, trigger_time_ns: int, synapse_id: int, wordline: int, bitline: int,
                       direction: int, resistance_before_ohm: float, resistance_after_ohm: float,
                       accepted: bool) -> None:
        """A ``PlasticityEvent``: counted, listed, and an accepted pulse updates its device at once."""
        if accepted and math.isfinite(resistance_after_ohm):
            self.crossbar.set_resistance(wordline, bitline, resistance_after_ohm)
        self.plasticity.add(self._relative_s(trigger_time_ns), synapse_id, wordline, bitline, direction,
                            resistance_before_ohm, resistance_after_ohm, accepted)

    def add_stimulation(self, n_commands: int) -> None:
        """A ``StimulationCommand`` message with ``n_commands`` rows (0 for the hub's keepalives)."""
        self.stimulation.commands += n_commands

    def add_refusal(self, stamp_ns: int, source: str, category: int, reason: str, count: int) -> None:
        """A ``Refusal`` message (``source``: its frame_id, e.g. ``padova/mea``)."""
        self.refusals.add(stamp_ns, source, category, reason, count)
        if category == CATEGORY_STIMULATION:
            self.stimulation.refused += count

    def update_link(self, lab: str, report: LinkReport) -> None:
        """A ``LinkStatus`` of ``lab``; its clock offset maps the lab's later spikes."""
        self.links.update(lab, report)

    # -- output ------------------------------------------------------------------------------
    def frame(self, now_s: float) -> dict[str, Any]:
        """The next frame (``now_s``: the clock of the links' ``received_s``, for their age)."""
        epoch = self.epoch_ns if self.epoch_ns is not None else 0
        labs = {lab: a.frame(epoch) for lab, a in sorted(self.labs.items())}
        horizons = [a.horizon_ns for a in self.labs.values() if a.horizon_ns is not None]
        version, sent_at = self._crossbar_sent
        crossbar = None
        if self.crossbar.version != version or self._seq - sent_at >= self._key_frames:
            crossbar = self.crossbar.frame()
            self._crossbar_sent = (self.crossbar.version, self._seq)
        out = {
            "seq": self._seq,
            "epoch_ns": self.epoch_ns,
            "now": round((max(horizons) - epoch) / NS_PER_S, TIME_DECIMALS) if horizons else None,
            "period_s": 1.0 / self.settings.update_hz,
            "settings": asdict(self.settings),
            "labs": labs,
            "clock_offset_ns": {lab: self.links.offset_ns(lab) for lab in labs},
            "crossbar": crossbar,
            "plasticity": self.plasticity.frame(),
            "stimulation": self.stimulation.frame(),
            "links": self.links.frame(now_s),
            "refusals": self.refusals.frame(),
            "malformed": self.malformed,
        }
        self._seq += 1
        return out
