"""A recording double of the ``pyarc2`` calls the arc2 backend makes (``driver`` of its tests).

``find_ids`` and :class:`Instrument` have the names and parameters of ``pyarc2``'s (the tests
compare them with ``inspect.signature`` of the installed package, so an API change fails).
Every call is appended to :attr:`Instrument.calls` as ``(method, args)``. Behind the calls sits
a fixed-resistance crossbar (Ohm's law, ``I = V / R``) on the standard 32x32 channel map; a
pulse changes nothing, since a double is no device model (the ``sim`` backend is the twin).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np

from neurohybrid.memristor.arc2 import ARC2_LINES, bitline_channel, wordline_channel

IDS: list[int] = [0]
"""What :func:`find_ids` returns (a test empties it to see configure fail)."""
INSTANCES: list["Instrument"] = []
"""Every instrument opened, in order."""
RESISTANCE_OHM = 10_000.0 + 100.0 * np.arange(ARC2_LINES * ARC2_LINES).reshape(ARC2_LINES, ARC2_LINES)
"""Resistance of each device [word line, bit line], ohm (distinct, so a mixed-up address shows)."""

_ROW_OF = {int(c): i for i, c in enumerate(wordline_channel(np.arange(ARC2_LINES)))}
_COL_OF = {int(c): j for j, c in enumerate(bitline_channel(np.arange(ARC2_LINES)))}


class BiasOrder(Enum):
    """``pyarc2.BiasOrder``."""

    Rows = "rows"
    Cols = "cols"


def find_ids() -> list[int]:
    """``pyarc2.find_ids``: the instruments present."""
    return list(IDS)


class Instrument:
    """``pyarc2.Instrument``: records calls, answers reads from :data:`RESISTANCE_OHM`."""

    def __init__(self, port: int, firmware: str, init: bool = True) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = [("__init__", (port, firmware, init))]
        INSTANCES.append(self)

    def _device(self, low: int, high: int) -> tuple[int, int]:
        row, col = (_ROW_OF.get(high), _COL_OF.get(low)) if high in _ROW_OF else (_ROW_OF.get(low), _COL_OF.get(high))
        if row is None or col is None:
            raise ValueError(f"channels low={low}, high={high} are not a crosspoint of the 32x32 array")
        return row, col

    def read_one(self, low: int, high: int, vread: float) -> float:
        self.calls.append(("read_one", (low, high, vread)))
        return vread / RESISTANCE_OHM[self._device(low, high)]

    def read_slice(self, chan: int, vread: float) -> np.ndarray:
        self.calls.append(("read_slice", (chan, vread)))
        return (vread / RESISTANCE_OHM[_ROW_OF[chan]]).astype(np.float32)

    def read_all(self, vread: float, order: BiasOrder) -> np.ndarray:
        self.calls.append(("read_all", (vread, order)))
        return (vread / RESISTANCE_OHM).astype(np.float32)

    def pulse_one(self, low: int, high: int, voltage: float, nanos: int) -> "Instrument":
        self._device(low, high)
        self.calls.append(("pulse_one", (low, high, voltage, nanos)))
        return self

    def ground_all(self) -> "Instrument":
        self.calls.append(("ground_all", ()))
        return self

    def float_all(self) -> "Instrument":
        self.calls.append(("float_all", ()))
        return self

    def execute(self) -> "Instrument":
        self.calls.append(("execute", ()))
        return self

    def wait(self) -> None:
        self.calls.append(("wait", ()))
