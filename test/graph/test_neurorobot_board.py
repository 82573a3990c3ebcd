"""The silicon board drives the robot, as processes: the interface's encoder (target board) sends
the robot's range sectors as weighted events to silicon input neurons, their spikes drive cmd_vel;
an input neuron the board does not have is refused by the board's own input check, counted and
reported, while the loop runs on."""

from __future__ import annotations

import math

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

NS = "/tb3"


def _share():
    from pathlib import Path

    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("neurohybrid"))


def test_board_drives_the_robot_and_refuses_an_unknown_input_neuron(ros_context, start_node):
    import numpy as np
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.nodes.runtime import event_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    board = start_node("board_node", "--ros-args", "-r", "__ns:=/zurich", "--params-file",
                       str(_share() / "config/zurich.yaml"))
    start_node("robot_node", "--ros-args", "-r", f"__ns:={NS}")
    # sector neurons 2, 3 (right) and 4, 5000 (left): the board has 1,024 neurons, 5000 is refused
    start_node("neurorobot_node", "--ros-args", "-p", "target:=board", "-p", "input_neurons:=[2, 3, 4, 5000]",
               "-p", "right_group:=[2, 3]", "-p", "left_group:=[4, 5]", "-p", "gain_m_s:=0.04",
               "-p", "saturation:=shift", "-p", "baseline_s:=1.0", "-p", "max_rate_hz:=40.0",
               "-r", f"scan:={NS}/scan", "-r", f"cmd_vel:={NS}/cmd_vel", "-r", f"collisions:={NS}/collisions",
               "-r", "weighted_events:=/zurich/weighted_events", "-r", "spikes:=/zurich/spikes")
    node = Node("board_robot_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.02)  # noqa: E731
    odom, cmds, events, refusals = [], [], [], []
    node.create_subscription(Odometry, f"{NS}/odom", odom.append, stream_qos())
    node.create_subscription(Twist, f"{NS}/cmd_vel", cmds.append, stream_qos())
    node.create_subscription(nh.WeightedEventBatch, "/zurich/weighted_events",
                             lambda m: events.append(m) if len(m.post_id) else None, stream_qos())
    node.create_subscription(nh.Refusal, "/zurich/refusals", refusals.append, event_qos())

    def travelled() -> float:
        p = odom[-1].pose.pose.position
        return math.hypot(p.x, p.y)

    wait_for(lambda: odom and travelled() > 0.05 and any(m.linear.x > 0 for m in cmds), 90, spin,
             "the board driving the robot 5 cm through cmd_vel")
    wait_for(lambda: events, 60, spin, "weighted events for the input neurons (an obstacle in range)")
    m = events[-1]
    assert m.pre_frame == "scan" and set(np.asarray(m.pre_time_ns).tolist()) == {m.pre_stamp_ns}
    assert set(np.asarray(m.post_id).tolist()) <= {2, 3, 4, 5000}
    # every batch naming neuron 5000 is refused whole by the board's input check
    wait_for(lambda: any("5000" in r.reason for r in refusals), 120, spin, "the board's refusal of neuron 5000")
    r = next(r for r in refusals if "5000" in r.reason)
    assert r.category == nh.Refusal.CATEGORY_INPUT and "outside allowed [0, 1023]" in r.reason and board.alive()
