"""Experiment latency: from a spike at its source to the input it causes, arriving at the target device.

What a closed-loop experimenter feels is not one DDS hop but the whole path: the source's slice
(a spike waits for its slice to end), the hop to the hub, routing, the hop to the target, until the
target device holds the stimulus or weighted event it can deliver. The target measures it per
event as ``arrival - pre_time`` in its own clock (the presynaptic time mapped with the link's offset
estimate, so the figure carries that estimate's uncertainty, half the exchange's round trip) and
keeps a histogram with logarithmic bins, small enough to publish whole in every ``LinkStatus``.
The synaptic delay of the connectivity must cover this latency for input to arrive before it is due.
"""

from __future__ import annotations

import numpy as np

LOWEST_EDGE_MS = 0.01
"""Lower edge of the first bin, millisecond (below: the first bin)."""
BINS_PER_DECADE = 20
"""Logarithmic resolution: each bin is 10^(1/20) = 12 % wider than the one before."""
DECADES = 6
"""0.01 ms .. 10 s; latencies beyond fall in the last bin."""


def bin_edges_ms(lowest_ms: float = LOWEST_EDGE_MS, bins_per_decade: int = BINS_PER_DECADE,
                 decades: int = DECADES) -> np.ndarray:
    """The ``bins_per_decade * decades + 1`` bin edges, millisecond."""
    return lowest_ms * 10.0 ** (np.arange(bins_per_decade * decades + 1) / bins_per_decade)


class LatencyHistogram:
    """Counts of latencies in logarithmic bins (edges :func:`bin_edges_ms`), plus the exact maximum."""

    def __init__(self, lowest_ms: float = LOWEST_EDGE_MS, bins_per_decade: int = BINS_PER_DECADE,
                 decades: int = DECADES) -> None:
        if not lowest_ms > 0.0:
            raise ValueError(f"lowest_ms={lowest_ms} outside allowed > 0")
        if bins_per_decade < 1 or decades < 1:
            raise ValueError(f"bins_per_decade={bins_per_decade}, decades={decades}: both must be >= 1")
        self.lowest_ms = float(lowest_ms)
        self.bins_per_decade = int(bins_per_decade)
        self.counts = np.zeros(bins_per_decade * decades, np.uint64)
        self.max_ms = 0.0

    def add_ns(self, latency_ns: np.ndarray) -> None:
        """Count latencies given in nanoseconds (negative ones, possible within the offset's
        uncertainty, count in the first bin)."""
        ms = np.asarray(latency_ns, np.float64) * 1e-6
        if not len(ms):
            return
        index = np.floor(np.log10(np.maximum(ms, self.lowest_ms) / self.lowest_ms) * self.bins_per_decade)
        np.add.at(self.counts, np.minimum(index.astype(np.int64), len(self.counts) - 1), 1)
        self.max_ms = max(self.max_ms, float(ms.max()))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def quantile_ms(self, q: float) -> float:
        """Upper edge of the bin holding quantile ``q`` (0..1), ms: an upper bound within one bin (12 %)."""
        return quantile_ms(self.counts, q, self.lowest_ms, self.bins_per_decade, self.max_ms)

    def fields(self) -> dict:
        """The latency fields of a ``LinkStatus`` message."""
        return {
            "latency_lowest_edge_ms": self.lowest_ms,
            "latency_bins_per_decade": self.bins_per_decade,
            "latency_counts": self.counts.tolist(),
            "latency_p50_ms": self.quantile_ms(0.5),
            "latency_p99_ms": self.quantile_ms(0.99),
            "latency_max_ms": self.max_ms,
        }


def quantile_ms(counts: np.ndarray, q: float, lowest_ms: float, bins_per_decade: int,
                max_ms: float = float("inf")) -> float:
    """Quantile ``q`` (0..1) of a latency histogram, ms: the upper edge of its bin, at most ``max_ms``;
    NaN for an empty histogram."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q={q} outside allowed [0, 1]")
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    if total == 0:
        return float("nan")
    index = int(np.searchsorted(np.cumsum(counts), max(np.ceil(q * total), 1.0), side="left"))
    upper = lowest_ms * 10.0 ** ((min(index, len(counts) - 1) + 1) / bins_per_decade)
    return float(min(upper, max_ms))
