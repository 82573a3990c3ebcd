"""The whole hybrid drives the robot, as processes started from neurorobot_hybrid.launch.yaml: the
robot's ranges stimulate the culture (commands stamped with the causing scan), the culture's
spikes cross the hub's memristive synapses to the silicon populations, and the populations' spikes
(they take no background: only the hub makes them fire) drive cmd_vel until the robot has moved."""

from __future__ import annotations

import math
import re
import signal
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

POPULATIONS = set(range(8, 16))
"""The decoder's silicon populations (config/connectivity/neurorobot.yaml)."""


def test_the_hybrid_drives_the_robot_through_the_hub_and_the_board(tmp_path):
    import numpy as np
    import rclpy
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.core.events import NO_PRE_TIME_NS
    from neurohybrid.nodes.runtime import stamp_ns, stream_qos
    from neurohybrid.testing.graph import wait_for

    launcher = subprocess.Popen(
        [sys.executable, "-m", "neurohybrid", "launch", "neurorobot_hybrid.launch.yaml", "record:=false",
         "baseline_s:=1.0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("hybrid_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.05)  # noqa: E731
    odom, cmds, weighted, stims, silicon = [], [], [], [], []
    node.create_subscription(Odometry, "/robot/odom", odom.append, stream_qos())
    node.create_subscription(Twist, "/robot/cmd_vel", cmds.append, stream_qos())

    def on_weighted(m):
        if len(m.post_id):
            weighted.append((m.header.frame_id, m.pre_frame, set(np.asarray(m.post_id).tolist())))

    def on_stim(m):
        if len(m.electrode):
            stims.append((m.pre_frame, m.pre_stamp_ns, set(np.asarray(m.pre_time_ns).tolist()), stamp_ns(m.header)))

    node.create_subscription(nh.WeightedEventBatch, "/zurich/weighted_events", on_weighted, stream_qos())
    node.create_subscription(nh.StimulationCommand, "/padova/stimulation", on_stim, stream_qos())
    node.create_subscription(nh.SpikeBatch, "/zurich/spikes",
                             lambda m: silicon.extend(set(np.asarray(m.source_id).tolist()) & POPULATIONS),
                             stream_qos())

    def travelled() -> float:
        p = odom[-1].pose.pose.position
        return math.hypot(p.x, p.y)

    try:
        # the probe's subscriptions may match after the loop is already running: wait on each condition
        wait_for(lambda: stims and weighted and silicon, 90, spin,
                 "sensor-driven stimulation, weighted events from the hub and population spikes")
        wait_for(lambda: odom and travelled() > 0.05 and any(m.linear.x > 0 for m in cmds), 90, spin,
                 "the hybrid driving the robot 5 cm through cmd_vel")
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    assert launcher.returncode == 0, output[-3000:]
    assert not re.search(r"\[ERROR\]|\[FATAL\]|Traceback|process has died", output), output[-3000:]
    # range -> stimulation: every command names the scan that caused it, stamped before the command
    frame, pre_stamp, pre_times, sent = stims[-1]
    assert frame == "scan" and pre_times == {pre_stamp} and NO_PRE_TIME_NS not in pre_times
    assert 0 < sent - pre_stamp < 10**9
    # culture -> hub -> board: weighted events from the hub, caused by the MEA's spikes, onto the populations
    assert all(f == "southampton/hub" and pre == "padova/mea" and post <= POPULATIONS for f, pre, post in weighted)
