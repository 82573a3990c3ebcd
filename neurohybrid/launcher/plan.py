"""What a launch file starts, in one comparable form for both runners (ours and stock ``launch``).

A :class:`ProcessPlan` is read off the final command line and environment of a process, the
way ``rcl`` reads ``--ros-args``: node name and namespace from ``__node``/``__ns``, parameters
from ``--params-file`` files (in order, the entries whose node pattern matches the node) then
``-p`` overrides, remaps from ``-r``. Two runners that produce equal plans start the same graph.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from neurohybrid.core.errors import NeurohybridError


class PlanError(NeurohybridError):
    """A command line or parameter file cannot be read the way rcl would read it."""


@dataclass(frozen=True)
class ProcessPlan:
    """One process a launch file starts, with everything that decides what it does."""

    executable: str
    name: str
    namespace: str = "/"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    remaps: tuple[tuple[str, str], ...] = ()
    arguments: tuple[str, ...] = ()
    environment: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``/namespace/name``, as ``ros2 node list`` shows a node."""
        return f"{self.namespace.rstrip('/')}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"executable": self.executable, "name": self.name, "namespace": self.namespace,
                "parameters": dict(self.parameters), "remaps": [list(r) for r in self.remaps],
                "arguments": list(self.arguments), "environment": dict(self.environment)}


def plan_from_command(cmd: list[str], environment: Mapping[str, str], name: str | None = None) -> ProcessPlan:
    """The plan of a process started as ``cmd`` with ``environment`` set by the launch file.

    ``name`` is the process name of a plain executable (a node's comes from ``__node``); a
    command found on ``PATH`` is named by its full path, as it runs.
    """
    cmd = [shutil.which(cmd[0]) or cmd[0], *cmd[1:]]
    if "--ros-args" not in cmd:
        return ProcessPlan(executable=cmd[0], name=name or Path(cmd[0]).name, arguments=tuple(cmd[1:]),
                           environment=dict(environment))
    split = cmd.index("--ros-args")
    node_name, namespace = name or Path(cmd[0]).name, "/"
    files: list[str] = []
    overrides: list[tuple[str, Any]] = []
    remaps: list[tuple[str, str]] = []
    rest = cmd[split + 1:]
    i = 0
    while i < len(rest):
        flag = rest[i]
        if flag == "--ros-args":
            i += 1
            continue
        if flag not in ("-r", "--remap", "-p", "--param", "--params-file") or i + 1 >= len(rest):
            raise PlanError(f"{cmd[0]}: unsupported ROS argument {flag!r}")
        value = rest[i + 1]
        i += 2
        if flag == "--params-file":
            files.append(value)
            continue
        if ":=" not in value:
            raise PlanError(f"{cmd[0]}: {flag} {value!r} is not name:=value")
        key, text = value.split(":=", 1)
        if flag in ("-p", "--param"):
            overrides.append((key, yaml.safe_load(text)))
        elif key == "__node":
            node_name = text
        elif key == "__ns":
            namespace = text
        else:
            remaps.append((key, text))
    fqn = f"{namespace.rstrip('/')}/{node_name}"
    parameters: dict[str, Any] = {}
    for path in files:
        parameters.update(parameters_for(fqn, path))
    parameters.update(overrides)
    return ProcessPlan(executable=cmd[0], name=node_name, namespace=namespace, parameters=parameters,
                       remaps=tuple(remaps), arguments=tuple(cmd[1:split]), environment=dict(environment))


def parameters_for(fqn: str, path: str) -> dict[str, Any]:
    """The parameters a ROS parameter file gives the node ``fqn`` (flattened ``a.b`` names)."""
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"parameter file {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise PlanError(f"parameter file {path}: top level must map node names to ros__parameters")
    out: dict[str, Any] = {}
    for pattern, body in doc.items():
        if _node_pattern(str(pattern)).fullmatch(fqn) and isinstance(body, dict):
            out.update(_flatten("", body.get("ros__parameters", {})))
    return out


def _node_pattern(pattern: str) -> re.Pattern:
    """rcl's node-name wildcards: ``**`` any number of tokens, ``*`` one token."""
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    parts = (re.escape(p) for p in re.split(r"(\*\*|\*)", pattern))
    regex = "".join({"\\*\\*": ".*", "\\*": "[^/]*"}.get(p, p) for p in parts)
    return re.compile(regex)


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(_flatten(f"{prefix}.{key}" if prefix else str(key), inner))
    return out
