"""An impaired link (added latency and loss between hub and board): late events and lost batches
are counted by the board and reported in its link status; nothing crashes."""

from __future__ import annotations

import collections
import random
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

ADDED_LATENCY_S = 0.06   # above the 30 ms synaptic delay of the virtual lab: events arrive late
LOSS = 0.2


def test_latency_and_loss_on_the_hub_to_board_path_are_counted(ros_context, start_node):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.launcher.substitutions import find_pkg_share
    from neurohybrid.nodes.runtime import state_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    share = Path(find_pkg_share("neurohybrid"))
    start_node("hub_node", "--ros-args", "-r", "__node:=hub", "-r", "__ns:=/southampton",
               "--params-file", str(share / "config/southampton.yaml"),
               "-p", f"connectivity_file:={share / 'config/connectivity/three_neuron.yaml'}",
               "-r", "/zurich/weighted_events:=/impaired/zurich/weighted_events")
    start_node("mea_node", "--ros-args", "-r", "__node:=mea", "-r", "__ns:=/padova",
               "--params-file", str(share / "config/padova.yaml"))
    start_node("board_node", "--ros-args", "-r", "__node:=board", "-r", "__ns:=/zurich",
               "--params-file", str(share / "config/zurich.yaml"), "-p", "watchdog_s:=1.0")

    node = Node("impairment_relay", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    rng = random.Random(7)
    held: collections.deque = collections.deque()
    counts = {"in": 0, "dropped": 0, "out": 0}
    out = node.create_publisher(nh.WeightedEventBatch, "/zurich/weighted_events", stream_qos())

    def take(msg: nh.WeightedEventBatch) -> None:
        counts["in"] += 1
        if rng.random() < LOSS:
            counts["dropped"] += 1
            return
        held.append((time.monotonic() + ADDED_LATENCY_S, msg))

    def release() -> None:
        while held and held[0][0] <= time.monotonic():
            out.publish(held.popleft()[1])
            counts["out"] += 1

    node.create_subscription(nh.WeightedEventBatch, "/impaired/zurich/weighted_events", take, stream_qos())
    node.create_timer(0.002, release)
    status: list = []
    node.create_subscription(nh.LinkStatus, "/zurich/link_status", status.append, state_qos())
    spin = lambda: executor.spin_once(timeout_sec=0.01)  # noqa: E731

    wait_for(lambda: counts["out"] > 300 and counts["dropped"] > 30, 90, spin, "impaired traffic")
    wait_for(lambda: status and status[-1].late_events > 0 and status[-1].sequence_gaps > 0, 30, spin,
             "late events and gaps in the board's link status")
    last = status[-1]
    print(f"relay: {counts}; board: late_events={last.late_events}, sequence_gaps={last.sequence_gaps}")
    assert last.sequence_gaps >= 0.5 * counts["dropped"] * last.received_batches / max(counts["out"], 1)
    node.destroy_node()
