"""The robot panels of a neurorobot report (matplotlib Axes, no global state).

* :func:`draw_trajectory`: the odometry path in the arena embedded in the recording (walls,
  obstacles), start and end, and the collision points.
* :func:`draw_sector_stimulation`: command rows per second the sensory encoder sent to each
  sector's input electrodes, by the commands' header stamps, and the MEA's stimulation refusals.
* :func:`draw_commands`: the decoded ``cmd_vel``, linear (m/s) and angular (rad/s), by log time.
* :func:`draw_loop_latency`: the latency budget's legs (:mod:`neurohybrid.analysis.loop_latency`).

Times are seconds from the recording's first log time, as in the rasters they are drawn under.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.patches import Circle, Rectangle

from neurohybrid.analysis.loop_latency import LEGS, SCAN_FRAME
from neurohybrid.analysis.robot import (
    CATEGORY_STIMULATION,
    RobotTopics,
    recorded_arena,
    robot_radius,
    sector_groups,
    sector_names,
)
from neurohybrid.core.units import NS_PER_S
from neurohybrid.io.reader import REFUSAL, Recording, lab_of

SECTOR_BIN_S = 1.0
"""Bin of the per-sector stimulation counts, s."""
LATENCY_BINS = 40


def draw_trajectory(ax: Any, rec: Recording, topics: RobotTopics) -> None:
    """Path, arena, start/end and collisions, in the odometry frame (m), equal aspect."""
    odom = rec.odometry(topics.odom)
    found = recorded_arena(rec, robot_radius(rec)[0])
    if found is not None:
        arena, name = found
        if arena.shape == "circle":
            ax.add_patch(Circle((0, 0), arena.radius_m, fill=False, lw=1.5, color="k"))
            half = arena.radius_m
        else:
            ax.add_patch(Rectangle((-arena.width_m / 2, -arena.height_m / 2), arena.width_m, arena.height_m,
                                   fill=False, lw=1.5, color="k"))
            half = max(arena.width_m, arena.height_m) / 2
        for x, y, r in arena.obstacles:
            ax.add_patch(Circle((x, y), r, color="0.6"))
        ax.set_xlim(-1.05 * half, 1.05 * half)
        ax.set_ylim(-1.05 * half, 1.05 * half)
        title = f"trajectory in {name}"
    else:
        title = "trajectory (no arena file in the recording)"
    ax.plot(odom["x_m"], odom["y_m"], lw=1.0, color="tab:blue", label="path (odom)")
    if len(odom["x_m"]):
        ax.plot(odom["x_m"][0], odom["y_m"][0], "o", color="tab:green", label="start")
        ax.plot(odom["x_m"][-1], odom["y_m"][-1], "s", color="k", ms=4, label="end")
    if topics.collisions is not None:
        hits = rec.points(topics.collisions)
        ax.plot(hits["x_m"], hits["y_m"], "x", color="tab:red", ms=6, label=f"collisions ({len(hits['x_m'])})")
    ax.set_aspect("equal")
    ax.set_xlabel("x, m")
    ax.set_ylabel("y, m")
    ax.set_title(title, fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper right")


def draw_sector_stimulation(ax: Any, rec: Recording, topics: RobotTopics) -> None:
    """Command rows per ``SECTOR_BIN_S`` to each sector's electrodes; stimulation refusals as ticks."""
    groups, _ = sector_groups(rec)
    end_s = max(rec.duration_s, SECTOR_BIN_S)
    edges = np.arange(0.0, end_s + SECTOR_BIN_S, SECTOR_BIN_S)
    rows = [rec.stimulation(t) for t in topics.stimulation]
    encoder = [np.repeat(st["batch_pre_frame"] == SCAN_FRAME, st["batch_count"]) for st in rows]
    stamps_s = (np.concatenate([st["stamp_ns"][e] for st, e in zip(rows, encoder)]) - rec.start_ns) / NS_PER_S \
        if rows else np.empty(0)
    electrodes = np.concatenate([st["electrode"][e] for st, e in zip(rows, encoder)]) if rows else np.empty(0)
    for name, group in zip(sector_names(len(groups)), groups):
        counts, _ = np.histogram(stamps_s[np.isin(electrodes, group)], edges)
        ax.step(edges[:-1], counts / SECTOR_BIN_S, where="post",
                label=f"{name} (electrodes {', '.join(map(str, group))}): {int(counts.sum())}")
    labs = {lab_of(t) for t in topics.stimulation}
    refusals = [rec.refusals(t) for t in rec.topics_of(REFUSAL) if lab_of(t) in labs]
    refused_s = np.concatenate([(r["stamp_ns"][r["category"] == CATEGORY_STIMULATION] - rec.start_ns) / NS_PER_S
                                for r in refusals]) if refusals else np.empty(0)
    if len(refused_s):
        ax.plot(refused_s, np.zeros(len(refused_s)), "|", color="tab:red", ms=10,
                label=f"refused by the MEA ({len(refused_s)} refusals)")
    ax.set_ylabel("commands / s")
    ax.set_title("sensor-driven stimulation per sector (StimulationCommand rows)", fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False, loc="upper left")


def draw_commands(ax: Any, rec: Recording, topics: RobotTopics) -> None:
    """The decoded ``cmd_vel``: linear x (m/s, left axis) and angular z (rad/s, right axis)."""
    ax.set_ylabel("linear, m/s", color="tab:blue")
    if topics.cmd_vel is None:
        ax.text(0.5, 0.5, "no cmd_vel recorded", ha="center", transform=ax.transAxes)
        return
    tw = rec.twists(topics.cmd_vel)
    t_s = (tw["log_time_ns"] - rec.start_ns) / NS_PER_S
    ax.plot(t_s, tw["linear_m_s"][:, 0], lw=0.8, color="tab:blue")
    angular = ax.twinx()
    angular.plot(t_s, tw["angular_rad_s"][:, 2], lw=0.8, color="tab:orange")
    angular.set_ylabel("angular, rad/s", color="tab:orange", fontsize=8)
    ax.set_title(f"decoded commands ({topics.cmd_vel}, {len(t_s)} Twist)", fontsize=9, loc="left")


def draw_loop_latency(ax: Any, chains_ms: dict[str, np.ndarray]) -> None:
    """Histogram of each leg of the latency budget, ms (log-spaced bins)."""
    ax.set_xlabel("latency, ms")
    ax.set_ylabel("chains")
    values = [v for v in chains_ms.values() if len(v)]
    positive = np.concatenate(values)[np.concatenate(values) > 0] if values else np.empty(0)
    if not len(positive):
        ax.text(0.5, 0.5, "no complete scan -> stimulation -> spike -> cmd_vel chain", ha="center",
                transform=ax.transAxes)
        return
    bins = np.geomspace(max(positive.min(), 1e-3), positive.max() * 1.01, LATENCY_BINS + 1)
    for leg in LEGS:
        ms = chains_ms[leg]
        if len(ms):
            p50, p99 = np.percentile(ms, (50, 99))
            # a log axis has no place for <= 0 (two clocks on one host, one running ahead): say how many
            hidden = int((ms <= 0).sum())
            ax.hist(np.clip(ms[ms > 0], bins[0], bins[-1]), bins=bins, histtype="step", lw=1.2,
                    label=f"{leg}: p50 {p50:.1f}, p99 {p99:.1f} ms" + (f" ({hidden} <= 0 not drawn)" if hidden else ""))
    ax.set_xscale("log")
    ax.set_title(f"loop latency budget (n={len(chains_ms['total'])} chains, from stamps)", fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False)
