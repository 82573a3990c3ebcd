"""Differential-drive kinematics with wheel-speed and wheel-acceleration limits.

Equations (unicycle model of a two-wheeled robot, Siegwart & Nourbakhsh, *Introduction to
Autonomous Mobile Robots*, 2004, sec. 3.2): with wheel ground speeds v_l, v_r (m/s) and wheel
separation L (m), ``v = (v_r + v_l) / 2``, ``w = (v_r - v_l) / L``; the pose is integrated
exactly along the arc over each step dt (1 / rate_hz). A commanded Twist (v, w) becomes the
wheel targets ``v_l = v - w L / 2``, ``v_r = v + w L / 2``; each wheel moves towards its target
by at most ``max_wheel_accel_m_s2 * dt`` per step.

Default dimensions and limits: ROBOTIS TurtleBot3 Burger specification (e-Manual, "Features"):
wheel separation 0.160 m, footprint radius ~0.105 m, max linear speed 0.22 m/s. The
acceleration limit (1.0 m/s^2 per wheel) is a chosen default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds

DRIVE_PARAMS = ParamSet("robot drive (differential, TurtleBot3 Burger defaults)", [
    ParamSpec("rate_hz", 100.0, "kinematics integration rate", "Hz", Bounds(100.0, 10_000.0)),
    ParamSpec("wheel_separation_m", 0.160, "distance between the wheels", "m", Bounds(0.01, 2.0)),
    ParamSpec("robot_radius_m", 0.105, "radius of the robot's footprint (collisions)", "m", Bounds(0.01, 2.0)),
    ParamSpec("max_wheel_speed_m_s", 0.22, "largest wheel ground speed; faster cmd_vel is refused", "m/s",
              Bounds(0.0, 5.0, low_open=True)),
    ParamSpec("max_wheel_accel_m_s2", 1.0, "largest wheel acceleration", "m/s^2", Bounds(0.0, 50.0, low_open=True)),
])


@dataclass(frozen=True)
class DriveLimits:
    """Geometry and limits of the drive (see DRIVE_PARAMS for units and ranges)."""

    rate_hz: float = DRIVE_PARAMS["rate_hz"].default
    wheel_separation_m: float = DRIVE_PARAMS["wheel_separation_m"].default
    robot_radius_m: float = DRIVE_PARAMS["robot_radius_m"].default
    max_wheel_speed_m_s: float = DRIVE_PARAMS["max_wheel_speed_m_s"].default
    max_wheel_accel_m_s2: float = DRIVE_PARAMS["max_wheel_accel_m_s2"].default

    def __post_init__(self) -> None:
        DRIVE_PARAMS.check_fields(self)

    @property
    def dt_s(self) -> float:
        """Integration step, second."""
        return 1.0 / self.rate_hz

    def wheels(self, linear_m_s: float, angular_rad_s: float) -> tuple[float, float]:
        """Wheel ground speeds (left, right), m/s, of a body twist."""
        half = angular_rad_s * self.wheel_separation_m / 2
        return linear_m_s - half, linear_m_s + half


def step_wheel(current: float, target: float, max_delta: float) -> float:
    """``current`` moved towards ``target`` by at most ``max_delta``."""
    return current + max(-max_delta, min(max_delta, target - current))


def integrate(x: float, y: float, theta: float, v: float, w: float, dt: float) -> tuple[float, float, float]:
    """Pose after moving with body twist (v m/s, w rad/s) for dt s, exactly along the arc."""
    if abs(w) < 1e-9:
        return x + v * dt * math.cos(theta), y + v * dt * math.sin(theta), theta
    th2 = theta + w * dt
    r = v / w
    return x + r * (math.sin(th2) - math.sin(theta)), y - r * (math.cos(th2) - math.cos(theta)), \
        math.atan2(math.sin(th2), math.cos(th2))
