"""NWB Units and ElectricalSeries, read for the replay backends (the writer is ``analysis.nwb``).

A Units table gives every spike's time (s from the session start), the unit's event kind (the
``event_kind`` column, names of :data:`neurohybrid.core.events.KIND_NAMES`; spontaneous APs
without it), its ``source_id`` and its first electrode (row and ``label`` of the electrodes
table). Errors are ConfigErrors naming the file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_NAMES, KIND_SPONTANEOUS_AP
from neurohybrid.core.units import UV_PER_V

KIND_CODES = {name: code for code, name in KIND_NAMES.items()}
"""Event kind code by the name an NWB ``event_kind`` column holds."""
BIOLOGICAL_UNITS = "units"
"""The file's main Units table (``nwb.units``): biological units."""


@dataclass(frozen=True)
class UnitSpikes:
    """Every spike of a Units table: per spike ``time_s`` (s from session start), ``kind``
    (uint8), and ``unit`` (row); per unit ``source_id`` (or -1), ``electrode_label`` (or ""),
    ``electrode_row`` (or -1)."""

    time_s: np.ndarray
    kind: np.ndarray
    unit: np.ndarray
    source_id: np.ndarray
    electrode_label: np.ndarray
    electrode_row: np.ndarray


def find_units(nwb: Any, table: str, path: str | os.PathLike) -> Any:
    """The Units table named ``table``: ``nwb.units`` for "units", else one in a processing module."""
    if table == BIOLOGICAL_UNITS and nwb.units is not None:
        return nwb.units
    for module in nwb.processing.values():
        if table in module.data_interfaces:
            return module.data_interfaces[table]
    found = (["units"] if nwb.units is not None else []) + [
        f"processing/{m}/{n}" for m, mod in nwb.processing.items() for n, obj in mod.data_interfaces.items()
        if type(obj).__name__ == "Units"]
    raise ConfigError(f"{path}: no Units table {table!r} (Units tables in the file: {found or 'none'})")


def read_unit_spikes(units: Any, path: str | os.PathLike) -> UnitSpikes:
    """All spikes of ``units`` (vectorised over the ragged ``spike_times``); kinds from the
    ``event_kind`` column if present, else spontaneous APs."""
    n_units = len(units)
    if n_units == 0 or "spike_times" not in units.colnames:
        raise ConfigError(f"{path}: Units table {units.name!r} has no spike_times")
    times = np.asarray(units["spike_times"].target.data[:], np.float64)
    ends = np.asarray(units["spike_times"].data[:], np.int64)
    per_unit = np.diff(np.concatenate([[0], ends]))
    unit = np.repeat(np.arange(n_units), per_unit)
    if "event_kind" in units.colnames:
        names = [str(k) for k in units["event_kind"].data[:]]
        unknown = sorted(set(names) - set(KIND_CODES))
        if unknown:
            raise ConfigError(f"{path}: event_kind {unknown} unknown; allowed: {sorted(KIND_CODES)}")
        kind_of_unit = np.array([KIND_CODES[k] for k in names], np.uint8)
    else:
        kind_of_unit = np.full(n_units, KIND_SPONTANEOUS_AP, np.uint8)
    source = np.asarray(units["source_id"].data[:], np.int64) if "source_id" in units.colnames \
        else np.full(n_units, -1, np.int64)
    labels = np.full(n_units, "", dtype=object)
    rows = np.full(n_units, -1, np.int64)
    if "electrodes" in units.colnames:
        region = units["electrodes"]
        first = np.concatenate([[0], np.asarray(region.data[:], np.int64)[:-1]])
        targets = np.asarray(region.target.data[:], np.int64)
        rows = targets[first]
        table = region.target.table
        if "label" in table.colnames:
            all_labels = np.array([str(x) for x in table["label"].data[:]], dtype=object)
            labels = all_labels[rows]
    if not np.all(np.isfinite(times)):
        raise ConfigError(f"{path}: Units table {units.name!r} has non-finite spike times")
    return UnitSpikes(times, kind_of_unit[unit], unit, source, labels, rows)


def volts_to_uv_factor(conversion: float, path: str | os.PathLike, what: str) -> float:
    """Scale from stored samples to microvolts for an ElectricalSeries (NWB fixes its unit to
    volts; ``conversion`` maps stored values to volts)."""
    if not (math.isfinite(conversion) and conversion != 0.0):
        raise ConfigError(f"{path}: {what} has conversion={conversion!r}; allowed: finite, non-zero")
    return conversion * UV_PER_V
