"""Robot twin: arena validation, ray casting, kinematics limits, collisions, refused commands."""

import math

import numpy as np
import pytest

from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import ConfigError, SafetyRefusal
from neurohybrid.robot import ROBOT_BACKENDS, DriveLimits, arena_from_dict, load_arena

R = DriveLimits().robot_radius_m


def arena(**overrides):
    cfg = {"walls": {"shape": "circle", "radius_m": 1.0}, "obstacles": [], "start": {}}
    cfg.update(overrides)
    return arena_from_dict(cfg, R)


def robot(a=None, **kwargs):
    b = ROBOT_BACKENDS.create("sim", arena=a or arena(), **kwargs)
    b.configure()
    b.arm()
    return b


@pytest.mark.parametrize("cfg, key", [
    ({"walls": {"shape": "hexagon"}}, "walls.shape"),
    ({"walls": {"shape": "circle", "radius_m": -1.0}}, "walls.radius_m"),
    ({"walls": {"shape": "rect", "width_m": 2.0}}, "walls.height_m"),
    ({"walls": {"shape": "circle", "radius_m": 1.0}, "obstacles": [{"x_m": 0.5, "y_m": 0, "radius_m": 0.2},
                                                                   {"x_m": 0.6, "y_m": 0, "radius_m": 0.2}]},
     "obstacles[1] overlaps obstacles[0]"),
    ({"walls": {"shape": "circle", "radius_m": 1.0}, "obstacles": [{"x_m": 0.9, "y_m": 0, "radius_m": 0.2}]},
     "obstacles[0]"),
    ({"walls": {"shape": "circle", "radius_m": 1.0}, "start": {"x_m": 0.95}}, "start="),
    ({"walls": {"shape": "rect", "width_m": 2.0, "height_m": 2.0},
      "obstacles": [{"x_m": 0.1, "y_m": 0, "radius_m": 0.05}]}, "start="),
    ({"walls": {"shape": "circle", "radius_m": 1.0}, "doors": []}, "doors"),
    ({"walls": {"shape": "circle", "radius_m": 1.0}, "obstacles": [{"x_m": float("nan"), "y_m": 0, "radius_m": 0.1}]},
     "obstacles[0].x_m"),
])
def test_bad_arena_is_refused_with_its_key(cfg, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        arena_from_dict(cfg, R)


def test_arena_file_error_names_the_file(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("walls: {shape: circle, radius_m: 1.0}\nstart: {x_m: 2.0}\n")
    with pytest.raises(ConfigError, match="a.yaml.*start="):
        load_arena(path, R)


def test_shipped_arena_loads():
    from pathlib import Path
    a = load_arena(Path(__file__).parents[2] / "config/arenas/tessadori.yaml", R)
    assert a.shape == "circle" and len(a.obstacles) == 4


def test_ray_casting_matches_the_geometry():
    a = arena(obstacles=[{"x_m": 0.5, "y_m": 0.0, "radius_m": 0.1}])
    d = a.cast(np.zeros(2), np.array([0.0, math.pi / 2, math.pi, -math.pi / 2]))
    assert d == pytest.approx([0.4, 1.0, 1.0, 1.0])
    rect = arena_from_dict({"walls": {"shape": "rect", "width_m": 2.0, "height_m": 1.0},
                            "start": {"x_m": 0.5}}, R)
    assert rect.cast(np.array([0.5, 0.0]), np.array([0.0, math.pi / 2, math.pi])) == pytest.approx([0.5, 0.5, 1.5])


def test_scan_is_in_the_robot_frame_and_clipped():
    b = robot(arena(obstacles=[{"x_m": 0.0, "y_m": 0.5, "radius_m": 0.1}],
                    start={"theta_rad": math.pi / 2}), range_max_m=0.8)
    ranges = b.scan()
    front = int(np.argmin(np.abs(b.angles_rad)))
    assert ranges[front] == pytest.approx(0.4)
    assert ranges.max() == pytest.approx(0.8)


def test_straight_drive_respects_acceleration_and_rate():
    b = robot()
    b.command(0.2, 0.0)
    b.advance(0.1)  # 10 steps at 100 Hz, 1 m/s^2: wheel speed 0.1 m/s
    assert b.body.wheel_left_m_s == pytest.approx(0.1)
    b.advance(0.9)
    assert b.body.pose.x_m == pytest.approx(0.5 * 0.01 * 0.2 * 21 + 0.2 * 0.8, rel=0.05)
    assert b.body.distance_m == pytest.approx(b.body.pose.x_m)


def test_turning_on_the_spot():
    b = robot(limits=DriveLimits(max_wheel_accel_m_s2=50.0))
    b.command(0.0, 2.0)  # wheels -0.16, +0.16 m/s
    b.advance(0.5)
    assert b.body.pose.theta_rad == pytest.approx(1.0, abs=0.02)
    assert math.hypot(b.body.pose.x_m, b.body.pose.y_m) < 1e-9


@pytest.mark.parametrize("cmd", [(0.3, 0.0), (0.2, 1.0), (float("nan"), 0.0), (0.1, float("inf"))])
def test_command_beyond_limits_is_refused_counted_and_stops(cmd):
    b = robot()
    b.command(0.1, 0.0)
    b.advance(0.5)
    with pytest.raises(SafetyRefusal):
        b.command(*cmd)
    assert b.refused_total == 1
    b.advance(1.0)
    assert b.body.wheel_left_m_s == b.body.wheel_right_m_s == 0.0


def test_robot_never_exceeds_wheel_limit():
    b = robot(limits=DriveLimits(max_wheel_accel_m_s2=50.0))
    rng = np.random.default_rng(0)
    for _ in range(200):
        v, w = rng.uniform(-0.4, 0.4), rng.uniform(-4, 4)
        try:
            b.command(v, w)
        except SafetyRefusal:
            pass
        b.advance(0.02)
        assert max(abs(b.body.wheel_left_m_s), abs(b.body.wheel_right_m_s)) <= 0.22 + 1e-12


def test_collision_stops_the_robot_once_per_contact():
    b = robot(arena(obstacles=[{"x_m": 0.5, "y_m": 0.0, "radius_m": 0.1}]))
    b.command(0.2, 0.0)
    onsets = b.advance(5.0)
    assert len(onsets) == 1
    assert b.body.pose.x_m < 0.5 - 0.1 - R + 0.01 and b.body.pose.x_m > 0.25
    assert not b.arena.collides(np.array([b.body.pose.x_m, b.body.pose.y_m]), R)
    b.command(-0.2, 0.0)
    b.advance(1.0)
    b.command(0.2, 0.0)
    assert len(b.advance(5.0)) == 1


def test_safe_state_stops_and_refuses_commands():
    b = robot()
    b.command(0.2, 0.0)
    b.advance(1.0)
    b.safe_state()
    assert b.body.wheel_left_m_s == 0.0
    with pytest.raises(InputRefused):
        b.command(0.1, 0.0)


def test_non_finite_odometry_is_never_taken_and_stops_the_robot(monkeypatch):
    from neurohybrid.core.errors import DeviceError
    from neurohybrid.robot import backend

    b = robot()
    b.command(0.1, 0.0)
    b.advance(0.5)
    before = b.body.pose
    monkeypatch.setattr(backend, "integrate", lambda *args: (math.nan, 0.0, 0.0))
    with pytest.raises(DeviceError, match=r"odometry x=nan m.*not finite.*safe state"):
        b.advance(0.1)
    assert b.body.pose == before and not b.armed and b.twist() == (0.0, 0.0)
    with pytest.raises(InputRefused):
        b.command(0.1, 0.0)
