"""The robot node's parameters (from the specs the robot cores declare) and the backend they build."""

from __future__ import annotations

from typing import Any, Mapping

from neurohybrid.core.node_params import NODE_PARAMS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.robot.arena import load_arena
from neurohybrid.robot.backend import LIDAR_PARAMS, ROBOT_BACKENDS, RobotBackend
from neurohybrid.robot.drive import DRIVE_PARAMS, DriveLimits
from neurohybrid.robot.encoder import ENCODER_PARAMS
from neurohybrid.robot.decoder import DECODER_PARAMS


def robot_params() -> ParamSet:
    """Every parameter of the robot node, in the order it declares them."""
    own = ParamSet("robot node", [
        ParamSpec("backend", "sim", "robot backend", choices=tuple(ROBOT_BACKENDS.names())),
        ParamSpec("arena", "", "arena YAML file (walls, obstacles, start); empty: the package's tessadori.yaml"),
        ParamSpec("period_s", 0.01, "kinematics advance and odom publish period", "s", Bounds(0.001, 0.1)),
        ParamSpec("scan_period_s", 0.05, "scan publish period", "s", Bounds(0.01, 1.0)),
        ParamSpec("cmd_timeout_s", 0.5, "no cmd_vel for longer: the robot stops", "s", Bounds(0.01, 60.0)),
        ParamSpec("odom_frame", "odom", "frame of odom and collisions"),
        ParamSpec("base_frame", "base_footprint", "child frame of odom"),
        ParamSpec("scan_frame", "base_scan", "frame of the scans"),
    ])
    return NODE_PARAMS.join("robot node: robot_node", own, DRIVE_PARAMS, LIDAR_PARAMS)


def robot_backend(values: Mapping[str, Any], default_arena: str) -> RobotBackend:
    """The backend the node's parameter ``values`` describe (arena file, drive, range sensor)."""
    values = robot_params().check(values)
    limits = DriveLimits(**{key: values[key] for key in DRIVE_PARAMS})
    arena = load_arena(values["arena"] or default_arena, limits.robot_radius_m)
    return ROBOT_BACKENDS.create(values["backend"], arena=arena, limits=limits,
                                 **{key: values[key] for key in LIDAR_PARAMS})


def brain_params() -> ParamSet:
    """Every parameter of the neurorobot node (sensory encoder + motor decoder)."""
    own = ParamSet("neurorobot node", [
        ParamSpec("period_s", 0.01, "encoder and decoder period (cmd_vel rate)", "s", Bounds(0.005, 0.1)),
    ])
    return NODE_PARAMS.join("neurorobot node: neurorobot_node", own, ENCODER_PARAMS, DECODER_PARAMS)
