"""Recorder: writes every neurohybrid topic of the run to one MCAP file (rosbag2 / Foxglove).

Topics are discovered from the graph: any type of this package, and the ``standard_types``
(by default the robot's sensor_msgs/LaserScan, nav_msgs/Odometry, geometry_msgs/Twist and
geometry_msgs/PointStamped); each is recorded as CDR with its ``ros2msg`` schema, built at run
time from the installed ``.msg`` files (:mod:`neurohybrid.io.msgdefs`). Each subscription takes
its publishers' reliability (a best-effort ``scan`` is heard by a best-effort subscription only)
and durability. With ``record_parameters`` every other node's parameters are read once and
written as MCAP metadata ``parameters:<node>`` (so the report knows, e.g., the encoder's sectors). The run's configuration files are embedded as attachments and the
parameters given in ``metadata`` as MCAP metadata, so a recording says how it was produced.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from neurohybrid.core.errors import ConfigError
from neurohybrid.io.recording import (
    PARAMETERS_METADATA_PREFIX,
    RECORDER_PARAMS,
    RecordingError,
    RecordingWriter,
    check_standard_types,
)
from neurohybrid.nodes.parameter_snapshots import ParameterSnapshots
from neurohybrid.nodes.params import declare_params
from neurohybrid.nodes.runtime import run, state_qos, stream_qos

PACKAGE_TYPES = "neurohybrid/msg/"


def message_class(type_name: str) -> type:
    """``neurohybrid/msg/SpikeBatch`` -> the generated Python class; ConfigError if not installed."""
    package, kind, name = type_name.split("/")
    try:
        return getattr(importlib.import_module(f"{package}.{kind}"), name)
    except (ImportError, AttributeError):
        raise ConfigError(f"message type {type_name!r} has no Python class ({package}.{kind}.{name} "
                          f"not importable)") from None


class RecorderNode(Node):
    """Subscribes to every neurohybrid topic and writes what arrives, in arrival order."""

    def __init__(self) -> None:
        super().__init__("recorder")
        params = declare_params(self, RECORDER_PARAMS)
        self.output = params["output"]
        self.attach_files = params["attach_files"]
        self.discovery_period_s = params["discovery_period_s"]
        self.qos_depth = params["qos_depth"]
        self.standard_types = frozenset(check_standard_types(params["standard_types"]))
        for type_name in sorted(self.standard_types):
            message_class(type_name)
        Path(self.output).parent.mkdir(parents=True, exist_ok=True)
        self.writer = RecordingWriter(self.output, metadata={"neurohybrid": {"recorder": self.get_fully_qualified_name()}})
        for name in filter(None, self.attach_files):
            path = Path(name)
            self.writer.attach(path.name, path.read_bytes(), "text/yaml" if path.suffix in (".yaml", ".yml")
                               else "text/plain", time.time_ns())
        self.messages = 0
        self._heard: set[str] = set()
        self._failed = False
        self._subs: dict[str, object] = {}
        self._snapshots = ParameterSnapshots(self, self._write_parameters) if params["record_parameters"] else None
        self.create_timer(self.discovery_period_s, self._discover)
        self._discover()

    def _discover(self) -> None:
        if self._failed:
            return
        if self._snapshots is not None:
            self._snapshots.poll()
        for topic, types in self.get_topic_names_and_types():
            if topic in self._subs or not types or not self._wanted(types[0]):
                continue
            type_name = types[0]
            infos = self.get_publishers_info_by_topic(topic)
            if not infos:  # a subscriber's topic: wait for a publisher, whose QoS decides ours
                continue
            latched = all(
                i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for i in infos)
            best_effort = any(i.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT for i in infos)
            qos = state_qos() if latched else stream_qos(self.qos_depth, reliable=not best_effort)
            if latched:
                qos.depth = self.qos_depth
            self._subs[topic] = self.create_subscription(
                message_class(type_name), topic,
                lambda data, t=topic, n=type_name: self._write(t, n, data), qos, raw=True)
            self.get_logger().info(f"recording {topic} [{type_name}]")

    def _wanted(self, type_name: str) -> bool:
        return type_name.startswith(PACKAGE_TYPES) or type_name in self.standard_types

    def _fail(self, exc: RecordingError) -> None:
        self.get_logger().error(f"recording stopped: {exc}")
        self._failed = True
        for sub in self._subs.values():
            self.destroy_subscription(sub)
        self._subs.clear()

    def _write_parameters(self, node: str, values: dict[str, object]) -> None:
        if self._failed:
            return
        try:
            self.writer.add_metadata(f"{PARAMETERS_METADATA_PREFIX}{node}",
                                     {k: json.dumps(v, default=str) for k, v in values.items()})
        except RecordingError as exc:
            self._fail(exc)

    def _write(self, topic: str, type_name: str, data: bytes) -> None:
        now = time.time_ns()
        try:
            self.writer.write(topic, type_name, data, now, now)
        except RecordingError as exc:
            self._fail(exc)
            return
        self.messages += 1
        if topic not in self._heard:
            # a subscription is not yet data: say when each topic's first message is on disk
            self._heard.add(topic)
            self.get_logger().info(f"first message on {topic}")

    def shutdown_device(self) -> None:
        """Finish the MCAP file (summary and index) so every reader opens it fast."""
        self.writer.close()
        self.get_logger().info(f"wrote {self.messages} messages to {self.output}")


def main(args: list[str] | None = None) -> None:
    sys.exit(run(RecorderNode, args))


if __name__ == "__main__":
    main()
