"""The robot device kind: the device contract plus ``command`` / ``advance`` / ``scan``; backends by name.

``command(linear_m_s, angular_rad_s)`` sets the body twist (a ``geometry_msgs/Twist``); one that
is not finite or needs a wheel faster than ``max_wheel_speed_m_s`` is refused whole
(SafetyRefusal, counted in ``refused_total``) and the robot is told to stop: it never moves
faster than its limits. ``advance(duration_s)`` runs the kinematics and returns the collisions
(onsets) in that time; ``scan()`` gives the range sensor's distances. ``safe_state`` stops the
wheels at once (an emergency stop) and takes no command until ``arm``.

Odometry that is not finite (a pose no kinematics can reach, e.g. from a faulty encoder model) is
never taken: the step is dropped, the robot goes to its safe state (wheels stopped, commands
refused until ``arm``) and ``advance`` raises DeviceError naming the values.

Collision model: a step that would make the robot's disc touch a wall or an obstacle is not
taken, both wheels stop; one collision is counted per contact episode, which ends once the
robot is CONTACT_RELEASE_M clear of every surface again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from neurohybrid.core.device import ADVANCE_MAX_S, DeviceBackend
from neurohybrid.core.errors import DeviceError, SafetyRefusal
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.registry import BackendRegistry
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds, check_real
from neurohybrid.robot.arena import Arena, Pose
from neurohybrid.robot.drive import DriveLimits, integrate, step_wheel

ROBOT_BACKENDS: BackendRegistry["RobotBackend"] = BackendRegistry("robot")

CONTACT_RELEASE_M = 0.01
"""Gap (m) between the robot's footprint and every surface that ends a contact episode."""

LIDAR_PARAMS = ParamSet("robot range sensor (TurtleBot3 LDS-01 defaults)", [
    ParamSpec("n_rays", 360, "rays over the full circle, counter-clockwise from -pi", "", Bounds(4, 3600, integer=True)),
    ParamSpec("range_min_m", 0.12, "shortest measurable range", "m", Bounds(0.0, 10.0)),
    ParamSpec("range_max_m", 3.5, "longest measurable range (farther: range_max_m)", "m", Bounds(0.1, 100.0)),
])
"""Defaults: ROBOTIS LDS-01 (HLS-LFCD2) on the TurtleBot3: 360 samples/rev, 0.12-3.5 m."""


@dataclass
class RobotState:
    """Pose, wheel speeds (m/s), targets (m/s), distance travelled (m), time (ns)."""

    pose: Pose
    wheel_left_m_s: float = 0.0
    wheel_right_m_s: float = 0.0
    target_left_m_s: float = 0.0
    target_right_m_s: float = 0.0
    distance_m: float = 0.0
    time_ns: int = 0
    in_contact: bool = False
    collision_times_ns: list[int] = field(default_factory=list)


class RobotBackend(DeviceBackend):
    """A differential-drive robot with a planar range sensor."""

    kind: ClassVar[str] = "robot"

    @property
    def limits(self) -> DriveLimits:
        """Geometry and velocity limits."""
        raise NotImplementedError

    def command(self, linear_m_s: float, angular_rad_s: float) -> None:
        """Set the body twist; refused whole (SafetyRefusal, robot stops) beyond the limits."""
        self.require_configured("command")
        self.admit(1, "velocity command")
        lim = self.limits
        for key, value in (("linear.x", linear_m_s), ("angular.z", angular_rad_s)):
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                self.refused_total += 1
                self._command(0.0, 0.0)
                raise SafetyRefusal(key, value, "finite numbers", "robot stopped")
        left, right = lim.wheels(float(linear_m_s), float(angular_rad_s))
        fastest = max(abs(left), abs(right))
        if fastest > lim.max_wheel_speed_m_s * (1 + 1e-9):
            self.refused_total += 1
            self._command(0.0, 0.0)
            raise SafetyRefusal("wheel_speed_m_s", fastest, f"[0, {lim.max_wheel_speed_m_s:g}]",
                                f"cmd linear.x={linear_m_s:g} m/s angular.z={angular_rad_s:g} rad/s; robot stopped")
        self._command(left, right)
        self.delivered_total += 1

    def advance(self, duration_s: float) -> list[int]:
        """Run ``duration_s`` (0 < d <= ADVANCE_MAX_S) further; the collision onsets (ns) in it."""
        check_real("duration_s", duration_s, 0.0, ADVANCE_MAX_S, low_open=True)
        self.require_configured("advance")
        return self._advance(float(duration_s))

    # what a backend implements
    def _command(self, left_m_s: float, right_m_s: float) -> None:
        raise NotImplementedError

    def _advance(self, duration_s: float) -> list[int]:
        raise NotImplementedError

    def scan(self) -> np.ndarray:
        """Ranges (m) of the sensor's rays, robot frame, counter-clockwise from -pi."""
        raise NotImplementedError


@ROBOT_BACKENDS.register("sim")
class SimRobotBackend(RobotBackend):
    """Digital twin: exact-arc kinematics at ``rate_hz`` in an :class:`Arena`, ray-cast ranges."""

    name = "sim"

    def __init__(self, arena: Arena, limits: DriveLimits | None = None, n_rays: int = 360,
                 range_min_m: float = 0.12, range_max_m: float = 3.5) -> None:
        limits = limits or DriveLimits()
        super().__init__(arena=arena.to_dict(), limits=limits, n_rays=n_rays, range_min_m=range_min_m,
                         range_max_m=range_max_m)
        LIDAR_PARAMS.check({"n_rays": n_rays, "range_min_m": range_min_m, "range_max_m": range_max_m})
        arena.validate(limits.robot_radius_m)
        self.arena = arena
        self._limits = limits
        self.n_rays = n_rays
        self.range_min_m = float(range_min_m)
        self.range_max_m = float(range_max_m)
        self.angles_rad = -math.pi + 2 * math.pi * np.arange(n_rays) / n_rays
        self.body = RobotState(arena.start)
        self._step_ns = int(round(NS_PER_S / limits.rate_hz))
        self._carry_ns = 0

    @property
    def limits(self) -> DriveLimits:
        return self._limits

    @property
    def now_ns(self) -> int:
        """Robot clock, ns since configure."""
        return self.body.time_ns

    def _configure(self) -> None:
        self.body = RobotState(self.arena.start)

    def _safe_state(self) -> int:
        s = self.body
        s.wheel_left_m_s = s.wheel_right_m_s = s.target_left_m_s = s.target_right_m_s = 0.0
        return 0

    def _shutdown(self) -> None:
        self._safe_state()

    def _command(self, left_m_s: float, right_m_s: float) -> None:
        self.body.target_left_m_s = left_m_s
        self.body.target_right_m_s = right_m_s

    def _describe(self) -> dict[str, Any]:
        return {"shape": self.arena.shape, "n_obstacles": len(self.arena.obstacles)}

    def _advance(self, duration_s: float) -> list[int]:
        total = int(round(duration_s * NS_PER_S)) + self._carry_ns
        n_steps, self._carry_ns = divmod(total, self._step_ns)
        s, lim = self.body, self._limits
        dt, dv = lim.dt_s, lim.max_wheel_accel_m_s2 * lim.dt_s
        onsets = []
        for _ in range(n_steps):
            s.wheel_left_m_s = step_wheel(s.wheel_left_m_s, s.target_left_m_s, dv)
            s.wheel_right_m_s = step_wheel(s.wheel_right_m_s, s.target_right_m_s, dv)
            v = (s.wheel_left_m_s + s.wheel_right_m_s) / 2
            w = (s.wheel_right_m_s - s.wheel_left_m_s) / lim.wheel_separation_m
            p = s.pose
            x, y, th = integrate(p.x_m, p.y_m, p.theta_rad, v, w, dt)
            if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(th)):
                s.collision_times_ns.extend(onsets)
                self.safe_state()
                raise DeviceError(f"robot backend {self.name!r}: odometry x={x} m, y={y} m, theta={th} rad is not "
                                  f"finite (from wheels {s.wheel_left_m_s}, {s.wheel_right_m_s} m/s); step dropped, "
                                  "robot in its safe state until armed again")
            s.time_ns += self._step_ns
            clear = self.arena.clearance_m(np.array([x, y])) - lim.robot_radius_m
            if clear < 0:
                s.wheel_left_m_s = s.wheel_right_m_s = 0.0
                if not s.in_contact:
                    onsets.append(s.time_ns)
                s.in_contact = True
                continue
            s.in_contact = s.in_contact and clear < CONTACT_RELEASE_M
            s.distance_m += math.hypot(x - p.x_m, y - p.y_m)
            s.pose = Pose(x, y, th)
        s.collision_times_ns.extend(onsets)
        return onsets

    def twist(self) -> tuple[float, float]:
        """Actual body twist (linear m/s, angular rad/s) from the wheel speeds."""
        s = self.body
        return (s.wheel_left_m_s + s.wheel_right_m_s) / 2, \
            (s.wheel_right_m_s - s.wheel_left_m_s) / self._limits.wheel_separation_m

    def scan(self) -> np.ndarray:
        p = self.body.pose
        ranges = self.arena.cast(np.array([p.x_m, p.y_m]), self.angles_rad + p.theta_rad)
        return np.clip(ranges, self.range_min_m, self.range_max_m)
