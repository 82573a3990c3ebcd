"""The labs' links to the hub as their ``LinkStatus`` messages report them (1 Hz per lab)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MS_PER_S = 1e3
STALE_AFTER_S = 3.0
"""A lab whose status is older than this (three missed 1 Hz reports) is shown as stale."""


@dataclass
class LinkReport:
    """The latest ``LinkStatus`` of one lab (times in seconds) and when the view received it."""

    peer_lab: str
    link_up: bool
    rtt_s: float
    clock_offset_s: float
    clock_offset_uncertainty_s: float
    received_batches: int
    sequence_gaps: int
    late_events: int
    malformed_messages: int
    received_s: float


class LinkTable:
    """Per lab: the latest report, and how often its watchdog saw the hub go silent (link_up
    turning false) since the view started."""

    def __init__(self) -> None:
        self.reports: dict[str, LinkReport] = {}
        self.watchdog_trips: dict[str, int] = {}

    def update(self, lab: str, report: LinkReport) -> None:
        before = self.reports.get(lab)
        if before is not None and before.link_up and not report.link_up:
            self.watchdog_trips[lab] = self.watchdog_trips.get(lab, 0) + 1
        self.watchdog_trips.setdefault(lab, 0)
        self.reports[lab] = report

    def offset_ns(self, lab: str) -> int:
        """Hub clock minus the lab's clock, ns (0 until the lab has reported a finite one)."""
        r = self.reports.get(lab)
        if r is None or not (math.isfinite(r.clock_offset_s) and math.isfinite(r.clock_offset_uncertainty_s)):
            return 0
        return int(round(r.clock_offset_s * 1e9))

    def frame(self, now_s: float) -> dict[str, Any]:
        """Every lab's link; ``age_s`` and ``stale`` from ``now_s`` (the clock of ``received_s``)."""
        out = {}
        for lab, r in self.reports.items():
            age = now_s - r.received_s
            out[lab] = {
                "peer_lab": r.peer_lab, "link_up": r.link_up, "stale": age > STALE_AFTER_S,
                "rtt_ms": _ms(r.rtt_s), "clock_offset_ms": _ms(r.clock_offset_s),
                "uncertainty_ms": _ms(r.clock_offset_uncertainty_s),
                "received_batches": r.received_batches, "sequence_gaps": r.sequence_gaps,
                "late_events": r.late_events, "malformed_messages": r.malformed_messages,
                "watchdog_trips": self.watchdog_trips[lab], "age_s": round(age, 2),
            }
        return out


def _ms(seconds: float) -> float | None:
    return round(seconds * MS_PER_S, 3) if math.isfinite(seconds) else None
