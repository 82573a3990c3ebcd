"""What the page shows of one lab's spikes: a uniform sample for the raster, the population rate
from every spike, and counts by event kind (Serb et al. 2020 kinds plus the silicon spike)."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from neurohybrid.core.events import KIND_NAMES
from neurohybrid.core.units import NS_PER_S
from neurohybrid.live.rate import RateBins
from neurohybrid.live.sample import UniformSample

TIME_DECIMALS = 6
"""Times on the page are seconds since the view's epoch, to the microsecond."""
RATE_DECIMALS = 2
"""Rates on the page, Hz to 0.01."""


class LabActivity:
    """One lab's spikes, aggregated between frames.

    ``points_per_frame`` bounds the raster points of a frame (a uniform sample of the frame's
    spikes); the population rate counts every spike in bins of ``bin_ns``; ``smooth_bins`` bins
    make the scalar ``rate_hz`` of a frame (for plots).
    """

    def __init__(self, points_per_frame: int, bin_ns: int, max_bins: int, smooth_bins: int,
                 seed: int = 0) -> None:
        self.sample = UniformSample(points_per_frame, seed)
        self.rate = RateBins(bin_ns, max_bins)
        self._recent_rates: deque[float] = deque(maxlen=max(1, smooth_bins))
        self.counts = np.zeros(len(KIND_NAMES), np.int64)
        self.id_max = -1
        self.horizon_ns: int | None = None

    def add(self, source_id: np.ndarray, time_ns: np.ndarray, kind: np.ndarray, slice_end_ns: int) -> None:
        """Spikes of one batch (times in the view's clock, ns) covering data up to ``slice_end_ns``."""
        if len(source_id):
            self.sample.add(time_ns, source_id, kind)
            self.rate.add(time_ns)
            self.counts += np.bincount(kind, minlength=len(KIND_NAMES))[:len(KIND_NAMES)]
            self.id_max = max(self.id_max, int(source_id.max()))
        self.horizon_ns = slice_end_ns if self.horizon_ns is None else max(self.horizon_ns, slice_end_ns)

    def frame(self, epoch_ns: int) -> dict[str, Any]:
        """The lab's part of a frame: the sampled points and the bins closed since the last frame."""
        (t, sid, kind), offered = self.sample.take(3)
        rate_start_ns, rates = (self.rate.close(self.horizon_ns) if self.horizon_ns is not None
                                else (epoch_ns, np.empty(0)))
        self._recent_rates.extend(rates.tolist())
        smooth = float(np.mean(self._recent_rates)) if self._recent_rates else None
        return {
            "points": {
                "t": np.round((np.asarray(t, np.int64) - epoch_ns) / NS_PER_S, TIME_DECIMALS).tolist(),
                "id": np.asarray(sid, np.int64).tolist(),
                "kind": np.asarray(kind, np.int64).tolist(),
            },
            "offered": offered,
            "rate": {"t0": round((rate_start_ns - epoch_ns) / NS_PER_S, TIME_DECIMALS),
                     "bin_s": self.rate.bin_ns / NS_PER_S,
                     "hz": np.round(rates, RATE_DECIMALS).tolist()},
            "rate_hz": None if smooth is None else round(smooth, RATE_DECIMALS),
            "counts": {name: int(self.counts[k]) for k, name in KIND_NAMES.items()},
            "total": int(self.counts.sum()),
            "id_max": self.id_max,
            "late_for_rate": self.rate.late,
        }
