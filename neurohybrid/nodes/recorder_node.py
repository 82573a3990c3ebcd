"""Recorder: writes every neurohybrid topic of the run to one MCAP file (rosbag2 / Foxglove).

Topics are discovered from the graph (any type of this package); each is recorded as CDR with
its ``ros2msg`` schema. The run's configuration files are embedded as attachments and the
parameters given in ``metadata`` as MCAP metadata, so a recording says how it was produced.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy

from neurohybrid.io.recording import RecordingError, RecordingWriter
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import run, state_qos, stream_qos

PACKAGE_TYPES = "neurohybrid/msg/"


def message_class(type_name: str) -> type:
    """``neurohybrid/msg/SpikeBatch`` -> the generated Python class."""
    package, kind, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.{kind}"), name)


class RecorderNode(Node):
    """Subscribes to every neurohybrid topic and writes what arrives, in arrival order."""

    def __init__(self) -> None:
        super().__init__("recorder")
        d = lambda *a, **k: declare(self, *a, read_only=True, **k)  # noqa: E731
        self.output = d("output", "recording.mcap", "MCAP file to write")
        self.attach_files = d("attach_files", [""], "files embedded as attachments (configuration)")
        self.discovery_period_s = d("discovery_period_s", 0.5, "topic discovery period, s", (0.05, 10.0))
        self.qos_depth = d("qos_depth", 1000, "subscription depth", (1, 100000))
        Path(self.output).parent.mkdir(parents=True, exist_ok=True)
        self.writer = RecordingWriter(self.output, metadata={"neurohybrid": {"recorder": self.get_fully_qualified_name()}})
        for name in filter(None, self.attach_files):
            path = Path(name)
            self.writer.attach(path.name, path.read_bytes(), "text/yaml" if path.suffix in (".yaml", ".yml")
                               else "text/plain", time.time_ns())
        self.messages = 0
        self._failed = False
        self._subs: dict[str, object] = {}
        self.create_timer(self.discovery_period_s, self._discover)
        self._discover()

    def _discover(self) -> None:
        if self._failed:
            return
        for topic, types in self.get_topic_names_and_types():
            if topic in self._subs or not types or not types[0].startswith(PACKAGE_TYPES):
                continue
            type_name = types[0]
            infos = self.get_publishers_info_by_topic(topic)
            latched = bool(infos) and all(
                i.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for i in infos)
            qos = state_qos() if latched else stream_qos(self.qos_depth)
            if latched:
                qos.depth = self.qos_depth
            self._subs[topic] = self.create_subscription(
                message_class(type_name), topic,
                lambda data, t=topic, n=type_name: self._write(t, n, data), qos, raw=True)
            self.get_logger().info(f"recording {topic} [{type_name}]")

    def _write(self, topic: str, type_name: str, data: bytes) -> None:
        now = time.time_ns()
        try:
            self.writer.write(topic, type_name, data, now, now)
        except RecordingError as exc:
            self.get_logger().error(f"recording stopped: {exc}")
            self._failed = True
            for sub in self._subs.values():
                self.destroy_subscription(sub)
            self._subs.clear()
            return
        self.messages += 1

    def shutdown_device(self) -> None:
        """Finish the MCAP file (summary and index) so every reader opens it fast."""
        self.writer.close()
        self.get_logger().info(f"wrote {self.messages} messages to {self.output}")


def main(args: list[str] | None = None) -> None:
    sys.exit(run(RecorderNode, args))


if __name__ == "__main__":
    main()
