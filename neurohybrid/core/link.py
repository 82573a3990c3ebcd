"""The health of one lab's link to the hub: clock offset, sequence gaps, late events, watchdog.

Pure bookkeeping (no ROS): the node feeds it what it hears and asks it what to publish in
``LinkStatus`` and whether the hub has been silent longer than the watchdog allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurohybrid.core.clock import OffsetEstimator, OffsetSample
from neurohybrid.core.latency import LatencyHistogram
from neurohybrid.core.sequence import SequenceTracker
from neurohybrid.core.units import s_to_ns


@dataclass
class LinkMonitor:
    """Everything a lab knows about its link to ``peer``; times are monotonic seconds."""

    lab: str
    peer: str
    watchdog_s: float
    offsets: OffsetEstimator = field(default_factory=OffsetEstimator)
    sequence: SequenceTracker = field(default_factory=SequenceTracker)
    late_events: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    malformed: int = 0
    last_heard_s: float | None = None

    def heard(self, now_s: float, seq: int | None = None) -> int:
        """A message from the peer arrived at ``now_s``; returns batches missed before it."""
        self.last_heard_s = now_s
        return self.sequence.observe(seq) if seq is not None else 0

    def silent_for_s(self, now_s: float) -> float:
        """Seconds since the peer was last heard (infinite if never)."""
        return float("inf") if self.last_heard_s is None else now_s - self.last_heard_s

    def is_up(self, now_s: float) -> bool:
        """True while the peer was heard within the watchdog time."""
        return self.silent_for_s(now_s) <= self.watchdog_s

    def add_exchange(self, t1_ns: int, t2_ns: int, t3_ns: int, t4_ns: int) -> None:
        """One NTP-like exchange with the peer (t1/t4 local clock, t2/t3 the peer's)."""
        self.offsets.add(OffsetSample(t1_ns, t2_ns, t3_ns, t4_ns))

    @property
    def offset_ns(self) -> int:
        """Peer clock minus local clock, ns (0 until the first exchange)."""
        return s_to_ns(self.offsets.offset_s)

    def status(self, now_s: float) -> dict:
        """The fields of a ``LinkStatus`` message."""
        return {
            "lab": self.lab,
            "peer_lab": self.peer,
            "link_up": self.is_up(now_s),
            "rtt_s": self.offsets.rtt_s,
            "clock_offset_s": self.offsets.offset_s,
            "clock_offset_uncertainty_s": self.offsets.uncertainty_s,
            "received_batches": self.sequence.received,
            "sequence_gaps": self.sequence.missing,
            "late_events": self.late_events,
            "malformed_messages": self.malformed,
            **self.latency.fields(),
        }
