"""Sequence numbers make loss visible: count gaps per publisher."""

from __future__ import annotations


class SequenceTracker:
    """Tracks the ``seq`` of consecutive batches from one publisher.

    A jump forward by more than one counts the missing batches as a gap; a jump backwards means
    the publisher restarted (its counter began again) and is counted as a restart, not a gap.
    """

    def __init__(self) -> None:
        self.last: int | None = None
        self.received = 0
        self.missing = 0
        self.restarts = 0

    def observe(self, seq: int) -> int:
        """Record ``seq``; return how many batches went missing just before it."""
        self.received += 1
        gap = 0
        if self.last is not None:
            if seq > self.last + 1:
                gap = seq - self.last - 1
                self.missing += gap
            elif seq <= self.last:
                self.restarts += 1
        self.last = seq
        return gap
