"""The MEA node with ``backend:=lsl`` on the graph: events from a real LSL outlet (an acquisition
system's spike stream, loopback) come out on the lab's spike topic, with their LSL times mapped into
the lab clock."""

from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.testing.graph import wait_for

pytestmark = pytest.mark.graph

MAPPED_WITHIN_NS = 5_000_000  # the node's clock anchor and the backend's are read microseconds apart; margin for load


def test_lsl_events_reach_the_spike_topic_in_the_lab_clock(start_node, ros_context):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP
    from neurohybrid.io.lsl import pylsl_module
    from neurohybrid.io.lsl_bridge import WallToLsl
    from neurohybrid.msg import SpikeBatch
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.lsl_source import event_outlet, unique_name

    name = unique_name("nh-mea")
    outlet = event_outlet(name)
    mea = start_node("mea_node", "--ros-args", "-r", "__node:=mea", "-r", "__ns:=/padova",
                     "-p", "backend:=lsl", "-p", f"lsl.stream_name:={name}")
    node = Node("lsl_mea_probe", context=ros_context)
    batches: list = []
    node.create_subscription(SpikeBatch, "/padova/spikes", batches.append, stream_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.02)  # noqa: E731
    wait_for(lambda: len(batches) > 3, 120.0, spin, what="the lsl MEA node streaming")

    lsl = pylsl_module()
    clock = WallToLsl()
    sent = [(5, KIND_PSP), (17, KIND_EVOKED_AP), (42, KIND_PSP)]
    stamps = []
    for electrode, kind in sent:
        stamps.append(lsl.local_clock())
        outlet.push_sample([electrode, kind], stamps[-1])

    def received() -> list:
        return [(int(i), int(k), int(t)) for b in batches for i, k, t in zip(b.source_id, b.kind, b.time_ns)]

    wait_for(lambda: len(received()) >= len(sent), 30.0, spin, what="the LSL events on /padova/spikes")
    got = received()
    assert [(i, k) for i, k, _ in got] == sent
    expected_wall_ns = (np.array(stamps) - clock.offset_s) * 1e9
    error_ns = np.array([t for *_, t in got]) - expected_wall_ns
    print(f"LSL -> lab clock mapping error: {np.abs(error_ns).max() / 1e6:.3f} ms")
    assert np.all(np.abs(error_ns) <= MAPPED_WITHIN_NS)
    assert mea.stop() == 0
    for bad in ("[ERROR]", "[FATAL]", "Traceback"):
        assert bad not in mea.output(), mea.output()[-2000:]
    node.destroy_node()
    del outlet
