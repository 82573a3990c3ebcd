"""The peer of the hop-latency benchmark: a bare rclpy echo node, the minimum a user would write.

Subscribes ``<prefix>/in`` and republishes every message unchanged on ``<prefix>/out``, with a
SingleThreadedExecutor and nothing else (no lifecycle, no parameters, no counters). Message type:
``neurohybrid/SpikeBatch`` (default) or ``std_msgs/UInt8MultiArray`` (``--type bytes``); QoS is
the same as the relay's spike streams: reliable, keep last 100, volatile.

Usage: ``python bench/peer_echo.py [--prefix peer] [--type spikes|bytes]``.
"""

from __future__ import annotations

import argparse

import rclpy
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from measure import spin_bare

QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE,
                 durability=DurabilityPolicy.VOLATILE)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix", default="peer")
    parser.add_argument("--type", choices=("spikes", "bytes"), default="spikes")
    args, ros_args = parser.parse_known_args()
    if args.type == "spikes":
        from neurohybrid.msg import SpikeBatch as msg_type
    else:
        from std_msgs.msg import UInt8MultiArray as msg_type
    rclpy.init(args=ros_args)
    node = rclpy.create_node("peer_echo")
    pub = node.create_publisher(msg_type, f"{args.prefix}/out", QOS)
    node.create_subscription(msg_type, f"{args.prefix}/in", pub.publish, QOS)
    spin_bare(node)


if __name__ == "__main__":
    main()
