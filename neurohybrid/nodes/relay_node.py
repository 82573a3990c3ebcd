"""Relay: republishes every neurohybrid message type from ``in/<type>`` to ``out/<type>``.

Used by the transport tests (does every type cross Fast DDS between processes intact?) and
by integrators who need to bridge two namespaces without touching the messages. A message is
passed on as it arrived, serialized (CDR): it is never decoded and encoded again, which would
cost more than the hop itself.
"""

from __future__ import annotations

import re
import sys

from rclpy.node import Node

import neurohybrid.msg as nh_msg
from neurohybrid.nodes.runtime import run, stream_qos

MESSAGE_TYPES = tuple(
    getattr(nh_msg, name) for name in sorted(dir(nh_msg)) if not name.startswith("_")
)


def topic_name(msg_type: type) -> str:
    """``SpikeBatch`` -> ``spike_batch``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", msg_type.__name__).lower()


class RelayNode(Node):
    """Republishes each neurohybrid message unchanged; counts what it relayed."""

    def __init__(self) -> None:
        super().__init__("relay")
        self.relayed = 0
        self._pubs = {}
        for msg_type in MESSAGE_TYPES:
            name = topic_name(msg_type)
            pub = self.create_publisher(msg_type, f"out/{name}", stream_qos())
            self._pubs[name] = pub
            self.create_subscription(msg_type, f"in/{name}", self._make_callback(pub), stream_qos(), raw=True)

    def _make_callback(self, pub: object):
        def callback(data: bytes) -> None:
            self.relayed += 1
            pub.publish(data)

        return callback


def main(args: list[str] | None = None) -> None:
    sys.exit(run(RelayNode, args))


if __name__ == "__main__":
    main()
