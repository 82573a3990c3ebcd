"""Sparse events of the experiment, counted whole and listed as they come: plasticity decisions,
stimulation commands and refusals. Each frame carries the totals and the entries new since the
previous frame (at most ``max_recent``; the rest are counted in ``more``)."""

from __future__ import annotations

import math
from typing import Any

LTP = 1
"""``PlasticityEvent.LTP`` (msg/PlasticityEvent.msg)."""
LTD = -1
"""``PlasticityEvent.LTD``."""
REFUSAL_CATEGORIES = {0: "stimulation", 1: "programming", 2: "malformed", 3: "input"}
"""``Refusal.CATEGORY_*`` (msg/Refusal.msg)."""
CATEGORY_STIMULATION = 0


class _Recent:
    """Entries new since the last :meth:`take`, at most ``max_recent`` kept."""

    def __init__(self, max_recent: int) -> None:
        self.max_recent = max_recent
        self._items: list[dict[str, Any]] = []
        self._more = 0

    def append(self, item: dict[str, Any]) -> None:
        if len(self._items) < self.max_recent:
            self._items.append(item)
        else:
            self._more += 1

    def take(self) -> dict[str, Any]:
        out = {"new": self._items, "more": self._more}
        self._items, self._more = [], 0
        return out


class PlasticityLog:
    """LTP/LTD decisions of the hub's rule, accepted or refused by the programming limits."""

    def __init__(self, max_recent: int) -> None:
        self.counts = {name: {"accepted": 0, "refused": 0} for name in ("ltp", "ltd")}
        self._recent = _Recent(max_recent)

    def add(self, t_s: float, synapse_id: int, wordline: int, bitline: int, direction: int,
            resistance_before_ohm: float, resistance_after_ohm: float, accepted: bool) -> None:
        """One ``PlasticityEvent`` (``t_s``: its trigger time, s since the view's epoch)."""
        if direction not in (LTP, LTD):
            raise ValueError(f"direction={direction} outside allowed {{{LTP}, {LTD}}}")
        name = "ltp" if direction == LTP else "ltd"
        self.counts[name]["accepted" if accepted else "refused"] += 1
        self._recent.append({
            "t": t_s, "synapse_id": synapse_id, "wordline": wordline, "bitline": bitline,
            "direction": name, "accepted": accepted,
            "r_before_ohm": _finite(resistance_before_ohm), "r_after_ohm": _finite(resistance_after_ohm),
        })

    def frame(self) -> dict[str, Any]:
        return {**self.counts, "recent": self._recent.take()}


class StimulationTally:
    """Stimulation commands sent to MEAs vs refused by their safety limits (as ``summary.json``:
    delivered = commands - refused, floored at 0)."""

    def __init__(self) -> None:
        self.commands = 0
        self.refused = 0

    def frame(self) -> dict[str, int]:
        return {"commands": self.commands, "refused": self.refused,
                "delivered": max(self.commands - self.refused, 0)}


class RefusalLog:
    """Refused items per source (``frame_id``) and category, and the reasons as they come."""

    def __init__(self, max_recent: int) -> None:
        self.by_source: dict[str, dict[str, int]] = {}
        self._recent = _Recent(max_recent)

    def add(self, stamp_ns: int, source: str, category: int, reason: str, count: int) -> None:
        """One ``Refusal`` message (ValueError for an unknown category)."""
        name = REFUSAL_CATEGORIES.get(category)
        if name is None:
            raise ValueError(f"category={category} outside allowed {sorted(REFUSAL_CATEGORIES)}")
        per_source = self.by_source.setdefault(source, {})
        per_source[name] = per_source.get(name, 0) + count
        self._recent.append({"stamp_ns": stamp_ns, "source": source, "category": name,
                             "reason": reason, "count": count})

    def frame(self) -> dict[str, Any]:
        return {"by_source": self.by_source, "recent": self._recent.take()}


def _finite(value: float) -> float | None:
    """``value``, or None (JSON null) where it is NaN (e.g. R after a refused pulse) or infinite."""
    return value if math.isfinite(value) else None
