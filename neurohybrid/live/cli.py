"""The ``neurohybrid live`` subcommand: the live view of an experiment already running on the graph."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neurohybrid.core.errors import NeurohybridError

COMMAND = "live"
OPTIONS = (
    # (option, parameter of the live node, type, help)
    ("--host", "host", str, "address to listen on (default 127.0.0.1; 0.0.0.0: every interface)"),
    ("--port", "http_port", int, "port of the page (default 8080; 0: any free port)"),
    ("--ws-port", "ws_port", int, "port of the Foxglove WebSocket server (default 8765; 0: any free port)"),
    ("--update-hz", "update_hz", float, "frames per second sent to the page (1-20, default 10)"),
    ("--window", "window_s", float, "time window the page opens with, s (default 10)"),
    ("--max-window", "max_window_s", float, "longest time window the page keeps, s (default 60)"),
    ("--points-per-s", "raster_points_per_s", int, "raster points per lab per second (default 1000)"),
)


def ros_arguments(ns: argparse.Namespace) -> list[str]:
    """The options given on the command line as the live node's ``--ros-args -p name:=value``."""
    out = ["--ros-args"]
    for option, param, _, _ in OPTIONS:
        value = getattr(ns, param)
        if value is not None:
            out += ["-p", f"{param}:={value}"]
    return out


def cmd_live(ns: argparse.Namespace) -> int:
    """Become the installed ``live_node`` executable (as ``ros2 run neurohybrid live_node`` would)."""
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        exe = Path(get_package_prefix("neurohybrid")) / "lib" / "neurohybrid" / "live_node"
    except PackageNotFoundError:
        raise NeurohybridError("package neurohybrid not found: source install/setup.bash") from None
    if not os.access(exe, os.X_OK):
        raise NeurohybridError(f"no live_node executable at {exe}: run `make build`")
    os.execv(str(exe), [str(exe), *ros_arguments(ns)])


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``live`` subcommand to the ``neurohybrid`` command's subparsers."""
    p = subparsers.add_parser(
        COMMAND, help="serve the live view (web page + Foxglove WebSocket) of the running graph",
        description="Joins the running graph (same ROS_DOMAIN_ID), serves a web page with each lab's raster "
                    "and population rate, the crossbar, plasticity, stimulation, links and refusals, and "
                    "speaks the Foxglove WebSocket protocol for every topic. Stop it with Ctrl-C.")
    for option, param, type_, help_ in OPTIONS:
        p.add_argument(option, dest=param, type=type_, default=None, help=help_)
    p.set_defaults(func=cmd_live, command=COMMAND)
    return p
