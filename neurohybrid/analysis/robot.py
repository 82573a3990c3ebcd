"""The robot part of a neurorobot recording: what the body did and what drove it, as numbers.

Read from the robot's standard topics (``nav_msgs/Odometry`` ``odom``, ``geometry_msgs/PointStamped``
``collisions``, ``geometry_msgs/Twist`` ``cmd_vel``) and the stimulation the sensory encoder sent
(``StimulationCommand`` rows on the input electrodes, refusals of the MEA's guard). The papers'
measures (Tessadori et al. 2012: collisions per unit time and per path length; arena coverage)
come from :func:`neurohybrid.robot.metrics.run_metrics` with the arena embedded in the recording
(the YAML attachment that has ``walls``).

* ``duration_s``: span of the odometry header stamps (the robot twin's clock), s.
* ``distance_m``: path length of the odometry positions (sum of the steps), m.
* ``collisions``: ``collisions`` messages within that span; per minute and per metre.
* ``coverage``: fraction of the free arena's cells (side: the robot's diameter) visited.
* ``cmd_vel``: count, rate and mean/std/min/max of the decoded linear (m/s) and angular (rad/s)
  commands, and the fraction of zero commands (robot told to stand still).
* ``stimulation_per_sector``: command rows (single-pulse commands) and pulses the sensory
  encoder sent (``pre_frame == "scan"``) to each sector's input electrodes; refused items attributed to a sector when the MEA's refusal reason
  names the electrode (``electrode 8`` / ``electrode=8``), the rest ``refused_unattributed``.

The sector split of the input electrodes (``n_sectors``, ``input_electrodes``) and the robot's
``robot_radius_m`` come from the nodes' parameters the recorder wrote into the metadata
(``parameters:<node>``); a recording without them falls back to the parameter defaults, and
``sector_split`` / ``robot_radius_from`` say which.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import yaml

from neurohybrid.analysis.loop_latency import SCAN_FRAME
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.units import NS_PER_S
from neurohybrid.io.reader import (
    LASER_SCAN,
    ODOMETRY,
    POINT_STAMPED,
    REFUSAL,
    SPIKE_BATCH,
    STIMULATION_COMMAND,
    TWIST,
    Recording,
    lab_of,
)
from neurohybrid.io.recording import PARAMETERS_METADATA_PREFIX
from neurohybrid.robot.arena import Arena, arena_from_dict
from neurohybrid.robot.drive import DRIVE_PARAMS
from neurohybrid.robot.encoder import ENCODER_PARAMS
from neurohybrid.robot.metrics import run_metrics

CATEGORY_STIMULATION = 0
"""``Refusal.CATEGORY_STIMULATION`` (msg/Refusal.msg)."""
_REASON_ELECTRODE = re.compile(r"electrode[ =](\d+)")
"""How the MEA's guard names the electrode of a refused command (neurohybrid.mea.stimulation)."""


@dataclass(frozen=True)
class RobotTopics:
    """The topics of one robot in a recording (``None``: not recorded) and the MEA it stimulated."""

    odom: str
    collisions: str | None
    cmd_vel: str | None
    scan: str | None
    stimulation: list[str]
    spikes: str | None


def _same_ns(topics: list[str], ns: str) -> str | None:
    mine = [t for t in topics if lab_of(t) == ns]
    return (mine or topics or [None])[0]


def robot_topics(rec: Recording) -> RobotTopics | None:
    """The robot of ``rec`` (the first ``Odometry`` topic and its namespace's other topics), or None."""
    odom = rec.topics_of(ODOMETRY)
    if not odom:
        return None
    ns = lab_of(odom[0])
    stimulation = rec.topics_of(STIMULATION_COMMAND)
    spikes = [t for t in rec.topics_of(SPIKE_BATCH) if lab_of(t) in {lab_of(s) for s in stimulation}]
    return RobotTopics(odom[0], _same_ns(rec.topics_of(POINT_STAMPED), ns), _same_ns(rec.topics_of(TWIST), ns),
                       _same_ns(rec.topics_of(LASER_SCAN), ns), stimulation, (spikes or [None])[0])


def recorded_arena(rec: Recording, robot_radius_m: float) -> tuple[Arena, str] | None:
    """The arena of the run, from the recording's YAML attachment that has ``walls``; and its name."""
    for attachment in rec.attachments():
        if not attachment.name.endswith((".yaml", ".yml")):
            continue
        try:
            cfg = yaml.safe_load(attachment.data.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(cfg, dict) and "walls" in cfg:
            try:
                return arena_from_dict(cfg, robot_radius_m), attachment.name
            except ConfigError:
                continue
    return None


def recorded_parameters(rec: Recording, *names: str) -> tuple[str, dict[str, Any]] | None:
    """The first node whose recorded parameters include all ``names``: (node, JSON-decoded values)."""
    for record, values in rec.metadata().items():
        if record.startswith(PARAMETERS_METADATA_PREFIX) and all(n in values for n in names):
            try:
                return record[len(PARAMETERS_METADATA_PREFIX):], {k: json.loads(v) for k, v in values.items()}
            except json.JSONDecodeError:
                continue
    return None


def sector_groups(rec: Recording) -> tuple[list[np.ndarray], str]:
    """Input electrodes of each sector, right to left; and where the split comes from."""
    found = recorded_parameters(rec, "n_sectors", "input_electrodes")
    if found is not None:
        node, values = found
        electrodes = np.asarray(values["input_electrodes"], np.int64)
        if values["n_sectors"] > 0 and len(electrodes) % values["n_sectors"] == 0:
            return list(electrodes.reshape(values["n_sectors"], -1)), f"recorded parameters of {node}"
    n = ENCODER_PARAMS["n_sectors"].default
    return (list(np.asarray(ENCODER_PARAMS["input_electrodes"].default, np.int64).reshape(n, -1)),
            "sensory encoder defaults (no recorded n_sectors, input_electrodes)")


def robot_radius(rec: Recording) -> tuple[float, str]:
    """The robot's ``robot_radius_m`` (m) and where it comes from (recorded parameter or default)."""
    found = recorded_parameters(rec, "robot_radius_m")
    if found is not None:
        return float(found[1]["robot_radius_m"]), f"recorded parameters of {found[0]}"
    return DRIVE_PARAMS["robot_radius_m"].default, "drive defaults (no recorded robot_radius_m)"


def sector_names(n: int) -> list[str]:
    """``"right"``/``"left"`` for two sectors, else ``"sector_<i>"`` (0 rightmost)."""
    return ["right", "left"] if n == 2 else [f"sector_{i}" for i in range(n)]


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: an undefined value (no distance, no time) is ``None``."""
    return float(value) if math.isfinite(value) else None


def _stats(values: np.ndarray) -> dict[str, float | None]:
    if len(values) == 0:
        return {"mean": None, "std": None, "min": None, "max": None}
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max())}


def cmd_vel_summary(rec: Recording, topic: str | None) -> dict[str, Any]:
    """Decoded commands: count, rate (Hz over their log-time span), linear/angular statistics."""
    if topic is None:
        return {"topic": None, "n": 0}
    tw = rec.twists(topic)
    t = tw["log_time_ns"]
    span_s = (t[-1] - t[0]) / NS_PER_S if len(t) > 1 else 0.0
    linear, angular = tw["linear_m_s"][:, 0], tw["angular_rad_s"][:, 2]
    return {
        "topic": topic, "n": int(len(t)), "rate_hz": float(len(t) / span_s) if span_s > 0 else None,
        "linear_m_s": _stats(linear), "angular_rad_s": _stats(angular),
        "stopped_fraction": float(np.mean((linear == 0) & (angular == 0))) if len(t) else None,
    }


def sector_stimulation(rec: Recording, topics: RobotTopics) -> dict[str, Any]:
    """Command rows and pulses per sector, refusals attributed by the electrode their reason names."""
    groups, split = sector_groups(rec)
    names = sector_names(len(groups))
    rows = np.zeros(len(groups), np.int64)
    pulses = np.zeros(len(groups), np.int64)
    other = foreign = 0
    for topic in topics.stimulation:
        st = rec.stimulation(topic)
        # the encoder's rows only (its commands name the scan as their cause): not a hub's on the same topic
        encoder = np.repeat(st["batch_pre_frame"] == SCAN_FRAME, st["batch_count"])
        foreign += int((~encoder).sum())
        electrode = st["electrode"].astype(np.int64)
        mine = np.zeros(len(electrode), bool)
        for i, group in enumerate(groups):
            hit = encoder & np.isin(electrode, group)
            rows[i] += int(hit.sum())
            pulses[i] += int(st["pulse_count"][hit].sum())
            mine |= hit
        other += int((encoder & ~mine).sum())
    refused = np.zeros(len(groups), np.int64)
    unattributed = 0
    stim_labs = {lab_of(t) for t in topics.stimulation}
    for topic in rec.topics_of(REFUSAL):
        if lab_of(topic) not in stim_labs:
            continue
        r = rec.refusals(topic)
        for category, reason, count in zip(r["category"], r["reason"], r["count"]):
            if category != CATEGORY_STIMULATION:
                continue
            named = _REASON_ELECTRODE.search(reason)
            sector = next((i for i, g in enumerate(groups) if named and int(named.group(1)) in g), None)
            if sector is None:
                unattributed += int(count)
            else:
                refused[sector] += 1
                unattributed += int(count) - 1
    return {
        "sectors": {name: {"electrodes": groups[i].tolist(), "commands": int(rows[i]), "pulses": int(pulses[i]),
                           "refused": int(refused[i]), "delivered": int(max(rows[i] - refused[i], 0))}
                    for i, name in enumerate(names)},
        "refused_unattributed": unattributed,
        "commands_outside_sectors": other,
        "commands_of_other_sources": foreign,
        "sector_split": f"{split}; sector 0 is the rightmost",
    }


def robot_summary(rec: Recording) -> dict[str, Any] | None:
    """The ``robot`` section of ``summary.json`` (see the module docstring); None without odometry."""
    topics = robot_topics(rec)
    if topics is None:
        return None
    robot_radius_m, radius_from = robot_radius(rec)
    odom = rec.odometry(topics.odom)
    xy = np.column_stack([odom["x_m"], odom["y_m"]])
    stamps = odom["stamp_ns"]
    duration_s = (stamps.max() - stamps.min()) / NS_PER_S if len(stamps) else 0.0
    distance_m = float(np.hypot(*np.diff(xy, axis=0).T).sum()) if len(xy) > 1 else 0.0
    collisions = 0
    collision_xy: list[list[float]] = []
    if topics.collisions is not None and len(stamps):
        hits = rec.points(topics.collisions)
        inside = (hits["stamp_ns"] >= stamps.min()) & (hits["stamp_ns"] <= stamps.max())
        collisions = int(inside.sum())
        collision_xy = np.column_stack([hits["x_m"][inside], hits["y_m"][inside]]).tolist()
    found = recorded_arena(rec, robot_radius_m)
    out: dict[str, Any] = {
        "topics": {"odom": topics.odom, "collisions": topics.collisions, "cmd_vel": topics.cmd_vel,
                   "scan": topics.scan, "stimulation": topics.stimulation, "spikes": topics.spikes},
        "odom_messages": int(len(stamps)),
        "duration_s": float(duration_s),
        "distance_m": distance_m,
        "collisions": collisions,
        "collisions_per_min": finite_or_none(collisions / (duration_s / 60.0)) if duration_s > 0 else None,
        "collisions_per_m": finite_or_none(collisions / distance_m) if distance_m > 0 else None,
        "coverage": None,
        "arena": None,
        "robot_radius_m": robot_radius_m,
        "robot_radius_from": radius_from,
        "start_xy_m": xy[0].tolist() if len(xy) else None,
        "end_xy_m": xy[-1].tolist() if len(xy) else None,
        "collision_points_m": collision_xy,
        "cmd_vel": cmd_vel_summary(rec, topics.cmd_vel),
        "stimulation_per_sector": sector_stimulation(rec, topics),
    }
    if found is not None and len(xy):
        arena, name = found
        metrics = run_metrics(arena, xy, duration_s, distance_m, collisions, robot_radius_m)
        out.update({key: finite_or_none(getattr(metrics, key))
                    for key in ("collisions_per_min", "collisions_per_m", "coverage")})
        out["arena"] = {"attachment": name, **arena.to_dict()}
    return out
