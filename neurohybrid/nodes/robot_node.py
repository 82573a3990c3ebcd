"""Robot (the neurorobotic loop's body): a differential-drive robot behind a backend chosen by name.

Speaks what a TurtleBot3 speaks, so Gazebo, Webots or a real robot replaces the twin by
remapping: publishes ``scan`` (sensor_msgs/LaserScan), ``odom`` (nav_msgs/Odometry) and
``collisions`` (geometry_msgs/PointStamped: where and when the robot touched a wall or an
obstacle), subscribes ``cmd_vel`` (geometry_msgs/Twist). A velocity beyond the limits or not
finite is refused, published on ``refusals`` and the robot stops; no ``cmd_vel`` for
``cmd_timeout_s`` stops it too. A fault of the backend (odometry that is not finite) is logged
once; the robot stays stopped, refusing cmd_vel, until the node is activated again. Deactivating the node stops the wheels (safe state).
"""

from __future__ import annotations

import math
import sys
import time

from ament_index_python.packages import get_package_share_directory
from geometry_msgs.msg import PointStamped, Twist
from nav_msgs.msg import Odometry
from sensor_msgs.msg import LaserScan

from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import DeviceError, SafetyRefusal
from neurohybrid.core.units import NS_PER_S
from neurohybrid.msg import Refusal
from neurohybrid.nodes.managed import ACTIVE, ManagedNode
from neurohybrid.nodes.runtime import Pacer, RefusalReporter, event_qos, run, stream_qos
from neurohybrid.robot.params import robot_backend, robot_params


class RobotNode(ManagedNode):
    """Lifecycle node around a robot backend (``sim`` twin by default)."""

    def __init__(self) -> None:
        super().__init__("robot", robot_params())
        self.backend = None
        self._last_cmd = 0.0

    def configure_node(self) -> None:
        default_arena = f"{get_package_share_directory('neurohybrid')}/config/arenas/tessadori.yaml"
        self.backend = robot_backend(self.params, default_arena)
        self.backend.configure()
        depth = self.params["qos_depth"]
        self._scan_pub = self.own(self.create_lifecycle_publisher(LaserScan, "scan", stream_qos(10, reliable=False)))
        self._odom_pub = self.own(self.create_lifecycle_publisher(Odometry, "odom", stream_qos(depth)))
        self._hit_pub = self.own(self.create_lifecycle_publisher(PointStamped, "collisions", event_qos()))
        reporter = RefusalReporter(self, self.params["base_frame"])
        self.refusals = self.own(reporter, release=reporter.destroy)
        self.own(self.create_subscription(Twist, "cmd_vel", self._on_cmd_vel, stream_qos(10)))
        self.get_logger().info(f"configured robot: {self.backend.info()}")

    def activate_node(self) -> None:
        self._pacer = Pacer(0.1)
        self._epoch_ns = time.time_ns() - self.backend.now_ns
        self._last_cmd = time.monotonic()
        self.own(self.create_timer(self.params["period_s"], self._tick), ACTIVE)
        self.own(self.create_timer(self.params["scan_period_s"], self._publish_scan), ACTIVE)
        self.backend.arm()

    def deactivate_node(self) -> None:
        self.backend.safe_state()

    def deactivated_note(self) -> str:
        return "robot deactivated: wheels stopped"

    def release_device(self) -> None:
        if self.backend is not None:
            self.backend.shutdown()
            self.backend = None

    # --- input ---------------------------------------------------------------------------
    def _on_cmd_vel(self, msg: Twist) -> None:
        if self.phase != ACTIVE:
            return
        self._last_cmd = time.monotonic()
        try:
            self.backend.command(msg.linear.x, msg.angular.z)
        except SafetyRefusal as exc:
            self.refusals.report(Refusal.CATEGORY_INPUT, f"cmd_vel: {exc}")
        except InputRefused as exc:
            self.refusals.report(Refusal.CATEGORY_INPUT, f"cmd_vel: {exc}", exc.count)

    # --- output --------------------------------------------------------------------------
    def _stamp(self, header: object, robot_ns: int, frame: str) -> None:
        t = robot_ns + self._epoch_ns
        header.stamp.sec, header.stamp.nanosec = divmod(int(t), NS_PER_S)
        header.frame_id = frame

    def _tick(self) -> None:
        if self.backend.armed and time.monotonic() - self._last_cmd > self.params["cmd_timeout_s"]:
            self.backend.command(0.0, 0.0)
        step_s = self._pacer.step_s()
        if step_s <= 0.0:
            return
        try:
            onsets = self.backend.advance(step_s)
        except DeviceError as exc:
            self.get_logger().error(f"robot fault: {exc}")
            return
        for onset_ns in onsets:
            hit = PointStamped()
            self._stamp(hit.header, onset_ns, self.params["odom_frame"])
            hit.point.x, hit.point.y = self.backend.body.pose.x_m, self.backend.body.pose.y_m
            self._hit_pub.publish(hit)
        self._publish_odom()

    def _publish_odom(self) -> None:
        s = self.backend.body
        msg = Odometry()
        self._stamp(msg.header, s.time_ns, self.params["odom_frame"])
        msg.child_frame_id = self.params["base_frame"]
        msg.pose.pose.position.x, msg.pose.pose.position.y = s.pose.x_m, s.pose.y_m
        msg.pose.pose.orientation.z = math.sin(s.pose.theta_rad / 2)
        msg.pose.pose.orientation.w = math.cos(s.pose.theta_rad / 2)
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = self.backend.twist()
        self._odom_pub.publish(msg)

    def _publish_scan(self) -> None:
        b = self.backend
        msg = LaserScan()
        self._stamp(msg.header, b.now_ns, self.params["scan_frame"])
        msg.angle_min = float(b.angles_rad[0])
        msg.angle_increment = float(2 * math.pi / b.n_rays)
        msg.angle_max = float(b.angles_rad[-1])
        msg.scan_time = float(self.params["scan_period_s"])
        msg.range_min, msg.range_max = b.range_min_m, b.range_max_m
        msg.ranges = b.scan().astype("float32").tolist()
        self._scan_pub.publish(msg)


def main(args: list[str] | None = None) -> None:
    sys.exit(run(RobotNode, args))


if __name__ == "__main__":
    main()
