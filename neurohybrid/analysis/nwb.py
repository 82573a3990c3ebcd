"""NWB export of a neurohybrid MCAP recording (the readers the replay backends use: ``io.nwb_units``).

One NWB 2 file per experiment (Rübel et al., eLife 11:e78362, 2022; written with pynwb):

* ``session_start_time`` = the recording's first log time (or an earlier event), floored to
  the microsecond (NWB's datetime resolution); every time below is seconds from it.
* ``subject`` and session fields from the recording's MCAP metadata records ``subject`` and
  ``session`` (keys as the NWB fields), overridden by the caller (CLI flags); defaults describe
  the virtual lab (rat hippocampal culture of Serb et al., Sci. Rep. 10:2590, 2020).
* ``electrodes``: one row per electrode of each biological lab's layout (``label`` column,
  ``rel_x``/``rel_y`` in micrometre), one ``ElectrodeGroup`` per lab; the layout comes from the
  lab's attached ``ros__parameters`` (``layout``, ``n_channels``, ``pitch_um``), else ``mcs60``.
* ``units`` (biological): one unit per (lab, electrode, event kind) with columns ``lab``,
  ``source_id``, ``event_kind`` (``neurohybrid.core.events.KIND_NAMES``) and ``electrodes``.
* processing module ``silicon``: ``Units`` table ``silicon_units`` (one unit per silicon neuron).
* intervals ``stimulation`` (one row per command: start = delivery time, stop = start +
  ``pulse_count`` biphasic pulses of 2 x ``phase_width_us``; electrode as a region of the
  electrodes table) and ``plasticity`` (start = trigger time, stop = start + pulse width).
* processing module ``memristor``: table ``synapses`` (id, wordline, bitline, pre, post) and
  ``TimeSeries`` ``resistance`` (ohm) and ``weight`` (T x S; column j is row j of ``synapses``;
  NaN where a ``SynapseStates`` message did not list the synapse).
* processing module ``network``: tables ``link_status`` (every ``LinkStatus``) and
  ``refusals`` (every ``Refusal``).
* processing module ``configuration``: tables ``attachments`` (every file embedded in the
  recording, as text) and ``metadata`` (every MCAP metadata record, key by key).

Event times keep each lab's clock (``clock_domain``); a lab whose clock is not the recorder's
(median event farther than ``CLOCK_MATCH_TOLERANCE_S`` from the log times, e.g. a legacy
session clock) is referenced to its own first slice instead, as the units' description says.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neurohybrid.analysis.summary import REFUSAL_CATEGORIES
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_NAMES, KIND_SILICON_SPIKE
from neurohybrid.core.units import NS_PER_S, NS_PER_US, US_PER_S
from neurohybrid.io.nwb_units import KIND_CODES
from neurohybrid.io.reader import (
    LINK_STATUS,
    PLASTICITY_EVENT,
    REFUSAL,
    SPIKE_BATCH,
    STIMULATION_COMMAND,
    SYNAPSE_STATES,
    Recording,
    lab_of,
)
from neurohybrid.mea.layout import ElectrodeLayout, make_layout

CLOCK_MATCH_TOLERANCE_S = 3600.0
"""A lab whose median event time is farther than this from the log times has its own clock, s."""
BIPHASIC_PHASES = 2
"""Phases per stimulation pulse (biphasic, charge balanced; neurohybrid.mea.stimulation)."""
SILICON_MODULE = "silicon"
SILICON_UNITS = "silicon_units"
DEFAULT_LAYOUT = "mcs60"
DEFAULT_SUBJECT = {
    "subject_id": "culture-1",
    "species": "Rattus norvegicus",
    "sex": "U",
    "description": "dissociated hippocampal culture on a multi-electrode array (Serb et al. 2020); "
                   "in the virtual lab its digital twin (Izhikevich culture + online detector)",
}
DEFAULT_SESSION = {
    "session_description": "neurohybrid experiment: biological and silicon neurons joined by "
                           "memristive synapses (Serb et al., Sci. Rep. 10, 2590, 2020)",
    "experiment_description": "bio -> memristor -> silicon -> memristor -> bio loop with rate-dependent "
                              "plasticity, recorded by the neurohybrid recorder (MCAP)",
    "lab": "Padova (MEA), Zurich (silicon neurons), Southampton (memristors)",
    "institution": "University of Padova; University of Zurich and ETH Zurich; University of Southampton",
}
SUBJECT_KEYS = ("subject_id", "species", "sex", "age", "description")
SESSION_KEYS = ("session_description", "experiment_description", "experimenter", "lab", "institution",
                "identifier")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_nwb` wrote: ``path``, spike counts per lab and kind, table sizes."""

    path: Path
    spikes: dict[str, dict[str, int]]
    n_units: int
    n_silicon_units: int
    n_stimulation: int
    n_plasticity: int
    n_synapses: int
    n_synapse_samples: int
    session_start_ns: int


def _floor_us(t_ns: int) -> int:
    return (int(t_ns) // NS_PER_US) * NS_PER_US


def _seconds(t_ns: np.ndarray, ref_ns: int) -> np.ndarray:
    """Integer ns -> float64 s from ``ref_ns`` (exact to < 1 ns for spans of days)."""
    return (np.asarray(t_ns, np.int64) - np.int64(ref_ns)).astype(np.float64) / NS_PER_S


def _lab_of_spikes(spikes: dict[str, Any], topic: str) -> str:
    frames = spikes["batch_frame_id"]
    return lab_of(frames[0]) if len(frames) and frames[0] else lab_of(topic)


def _own_clock(times_ns: np.ndarray, rec: Recording) -> bool:
    tol = CLOCK_MATCH_TOLERANCE_S * NS_PER_S
    return bool(len(times_ns)) and not (rec.start_ns - tol <= np.median(times_ns) <= rec.end_ns + tol)


def lab_parameters(rec: Recording) -> dict[str, dict[str, Any]]:
    """``ros__parameters`` of every attached YAML that names its ``lab``, by lab."""
    out: dict[str, dict[str, Any]] = {}
    for att in rec.attachments():
        try:
            doc = yaml.safe_load(att.data.decode("utf-8", errors="replace"))
        except yaml.YAMLError:
            continue
        if not isinstance(doc, dict):
            continue
        for section in doc.values():
            params = section.get("ros__parameters") if isinstance(section, dict) else None
            if isinstance(params, dict) and isinstance(params.get("lab"), str):
                out.setdefault(params["lab"], {}).update(params)
    return out


def _layout_for(lab: str, params: dict[str, dict[str, Any]], layouts: dict[str, ElectrodeLayout]) -> ElectrodeLayout:
    if lab in layouts:
        return layouts[lab]
    p = params.get(lab, {})
    kwargs = {k: p[k] for k in ("n_channels", "pitch_um") if k in p}
    return make_layout(p.get("layout", DEFAULT_LAYOUT), **kwargs)


def _metadata_fields(rec: Recording, record: str, keys: tuple[str, ...], defaults: dict[str, str],
                     overrides: dict[str, str | None]) -> dict[str, str]:
    out = dict(defaults)
    out.update({k: v for k, v in rec.metadata().get(record, {}).items() if k in keys})
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out


def export_nwb(recording_path: str | os.PathLike, out_path: str | os.PathLike, *,
               subject_id: str | None = None, session_description: str | None = None,
               species: str | None = None, experimenter: str | None = None,
               identifier: str | None = None, layouts: dict[str, ElectrodeLayout] | None = None,
               overwrite: bool = False) -> ExportResult:
    """Write the MCAP at ``recording_path`` as one NWB file at ``out_path`` (see module docstring).

    Keyword arguments override the recording's ``subject``/``session`` metadata records;
    ``layouts`` overrides the electrode layout of a lab. An existing ``out_path`` raises
    ConfigError unless ``overwrite``. A spike source id beyond the lab's layout raises ConfigError.
    """
    from pynwb import NWBHDF5IO

    out = Path(out_path)
    if out.exists() and not overwrite:
        raise ConfigError(f"out_path={str(out)!r} exists; pass overwrite=True (--overwrite) to replace it")
    rec = Recording.open(recording_path)
    spikes = {t: rec.spikes(t) for t in rec.topics_of(SPIKE_BATCH)}
    starts = [int(s["batch_slice_start_ns"].min()) for s in spikes.values()
              if len(s["batch_slice_start_ns"]) and not _own_clock(s["time_ns"], rec)]
    ref_ns = _floor_us(min([rec.start_ns, *starts]))
    nwb = _nwb_file(rec, recording_path, ref_ns, spikes, {
        "session_description": session_description, "experimenter": experimenter, "identifier": identifier,
        "subject_id": subject_id, "species": species})
    units = _SpikeUnits(nwb, rec, ref_ns, lab_parameters(rec), layouts or {})
    for topic, s in spikes.items():
        units.add_topic(recording_path, topic, s)
    n_sil = units.finish()
    n_stim = _add_stimulation(nwb, rec, ref_ns, units.electrode_rows)
    n_plast = _add_plasticity(nwb, rec, ref_ns)
    n_syn, n_samples = _add_memristors(nwb, rec, ref_ns)
    _add_network(nwb, rec, ref_ns)
    _add_configuration(nwb, rec, ref_ns)
    out.parent.mkdir(parents=True, exist_ok=True)
    with NWBHDF5IO(str(out), "w") as io:
        io.write(nwb)
    return ExportResult(out, units.counts, units.n_bio, n_sil, n_stim, n_plast, n_syn, n_samples, ref_ns)


def _nwb_file(rec: Recording, recording_path: str | os.PathLike, ref_ns: int, spikes: dict[str, dict[str, Any]],
              overrides: dict[str, str | None]) -> Any:
    """The NWBFile: session and subject from the metadata records (``overrides`` win), start time."""
    from pynwb import NWBFile
    from pynwb.file import Subject

    session = _metadata_fields(rec, "session", SESSION_KEYS, DEFAULT_SESSION,
                               {k: overrides[k] for k in ("session_description", "experimenter", "identifier")})
    subject = _metadata_fields(rec, "subject", SUBJECT_KEYS, DEFAULT_SUBJECT,
                               {k: overrides[k] for k in ("subject_id", "species")})
    start_time = datetime.fromtimestamp(ref_ns // NS_PER_S, tz=timezone.utc).replace(
        microsecond=(ref_ns % NS_PER_S) // NS_PER_US)
    own_clocks = [f"lab {_lab_of_spikes(s, t)}: spike times are s from its first slice "
                  f"({int(s['batch_slice_start_ns'].min())} ns of its own clock)"
                  for t, s in spikes.items() if _own_clock(s["time_ns"], rec)]
    return NWBFile(
        session_description=session["session_description"],
        identifier=session.get("identifier") or str(uuid.uuid5(uuid.NAMESPACE_URL,
                                                                 f"neurohybrid:{Path(recording_path).name}:{ref_ns}")),
        session_start_time=start_time,
        experiment_description=session["experiment_description"],
        experimenter=[session["experimenter"]] if session.get("experimenter") else None,
        lab=session["lab"], institution=session["institution"],
        source_script="neurohybrid export nwb (neurohybrid.analysis.nwb.export_nwb)",
        source_script_file_name="neurohybrid/analysis/nwb.py",
        subject=Subject(**subject),
        notes="; ".join(own_clocks) or None,
    )


class _SpikeUnits:
    """Spike topics as units: biological ones in ``nwb.units`` (with electrodes), silicon ones in
    the ``silicon`` module, one unit per (lab, source, kind)."""

    def __init__(self, nwb: Any, rec: Recording, ref_ns: int, params: dict[str, dict[str, Any]],
                 layouts: dict[str, ElectrodeLayout]) -> None:
        from pynwb.misc import Units

        self.nwb, self.rec, self.ref_ns, self.params, self.layouts = nwb, rec, ref_ns, params, layouts
        self.counts: dict[str, dict[str, int]] = {}
        self.electrode_rows: dict[str, int] = {}
        self.n_channels: dict[str, int] = {}
        self.n_bio = self.n_sil = 0
        self.silicon = Units(name=SILICON_UNITS,
                             description="silicon neurons: one unit per neuron id; spike times in s")
        for col, desc in (("lab", "lab that recorded the events"),
                          ("source_id", "neuron id (silicon) or electrode index"),
                          ("event_kind", f"event kind, one of {sorted(KIND_CODES)}")):
            self.silicon.add_column(col, desc)
        nwb.add_electrode_column("label", "electrode label in the lab's layout (MCS: column-row)")
        for col, desc in (("lab", "lab that recorded the events"), ("source_id", "electrode index in the lab's layout"),
                          ("event_kind", f"event kind, one of {sorted(KIND_CODES)}")):
            nwb.add_unit_column(col, desc)

    def add_topic(self, recording_path: str | os.PathLike, topic: str, s: dict[str, Any]) -> None:
        """The units of one recorded SpikeBatch topic (a lab's electrodes on its first biological topic)."""
        lab = _lab_of_spikes(s, topic)
        own = _own_clock(s["time_ns"], self.rec)
        lab_ref = _floor_us(int(s["batch_slice_start_ns"].min())) if own else self.ref_ns
        kinds = s["kind"]
        self.counts[lab] = {KIND_NAMES[int(k)]: int(np.count_nonzero(kinds == k)) for k in np.unique(kinds)}
        biological = bool(len(kinds)) and int(kinds.max()) < KIND_SILICON_SPIKE
        if biological and lab not in self.electrode_rows:
            layout = _layout_for(lab, self.params, self.layouts)
            self.electrode_rows[lab] = _add_electrodes(self.nwb, lab, layout, self.params.get(lab, {}))
            self.n_channels[lab] = layout.n_channels
        order = np.lexsort((s["time_ns"], s["kind"], s["source_id"]))
        sid, kind, t_s = s["source_id"][order], kinds[order], _seconds(s["time_ns"][order], lab_ref)
        if biological and len(sid) and int(sid.max()) >= self.n_channels[lab]:
            raise ConfigError(f"{recording_path}: {topic} has electrode {int(sid.max())} beyond the "
                              f"{self.n_channels[lab]} electrodes of lab {lab!r}'s layout (pass layouts=...)")
        key = sid.astype(np.int64) * (KIND_SILICON_SPIKE + 1) + kind
        bounds = np.flatnonzero(np.diff(key)) + 1
        for lo, hi in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [len(key)]])):
            if hi <= lo:
                continue
            row = dict(spike_times=t_s[lo:hi], lab=lab, source_id=int(sid[lo]), event_kind=KIND_NAMES[int(kind[lo])])
            if biological:
                self.nwb.add_unit(electrodes=[self.electrode_rows[lab] + int(sid[lo])], **row)
                self.n_bio += 1
            else:
                self.silicon.add_row(**row)
                self.n_sil += 1

    def finish(self) -> int:
        """Add the silicon module if any silicon unit was seen; returns the silicon unit count."""
        if self.n_sil:
            module = self.nwb.create_processing_module(SILICON_MODULE, "silicon neuron board output")
            module.add(self.silicon)
        return self.n_sil


def _add_electrodes(nwb: Any, lab: str, layout: ElectrodeLayout, params: dict[str, Any]) -> int:
    """Electrodes of ``lab``'s layout; returns the table row of its electrode 0."""
    first = len(nwb.electrodes) if nwb.electrodes is not None else 0
    device = nwb.create_device(name=f"{lab}_mea", description=f"{lab} multi-electrode array "
                               f"(layout {params.get('layout', DEFAULT_LAYOUT)}, backend {params.get('backend', '?')})")
    group = nwb.create_electrode_group(name=f"{lab}_electrodes", device=device, location="culture",
                                       description=f"{layout.n_channels} electrodes of {lab}; rel_x/rel_y in micrometre")
    for (x_um, y_um), label in zip(layout.positions_um, layout.labels):
        nwb.add_electrode(group=group, location="culture", rel_x=float(x_um), rel_y=float(y_um),
                          label=label)
    return first


def _event_times(times_ns: np.ndarray, stamps_ns: np.ndarray) -> np.ndarray:
    """A command's own time where set (> 0), else its header stamp, ns."""
    return np.where(np.asarray(times_ns) > 0, times_ns, stamps_ns).astype(np.int64)


def _add_stimulation(nwb: Any, rec: Recording, ref_ns: int, electrode_rows: dict[str, int]) -> int:
    cmds = [(lab_of(t), rec.stimulation(t)) for t in rec.topics_of(STIMULATION_COMMAND)]
    cmds = [(lab, c) for lab, c in cmds if len(c["electrode"])]
    if not cmds:
        return 0
    start = np.concatenate([_seconds(_event_times(c["time_ns"], c["stamp_ns"]), ref_ns) for _, c in cmds])
    cat = lambda key: np.concatenate([c[key] for _, c in cmds])  # noqa: E731
    stop = start + cat("pulse_count") * BIPHASIC_PHASES * cat("phase_width_us") / US_PER_S
    columns = {"lab": np.concatenate([np.full(len(c["electrode"]), lab, dtype=object) for lab, c in cmds])}
    columns.update({k: cat(k) for k in ("electrode", "amplitude_ua", "phase_width_us", "pulse_count",
                                        "synapse_id", "weight", "pre_id")})
    columns["electrode_index"] = columns.pop("electrode").astype(np.int64)
    table = _intervals("stimulation", "MEA stimulation commands published by the hub (delivered or refused: "
                       "see processing/network/refusals); stop = start + pulse_count x 2 x phase_width",
                       start, stop, columns)
    if all(lab in electrode_rows for lab, _ in cmds):
        rows = np.concatenate([electrode_rows[lab] + c["electrode"].astype(np.int64) for lab, c in cmds])
        table.add_column(name="electrodes", description="the stimulated electrode (row of the electrodes table)",
                         data=rows, table=nwb.electrodes)
    nwb.add_time_intervals(table)
    return len(start)


def _add_plasticity(nwb: Any, rec: Recording, ref_ns: int) -> int:
    events = [p for p in (rec.plasticity(t) for t in rec.topics_of(PLASTICITY_EVENT)) if len(p["direction"])]
    if not events:
        return 0
    names = ("rule", "synapse_id", "wordline", "bitline", "direction", "pulse_amplitude_v", "pulse_width_s",
             "resistance_before_ohm", "resistance_after_ohm", "accepted", "reason", "pre_count")
    columns = {k: np.concatenate([p[k] for p in events]) for k in names}
    start = np.concatenate([_seconds(_event_times(p["trigger_time_ns"], p["stamp_ns"]), ref_ns) for p in events])
    nwb.add_time_intervals(_intervals(
        "plasticity", "plasticity decisions of the hub's rule (direction LTP +1 / LTD -1); start = trigger "
                      "time, stop = start + pulse width; accepted False = refused by the programming limits",
        start, start + columns["pulse_width_s"], columns))
    return len(start)


def _vectors(columns: dict[str, np.ndarray]) -> list[Any]:
    """VectorData columns (object arrays stored as str, bool kept, numbers as their dtype)."""
    from hdmf.common import VectorData

    return [VectorData(name=k, description=k.replace("_", " "),
                       data=[str(x) for x in v] if np.asarray(v).dtype == object else np.asarray(v))
            for k, v in columns.items()]


def _intervals(name: str, description: str, start_s: np.ndarray, stop_s: np.ndarray,
               columns: dict[str, np.ndarray]) -> Any:
    """A TimeIntervals table built column-wise (no per-row calls)."""
    from pynwb.epoch import TimeIntervals

    cols = _vectors({"start_time": np.asarray(start_s, np.float64), "stop_time": np.asarray(stop_s, np.float64),
                     **columns})
    return TimeIntervals(name=name, description=description, columns=cols, id=np.arange(len(start_s)))


def _add_memristors(nwb: Any, rec: Recording, ref_ns: int) -> tuple[int, int]:
    from hdmf.common import DynamicTable
    from pynwb import TimeSeries

    topics = rec.topics_of(SYNAPSE_STATES)
    if not topics:
        return 0, 0
    s = rec.synapse_states(topics[0])
    module = nwb.create_processing_module("memristor", f"memristive synapses ({topics[0]})")
    table = DynamicTable(name="synapses", description="memristive synapses; column j of resistance/weight is row j")
    for col in ("synapse_id", "wordline", "bitline", "pre", "post"):
        table.add_column(col, col)
    for j in range(len(s["synapse_id"])):
        table.add_row(synapse_id=int(s["synapse_id"][j]), wordline=int(s["wordline"][j]),
                      bitline=int(s["bitline"][j]), pre=str(s["pre"][j]), post=str(s["post"][j]))
    module.add(table)
    t_s = _seconds(s["stamp_ns"], ref_ns)
    module.add(TimeSeries(name="resistance", data=s["resistance_ohm"], unit="ohm", timestamps=t_s,
                          description="resistance of each memristive synapse (columns: rows of 'synapses')"))
    module.add(TimeSeries(name="weight", data=s["weight"], unit="1", timestamps=t_s,
                          description="synaptic weight in [0, 1] mapped from resistance"))
    return len(s["synapse_id"]), len(t_s)


def _table(name: str, description: str, columns: dict[str, np.ndarray]) -> Any:
    """A DynamicTable from equal-length columns (strings stored as str)."""
    from hdmf.common import DynamicTable

    n = len(next(iter(columns.values())))
    return DynamicTable(name=name, description=description, columns=_vectors(columns), id=np.arange(n))


def _add_network(nwb: Any, rec: Recording, ref_ns: int) -> None:
    tables = []
    link = [rec.link_status(t) for t in rec.topics_of(LINK_STATUS)]
    if sum(len(x["stamp_ns"]) for x in link):
        cols = ("lab", "peer_lab", "link_up", "rtt_s", "clock_offset_s", "clock_offset_uncertainty_s",
                "received_batches", "sequence_gaps", "late_events", "malformed_messages")
        merged = {"timestamp": np.concatenate([_seconds(x["stamp_ns"], ref_ns) for x in link])}
        merged.update({c: np.concatenate([x[c] for x in link]) for c in cols})
        tables.append(_table("link_status", "every LinkStatus message; timestamp in s", merged))
    refusals = [rec.refusals(t) for t in rec.topics_of(REFUSAL)]
    if sum(len(x["stamp_ns"]) for x in refusals):
        merged = {"timestamp": np.concatenate([_seconds(x["stamp_ns"], ref_ns) for x in refusals]),
                  "frame_id": np.concatenate([x["frame_id"] for x in refusals]),
                  "category": np.array([REFUSAL_CATEGORIES.get(int(c), str(int(c)))
                                        for x in refusals for c in x["category"]], dtype=object),
                  "reason": np.concatenate([x["reason"] for x in refusals]),
                  "count": np.concatenate([x["count"] for x in refusals]).astype(np.int64)}
        tables.append(_table("refusals", "every Refusal message (stimulation, programming, malformed, input)",
                             merged))
    if tables:
        module = nwb.create_processing_module("network", "links between the labs and refused commands")
        for table in tables:
            module.add(table)


def _add_configuration(nwb: Any, rec: Recording, ref_ns: int) -> None:
    module = nwb.create_processing_module("configuration", "the run's full configuration as recorded")
    atts = rec.attachments()
    module.add(_table("attachments", "files embedded in the recording (configuration), as text", {
        "file_name": np.array([a.name for a in atts], dtype=object),
        "media_type": np.array([a.media_type for a in atts], dtype=object),
        "log_time": _seconds(np.array([a.log_time_ns for a in atts], np.int64), ref_ns),
        "content": np.array([a.data.decode("utf-8", errors="replace") for a in atts], dtype=object)}))
    rows = [(name, k, v) for name, values in rec.metadata().items() for k, v in values.items()]
    module.add(_table("metadata", "MCAP metadata records of the recording", {
        "record": np.array([r[0] for r in rows], dtype=object),
        "key": np.array([r[1] for r in rows], dtype=object),
        "value": np.array([r[2] for r in rows], dtype=object)}))
