"""The memristor crossbar as the page draws it: resistance and weight per (word line, bit line)."""

from __future__ import annotations

from typing import Any

import numpy as np

RESISTANCE_DECIMALS = 1
"""Resistances on the page, ohm to 0.1."""
WEIGHT_DECIMALS = 4


def _rounded(values: np.ndarray, decimals: int) -> list[float | None]:
    """Row-major list of ``values``, NaN (no device in use) as None (JSON null)."""
    flat = np.round(values.ravel(), decimals)
    return [None if v != v else v for v in flat.tolist()]


class CrossbarView:
    """Last known resistance (ohm) and weight (0..1) of every device of an ``n_wordlines`` x
    ``n_bitlines`` crossbar; NaN where no synapse uses the device. ``version`` counts changes."""

    def __init__(self, n_wordlines: int, n_bitlines: int) -> None:
        self.shape = (n_wordlines, n_bitlines)
        self.resistance_ohm = np.full(self.shape, np.nan)
        self.weight = np.full(self.shape, np.nan)
        self.version = 0

    def _check(self, wordline: np.ndarray, bitline: np.ndarray) -> None:
        for name, lines, n in (("wordline", wordline, self.shape[0]), ("bitline", bitline, self.shape[1])):
            if len(lines) and int(lines.max()) >= n:
                raise ValueError(f"{name}={int(lines.max())} outside allowed [0, {n - 1}]")

    def set_states(self, wordline: np.ndarray, bitline: np.ndarray, resistance_ohm: np.ndarray,
                   weight: np.ndarray) -> None:
        """The devices of a ``SynapseStates`` message; ValueError if a line is outside the grid."""
        wordline, bitline = np.asarray(wordline, np.int64), np.asarray(bitline, np.int64)
        lengths = {len(wordline), len(bitline), len(resistance_ohm), len(weight)}
        if len(lengths) > 1:
            raise ValueError(f"array lengths differ: {sorted(lengths)}")
        self._check(wordline, bitline)
        self.resistance_ohm[wordline, bitline] = resistance_ohm
        self.weight[wordline, bitline] = weight
        self.version += 1

    def set_resistance(self, wordline: int, bitline: int, resistance_ohm: float) -> None:
        """One device read after a programming pulse (its weight follows with the next states)."""
        self._check(np.array([wordline]), np.array([bitline]))
        self.resistance_ohm[wordline, bitline] = resistance_ohm
        self.version += 1

    def frame(self) -> dict[str, Any]:
        """The whole grid, row-major (index = wordline * n_bitlines + bitline)."""
        return {"n_wordlines": self.shape[0], "n_bitlines": self.shape[1], "version": self.version,
                "resistance_ohm": _rounded(self.resistance_ohm, RESISTANCE_DECIMALS),
                "weight": _rounded(self.weight, WEIGHT_DECIMALS)}
