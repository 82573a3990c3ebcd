"""MCAP recordings that rosbag2 (``ros2 bag info/play``) and Foxglove open.

Layout follows the rosbag2 MCAP storage plugin: profile ``ros2``, one schema per message type
(encoding ``ros2msg``, name ``pkg/msg/Type``, data = the complete definition from
:mod:`neurohybrid.io.msgdefs`), one channel per topic (message encoding ``cdr``, optional
``offered_qos_profiles`` metadata), messages as the CDR bytes ROS delivers.

Crash safety: MCAP data is only readable chunk by chunk, so the writer closes the chunk in
progress and flushes the file at least every ``flush_interval_s`` of wall time (from a
background thread, so an idle topic's last messages also reach the disk). A process killed
with SIGKILL loses at most about that interval; :class:`neurohybrid.io.reader.Recording`
reads such a file in stream mode.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path
from typing import IO, Callable, TypeVar

from mcap.writer import LIBRARY_IDENTIFIER, CompressionType, Writer

from neurohybrid import __version__
from neurohybrid.core.errors import ConfigError, NeurohybridError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.io.msgdefs import MessageDefinitionError, ros2msg_definition, split_type_name

PROFILE = "ros2"
SCHEMA_ENCODING = "ros2msg"
MESSAGE_ENCODING = "cdr"
QOS_METADATA_KEY = "offered_qos_profiles"
"""Channel metadata key rosbag2 uses for the publishers' QoS (YAML)."""
COMPRESSIONS = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4, None: CompressionType.NONE}
LIBRARY = f"neurohybrid/{__version__}; {LIBRARY_IDENTIFIER}"
T = TypeVar("T")
STANDARD_TYPES = ("sensor_msgs/msg/LaserScan", "nav_msgs/msg/Odometry", "geometry_msgs/msg/Twist",
                  "geometry_msgs/msg/PointStamped")
"""Types beyond neurohybrid/msg/* the recorder records by default: the robot's scan, odom, cmd_vel
and collisions (TurtleBot3 names and types)."""
PARAMETERS_METADATA_PREFIX = "parameters:"
"""MCAP metadata record ``parameters:<fully qualified node name>``: that node's parameters, each
value JSON-encoded (what the recorder read through the node's parameter services)."""

RECORDER_PARAMS = ParamSet("recorder node: recorder_node", [
    ParamSpec("output", "recording.mcap", "MCAP file to write"),
    ParamSpec("attach_files", [""], "files embedded as attachments (configuration; [\"\"]: none)"),
    ParamSpec("discovery_period_s", 0.5, "topic discovery period", "s", Bounds(0.05, 10.0)),
    ParamSpec("qos_depth", 1000, "subscription depth", "messages", Bounds(1, 100_000, integer=True)),
    ParamSpec("record_parameters", True, "read every other node's parameters once (its parameter services) "
              "into MCAP metadata 'parameters:<node>' (values as JSON)"),
    ParamSpec("standard_types", list(STANDARD_TYPES), "message types of other packages recorded too (the "
              "robot's TurtleBot3 topics); each pkg/msg/Type with an installed .msg"),
])


class RecordingError(NeurohybridError):
    """A recording cannot be created or written (path, device, disk full); names the path."""


def check_standard_types(types: list[str]) -> list[str]:
    """The recorder's ``standard_types`` as ``pkg/msg/Type`` names ("" entries: none), each with a
    ``ros2msg`` definition built from its installed ``.msg`` files; ConfigError names the entry."""
    out = []
    for i, name in enumerate(types):
        if not name:
            continue
        try:
            full = "/".join(split_type_name(name))
            ros2msg_definition(full)
        except MessageDefinitionError as exc:
            raise ConfigError(f"standard_types[{i}]={name!r}: {exc}") from None
        out.append(full)
    return out


class RecordingWriter:
    """Writes CDR messages of any ROS 2 type to one MCAP file, chunk-flushed on a wall-clock period.

    ``path``: the file (created or truncated; an unwritable path raises RecordingError at once).
    ``metadata``: MCAP metadata records written first, ``{name: {key: value}}`` (strings).
    ``chunk_size``: uncompressed bytes after which a chunk is closed, bytes.
    ``compression``: ``"zstd"``, ``"lz4"`` or None, per chunk.
    ``flush_interval_s``: wall-clock period of chunk close + file flush, s (crash-loss bound).
    Thread-safe: ``write`` may be called from executor threads while the flusher runs.
    """

    def __init__(self, path: str | os.PathLike, metadata: dict[str, dict[str, str]] | None = None,
                 chunk_size: int = 1 << 20, compression: str | None = "zstd",
                 flush_interval_s: float = 1.0) -> None:
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigError(f"chunk_size={chunk_size!r} outside allowed integer >= 1 (bytes)")
        if compression not in COMPRESSIONS:
            raise ConfigError(f"compression={compression!r} outside allowed {list(COMPRESSIONS)}")
        if not (isinstance(flush_interval_s, (int, float)) and math.isfinite(flush_interval_s)
                and flush_interval_s > 0):
            raise ConfigError(f"flush_interval_s={flush_interval_s!r} outside allowed (0, inf) s")
        self.path = Path(path)
        self.flush_interval_s = float(flush_interval_s)
        self.messages_written = 0
        self._schemas: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self._failure: str | None = None
        self._unreported = False
        try:
            self._file: IO[bytes] = open(self.path, "wb")
        except OSError as exc:
            raise RecordingError(f"cannot create recording {self.path}: {exc.strerror or exc}") from None
        self._writer = Writer(self._file, chunk_size=chunk_size, compression=COMPRESSIONS[compression])
        try:
            self._guard(lambda: self._writer.start(profile=PROFILE, library=LIBRARY))
            self._guard(self._file.flush)
            for name, values in (metadata or {}).items():
                self.add_metadata(name, values)
        except (RecordingError, ConfigError):
            self._closed = True
            self._file.close()
            raise
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_periodically, name=f"mcap-flush:{self.path.name}",
                                         daemon=True)
        self._flusher.start()

    def _guard(self, action: Callable[[], T]) -> T:
        """Run a file operation; an OSError marks the recording failed and raises RecordingError."""
        if self._failure is not None:
            self._unreported = False
            raise RecordingError(f"recording {self.path} stopped after a write error: {self._failure}")
        if self._closed:
            raise RecordingError(f"recording {self.path} is closed")
        try:
            return action()
        except OSError as exc:
            self._failure = exc.strerror or str(exc)
            raise RecordingError(f"writing recording {self.path} failed: {self._failure}") from None

    def _flush_periodically(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            with self._lock:
                if self._dirty and self._failure is None and not self._closed:
                    try:
                        self._guard(self._flush_now)
                    except RecordingError:
                        self._unreported = True
                        return

    def _flush_now(self) -> None:
        self._writer.flush()
        self._dirty = False

    def flush(self) -> None:
        """Close the chunk in progress and flush the file now (the flusher does this periodically)."""
        with self._lock:
            self._guard(self._flush_now)

    def channel(self, topic: str, type_name: str, qos: str | None = None) -> int:
        """The channel id of ``topic``; registers its schema (once per type) and channel (once per topic).

        ``type_name`` is ``pkg/msg/Type``; ``qos`` (rosbag2's ``offered_qos_profiles`` YAML) is optional.
        """
        with self._lock:
            return self._channel(topic, type_name, qos)

    def _channel(self, topic: str, type_name: str, qos: str | None) -> int:
        if topic in self._channels:
            return self._channels[topic]
        try:
            schema_name = "/".join(split_type_name(type_name))
            if schema_name not in self._schemas:
                data = ros2msg_definition(schema_name).encode()
                self._schemas[schema_name] = self._guard(
                    lambda: self._writer.register_schema(schema_name, SCHEMA_ENCODING, data))
        except MessageDefinitionError as exc:
            raise RecordingError(f"recording {self.path}: topic {topic}: {exc}") from None
        meta = {QOS_METADATA_KEY: qos} if qos is not None else {}
        self._channels[topic] = self._guard(
            lambda: self._writer.register_channel(topic, MESSAGE_ENCODING, self._schemas[schema_name], meta))
        self._dirty = True
        return self._channels[topic]

    def write(self, topic: str, type_name: str, data: bytes, log_time_ns: int, publish_time_ns: int) -> None:
        """Append one CDR-serialised message (``log_time_ns``: received, ``publish_time_ns``: sent; ns)."""
        with self._lock:
            channel_id = self._channel(topic, type_name, None)
            self._guard(lambda: self._writer.add_message(
                channel_id, log_time=int(log_time_ns), data=bytes(data), publish_time=int(publish_time_ns)))
            self.messages_written += 1
            self._dirty = True

    def attach(self, name: str, data: bytes, media_type: str, log_time_ns: int) -> None:
        """Embed a file (e.g. the run's configuration YAML) as an MCAP attachment."""
        with self._lock:
            self._guard(lambda: self._writer.add_attachment(
                create_time=int(log_time_ns), log_time=int(log_time_ns), name=name,
                media_type=media_type, data=bytes(data)))
            self._guard(self._file.flush)

    def add_metadata(self, name: str, values: dict[str, str]) -> None:
        """Add an MCAP metadata record ``name`` of string keys and values (run parameters, provenance)."""
        bad = {k: v for k, v in values.items() if not (isinstance(k, str) and isinstance(v, str))}
        if bad:
            raise ConfigError(f"metadata[{name!r}]: keys and values must be str, got {bad!r}")
        with self._lock:
            self._guard(lambda: self._writer.add_metadata(name, dict(values)))
            self._guard(self._file.flush)

    def close(self) -> None:
        """Write the summary and index and close the file; idempotent.

        After a write error the file is closed without a summary (readers use stream mode); the
        error is raised here only if no ``write`` reported it yet (it happened in the flusher).
        """
        if self._closed:
            return
        self._stop.set()
        self._flusher.join()
        with self._lock:
            try:
                if self._failure is None:
                    self._guard(self._writer.finish)
                    self._guard(self._file.flush)
            finally:
                self._closed = True
                self._close_file()
            if self._unreported:
                self._unreported = False
                raise RecordingError(f"writing recording {self.path} failed: {self._failure}")

    def _close_file(self) -> None:
        try:
            self._file.close()
        except OSError as exc:
            if self._failure is None:
                self._failure = exc.strerror or str(exc)
                raise RecordingError(f"closing recording {self.path} failed: {self._failure}") from None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
