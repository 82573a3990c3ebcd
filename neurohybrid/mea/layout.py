"""Electrode layouts of microelectrode arrays (MEAs): positions in micrometre and labels.

Two families:

* ``mcs60``: the Multi Channel Systems 60MEA200/30iR-Ti style layout, an 8 x 8 grid with the
  four corners missing (60 electrodes). MCS labels an electrode by its column then its row,
  both counted from 1 ("12" = column 1, row 2), so labels run "12".."17", "21".."87"
  (MCS, *MEA Manual*, electrode layout of the standard 60MEA).
* ``grid``: a near-square grid of 1..1024 channels, standing in for a selection of
  simultaneously recorded channels of a high-density MEA (MaxWell MaxOne: 1,024 channels
  routed from 26,400 electrodes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds

MCS60_GRID_SIDE = 8  # the 60MEA is an 8 x 8 grid minus its 4 corners (MCS MEA manual)
MCS60_CHANNELS = 60
MCS60_DEFAULT_PITCH_UM = 200.0  # 60MEA200/30: 200 um inter-electrode distance
MAX_GRID_CHANNELS = 4096  # MaxWell HD-MEA records 1,024 channels at once; 3Brain arrays 4,096
LAYOUT_NAMES = ("mcs60", "grid")
PITCH_BOUNDS_UM = (10.0, 1000.0)  # HD-MEAs (MaxWell: 17.5 um) to sparse arrays (MCS: up to 500 um)

LAYOUT_PARAMS = ParamSet("electrode layout", [
    ParamSpec("layout", "mcs60", "electrode layout", choices=LAYOUT_NAMES),
    ParamSpec("n_channels", MCS60_CHANNELS, "electrodes (grid layout; mcs60 has 60)", "",
              Bounds(1, MAX_GRID_CHANNELS, integer=True)),
    ParamSpec("pitch_um", MCS60_DEFAULT_PITCH_UM, "electrode pitch", "um", Bounds(*PITCH_BOUNDS_UM)),
])


@dataclass(frozen=True)
class ElectrodeLayout:
    """Electrode centres ``positions_um`` (n, 2) in micrometre and one label per electrode."""

    positions_um: np.ndarray
    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        pos = np.array(self.positions_um, dtype=np.float64)
        if pos.ndim != 2 or pos.shape[1] != 2:
            raise ConfigError(f"positions_um must have shape (n, 2), got {pos.shape}")
        if not np.all(np.isfinite(pos)):
            raise ConfigError("positions_um must be finite")
        labels = tuple(str(label) for label in self.labels)
        if len(labels) != len(pos):
            raise ConfigError(
                f"labels has {len(labels)} entries, expected {len(pos)} (one per electrode)"
            )
        if len(set(labels)) != len(labels):
            raise ConfigError("labels must be unique")
        pos.setflags(write=False)
        object.__setattr__(self, "positions_um", pos)
        object.__setattr__(self, "labels", labels)

    @property
    def n_channels(self) -> int:
        """Number of electrodes."""
        return len(self.labels)

    def extent_um(self) -> tuple[float, float]:
        """Width and height (micrometre) of the bounding box of the electrode centres."""
        span = self.positions_um.max(axis=0) - self.positions_um.min(axis=0)
        return float(span[0]), float(span[1])


def mcs60_layout(pitch_um: float = MCS60_DEFAULT_PITCH_UM) -> ElectrodeLayout:
    """The MCS 60MEA: 8 x 8 grid minus the corners, labels column-row ("12".."87").

    Electrodes are ordered column by column; electrode "cr" sits at
    x = (c - 1) * pitch_um, y = (r - 1) * pitch_um.
    """
    pitch = LAYOUT_PARAMS["pitch_um"].check(pitch_um)
    corners = {(1, 1), (1, MCS60_GRID_SIDE), (MCS60_GRID_SIDE, 1), (MCS60_GRID_SIDE, MCS60_GRID_SIDE)}
    cells = [
        (col, row)
        for col in range(1, MCS60_GRID_SIDE + 1)
        for row in range(1, MCS60_GRID_SIDE + 1)
        if (col, row) not in corners
    ]
    cr = np.array(cells, dtype=np.float64)
    return ElectrodeLayout((cr - 1.0) * pitch, tuple(f"{c}{r}" for c, r in cells))


def grid_layout(n_channels: int, pitch_um: float) -> ElectrodeLayout:
    """``n_channels`` (1..4096) electrodes on a near-square grid filled row by row.

    The grid has ceil(sqrt(n)) columns; labels are "r<row>c<col>" counted from 0.
    """
    n = LAYOUT_PARAMS["n_channels"].check(n_channels)
    pitch = LAYOUT_PARAMS["pitch_um"].check(pitch_um)
    n_cols = math.ceil(math.sqrt(n))
    idx = np.arange(n)
    row, col = np.divmod(idx, n_cols)
    pos = np.column_stack([col, row]).astype(np.float64) * pitch
    return ElectrodeLayout(pos, tuple(f"r{r}c{c}" for r, c in zip(row, col)))


def make_layout(
    name: str, n_channels: int = MCS60_CHANNELS, pitch_um: float = MCS60_DEFAULT_PITCH_UM
) -> ElectrodeLayout:
    """Layout by name: "mcs60" (``n_channels`` must be 60) or "grid" (1..4096 channels)."""
    LAYOUT_PARAMS["layout"].check(name)
    if name == "mcs60":
        if n_channels != MCS60_CHANNELS:
            raise ConfigError(f"n_channels={n_channels!r} outside allowed [60, 60] for layout 'mcs60'")
        return mcs60_layout(pitch_um)
    return grid_layout(n_channels, pitch_um)
