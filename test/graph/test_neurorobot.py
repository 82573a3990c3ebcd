"""The neurorobotic loop as processes: the culture (MEA node) drives the robot twin through the
neurorobot node; the robot lives in another namespace (remapped scan / cmd_vel), a too-fast
cmd_vel is refused and counted, and killing the MEA node stops the robot (decoder watchdog).
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

NS = "/tb3"
WATCHDOG_S = 0.04
STOP_WITHIN_S = 0.1


def _share() -> Path:
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("neurohybrid"))


def test_culture_drives_the_robot_and_the_watchdog_stops_it(ros_context, start_node):
    from geometry_msgs.msg import Twist
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import LaserScan

    from neurohybrid import msg as nh
    from neurohybrid.nodes.runtime import event_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    mea = start_node("mea_node", "--ros-args", "-r", "__ns:=/padova", "--params-file",
                     str(_share() / "config/padova.yaml"), "-p", "watchdog_s:=0.5")
    start_node("robot_node", "--ros-args", "-r", f"__ns:={NS}")
    brain = start_node("neurorobot_node", "--ros-args", "-p", "baseline_s:=1.0", "-p", f"watchdog_s:={WATCHDOG_S}",
               "-r", f"scan:={NS}/scan", "-r", f"cmd_vel:={NS}/cmd_vel", "-r", f"collisions:={NS}/collisions",
               "-r", "stimulation:=/padova/stimulation", "-r", "spikes:=/padova/spikes")
    node = Node("neurorobot_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.02)  # noqa: E731
    odom, cmds, spikes, scans, refusals = [], [], [], [], []
    node.create_subscription(Odometry, f"{NS}/odom", odom.append, stream_qos())
    node.create_subscription(Twist, f"{NS}/cmd_vel", lambda m: cmds.append((time.monotonic(), m)), stream_qos())
    node.create_subscription(nh.SpikeBatch, "/padova/spikes", lambda m: spikes.append(time.monotonic()), stream_qos())
    node.create_subscription(LaserScan, f"{NS}/scan", scans.append, stream_qos(10, reliable=False))
    node.create_subscription(nh.Refusal, f"{NS}/refusals", refusals.append, event_qos())
    brain_refusals = []
    node.create_subscription(nh.Refusal, "/refusals", brain_refusals.append, event_qos())

    # remapped: the robot's topics exist only under /tb3, and the loop runs through them
    wait_for(lambda: scans and odom, 60, spin, "scan and odom under /tb3")
    assert len(scans[-1].ranges) == 360 and all(math.isfinite(r) for r in scans[-1].ranges)
    names = dict(node.get_topic_names_and_types())
    assert "/scan" not in names and "/cmd_vel" not in names

    def travelled() -> float:
        p = odom[-1].pose.pose.position
        return math.hypot(p.x, p.y)

    # both conditions: the probe's cmd_vel subscription may match the interface's writer after the
    # robot has already moved (endpoint discovery order is not the creation order)
    wait_for(lambda: odom and travelled() > 0.05 and any(m.linear.x > 0 for _, m in cmds), 60, spin,
             "the culture driving the robot 5 cm through cmd_vel")

    # the brain goes silent: zero velocity within 100 ms of the last spike batch, then the robot stops
    mea.kill()
    wait_for(lambda: spikes and time.monotonic() - spikes[-1] > 1.0, 30, spin, "spikes stopped")
    last_spikes = spikes[-1]

    def zeros_since_last_spikes() -> list[float]:
        return [t for t, m in cmds if t > last_spikes and m.linear.x == 0.0 and m.angular.z == 0.0]

    # the probe may still be working through queued messages: wait for the zero command to be taken
    wait_for(lambda: bool(zeros_since_last_spikes()), 10, spin, "a zero cmd_vel after the last spikes")
    first_zero = zeros_since_last_spikes()[0]
    # the node's own measurement (DDS delivery to this probe on a loaded machine is not its delay)
    wait_for(lambda: "zero velocity" in brain.output(), 10, spin, "the interface's watchdog")
    silent = re.findall(r"no spikes for (\d+\.\d+) s: zero velocity", brain.output())
    assert float(silent[-1]) < STOP_WITHIN_S  # the last trip: the MEA's death
    assert first_zero - last_spikes < 1.0
    assert all(m.linear.x == 0.0 for t, m in cmds if t > first_zero)
    wait_for(lambda: odom[-1].twist.twist.linear.x == 0.0, 10, spin, "robot at rest")

    # a velocity beyond the wheel limit is refused and counted; the robot stays within its limit
    fast = node.create_publisher(Twist, f"{NS}/cmd_vel", stream_qos(10))
    cmd = Twist()
    cmd.linear.x = 1.0
    wait_for(lambda: (fast.publish(cmd), bool(refusals))[1], 20, spin, "refusal of a 1 m/s cmd_vel")
    assert "wheel_speed_m_s" in refusals[0].reason and refusals[0].total >= 1
    assert all(abs(o.twist.twist.linear.x) <= 0.22 + 1e-9 for o in odom)

    # NaN / negative / infinite ranges: refused, counted, the interface stays up
    bad_scan = node.create_publisher(LaserScan, f"{NS}/scan", stream_qos(10, reliable=False))
    scan = LaserScan(angle_min=-1.0, angle_increment=0.5, range_min=0.12, range_max=3.5,
                     ranges=[float("nan"), -1.0, float("inf"), 1.0])
    wait_for(lambda: (bad_scan.publish(scan), any(r.count == 3 for r in brain_refusals))[1], 20, spin,
             "refusal of 3 bad ranges")
    assert brain_refusals[-1].category == nh.Refusal.CATEGORY_MALFORMED and brain.alive()
