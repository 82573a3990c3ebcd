"""The MEA ``replay`` backend: recorded biological activity drives the MEA node instead of the twin.

Sources (``source="auto"`` picks by file):

* ``"mcap"`` (``.mcap``): the events of a neurohybrid recording's MEA ``SpikeBatch`` topic
  (``topic``, or the only topic whose events are all biological kinds), ids and kinds as
  recorded; time 0 = the start of the topic's first recorded slice.
* ``"nwb_units"`` (``.nwb`` with the Units table ``table``): sorted spike times; each unit's
  electrode is its first ``electrodes`` row, matched to the layout by the electrodes table's
  ``label`` column (else the row number is the electrode index); kinds from ``event_kind``
  (else spontaneous APs); time 0 = the session start.
* ``"nwb_raw"`` (``.nwb`` without that table, or asked for): an ``ElectricalSeries``
  (``series``, or the first in acquisition; unit volts) streamed through the same
  :class:`~neurohybrid.mea.detector.OnlineSpikeDetector` as the twin; every detection is a
  spontaneous AP.
* ``"neo"`` (any other file ``neo`` reads; ``neo_io`` names the IO class, ``neo_kwargs`` its
  arguments): the first analog stream of the first segment, channels matched to the layout by
  name (else by order), voltage units from the file (or ``raw_units`` when it has none),
  streamed through the detector chunk by chunk.

Timing (:class:`neurohybrid.io.replay.Playback`). The device clock advances by each
``advance(duration_s)``; the window of the recording replayed is ``replay_speed`` times longer,
and an event at recording time t (from the source's time 0) is stamped ``t / replay_speed`` on
the device clock. Driven by the node's wall-clock pacing this replays in real time (or
``replay_speed`` times faster), with the original inter-event timing. After the last event the
device stays up and silent.

Stimulation cannot reach a recording: the backend declares ``accepts_input = False``, so
:meth:`~neurohybrid.mea.backend.MEABackend.stimulate` refuses every batch whole with the reason
``"replay: no stimulation possible"`` (InputRefused, which the node reports as a stimulation
refusal) and counts its commands in ``refused_total``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.core.units import NS_PER_S, UV_PER_V, seconds_to_ns
from neurohybrid.io.replay import (
    REFUSAL_REASON,
    Playback,
    check_replay_args,
    mcap_spike_topic,
    recording_origin_ns,
    time_window,
)
from neurohybrid.mea.backend import MEA_BACKENDS, MEABackend
from neurohybrid.mea.detector import OnlineSpikeDetector
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationLimits

SOURCES = ("auto", "mcap", "nwb_units", "nwb_raw", "neo")


class _RawStream:
    """Voltage samples (microvolt, samples x channels) read on demand, and their electrode indices."""

    def __init__(self, read: Any, n_samples: int, fs_hz: float, electrodes: np.ndarray) -> None:
        self.read = read
        self.n_samples = int(n_samples)
        self.fs_hz = float(fs_hz)
        self.electrodes = electrodes


@MEA_BACKENDS.register("replay")
class ReplayMEABackend(MEABackend):
    """An MEA that plays back a recording: spike lists as recorded, raw voltage through the detector."""

    name = "replay"
    accepts_input = False
    input_refusal = REFUSAL_REASON

    def __init__(self, layout: ElectrodeLayout, limits: StimulationLimits, replay_file: str = "",
                 replay_speed: float = 1.0, source: str = "auto", topic: str = "", table: str = "units",
                 series: str = "", neo_io: str = "", neo_kwargs: dict[str, Any] | None = None,
                 raw_units: str = "", threshold_k: float = 5.0, detector: dict[str, Any] | None = None) -> None:
        super().__init__(layout, limits, replay_file=str(replay_file), replay_speed=replay_speed, source=source,
                         topic=topic, table=table, series=series, neo_io=neo_io,
                         neo_kwargs=dict(neo_kwargs or {}), raw_units=raw_units, threshold_k=threshold_k,
                         detector=dict(detector or {}))
        self._path, speed = check_replay_args(replay_file, replay_speed)
        if source not in SOURCES:
            raise ConfigError(f"source={source!r} unknown; allowed: {', '.join(SOURCES)}")
        self._playback = Playback(speed)

    @property
    def now_ns(self) -> int:
        """Device clock, ns: the sum of the advanced durations."""
        return self._playback.now_ns

    @property
    def source(self) -> str:
        """The source in use (after ``configure``): mcap, nwb_units, nwb_raw or neo."""
        return self._source

    # ----- lifecycle -------------------------------------------------------------------
    def _configure(self) -> None:
        self._playback.restart()
        self._raw: _RawStream | None = None
        self._handle: Any = None
        source = self._kwargs["source"]
        suffix = self._path.suffix.lower()
        if source == "auto":
            source = {".mcap": "mcap", ".nwb": "nwb"}.get(suffix, "neo")
        if source == "mcap":
            self._load_mcap()
        elif source in ("nwb", "nwb_units", "nwb_raw"):
            source = self._open_nwb(source)
        else:
            self._open_neo()
        self._source = source
        if self._raw is not None:
            det = dict(self._kwargs["detector"])
            self._detector = OnlineSpikeDetector(len(self._raw.electrodes), self._raw.fs_hz,
                                                 threshold_k=self._kwargs["threshold_k"], **det)
            self._sample = 0

    def _shutdown(self) -> None:
        self._close_handle()

    def _close_handle(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _safe_state(self) -> int:
        """Nothing is ever delivered, so there is nothing to stop."""
        return 0

    # ----- sources ---------------------------------------------------------------------
    def _set_events(self, source_id: np.ndarray, time_ns: np.ndarray, kind: np.ndarray, what: str) -> None:
        source_id = np.asarray(source_id, np.int64)
        bad = (source_id < 0) | (source_id >= self.layout.n_channels)
        if bad.any():
            raise ConfigError(f"{self._path}: {what}: unknown electrode {int(source_id[bad][0])} "
                              f"(layout has electrodes 0..{self.layout.n_channels - 1})")
        order = np.argsort(time_ns, kind="stable")
        self._events = SpikeEvents(source_id[order], np.asarray(time_ns, np.int64)[order], np.asarray(kind)[order])

    def _load_mcap(self) -> None:
        topic, s = mcap_spike_topic(self._path, self._kwargs["topic"], silicon=False)
        if len(s["kind"]) and int(s["kind"].max()) >= KIND_SILICON_SPIKE:
            raise ConfigError(f"{self._path}: {topic} holds silicon spikes, not MEA events")
        self._set_events(s["source_id"], s["time_ns"] - recording_origin_ns(s), s["kind"], topic)

    def _open_nwb(self, source: str) -> str:
        from pynwb import NWBHDF5IO
        from pynwb.ecephys import ElectricalSeries

        from neurohybrid.io.nwb_units import find_units, read_unit_spikes, volts_to_uv_factor

        try:
            self._handle = NWBHDF5IO(str(self._path), "r")
            nwb = self._handle.read()
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"replay_file={str(self._path)!r} is not a readable NWB file: {exc}") from None
        table = self._kwargs["table"]
        has_table = (table == "units" and nwb.units is not None) or any(
            table in m.data_interfaces for m in nwb.processing.values())
        if source == "nwb_units" or (source == "nwb" and has_table):
            spikes = read_unit_spikes(find_units(nwb, table, self._path), self._path)
            self._set_events(self._electrodes_of(spikes.electrode_label, spikes.electrode_row, table)[spikes.unit],
                             seconds_to_ns(spikes.time_s), spikes.kind, f"Units table {table!r}")
            self._close_handle()
            return "nwb_units"
        series = [s for s in nwb.acquisition.values() if isinstance(s, ElectricalSeries)]
        name = self._kwargs["series"]
        chosen = [s for s in series if s.name == name] if name else series[:1]
        if not chosen:
            raise ConfigError(f"{self._path}: no Units table {table!r} and no ElectricalSeries "
                              f"{name or ''} in acquisition (ElectricalSeries: {[s.name for s in series]})")
        es = chosen[0]
        scale = volts_to_uv_factor(float(es.conversion), self._path, f"ElectricalSeries {es.name!r}")
        offset_uv = float(getattr(es, "offset", 0.0) or 0.0) * UV_PER_V
        if es.rate is None:
            raise ConfigError(f"{self._path}: ElectricalSeries {es.name!r} has timestamps, not a rate; "
                              "allowed: a regularly sampled series (rate)")
        region = np.asarray(es.electrodes.data[:], np.int64)
        etable = es.electrodes.table
        labels = (np.array([str(x) for x in etable["label"].data[:]], dtype=object)[region]
                  if "label" in etable.colnames else np.full(len(region), "", dtype=object))
        electrodes = self._electrodes_of(labels, region, f"ElectricalSeries {es.name!r}")
        data = es.data
        self._raw = _RawStream(lambda i0, i1: np.asarray(data[i0:i1], np.float64) * scale + offset_uv,
                               data.shape[0], float(es.rate), electrodes)
        return "nwb_raw"

    def _electrodes_of(self, labels: np.ndarray, rows: np.ndarray, what: str, strict: bool = True) -> np.ndarray:
        """Layout indices of electrodes named by label (or, without labels, by row number).

        ``strict``: a label outside the layout is an error; otherwise (channel names of a neo file,
        e.g. "ch0") labels are used only if every one is a layout label."""
        index = {label: i for i, label in enumerate(self.layout.labels)}
        if all(labels) and (strict or all(x in index for x in labels)):
            unknown = sorted({str(x) for x in labels if x not in index})
            if unknown:
                raise ConfigError(f"{self._path}: {what}: unknown electrode label(s) {unknown[:5]} "
                                  f"(layout labels: {list(self.layout.labels[:5])}...)")
            return np.array([index[x] for x in labels], np.int64)
        rows = np.asarray(rows, np.int64)
        if (rows < 0).any():
            raise ConfigError(f"{self._path}: {what} has no electrodes column; allowed: units with electrodes")
        if len(rows) and rows.max() >= self.layout.n_channels:
            raise ConfigError(f"{self._path}: {what}: unknown electrode {int(rows.max())} "
                              f"(layout has electrodes 0..{self.layout.n_channels - 1})")
        return rows

    def _open_neo(self) -> None:
        import neo
        import quantities as pq

        kwargs = dict(self._kwargs["neo_kwargs"])
        try:
            io = getattr(neo.io, self._kwargs["neo_io"])(str(self._path), **kwargs) if self._kwargs["neo_io"] \
                else neo.io.get_io(str(self._path), **kwargs)
        except (AttributeError, OSError, ValueError, IOError, TypeError, IndexError) as exc:
            raise ConfigError(f"replay_file={str(self._path)!r}: neo cannot read it: {exc}") from None
        if isinstance(io, neo.rawio.baserawio.BaseRawIO):
            io.parse_header()
            channels = io.header["signal_channels"]
            first = channels[channels["stream_id"] == io.header["signal_streams"]["id"][0]]
            names, units = [str(n) for n in first["name"]], [str(u) for u in first["units"]]
            fs, n = float(io.get_signal_sampling_rate(0)), int(io.get_signal_size(0, 0, 0))

            def read(i0: int, i1: int) -> np.ndarray:
                raw = io.get_analogsignal_chunk(0, 0, i0, i1, 0)
                return io.rescale_signal_raw_to_float(raw, "float64", 0)
        else:
            block = io.read_block()
            if not block.segments or not block.segments[0].analogsignals:
                raise ConfigError(f"{self._path}: no analog signal in the first segment")
            sig = block.segments[0].analogsignals[0]
            names = [str(n) for n in (sig.array_annotations.get("channel_names", []) if sig.array_annotations
                                      else [])] or [""] * sig.shape[1]
            units = [sig.units.dimensionality.string] * sig.shape[1]
            fs, n = float(sig.sampling_rate.rescale("Hz").magnitude), sig.shape[0]
            values = np.asarray(sig.magnitude, np.float64)

            def read(i0: int, i1: int) -> np.ndarray:
                return values[i0:i1]
        unit = self._kwargs["raw_units"] or (units[0] if units else "")
        try:
            scale = float(pq.Quantity(1.0, unit or "dimensionless").rescale(pq.uV).magnitude)
        except (ValueError, LookupError):
            raise ConfigError(f"{self._path}: samples are in {unit!r}, not a voltage; allowed: V, mV, uV "
                              "(set raw_units when the file does not say)") from None
        if len(set(units)) > 1 and not self._kwargs["raw_units"]:
            raise ConfigError(f"{self._path}: channels have different units {sorted(set(units))}")
        electrodes = self._electrodes_of(np.array(names, dtype=object), np.arange(len(names)), "analog signal",
                                         strict=False)
        self._raw = _RawStream(lambda i0, i1: read(i0, i1) * scale, n, fs, electrodes)

    # ----- streaming -------------------------------------------------------------------
    def _advance(self, duration_s: float) -> SpikeEvents:
        start_rec, end_rec = self._playback.advance(duration_s)
        if self._raw is None:
            ev = self._events
            sel = time_window(ev.time_ns, start_rec, end_rec)
            return SpikeEvents(ev.source_id[sel], self._playback.to_device(ev.time_ns[sel]), ev.kind[sel])
        raw = self._raw
        i1 = min(int(round(end_rec * raw.fs_hz / NS_PER_S)), raw.n_samples)
        if i1 <= self._sample:
            return SpikeEvents.empty()
        t0_ns = int(round(self._sample * NS_PER_S / raw.fs_hz))
        channel, time_ns, _ = self._detector.process(raw.read(self._sample, i1), t0_ns)
        self._sample = i1
        return SpikeEvents(raw.electrodes[channel], self._playback.to_device(time_ns),
                           np.full(len(channel), KIND_SPONTANEOUS_AP, np.uint8))
