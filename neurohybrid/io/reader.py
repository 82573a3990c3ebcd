"""Read a neurohybrid MCAP recording into numpy arrays, without ROS.

Messages are decoded from the ``ros2msg`` schemas stored in the file, so any recording of
these types opens here (ours, ``ros2 bag record -s mcap``'s, or one cut short by a crash: a file
without its summary section is read in the MCAP stream mode, up to its last complete chunk).
Topics are whatever the file holds; typed accessors find them by schema name, and accept a lab
name (``"padova"`` for ``/padova/spikes``) instead of a topic.

Decoding is :class:`~neurohybrid.io.cdr.CdrDecoder` (:mod:`neurohybrid.io.cdr`); a schema it
cannot read (``wstring``) is decoded by ``mcap_ros2``'s decoder instead.

The robot's standard messages (``sensor_msgs/LaserScan``, ``nav_msgs/Odometry``,
``geometry_msgs/Twist``, ``geometry_msgs/PointStamped``) are read the same way, from the schemas
the recorder built from their installed ``.msg`` files, with accessors of their own.

Times: ``stamp_ns`` is a message's header stamp (ROS time, ns); ``log_time_ns`` is when the
recorder received it (ns); event times keep the clock named by the message's ``clock_domain``.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from mcap.exceptions import InvalidMagic, McapError
from mcap.reader import SeekingReader
from mcap.records import Attachment, Channel, Message, Metadata, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import MCAP0_MAGIC
from mcap_ros2.decoder import DecoderFactory

from neurohybrid.core.errors import NeurohybridError
from neurohybrid.core.units import NS_PER_S
from neurohybrid.io.cdr import decoder_for, short_type

SPIKE_BATCH = "neurohybrid/msg/SpikeBatch"
WEIGHTED_EVENT_BATCH = "neurohybrid/msg/WeightedEventBatch"
STIMULATION_COMMAND = "neurohybrid/msg/StimulationCommand"
SYNAPSE_STATES = "neurohybrid/msg/SynapseStates"
PLASTICITY_EVENT = "neurohybrid/msg/PlasticityEvent"
REFUSAL = "neurohybrid/msg/Refusal"
LINK_STATUS = "neurohybrid/msg/LinkStatus"
LASER_SCAN = "sensor_msgs/msg/LaserScan"
ODOMETRY = "nav_msgs/msg/Odometry"
TWIST = "geometry_msgs/msg/Twist"
POINT_STAMPED = "geometry_msgs/msg/PointStamped"
HUB_LABEL = "hub"
"""Second end of every hop measured by :meth:`Recording.hop_latencies`: the hub publishes both
``WeightedEventBatch`` and ``StimulationCommand`` (see their ``.msg`` files)."""

_SPIKE_COLUMNS = {"source_id": np.uint32, "time_ns": np.int64, "kind": np.uint8}
_WEIGHTED_COLUMNS = {
    "pre_id": np.uint32, "pre_time_ns": np.int64, "post_id": np.uint32, "synapse_id": np.uint32,
    "weight": np.float32, "weight_byte": np.uint8, "delivery_time_ns": np.int64,
}
_STIMULATION_COLUMNS = {
    "electrode": np.uint32, "amplitude_ua": np.float64, "phase_width_us": np.float64,
    "pulse_count": np.uint32, "time_ns": np.int64, "synapse_id": np.uint32, "weight": np.float32,
    "pre_id": np.uint32, "pre_time_ns": np.int64,
}
_PLASTICITY_FIELDS = {
    "rule": object, "synapse_id": np.uint32, "wordline": np.uint16, "bitline": np.uint16,
    "direction": np.int8, "pulse_amplitude_v": np.float64, "pulse_width_s": np.float64,
    "resistance_before_ohm": np.float64, "resistance_after_ohm": np.float64, "accepted": bool,
    "reason": object, "trigger_time_ns": np.int64, "pre_count": np.uint32,
}
_REFUSAL_FIELDS = {"category": np.uint8, "reason": object, "count": np.uint64, "total": np.uint64}
_LINK_FIELDS = {
    "lab": object, "peer_lab": object, "link_up": bool, "rtt_s": np.float64, "clock_offset_s": np.float64,
    "clock_offset_uncertainty_s": np.float64, "received_batches": np.uint64, "sequence_gaps": np.uint64,
    "late_events": np.uint64, "malformed_messages": np.uint64,
    "latency_p50_ms": np.float64, "latency_p99_ms": np.float64, "latency_max_ms": np.float64,
}
# Errors that end the stream mode at the cut of a truncated file (short read, garbage length).
_TRUNCATION_ERRORS = (McapError, struct.error, EOFError)


class RecordingReadError(NeurohybridError):
    """A file is not a readable MCAP recording; the message names the path and the reason."""


class UnknownTopicError(NeurohybridError, KeyError):
    """A topic or lab is not in the recording (or has another type); lists what is there."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class RecordedAttachment:
    """A file embedded in the recording (e.g. a configuration YAML); ``log_time_ns`` in ns."""

    name: str
    media_type: str
    data: bytes
    log_time_ns: int


def lab_of(name: str) -> str:
    """The lab of a frame or topic: ``"zurich/board"`` or ``"/zurich/spikes"`` -> ``"zurich"``."""
    return next((p for p in name.split("/") if p), "")


def stamp_ns(msg: Any) -> int:
    """A decoded message's header stamp in ns."""
    return int(msg.header.stamp.sec) * NS_PER_S + int(msg.header.stamp.nanosec)


def _column(values: list[Any], dtype: type) -> np.ndarray:
    """Per-message sequences (numpy arrays; lists or bytes from the fallback decoder) joined."""
    if not values:
        return np.empty(0, dtype)
    return np.concatenate([np.frombuffer(v, np.uint8) if isinstance(v, (bytes, bytearray))
                           else np.asarray(v) for v in values]).astype(dtype, copy=False)


def _scalars(msgs: list[Any], fields: dict[str, type]) -> dict[str, np.ndarray]:
    """One array per scalar field, one entry per message, plus ``stamp_ns`` and ``frame_id``."""
    out = {"stamp_ns": np.array([stamp_ns(m) for m in msgs], np.int64),
           "frame_id": np.array([m.header.frame_id for m in msgs], dtype=object)}
    for name, dtype in fields.items():
        out[name] = np.array([getattr(m, name) for m in msgs], dtype=dtype)
    return out


def _odometry_columns(msgs: list[Any]) -> dict[str, np.ndarray]:
    q = np.array([(m.pose.pose.orientation.x, m.pose.pose.orientation.y, m.pose.pose.orientation.z,
                   m.pose.pose.orientation.w) for m in msgs], np.float64).reshape(-1, 4)
    return {
        "x_m": np.array([m.pose.pose.position.x for m in msgs], np.float64),
        "y_m": np.array([m.pose.pose.position.y for m in msgs], np.float64),
        # yaw of a unit quaternion (x, y, z, w), ZYX convention (REP 103)
        "yaw_rad": np.arctan2(2 * (q[:, 3] * q[:, 2] + q[:, 0] * q[:, 1]), 1 - 2 * (q[:, 1] ** 2 + q[:, 2] ** 2)),
        "linear_m_s": np.array([m.twist.twist.linear.x for m in msgs], np.float64),
        "angular_rad_s": np.array([m.twist.twist.angular.z for m in msgs], np.float64),
    }


def _scan_columns(msgs: list[Any]) -> dict[str, Any]:
    return {
        "angle_min_rad": np.array([m.angle_min for m in msgs], np.float64),
        "angle_increment_rad": np.array([m.angle_increment for m in msgs], np.float64),
        "range_min_m": np.array([m.range_min for m in msgs], np.float64),
        "range_max_m": np.array([m.range_max for m in msgs], np.float64),
        "ranges_m": [np.asarray(m.ranges, np.float32) for m in msgs],
    }


@dataclass
class _Topic:
    schema_name: str
    messages: list[Message] = field(default_factory=list)
    decoded: list[Any] | None = None


class Recording:
    """The messages of one MCAP file, by topic, with numpy accessors per neurohybrid type."""

    def __init__(self, path: Path, topics: dict[str, _Topic], decoders: dict[int, Any],
                 metadata: dict[str, dict[str, str]], attachments: list[RecordedAttachment],
                 truncated: bool) -> None:
        self.path = path
        self.truncated = truncated
        """True if the file has no summary section (writer killed): read in stream mode."""
        self._topics = topics
        self._decoders = decoders
        self._metadata = metadata
        self._attachments = attachments
        self._cache: dict[tuple[str, str], Any] = {}
        log_times = [m.log_time for v in topics.values() for m in v.messages]
        self.start_ns = int(min(log_times, default=0))
        """Earliest log time of any message, ns (0 if the recording is empty)."""
        self.end_ns = int(max(log_times, default=0))
        """Latest log time of any message, ns (0 if the recording is empty)."""

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Recording":
        """Read every record of the MCAP at ``path`` (indexed mode, else stream mode up to the cut)."""
        path = Path(path)
        try:
            with open(path, "rb") as f:
                records, truncated = _read_records(f)
        except OSError as exc:
            raise RecordingReadError(f"cannot read recording {path}: {exc.strerror or exc}") from None
        except McapError as exc:
            raise RecordingReadError(f"{path} is not an MCAP recording: {exc}") from None
        fallback = DecoderFactory()
        topics: dict[str, _Topic] = {}
        decoders: dict[int, Any] = {}
        metadata: dict[str, dict[str, str]] = {}
        attachments: list[RecordedAttachment] = []
        for schema, channel, record in records:
            if isinstance(record, Message):
                if channel.id not in decoders:
                    decoders[channel.id] = decoder_for(channel, schema, fallback)
                name = schema.name if schema is not None else ""
                topics.setdefault(channel.topic, _Topic(name)).messages.append(record)
            elif isinstance(record, Metadata):
                metadata.setdefault(record.name, {}).update(record.metadata)
            elif isinstance(record, Attachment):
                attachments.append(RecordedAttachment(record.name, record.media_type, bytes(record.data),
                                                      int(record.log_time)))
        return cls(path, topics, decoders, metadata, attachments, truncated)

    # ----- generic access -------------------------------------------------------------------
    def topics(self) -> dict[str, str]:
        """Every topic with messages -> its schema name (``pkg/msg/Type``)."""
        return {t: v.schema_name for t, v in self._topics.items()}

    def topics_of(self, type_name: str) -> list[str]:
        """Topics whose schema is ``type_name`` (``pkg/msg/Type`` or ``pkg/Type``), in file order."""
        want = short_type(type_name)
        return [t for t, v in self._topics.items() if short_type(v.schema_name) == want]

    def message_count(self, topic: str) -> int:
        """Messages recorded on ``topic`` (0 if absent)."""
        return len(self._topics[topic].messages) if topic in self._topics else 0

    def log_times_ns(self, topic: str) -> np.ndarray:
        """When the recorder received each message of ``topic``, ns."""
        return np.array([m.log_time for m in self._topics[topic].messages], np.int64)

    @property
    def duration_s(self) -> float:
        """Span of the log times, s."""
        return (self.end_ns - self.start_ns) / NS_PER_S

    def decoded(self, topic: str) -> list[Any]:
        """The decoded messages of ``topic`` (fields as attributes, e.g. ``m.header.stamp.sec``).

        Numeric sequences are read-only numpy arrays, strings ``str``; a malformed message
        raises RecordingReadError naming the topic and its index.
        """
        entry = self._topics.get(topic)
        if entry is None:
            raise UnknownTopicError(f"topic {topic!r} not in {self.path}; topics: {sorted(self._topics)}")
        if entry.decoded is None:
            decoders = self._decoders
            if any(decoders[c] is None for c in {m.channel_id for m in entry.messages}):
                raise RecordingReadError(
                    f"{self.path}: topic {topic} has no ros2msg/cdr schema ({entry.schema_name!r})")
            decoded = []
            for index, m in enumerate(entry.messages):
                try:
                    decoded.append(decoders[m.channel_id](m.data))
                except (struct.error, ValueError, IndexError) as exc:
                    raise RecordingReadError(
                        f"{self.path}: message {index} of {topic} is not a valid "
                        f"{entry.schema_name}: {exc}") from None
            entry.decoded = decoded
        return entry.decoded

    def resolve(self, topic_or_lab: str, type_name: str) -> str:
        """The topic of ``type_name`` named ``topic_or_lab``, or the only one whose first segment is that lab."""
        candidates = self.topics_of(type_name)
        if topic_or_lab in candidates:
            return topic_or_lab
        if topic_or_lab in self._topics:
            raise UnknownTopicError(f"topic {topic_or_lab!r} in {self.path} has type "
                                    f"{self._topics[topic_or_lab].schema_name!r}, not {type_name!r}")
        by_lab = [t for t in candidates if lab_of(t) == topic_or_lab]
        if len(by_lab) == 1:
            return by_lab[0]
        what = f"lab {topic_or_lab!r} matches several {type_name} topics {by_lab}" if by_lab else \
            f"no {type_name} topic or lab {topic_or_lab!r}"
        raise UnknownTopicError(f"{what} in {self.path}; {type_name} topics: {candidates}")

    def metadata(self) -> dict[str, dict[str, str]]:
        """MCAP metadata records by name (later records with one name update earlier ones)."""
        return {k: dict(v) for k, v in self._metadata.items()}

    def attachments(self) -> list[RecordedAttachment]:
        """Files embedded in the recording, in file order."""
        return list(self._attachments)

    # ----- typed accessors ------------------------------------------------------------------
    def _batches(self, topic_or_lab: str, type_name: str, columns: dict[str, type],
                 batch_fields: dict[str, type]) -> dict[str, Any]:
        topic = self.resolve(topic_or_lab, type_name)
        key = (topic, type_name)
        if key not in self._cache:
            msgs = self.decoded(topic)
            out = {name: _column([getattr(m, name) for m in msgs], dtype) for name, dtype in columns.items()}
            batch = _scalars(msgs, batch_fields)
            counts = np.array([len(getattr(m, next(iter(columns)))) for m in msgs], np.int64)
            out["stamp_ns"] = np.repeat(batch["stamp_ns"], counts)
            out["seq"] = np.repeat(batch["seq"], counts)
            out.update({f"batch_{k}": v for k, v in batch.items()})
            out["batch_count"] = counts
            out["batch_log_time_ns"] = self.log_times_ns(topic)
            out["topic"] = topic
            self._cache[key] = out
        return self._cache[key]

    def spikes(self, topic_or_lab: str) -> dict[str, Any]:
        """Events of a ``SpikeBatch`` topic, concatenated over batches.

        Per event: ``source_id`` (uint32), ``time_ns`` (int64, ``clock_domain``), ``kind`` (uint8,
        ``neurohybrid.core.events.KIND_*``), ``stamp_ns`` and ``seq`` of the batch that carried it.
        Per batch (``batch_*``): ``seq``, ``stamp_ns``, ``frame_id``, ``clock_domain``,
        ``slice_start_ns``, ``slice_end_ns``, ``count`` (events), ``log_time_ns``.
        """
        return self._batches(topic_or_lab, SPIKE_BATCH, _SPIKE_COLUMNS, {
            "seq": np.uint64, "clock_domain": object, "slice_start_ns": np.int64, "slice_end_ns": np.int64})

    def weighted(self, topic_or_lab: str) -> dict[str, Any]:
        """Events of a ``WeightedEventBatch`` topic (per-event columns of the message, plus
        ``stamp_ns``/``seq`` per event and ``batch_*``: ``seq``, ``stamp_ns``, ``pre_frame``,
        ``pre_seq``, ``pre_stamp_ns``, ``frame_id``, ``count``, ``log_time_ns``)."""
        return self._batches(topic_or_lab, WEIGHTED_EVENT_BATCH, _WEIGHTED_COLUMNS, {
            "seq": np.uint64, "clock_domain": object, "pre_frame": object, "pre_seq": np.uint64,
            "pre_stamp_ns": np.int64})

    def stimulation(self, topic_or_lab: str) -> dict[str, Any]:
        """Commands of a ``StimulationCommand`` topic, one entry per command row (columns as in
        the message: ``electrode``, ``amplitude_ua``, ``phase_width_us``, ``pulse_count``,
        ``time_ns``, ``synapse_id``, ``weight``, ``pre_id``), plus ``batch_*`` as in :meth:`weighted`."""
        return self._batches(topic_or_lab, STIMULATION_COMMAND, _STIMULATION_COLUMNS, {
            "seq": np.uint64, "clock_domain": object, "pre_frame": object, "pre_seq": np.uint64,
            "pre_stamp_ns": np.int64})

    def synapse_states(self, topic_or_lab: str) -> dict[str, Any]:
        """Time series of a ``SynapseStates`` topic.

        ``stamp_ns`` (T,), ``synapse_id`` (S,) sorted union of ids, ``resistance_ohm`` and
        ``weight`` (T, S) float64 with NaN where a message did not list that synapse; per
        synapse (S,) from its latest listing: ``wordline``, ``bitline``, ``pre``, ``post``.
        """
        topic = self.resolve(topic_or_lab, SYNAPSE_STATES)
        msgs = self.decoded(topic)
        ids_per_msg = [np.asarray(m.synapse_id, np.uint32) for m in msgs]
        ids = np.unique(np.concatenate(ids_per_msg)) if msgs else np.empty(0, np.uint32)
        resistance = np.full((len(msgs), len(ids)), np.nan)
        weight = np.full((len(msgs), len(ids)), np.nan)
        wordline = np.zeros(len(ids), np.uint16)
        bitline = np.zeros(len(ids), np.uint16)
        pre = np.full(len(ids), "", dtype=object)
        post = np.full(len(ids), "", dtype=object)
        for row, (m, mine) in enumerate(zip(msgs, ids_per_msg)):
            cols = np.searchsorted(ids, mine)
            resistance[row, cols] = np.asarray(m.resistance_ohm, np.float64)
            weight[row, cols] = np.asarray(m.weight, np.float64)
            wordline[cols] = np.asarray(m.wordline, np.uint16)
            bitline[cols] = np.asarray(m.bitline, np.uint16)
            pre[cols] = np.asarray(m.pre, dtype=object)
            post[cols] = np.asarray(m.post, dtype=object)
        return {"topic": topic, "stamp_ns": np.array([stamp_ns(m) for m in msgs], np.int64),
                "synapse_id": ids, "resistance_ohm": resistance, "weight": weight,
                "wordline": wordline, "bitline": bitline, "pre": pre, "post": post}

    def plasticity(self, topic_or_lab: str) -> dict[str, np.ndarray]:
        """One entry per ``PlasticityEvent``: every field of the message plus ``stamp_ns``, ``frame_id``."""
        return _scalars(self.decoded(self.resolve(topic_or_lab, PLASTICITY_EVENT)), _PLASTICITY_FIELDS)

    def refusals(self, topic_or_lab: str) -> dict[str, np.ndarray]:
        """One entry per ``Refusal``: ``category``, ``reason``, ``count``, ``total``, ``stamp_ns``, ``frame_id``."""
        return _scalars(self.decoded(self.resolve(topic_or_lab, REFUSAL)), _REFUSAL_FIELDS)

    def link_status(self, topic_or_lab: str) -> dict[str, np.ndarray]:
        """One entry per ``LinkStatus``: every field of the message plus ``stamp_ns``, ``frame_id``."""
        return _scalars(self.decoded(self.resolve(topic_or_lab, LINK_STATUS)), _LINK_FIELDS)

    # ----- the robot's standard messages -------------------------------------------------------
    def _stamped(self, topic_or_ns: str, schema: str,
                 columns: Callable[[list[Any]], dict[str, Any]]) -> dict[str, Any]:
        """A standard message with a header, one entry per message: ``topic``, ``stamp_ns``,
        ``frame_id``, the message's own ``columns(msgs)`` and ``log_time_ns``."""
        topic = self.resolve(topic_or_ns, schema)
        msgs = self.decoded(topic)
        return {"topic": topic,
                "stamp_ns": np.array([stamp_ns(m) for m in msgs], np.int64),
                "frame_id": np.array([m.header.frame_id for m in msgs], dtype=object),
                **columns(msgs),
                "log_time_ns": self.log_times_ns(topic)}

    def odometry(self, topic_or_ns: str) -> dict[str, Any]:
        """One entry per ``nav_msgs/Odometry``: ``stamp_ns``, ``frame_id``, ``x_m``, ``y_m``,
        ``yaw_rad`` (from the orientation quaternion, about z), ``linear_m_s`` (twist.linear.x),
        ``angular_rad_s`` (twist.angular.z), ``log_time_ns``; ``topic``."""
        return self._stamped(topic_or_ns, ODOMETRY, _odometry_columns)

    def twists(self, topic_or_ns: str) -> dict[str, Any]:
        """One entry per ``geometry_msgs/Twist`` (no header: ``log_time_ns`` is its only time):
        ``linear_m_s`` and ``angular_rad_s`` (n, 3) x/y/z; ``topic``."""
        topic = self.resolve(topic_or_ns, TWIST)
        msgs = self.decoded(topic)
        return {
            "topic": topic,
            "log_time_ns": self.log_times_ns(topic),
            "linear_m_s": np.array([(m.linear.x, m.linear.y, m.linear.z) for m in msgs], np.float64).reshape(-1, 3),
            "angular_rad_s": np.array([(m.angular.x, m.angular.y, m.angular.z) for m in msgs],
                                      np.float64).reshape(-1, 3),
        }

    def points(self, topic_or_ns: str) -> dict[str, Any]:
        """One entry per ``geometry_msgs/PointStamped``: ``stamp_ns``, ``frame_id``, ``x_m``,
        ``y_m``, ``z_m``, ``log_time_ns``; ``topic``."""
        return self._stamped(topic_or_ns, POINT_STAMPED, lambda msgs: {
            f"{axis}_m": np.array([getattr(m.point, axis) for m in msgs], np.float64) for axis in "xyz"})

    def scans(self, topic_or_ns: str) -> dict[str, Any]:
        """One entry per ``sensor_msgs/LaserScan``: ``stamp_ns``, ``frame_id``, ``angle_min_rad``,
        ``angle_increment_rad``, ``range_min_m``, ``range_max_m``, ``ranges_m`` (a list of float32
        arrays, one per scan), ``log_time_ns``; ``topic``."""
        return self._stamped(topic_or_ns, LASER_SCAN, _scan_columns)

    def hop_latencies(self) -> dict[str, np.ndarray]:
        """Source publish -> hub publish delay per hop, s, from header stamps.

        For every ``WeightedEventBatch`` and ``StimulationCommand``: ``header.stamp - pre_stamp_ns``,
        keyed ``"<lab of pre_frame>->hub"`` (``"zurich/board"`` -> ``"zurich->hub"``). Messages
        without an upstream stamp (``pre_stamp_ns <= 0`` or empty ``pre_frame``) are skipped.
        """
        out: dict[str, list[float]] = {}
        for type_name in (WEIGHTED_EVENT_BATCH, STIMULATION_COMMAND):
            for topic in self.topics_of(type_name):
                for m in self.decoded(topic):
                    if m.pre_stamp_ns > 0 and m.pre_frame:
                        key = f"{lab_of(m.pre_frame)}->{HUB_LABEL}"
                        out.setdefault(key, []).append((stamp_ns(m) - m.pre_stamp_ns) / NS_PER_S)
        return {k: np.asarray(v, np.float64) for k, v in sorted(out.items())}


def _read_records(f: Any) -> tuple[list[tuple[Schema | None, Channel, Any]], bool]:
    """All messages, metadata and attachments as ``(schema, channel, record)``; and whether truncated.

    Indexed mode (``SeekingReader``) when the file has its summary; otherwise the MCAP stream
    mode reads records in order and stops quietly at the cut of a truncated file.
    """
    summary = None
    f.seek(0, os.SEEK_END)
    if f.tell() >= 2 * len(MCAP0_MAGIC):
        f.seek(-len(MCAP0_MAGIC), os.SEEK_END)
        if f.read(len(MCAP0_MAGIC)) == MCAP0_MAGIC:
            f.seek(0)
            reader = SeekingReader(f)
            summary = reader.get_summary()
    if summary is not None and summary.chunk_indexes:
        out: list[tuple[Schema | None, Channel, Any]] = list(reader.iter_messages(log_time_order=False))
        out += [(None, None, r) for r in reader.iter_metadata()]
        out += [(None, None, r) for r in reader.iter_attachments()]
        return out, False
    f.seek(0)
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    out = []
    try:
        for record in StreamReader(f).records:
            if isinstance(record, Schema):
                schemas[record.id] = record
            elif isinstance(record, Channel):
                channels[record.id] = record
            elif isinstance(record, Message) and record.channel_id in channels:
                channel = channels[record.channel_id]
                out.append((schemas.get(channel.schema_id), channel, record))
            elif isinstance(record, (Metadata, Attachment)):
                out.append((None, None, record))
    except InvalidMagic:
        raise
    except _TRUNCATION_ERRORS:
        return out, True
    return out, False
