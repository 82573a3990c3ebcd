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

from neurohybrid.errors import ConfigError

MCS60_GRID_SIDE = 8  # the 60MEA is an 8 x 8 grid minus its 4 corners (MCS MEA manual)
MCS60_DEFAULT_PITCH_UM = 200.0  # 60MEA200/30: 200 um inter-electrode distance
MAX_GRID_CHANNELS = 1024  # MaxWell HD-MEA: 1,024 simultaneously recorded channels
LAYOUT_NAMES = ("mcs60", "grid")


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


def _check_pitch(pitch_um: float) -> float:
    pitch = float(pitch_um)
    if not (math.isfinite(pitch) and pitch > 0.0):
        raise ConfigError(f"pitch_um={pitch_um!r} outside allowed (0, inf)")
    return pitch


def mcs60_layout(pitch_um: float = MCS60_DEFAULT_PITCH_UM) -> ElectrodeLayout:
    """The MCS 60MEA: 8 x 8 grid minus the corners, labels column-row ("12".."87").

    Electrodes are ordered column by column; electrode "cr" sits at
    x = (c - 1) * pitch_um, y = (r - 1) * pitch_um.
    """
    pitch = _check_pitch(pitch_um)
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
    """``n_channels`` (1..1024) electrodes on a near-square grid filled row by row.

    The grid has ceil(sqrt(n)) columns; labels are "r<row>c<col>" counted from 0.
    """
    if isinstance(n_channels, bool) or int(n_channels) != n_channels:
        raise ConfigError(f"n_channels={n_channels!r} must be an integer in [1, {MAX_GRID_CHANNELS}]")
    n = int(n_channels)
    if not 1 <= n <= MAX_GRID_CHANNELS:
        raise ConfigError(f"n_channels={n} outside allowed [1, {MAX_GRID_CHANNELS}]")
    pitch = _check_pitch(pitch_um)
    n_cols = math.ceil(math.sqrt(n))
    idx = np.arange(n)
    row, col = np.divmod(idx, n_cols)
    pos = np.column_stack([col, row]).astype(np.float64) * pitch
    return ElectrodeLayout(pos, tuple(f"r{r}c{c}" for r, c in zip(row, col)))


def make_layout(
    name: str, n_channels: int = 60, pitch_um: float = MCS60_DEFAULT_PITCH_UM
) -> ElectrodeLayout:
    """Layout by name: "mcs60" (``n_channels`` must be 60) or "grid" (1..1024 channels)."""
    if name not in LAYOUT_NAMES:
        raise ConfigError(f"layout={name!r} unknown; allowed: {', '.join(LAYOUT_NAMES)}")
    if name == "mcs60":
        if n_channels != 60:
            raise ConfigError(f"n_channels={n_channels!r} outside allowed [60, 60] for layout 'mcs60'")
        return mcs60_layout(pitch_um)
    return grid_layout(n_channels, pitch_um)
