"""Our event streams as LSL outlets (the ``lsl_bridge`` node's core, no ROS): spikes, stimulation, plasticity.

LabRecorder (XDF) and other LSL tools then record and view an experiment next to EEG, EMG or
behaviour streams. One irregular-rate outlet per topic, named ``neurohybrid<topic with / as _>``
(source_id: the topic), one LSL sample per event, stamped with the event's own time:

* spikes (``SpikeBatch``): int32 (source_id, kind); time = the event's ``time_ns``;
* stimulation (``StimulationCommand``): double64 :data:`STIM_CHANNELS`; time = ``time_ns`` (delivery);
* plasticity (``PlasticityEvent``): double64 :data:`PLASTICITY_CHANNELS`; time = ``trigger_time_ns``.

Times. Event times are in their lab's wall clock (ns since the epoch; device clocks are anchored to
it, :mod:`neurohybrid.core.clock`). :class:`WallToLsl` maps them into LSL's ``local_clock()`` by the
offset of the two clocks on this machine, read back to back (the pair with the shortest bracket of
:data:`OFFSET_READS` reads, Cristian's method), re-read every ``resync_s``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds
from neurohybrid.io.lsl import pylsl_module

STIM_CHANNELS = ("electrode", "amplitude_ua", "phase_width_us", "pulse_count", "synapse_id", "weight")
"""Channels of a stimulation outlet (units in the names)."""
PLASTICITY_CHANNELS = ("synapse_id", "wordline", "bitline", "direction", "pulse_amplitude_v", "pulse_width_s",
                       "resistance_before_ohm", "resistance_after_ohm", "accepted")
"""Channels of a plasticity outlet (units in the names; direction +1 LTP, -1 LTD; accepted 0/1)."""
OUTLETS = {"SpikeBatch": ("Markers", ("source_id", "kind"), "cf_int32"),
           "StimulationCommand": ("Stimulation", STIM_CHANNELS, "cf_double64"),
           "PlasticityEvent": ("Plasticity", PLASTICITY_CHANNELS, "cf_double64")}
"""Per bridged message type: LSL stream type, channel labels, channel format."""
OFFSET_READS = 16
"""Back-to-back reads of the two clocks per offset estimate."""

BRIDGE_PARAMS = ParamSet("LSL bridge node: lsl_bridge_node", [
    ParamSpec("discovery_period_s", 0.5, "topic discovery period", "s", Bounds(0.05, 10.0)),
    ParamSpec("resync_s", 5.0, "period of the wall-clock -> LSL-clock offset estimate", "s", Bounds(0.1, 3600.0)),
    ParamSpec("qos_depth", 1000, "subscription depth", "messages", Bounds(1, 100_000, integer=True)),
])


class WallToLsl:
    """Wall-clock ns (since the epoch) -> LSL ``local_clock()`` s, on this machine."""

    def __init__(self) -> None:
        self.offset_s = 0.0
        self.bracket_s = float("inf")
        self.resync()

    def resync(self) -> None:
        """Re-read the offset: LSL clock minus wall clock, from the tightest of OFFSET_READS reads."""
        local_clock = pylsl_module().local_clock
        best = (float("inf"), 0.0)
        for _ in range(OFFSET_READS):
            a = local_clock()
            wall = time.time_ns()
            b = local_clock()
            best = min(best, (b - a, (a + b) / 2 - wall / NS_PER_S))
        self.bracket_s, self.offset_s = best

    def __call__(self, wall_ns: np.ndarray) -> list[float]:
        """LSL times (s) of wall-clock times (ns)."""
        wall = np.asarray(wall_ns, np.int64)
        # split seconds and the rest first: 1.7e18 ns does not fit a double to the nanosecond
        sec, rest = np.divmod(wall, NS_PER_S)
        return ((sec + self.offset_s) + rest / NS_PER_S).tolist()


def _outlet(topic: str, kind: str, channels: tuple[str, ...], fmt: str) -> Any:
    lsl = pylsl_module()
    name = "neurohybrid" + topic.replace("/", "_")
    info = lsl.StreamInfo(name, kind, len(channels), lsl.IRREGULAR_RATE, getattr(lsl, fmt), topic)
    chans = info.desc().append_child("channels")
    for label in channels:
        chans.append_child("channel").append_child_value("label", label)
    info.desc().append_child_value("topic", topic)
    return lsl.StreamOutlet(info)


class EventOutlets:
    """One LSL outlet per topic; ``push_*`` send a message's events, stamped with their mapped times."""

    def __init__(self, clock: WallToLsl | None = None) -> None:
        self.clock = WallToLsl() if clock is None else clock
        self._outlets: dict[str, Any] = {}
        self.pushed_total = 0

    def topics(self) -> list[str]:
        """Topics with an outlet."""
        return sorted(self._outlets)

    def open(self, topic: str, message_type: str) -> None:
        """Create the outlet of ``topic`` (a key of :data:`OUTLETS`), so LSL tools see it before its first event."""
        if topic not in self._outlets:
            self._outlets[topic] = _outlet(topic, *OUTLETS[message_type])

    def _get(self, topic: str, message_type: str) -> Any:
        self.open(topic, message_type)
        return self._outlets[topic]

    def _push(self, outlet: Any, samples: np.ndarray, wall_ns: np.ndarray) -> None:
        if len(samples):
            outlet.push_chunk(samples, self.clock(wall_ns))
            self.pushed_total += len(samples)

    def push_spikes(self, topic: str, source_id: np.ndarray, kind: np.ndarray, time_ns: np.ndarray) -> None:
        """Spike events: (source_id, kind) at ``time_ns`` (wall clock, ns)."""
        samples = np.column_stack([np.asarray(source_id, np.int64), np.asarray(kind, np.int64)]).astype(np.int32)
        self._push(self._get(topic, "SpikeBatch"), samples, time_ns)

    def push_stimulation(self, topic: str, columns: dict[str, np.ndarray], time_ns: np.ndarray) -> None:
        """Stimulation commands: the :data:`STIM_CHANNELS` columns, at delivery ``time_ns``."""
        samples = np.column_stack([np.asarray(columns[c], np.float64) for c in STIM_CHANNELS])
        self._push(self._get(topic, "StimulationCommand"), samples, time_ns)

    def push_plasticity(self, topic: str, values: dict[str, float], trigger_time_ns: int) -> None:
        """One plasticity decision: the :data:`PLASTICITY_CHANNELS` values, at its trigger time."""
        samples = np.array([[float(values[c]) for c in PLASTICITY_CHANNELS]])
        self._push(self._get(topic, "PlasticityEvent"), samples,
                   np.array([trigger_time_ns]))

    def close(self) -> None:
        """Drop every outlet (LSL tools see the streams end)."""
        self._outlets.clear()
