"""The stock ROS 2 launch system (``launch``, ``launch_ros``, the YAML frontend), where installed.

``neurohybrid launch`` runs a file with it when it is importable, exactly as ``ros2 launch``
does (a ``LaunchService`` including the file), and with our own runner otherwise.
:func:`plan` says what the stock system would start without starting it, so the two runners
can be compared (``test/unit/test_launch_parity.py``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from neurohybrid.launcher.plan import ProcessPlan, plan_from_command

#: What the stock runner needs, by module name.
REQUIRED = ("launch", "launch_ros", "launch_yaml")


def missing() -> str | None:
    """Why the stock launch system cannot be used here, or None when it can."""
    absent = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if absent:
        return (f"stock ROS 2 launch not importable ({', '.join(absent)} missing): source a ROS 2 "
                f"install, or `make test` with ../shared/ros2-stock present installs it into .venv")
    return None


def _include(path: Path, arguments: dict[str, str]) -> Any:
    import launch
    from launch.launch_description_sources import AnyLaunchDescriptionSource

    return launch.actions.IncludeLaunchDescription(
        AnyLaunchDescriptionSource(str(path)), launch_arguments=list(arguments.items()))


def run(path: Path, arguments: dict[str, str], duration_s: float | None = None) -> int:
    """Run ``path`` as ``ros2 launch`` would; stop everything after ``duration_s`` if given."""
    import launch
    from launch.actions import EmitEvent, TimerAction
    from launch.events import Shutdown

    entities = [_include(path, arguments)]
    if duration_s is not None:
        entities.append(TimerAction(period=float(duration_s), actions=[
            EmitEvent(event=Shutdown(reason=f"duration of {duration_s} s reached"))]))
    service = launch.LaunchService(argv=[f"{k}:={v}" for k, v in arguments.items()], noninteractive=True)
    service.include_launch_description(launch.LaunchDescription(entities))
    return service.run()


def plan(path: Path, arguments: dict[str, str]) -> list[ProcessPlan]:
    """The processes the stock launch system would start for ``path``, in start order.

    The description is visited depth-first as ``LaunchService`` visits it, in a context marked
    as shut down: every action then performs its substitutions and conditions, and a process
    action prepares its final command and environment, but returns before starting anything.
    ``set_env`` writes ``os.environ`` under stock launch, so the environment is restored after.
    """
    import launch
    from launch.actions import ExecuteLocal

    saved = dict(os.environ)
    context = launch.LaunchContext(argv=[f"{k}:={v}" for k, v in arguments.items()], noninteractive=True)
    context._set_is_shutdown(True)  # prepare processes, start none (see the docstring)
    actions: list[ExecuteLocal] = []

    def visit(entity: Any) -> None:
        sub = entity.visit(context)
        if isinstance(entity, ExecuteLocal):
            if entity.process_details is not None:
                actions.append(entity)
            return
        for child in sub or []:
            visit(child)

    try:
        visit(launch.LaunchDescription([_include(path, arguments)]))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    plans = []
    for action in actions:
        details = action.process_details
        env = {k: v for k, v in details["env"].items() if saved.get(k) != v}
        plans.append(plan_from_command(list(details["cmd"]), env, name=details["name"].rsplit("-", 1)[0]))
    return plans
