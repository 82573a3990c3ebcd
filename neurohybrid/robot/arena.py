"""2-D arena of the robot twin: outer walls (circle or rectangle centred on the origin) and
circular obstacles, loaded from YAML, with ray casting (range sensors) and collision tests.

Geometry in metres, angles in radians, world frame ``odom`` (x forward at theta = 0, y left,
REP 103). The arena of Tessadori et al. 2012 was circular with obstacles; a rectangle covers
the usual TurtleBot3 test worlds.

YAML layout (every key checked, errors name the key)::

    walls: {shape: circle, radius_m: 1.0}        # or {shape: rect, width_m: 2.0, height_m: 1.5}
    obstacles:
      - {x_m: 0.4, y_m: 0.0, radius_m: 0.1}
    start: {x_m: 0.0, y_m: 0.0, theta_rad: 0.0}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import check_choice, check_positive, check_real, unknown_keys

ARENA_MAX_M = 100.0
"""Largest arena dimension accepted, metre."""


@dataclass(frozen=True)
class Pose:
    """Robot pose in the world frame: x_m, y_m (metre), theta_rad (radian)."""

    x_m: float
    y_m: float
    theta_rad: float


@dataclass(frozen=True)
class Arena:
    """Walls, obstacles (arrays of centre x, y and radius, metre) and the start pose."""

    shape: str
    radius_m: float
    width_m: float
    height_m: float
    obstacles: np.ndarray  # (n, 3): x_m, y_m, radius_m
    start: Pose

    def to_dict(self) -> dict[str, Any]:
        """The arena as its YAML mapping (provenance)."""
        walls = {"shape": "circle", "radius_m": self.radius_m} if self.shape == "circle" else \
            {"shape": "rect", "width_m": self.width_m, "height_m": self.height_m}
        return {"walls": walls, "obstacles": [{"x_m": x, "y_m": y, "radius_m": r} for x, y, r in self.obstacles.tolist()],
                "start": {"x_m": self.start.x_m, "y_m": self.start.y_m, "theta_rad": self.start.theta_rad}}

    def validate(self, robot_radius_m: float) -> None:
        """ConfigError naming the key if obstacles overlap, leave the walls, or the start pose
        puts the robot (a disc of ``robot_radius_m``) inside a wall or an obstacle."""
        obs = self.obstacles
        for i in range(len(obs)):
            x, y, r = obs[i]
            if self.wall_clearance_m(np.array([x, y])) < r:
                raise ConfigError(f"obstacles[{i}] (x_m={x}, y_m={y}, radius_m={r}) crosses the walls")
            for j in range(i):
                gap = float(np.hypot(*(obs[i, :2] - obs[j, :2]))) - r - obs[j, 2]
                if gap < 0:
                    raise ConfigError(f"obstacles[{i}] overlaps obstacles[{j}] by {-gap:.3g} m")
        if self.collides(np.array([self.start.x_m, self.start.y_m]), robot_radius_m):
            raise ConfigError(f"start=({self.start.x_m}, {self.start.y_m}) puts the robot (radius "
                              f"{robot_radius_m} m) inside a wall or an obstacle")

    # --- geometry ----------------------------------------------------------------------------
    def wall_clearance_m(self, p: np.ndarray) -> float:
        """Distance from point ``p`` to the outer walls (negative outside), metre."""
        if self.shape == "circle":
            return self.radius_m - float(np.hypot(p[0], p[1]))
        return float(min(self.width_m / 2 - abs(p[0]), self.height_m / 2 - abs(p[1])))

    def clearance_m(self, p: np.ndarray) -> float:
        """Distance from point ``p`` to the nearest wall or obstacle surface (negative inside), metre."""
        clear = self.wall_clearance_m(p)
        obs = self.obstacles
        if len(obs):
            clear = min(clear, float((np.hypot(obs[:, 0] - p[0], obs[:, 1] - p[1]) - obs[:, 2]).min()))
        return clear

    def collides(self, p: np.ndarray, radius_m: float) -> bool:
        """Whether a disc of ``radius_m`` at ``p`` touches a wall or an obstacle."""
        return self.clearance_m(p) < radius_m

    def cast(self, p: np.ndarray, angles_rad: np.ndarray) -> np.ndarray:
        """Distance from ``p`` to the first wall or obstacle along each world-frame angle, metre."""
        dx, dy = np.cos(angles_rad), np.sin(angles_rad)
        if self.shape == "circle":
            # |p + t d| = R, inside the circle: the positive root
            b = p[0] * dx + p[1] * dy
            c = p[0] ** 2 + p[1] ** 2 - self.radius_m ** 2
            t = -b + np.sqrt(np.maximum(b * b - c, 0.0))
        else:
            with np.errstate(divide="ignore"):
                tx = np.where(dx > 0, (self.width_m / 2 - p[0]) / dx, np.where(dx < 0, (-self.width_m / 2 - p[0]) / dx, np.inf))
                ty = np.where(dy > 0, (self.height_m / 2 - p[1]) / dy, np.where(dy < 0, (-self.height_m / 2 - p[1]) / dy, np.inf))
            t = np.minimum(tx, ty)
        for x, y, r in self.obstacles:
            # |p + t d - c| = r: the smaller root in front of the sensor
            ox, oy = p[0] - x, p[1] - y
            b = ox * dx + oy * dy
            disc = b * b - (ox * ox + oy * oy - r * r)
            hit = disc >= 0
            root = -b - np.sqrt(np.where(hit, disc, 0.0))
            t = np.where(hit & (root >= 0) & (root < t), root, t)
        return np.maximum(t, 0.0)


def arena_from_dict(cfg: Mapping[str, Any], robot_radius_m: float) -> Arena:
    """Arena from a YAML mapping, validated (see the module docstring); ConfigError names the key."""
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"arena file must be a mapping, got {type(cfg).__name__}")
    unknown_keys(cfg, ("walls", "obstacles", "start"), "arena")
    walls = cfg.get("walls")
    if not isinstance(walls, Mapping):
        raise ConfigError("walls must be a mapping with shape: circle or rect")
    shape = check_choice("walls.shape", walls.get("shape"), ("circle", "rect"))
    radius = width = height = 0.0
    if shape == "circle":
        unknown_keys(walls, ("shape", "radius_m"), "walls")
        radius = check_positive("walls.radius_m", walls.get("radius_m"), ARENA_MAX_M)
    else:
        unknown_keys(walls, ("shape", "width_m", "height_m"), "walls")
        width = check_positive("walls.width_m", walls.get("width_m"), ARENA_MAX_M)
        height = check_positive("walls.height_m", walls.get("height_m"), ARENA_MAX_M)
    rows = []
    obstacles = cfg.get("obstacles") or []
    if not isinstance(obstacles, list):
        raise ConfigError("obstacles must be a list of {x_m, y_m, radius_m}")
    for i, o in enumerate(obstacles):
        if not isinstance(o, Mapping):
            raise ConfigError(f"obstacles[{i}] must be a mapping x_m, y_m, radius_m")
        unknown_keys(o, ("x_m", "y_m", "radius_m"), f"obstacles[{i}]")
        rows.append([check_real(f"obstacles[{i}].x_m", o.get("x_m"), -ARENA_MAX_M, ARENA_MAX_M),
                     check_real(f"obstacles[{i}].y_m", o.get("y_m"), -ARENA_MAX_M, ARENA_MAX_M),
                     check_positive(f"obstacles[{i}].radius_m", o.get("radius_m"), ARENA_MAX_M)])
    start = cfg.get("start") or {}
    if not isinstance(start, Mapping):
        raise ConfigError("start must be a mapping x_m, y_m, theta_rad")
    unknown_keys(start, ("x_m", "y_m", "theta_rad"), "start")
    pose = Pose(check_real("start.x_m", start.get("x_m", 0.0), -ARENA_MAX_M, ARENA_MAX_M),
                check_real("start.y_m", start.get("y_m", 0.0), -ARENA_MAX_M, ARENA_MAX_M),
                check_real("start.theta_rad", start.get("theta_rad", 0.0), -2 * np.pi, 2 * np.pi))
    arena = Arena(shape, radius, width, height, np.array(rows, float).reshape(-1, 3), pose)
    arena.validate(robot_radius_m)
    return arena


def load_arena(path: str | Path, robot_radius_m: float) -> Arena:
    """Arena from a YAML file; ConfigError names the file and the key."""
    try:
        cfg = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"arena={str(path)!r}: {exc.strerror}") from None
    try:
        return arena_from_dict(cfg, robot_radius_m)
    except ConfigError as exc:
        raise ConfigError(f"arena={str(path)!r}: {exc}") from None
