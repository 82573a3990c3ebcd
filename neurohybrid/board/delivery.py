"""When weighted input reaches a board after its delivery time: counted late, delivered or dropped.

A synapse's delay sets the delivery time ``t_pre + delay`` (hub clock, mapped to the board's);
an event whose time has already passed on the board is late: counted, and delivered at once
(``late_policy`` "deliver") or dropped ("drop"). Input staler than ``stale_input_s`` is always
dropped, whatever the policy (a fail-safe after a link outage: old input must not burst in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import s_to_ns
from neurohybrid.core.validate import Bounds

LATE_POLICIES = ("deliver", "drop")

DELIVERY_PARAMS = ParamSet("board input delivery", [
    ParamSpec("late_policy", "deliver", "what to do with events arriving after their delivery time",
              choices=LATE_POLICIES),
    ParamSpec("stale_input_s", 0.5, "input later than this is always dropped", "s", Bounds(0.0, 60.0)),
])


@dataclass(frozen=True)
class DeliveryPolicy:
    """Which late input events still reach the board."""

    late_policy: str = DELIVERY_PARAMS["late_policy"].default
    stale_input_s: float = DELIVERY_PARAMS["stale_input_s"].default

    def __post_init__(self) -> None:
        DELIVERY_PARAMS.check_fields(self)

    def admit(self, time_ns: np.ndarray, now_ns: int) -> tuple[np.ndarray, int]:
        """Events (device times, ns) the board takes at device time ``now_ns``, and how many are late."""
        t = np.asarray(time_ns, np.int64)
        late = t < now_ns
        drop = t < now_ns - s_to_ns(self.stale_input_s)
        if self.late_policy == "drop":
            drop |= late
        return ~drop, int(np.count_nonzero(late))
