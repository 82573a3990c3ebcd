"""Clock domains: device clocks anchored to the lab's wall clock, and offsets between labs.

Every event carries a time in its source's clock (ns). A simulated device's clock starts at 0 when
it is activated; anchoring it to the lab's wall clock (``epoch_ns`` at activation) makes the
times of all devices on one machine comparable, and across labs the offset estimated by the
link monitor (NTP-like exchange, Mills, RFC 5905) maps them into the hub's master clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurohybrid.core.units import NS_PER_S


@dataclass(frozen=True)
class DeviceClock:
    """Maps a device's own time (ns since activation) to its lab's wall clock (ns since epoch)."""

    domain: str
    epoch_ns: int

    def to_lab(self, device_ns: np.ndarray | int) -> np.ndarray | int:
        """Device time -> lab wall-clock time, ns."""
        return device_ns + self.epoch_ns

    def to_device(self, lab_ns: np.ndarray | int) -> np.ndarray | int:
        """Lab wall-clock time -> device time, ns."""
        return lab_ns - self.epoch_ns


@dataclass(frozen=True)
class OffsetSample:
    """One NTP-like exchange: client send t1, server receive t2, server send t3, client receive t4 (ns)."""

    t1_ns: int
    t2_ns: int
    t3_ns: int
    t4_ns: int

    @property
    def rtt_ns(self) -> int:
        """Round trip minus the server's processing time (RFC 5905 delta)."""
        return (self.t4_ns - self.t1_ns) - (self.t3_ns - self.t2_ns)

    @property
    def offset_ns(self) -> float:
        """Server clock minus client clock (RFC 5905 theta)."""
        return ((self.t2_ns - self.t1_ns) + (self.t3_ns - self.t4_ns)) / 2


class OffsetEstimator:
    """Keeps the minimum-RTT exchange of the last ``window`` samples (the NTP clock filter).

    The offset's uncertainty is half that round trip: the true offset lies within
    ``offset +- rtt/2`` whatever the split of the path delay between the two directions.
    """

    def __init__(self, window: int = 8) -> None:
        if window < 1:
            raise ValueError(f"window={window} outside allowed >= 1")
        self._window = window
        self._samples: list[OffsetSample] = []

    def add(self, sample: OffsetSample) -> None:
        if sample.rtt_ns < 0:
            raise ValueError(f"exchange with negative round trip {sample.rtt_ns} ns refused")
        self._samples = (self._samples + [sample])[-self._window:]

    @property
    def best(self) -> OffsetSample | None:
        return min(self._samples, key=lambda s: s.rtt_ns) if self._samples else None

    @property
    def offset_s(self) -> float:
        best = self.best
        return 0.0 if best is None else best.offset_ns / NS_PER_S

    @property
    def uncertainty_s(self) -> float:
        best = self.best
        return float("inf") if best is None else best.rtt_ns / (2 * NS_PER_S)

    @property
    def rtt_s(self) -> float:
        best = self.best
        return float("nan") if best is None else best.rtt_ns / NS_PER_S
