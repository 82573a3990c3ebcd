"""What the hub keeps per lab about the streams it exchanges with it.

Incoming: the lab's clock offset (from its ``LinkStatus``: hub minus lab, so lab times map into
the hub clock by adding it), the sequence numbers and slice ends of its spike batches, from
which missing data is found (a gap in ``seq``, or more than ``gap_tolerance_s`` of time between
one slice's end and the next one's start, e.g. a restart). Gaps are measured in the lab's own
clock (a new offset estimate between two batches moves both ends alike) and reported in the
hub's, with the current offset. Outgoing: the sequence number of the
hub's next batch to the lab and when one was last sent, so that a lab idle for ``keepalive_s``
gets an empty batch (its watchdog can tell a quiet network from a lost hub). Pure bookkeeping:
times are ns of the hub clock for data, monotonic seconds for sending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.sequence import SequenceTracker
from neurohybrid.core.units import s_to_ns


@dataclass
class LabStream:
    """One lab's streams, as the hub sees them."""

    offset_ns: int = 0
    incoming: SequenceTracker = field(default_factory=SequenceTracker)
    last_slice_end_ns: int | None = None
    next_seq: int = 0
    last_sent_s: float = -math.inf


class HubStreams:
    """Per-lab stream state of the hub: offsets, incoming gaps, outgoing sequence and keepalives."""

    def __init__(self, labs: Iterable[str], keepalive_s: float, gap_tolerance_s: float) -> None:
        self.labs: dict[str, LabStream] = {lab: LabStream() for lab in labs}
        self.keepalive_s = float(keepalive_s)
        self._gap_tolerance_ns = s_to_ns(gap_tolerance_s)

    def _lab(self, lab: str) -> LabStream:
        try:
            return self.labs[lab]
        except KeyError:
            raise ConfigError(f"unknown lab {lab!r} (labs: {', '.join(self.labs)})") from None

    def set_offset(self, lab: str, offset_s: float, uncertainty_s: float) -> None:
        """The lab's latest clock offset (hub minus lab); ignored until it has an estimate."""
        if math.isfinite(uncertainty_s):
            self._lab(lab).offset_ns = s_to_ns(offset_s)

    def offset_ns(self, lab: str) -> int:
        """Hub clock minus ``lab``'s clock, ns (0 until the lab has measured it)."""
        return self._lab(lab).offset_ns

    def receive(self, lab: str, seq: int, start_ns: int, end_ns: int) -> tuple[int, int] | None:
        """A batch of ``lab`` for the slice [start, end) (the lab's clock) arrived: the gap before it.

        A gap is the span between the previous slice's end and this one's start, in order and in
        the hub clock, when batches went missing or the slices are more than the gap tolerance
        apart; None otherwise.
        """
        stream = self._lab(lab)
        missed = stream.incoming.observe(seq)
        last_end, stream.last_slice_end_ns = stream.last_slice_end_ns, int(end_ns)
        if last_end is not None and (missed or start_ns - last_end > self._gap_tolerance_ns):
            lo, hi = sorted((last_end, int(start_ns)))
            return lo + stream.offset_ns, hi + stream.offset_ns
        return None

    def covered_ns(self, lab: str) -> int | None:
        """Hub-clock end of the newest slice ``lab`` has sent (None before its first)."""
        stream = self._lab(lab)
        return None if stream.last_slice_end_ns is None else stream.last_slice_end_ns + stream.offset_ns

    def send(self, lab: str, now_s: float) -> int:
        """The sequence number of a batch sent to ``lab`` now (monotonic s)."""
        stream = self._lab(lab)
        seq, stream.next_seq = stream.next_seq, stream.next_seq + 1
        stream.last_sent_s = now_s
        return seq

    def keepalives_due(self, now_s: float) -> list[str]:
        """Labs sent nothing for ``keepalive_s`` (monotonic s): each should get an empty batch."""
        return [lab for lab, s in self.labs.items() if now_s - s.last_sent_s >= self.keepalive_s]
