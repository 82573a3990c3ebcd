"""Population rate in fixed time bins, closed as the data horizon passes them."""

from __future__ import annotations

import numpy as np


class RateBins:
    """Counts events per bin of ``bin_ns``; :meth:`close` hands out the bins the data has passed.

    A bin is closed once the horizon (the end of the latest time slice of the source) is past its
    end, so a bin with no events reads 0 Hz rather than missing. Events for a bin already closed
    (out of order beyond one slice) are counted in ``late`` and left out of the rate. After a jump
    of the horizon (a restart, a new clock) at most ``max_bins`` bins are handed out.
    """

    def __init__(self, bin_ns: int, max_bins: int) -> None:
        if bin_ns <= 0:
            raise ValueError(f"bin_ns={bin_ns} outside allowed (0, inf)")
        self.bin_ns = bin_ns
        self.max_bins = max_bins
        self._counts: dict[int, int] = {}
        self._next: int | None = None
        self.late = 0

    def add(self, time_ns: np.ndarray) -> None:
        """Count events at ``time_ns`` (any order)."""
        if len(time_ns) == 0:
            return
        index, counts = np.unique(np.asarray(time_ns, np.int64) // self.bin_ns, return_counts=True)
        if self._next is None:
            self._next = int(index[0])
        late = index < self._next
        self.late += int(counts[late].sum())
        for i, c in zip(index[~late].tolist(), counts[~late].tolist()):
            self._counts[i] = self._counts.get(i, 0) + c

    def close(self, horizon_ns: int) -> tuple[int, np.ndarray]:
        """Bins ending at or before ``horizon_ns``: (start of the first, ns; rates, Hz)."""
        end = int(horizon_ns) // self.bin_ns
        if self._next is None or end < self._next - self.max_bins:
            self._next = end
            self._counts.clear()
        start = max(self._next, end - self.max_bins)
        rates = np.array([self._counts.pop(i, 0) for i in range(start, end)], dtype=np.float64)
        for i in [i for i in self._counts if i < end]:
            del self._counts[i]
        self._next = max(self._next, end)
        return start * self.bin_ns, rates * (1e9 / self.bin_ns)
