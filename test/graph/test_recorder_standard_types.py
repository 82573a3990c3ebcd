"""The recorder records the robot's standard topics (sensor_msgs/LaserScan best effort,
nav_msgs/Odometry, geometry_msgs/Twist, geometry_msgs/PointStamped latched) with schemas built
from the installed .msg files, and the reader gets back what was published; the other nodes'
parameters land in the recording's metadata."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.graph]

NS = "/bot"
N = 20


def test_the_recorder_records_scan_odom_cmd_vel_and_collisions(ros_context, start_node, tmp_path):
    from geometry_msgs.msg import PointStamped, Twist
    from mcap.reader import make_reader
    from nav_msgs.msg import Odometry
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from sensor_msgs.msg import LaserScan

    from neurohybrid.io.msgdefs import ros2msg_definition
    from neurohybrid.io.reader import Recording
    from neurohybrid.nodes.runtime import event_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    output = tmp_path / "robot.mcap"
    recorder = start_node("recorder_node", "--ros-args", "-p", f"output:={output}", "-p", "discovery_period_s:=0.1")
    node = Node("robot_probe", namespace=NS, context=ros_context)
    node.declare_parameter("input_electrodes", [48, 49, 8, 9])
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.02)  # noqa: E731
    # a subscriber's scan topic exists before its (best-effort) publisher: the recorder must wait
    # for the publisher to pick its QoS (a reliable subscription would never hear a best-effort scan)
    node.create_subscription(LaserScan, "scan", lambda m: None, stream_qos(10, reliable=False))
    pubs = {"odom": node.create_publisher(Odometry, "odom", stream_qos()),
            "cmd_vel": node.create_publisher(Twist, "cmd_vel", stream_qos(10)),
            "collisions": node.create_publisher(PointStamped, "collisions", event_qos())}
    wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()), 30, spin,
             "the recorder to subscribe to odom, cmd_vel, collisions")
    pubs["scan"] = node.create_publisher(LaserScan, "scan", stream_qos(10, reliable=False))
    wait_for(lambda: f"recording {NS}/scan [" in recorder.output(), 30, spin, "the recorder to subscribe to scan")
    wait_for(lambda: pubs["scan"].get_subscription_count() >= 2, 30, spin, "the scan subscriptions to match")
    for i in range(N):
        pubs["scan"].publish(LaserScan(angle_min=-1.0, angle_increment=0.5, ranges=[0.25 * (i + 1), 1.0]))
        odom = Odometry()
        odom.pose.pose.position.x = 0.01 * i
        pubs["odom"].publish(odom)
        cmd = Twist()
        cmd.linear.x, cmd.angular.z = 0.1, -0.01 * i
        pubs["cmd_vel"].publish(cmd)
        spin()
    hit = PointStamped()
    hit.point.y = 0.5
    pubs["collisions"].publish(hit)

    def on_disk() -> bool:  # the writer flushes every second; a partial file reads in stream mode
        partial = Recording.open(output)
        return (partial.message_count(f"{NS}/odom") == N and partial.message_count(f"{NS}/cmd_vel") == N
                and partial.message_count(f"{NS}/collisions") == 1 and partial.message_count(f"{NS}/scan") > 0
                and f"parameters:{NS}/robot_probe" in partial.metadata())

    # every reliable message arrives (best effort may lose a scan on a loaded machine)
    wait_for(on_disk, 30, lambda: (spin(), executor.spin_once(timeout_sec=0.2)), "all messages on disk")
    assert recorder.stop() == 0
    node.destroy_node()

    rec = Recording.open(output)
    # the probe's parameters, read through its parameter services (served by the spin above)
    probe = rec.metadata()[f"parameters:{NS}/robot_probe"]
    assert probe["input_electrodes"] == "[48, 49, 8, 9]" and probe["use_sim_time"] == "false"
    assert {t: v for t, v in rec.topics().items() if t.startswith(NS)} == {
        f"{NS}/scan": "sensor_msgs/msg/LaserScan", f"{NS}/odom": "nav_msgs/msg/Odometry",
        f"{NS}/cmd_vel": "geometry_msgs/msg/Twist", f"{NS}/collisions": "geometry_msgs/msg/PointStamped"}
    np.testing.assert_allclose(rec.odometry("bot")["x_m"], 0.01 * np.arange(N))
    np.testing.assert_allclose(rec.twists("bot")["angular_rad_s"][:, 2], -0.01 * np.arange(N))
    assert rec.points("bot")["y_m"].tolist() == [0.5]
    scans = rec.scans("bot")["ranges_m"]
    assert 0 < len(scans) <= N and all(s[1] == 1.0 for s in scans)
    with open(output, "rb") as f:
        schemas = {s.name: s for s in make_reader(f).get_summary().schemas.values()}
    for name in ("sensor_msgs/msg/LaserScan", "nav_msgs/msg/Odometry", "geometry_msgs/msg/Twist",
                 "geometry_msgs/msg/PointStamped"):
        assert schemas[name].encoding == "ros2msg"
        assert schemas[name].data.decode() == ros2msg_definition(name)


def test_a_standard_type_without_an_installed_definition_is_a_clear_start_error(start_node, tmp_path):
    from neurohybrid.testing.graph import wait_for

    recorder = start_node("recorder_node", "--ros-args", "-p", f"output:={tmp_path / 'x.mcap'}",
                          "-p", "standard_types:=['sensor_msgs/msg/NoSuchScan']")
    wait_for(lambda: not recorder.alive(), 30, None, "the recorder to refuse its parameter")
    assert recorder.proc.returncode == 1
    assert "standard_types[0]='sensor_msgs/msg/NoSuchScan'" in recorder.output()
    assert not (tmp_path / "x.mcap").exists()
