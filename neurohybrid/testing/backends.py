"""Construction arguments for every device backend, for the shared compliance suites.

The suites run on every backend registered in a kind's registry; this table gives each one
small, valid arguments (a replay gets a short recording written into ``folder``). A backend
registered without an entry here fails the suites' ``test_every_registered_backend_has_a_case``,
which says what to add. MEA backends also take ``layout`` and ``limits`` (:func:`create` adds
the standard 60-electrode layout and the default limits).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from neurohybrid.board import BOARD_BACKENDS
from neurohybrid.core.device import DeviceBackend
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SPONTANEOUS_AP
from neurohybrid.core.registry import BackendRegistry
from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
from neurohybrid.memristor import MEMRISTOR_BACKENDS
from neurohybrid.robot import ROBOT_BACKENDS, arena_from_dict

REGISTRIES: dict[str, BackendRegistry] = {"mea": MEA_BACKENDS, "board": BOARD_BACKENDS, "memristor": MEMRISTOR_BACKENDS,
                                          "robot": ROBOT_BACKENDS}
"""Every device kind's registry."""

REPLAY_SPAN_S = 0.5
"""Length of the recordings the replay cases play, s."""
EVENTS_WITHIN_S = 1.5
"""Every case reports events within this time from configure (the MEA detector learns the noise
over its first second), s."""

Case = tuple[str, Callable[[Path], dict[str, Any]]]


def _session() -> Any:
    from pynwb import NWBFile

    return NWBFile(session_description="compliance", identifier="compliance",
                   session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))


def _write(nwb: Any, path: Path) -> Path:
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def mea_units_file(folder: Path) -> Path:
    """An NWB file of sorted units on six electrodes of the 60-electrode layout (PSPs and APs)."""
    path = folder / "mea_units.nwb"
    if path.exists():
        return path
    nwb = _session()
    group = nwb.create_electrode_group("mea", "compliance", "culture", nwb.create_device("mea"))
    nwb.add_electrode_column("label", "electrode label")
    for label in mcs60_layout().labels:
        nwb.add_electrode(group=group, location="culture", label=label)
    nwb.add_unit_column("event_kind", "event kind")
    rng = np.random.default_rng(3)
    for row in range(6):
        kind = "psp" if row % 3 == 0 else "spontaneous_ap"
        nwb.add_unit(spike_times=np.sort(rng.uniform(0.0, REPLAY_SPAN_S, 8)), electrodes=[row], event_kind=kind)
    return _write(nwb, path)


def silicon_units_file(folder: Path) -> Path:
    """An NWB file of silicon units (``silicon_units``) for ten neurons."""
    from pynwb.misc import Units

    path = folder / "silicon_units.nwb"
    if path.exists():
        return path
    nwb = _session()
    units = Units(name="silicon_units", description="compliance")
    units.add_column("source_id", "neuron id")
    rng = np.random.default_rng(4)
    for neuron in range(10):
        units.add_row(spike_times=np.sort(rng.uniform(0.0, REPLAY_SPAN_S, 8)), source_id=neuron)
    nwb.create_processing_module("silicon", "silicon").add(units)
    return _write(nwb, path)


_LSL_SOURCES: dict[Path, Any] = {}


def lsl_event_stream(folder: Path) -> str:
    """Name of a live LSL event stream (one per ``folder``, sending until the process ends)."""
    from neurohybrid.testing.lsl_source import EventSource, unique_name

    if folder not in _LSL_SOURCES:
        _LSL_SOURCES[folder] = EventSource(unique_name("nh-compliance"), mcs60_layout().n_channels)
    return _LSL_SOURCES[folder].name


def arc2_firmware_file(folder: Path) -> Path:
    """A stand-in firmware file for the arc2 backend's double (pyarc2's double never reads it)."""
    path = folder / "arc2_firmware.bin"
    path.write_bytes(b"")
    return path


CASES: dict[str, dict[str, list[Case]]] = {
    "mea": {
        "sim": [("sim", lambda folder: {"n_neurons": 200, "seed": 1})],
        "replay": [("replay_nwb_units", lambda folder: {"replay_file": str(mea_units_file(folder))})],
        "lsl": [("lsl_events", lambda folder: {"stream_name": lsl_event_stream(folder)})],
    },
    "board": {
        "sim": [("sim", lambda folder: {"cores_per_chip": 1, "neurons_per_core": 64, "seed": 3}),
                ("sim_quiet", lambda folder: {"cores_per_chip": 1, "neurons_per_core": 8, "background_rate_hz": 0.0,
                                              "mismatch": 0.0, "input_base_weight_a": 20e-9})],
        "replay": [("replay_nwb_units", lambda folder: {"replay_file": str(silicon_units_file(folder))})],
    },
    "memristor": {
        "sim": [("sim", lambda folder: {"seed": 1})],
        "arc2": [("arc2_double", lambda folder: {"driver": "neurohybrid.testing.arc2_double",
                                                 "firmware": str(arc2_firmware_file(folder))})],
    },
    "robot": {
        "sim": [("sim", lambda folder: {"arena": arena_from_dict({"walls": {"shape": "circle", "radius_m": 1.0}}, 0.105),
                                        "n_rays": 36})],
    },
}
"""Per kind and registered name: (case id, folder -> construction arguments)."""

MEA_EVENT_KINDS = (KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP)
"""Event kinds an MEA backend may report (PSP, evoked AP, spontaneous AP)."""


def cases(kind: str) -> list[tuple[str, str, Callable[[Path], dict[str, Any]]]]:
    """(case id, backend name, arguments factory) for every registered backend of ``kind`` with a case."""
    return [(case_id, name, make) for name in REGISTRIES[kind].names() for case_id, make in CASES[kind].get(name, [])]


def missing_cases(kind: str) -> list[str]:
    """Registered backends of ``kind`` that have no case in :data:`CASES`."""
    return [name for name in REGISTRIES[kind].names() if name not in CASES[kind]]


def create(kind: str, name: str, kwargs: dict[str, Any]) -> DeviceBackend:
    """Build backend ``name`` of ``kind`` (an MEA gets the 60-electrode layout and default limits)."""
    extra = {"layout": mcs60_layout(), "limits": StimulationLimits()} if kind == "mea" else {}
    return REGISTRIES[kind].create(name, **extra, **kwargs)
