"""Memristor resistance -> synaptic weight, as the original hub computed it.

Serb et al. 2020, hub logic step 2 (defaults of the published control software)::

    w = round(clip(255 * (R - Rmin) / (Rmax - Rmin), 0, 255)),  Rmin = 4 kOhm, Rmax = 9 kOhm

``w`` is the weight byte sent in bits 31-24 of the outgoing packet's second word. The
original ``round`` is Python 3's built-in on a float, which rounds halves to even
("banker's rounding"); ``np.rint`` does the same, so bytes match the original bit for bit.
(Python 2's ``round`` rounded halves away from zero; the two differ only when the scaled
value is exactly ``k + 0.5``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds

R_MIN_OHM = 4000.0
"""Resistance mapped to weight 0, ohm (Serb et al. 2020 control software default)."""

R_MAX_OHM = 9000.0
"""Resistance mapped to full weight, ohm (Serb et al. 2020 control software default)."""

WEIGHT_BYTE_MAX = 255
"""Largest weight byte: one byte of the 2017 wire format (mission.md, hub logic step 4)."""


WEIGHT_PARAMS = ParamSet("resistance -> weight (Serb et al. 2020 hub)", [
    ParamSpec("r_min_ohm", R_MIN_OHM, "resistance of weight 0", "ohm", Bounds(0.0, 1e9, low_open=True)),
    ParamSpec("r_max_ohm", R_MAX_OHM, "resistance of weight 1 (above r_min_ohm)", "ohm",
              Bounds(0.0, 1e9, low_open=True)),
])


@dataclass(frozen=True)
class WeightMap:
    """Linear map from resistance (ohm) to weight 0..1 and the original weight byte 0..255."""

    r_min_ohm: float = R_MIN_OHM
    r_max_ohm: float = R_MAX_OHM

    def __post_init__(self) -> None:
        WEIGHT_PARAMS.check_fields(self)
        if not self.r_min_ohm < self.r_max_ohm:
            raise ConfigError(
                f"r_min_ohm={self.r_min_ohm!r} must be below r_max_ohm={self.r_max_ohm!r}"
            )

    def to_weight(self, r_ohm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(weight, weight_byte)`` for resistances ``r_ohm`` (ohm).

        ``weight`` (float32) is ``clip((R - Rmin) / (Rmax - Rmin), 0, 1)``; ``weight_byte``
        (uint8) is the original byte, computed in the original order of operations.
        """
        r = np.asarray(r_ohm, dtype=np.float64)
        if not np.isfinite(r).all():
            raise ValueError("r_ohm must be finite resistances (ohm), got NaN or inf")
        span_ohm = self.r_max_ohm - self.r_min_ohm
        scaled = np.clip(WEIGHT_BYTE_MAX * (r - self.r_min_ohm) / span_ohm, 0, WEIGHT_BYTE_MAX)
        return (scaled / WEIGHT_BYTE_MAX).astype(np.float32), np.rint(scaled).astype(np.uint8)

    def to_resistance(self, weight: np.ndarray) -> np.ndarray:
        """Resistance (ohm) giving ``weight`` (0..1), the inverse of :meth:`to_weight` inside the range."""
        w = np.asarray(weight, dtype=np.float64)
        if not ((w >= 0) & (w <= 1)).all():
            raise ValueError("weight must lie in 0..1")
        return self.r_min_ohm + w * (self.r_max_ohm - self.r_min_ohm)
