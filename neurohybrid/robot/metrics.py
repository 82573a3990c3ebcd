"""Closed-loop behaviour as the papers measured it: collisions per metre and per minute,
distance travelled and arena coverage (Tessadori et al. 2012 counted collisions per unit time
and path length).

Coverage: fraction of the free arena's grid cells (side ``cell_m``, default the robot's
diameter) whose centre the robot's centre has visited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from neurohybrid.robot.arena import Arena


@dataclass(frozen=True)
class RunMetrics:
    """One run: duration_s, distance_m, collisions, per metre / per minute, coverage (0..1)."""

    duration_s: float
    distance_m: float
    collisions: int
    collisions_per_m: float
    collisions_per_min: float
    coverage: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict (summary.json)."""
        return asdict(self)


def _cells(arena: Arena, cell_m: float) -> tuple[np.ndarray, float]:
    half = arena.radius_m if arena.shape == "circle" else max(arena.width_m, arena.height_m) / 2
    return np.arange(-half + cell_m / 2, half, cell_m), half


def coverage(arena: Arena, xy_m: np.ndarray, robot_radius_m: float, cell_m: float | None = None) -> float:
    """Fraction of the cells reachable by the robot's centre that it visited."""
    cell_m = cell_m or 2 * robot_radius_m
    centres, half = _cells(arena, cell_m)
    gx, gy = np.meshgrid(centres, centres, indexing="ij")
    free = np.array([[not arena.collides(np.array([x, y]), robot_radius_m) for x, y in zip(rx, ry)]
                     for rx, ry in zip(gx, gy)])
    idx = np.clip(np.floor((np.asarray(xy_m) + half) / cell_m).astype(int), 0, len(centres) - 1)
    visited = np.zeros_like(free)
    visited[idx[:, 0], idx[:, 1]] = True
    return float((visited & free).sum() / max(free.sum(), 1))


def run_metrics(arena: Arena, xy_m: np.ndarray, duration_s: float, distance_m: float, collisions: int,
                robot_radius_m: float) -> RunMetrics:
    """Metrics of one run from its trajectory samples ``xy_m`` (n, 2)."""
    return RunMetrics(float(duration_s), float(distance_m), int(collisions),
                      collisions / distance_m if distance_m > 0 else float("nan"),
                      collisions / (duration_s / 60.0) if duration_s > 0 else float("nan"),
                      coverage(arena, xy_m, robot_radius_m))
