"""When a device publishes: every slice with events at its end, silence merged up to a span.

Devices step in slices (``period_s``, down to 1 ms). A slice with events is published at its
end, never held to fill a batch (latency is what closed-loop experiments feel first). A slice
without events is held and merged with the following ones until the held span reaches
``idle_batch_s`` (a silent slice is held only while one more slice of the device's period would
still fit: a device whose period is ``idle_batch_s`` publishes every slice, however its pacing jitters), so a silent 1 ms device does not send 1,000 empty messages a second; the
receiver still sees contiguous slices (each batch starts where the last one ended) and
gap-free sequence numbers, and hears the device at least every ``idle_batch_s``.
"""

from __future__ import annotations

from neurohybrid.core.units import s_to_ns


class SliceBatcher:
    """Decides, slice by slice, whether a SpikeBatch goes out and which span it covers (ns)."""

    def __init__(self, idle_batch_s: float, period_s: float) -> None:
        for key, value in (("idle_batch_s", idle_batch_s), ("period_s", period_s)):
            if not value > 0.0:
                raise ValueError(f"{key}={value} outside allowed > 0")
        self.idle_batch_ns = s_to_ns(idle_batch_s)
        self.period_ns = s_to_ns(period_s)
        self._held_start_ns: int | None = None

    def reset(self) -> None:
        """Forget held silence (at activation: a new stream starts)."""
        self._held_start_ns = None

    def span(self, n_events: int, start_ns: int, end_ns: int) -> tuple[int, int] | None:
        """The span [start, end) to publish after the slice [start_ns, end_ns) with ``n_events``,
        or None while silence is held."""
        start = start_ns if self._held_start_ns is None else self._held_start_ns
        if n_events == 0 and (end_ns - start) + self.period_ns <= self.idle_batch_ns:
            self._held_start_ns = start
            return None
        self._held_start_ns = None
        return start, end_ns
