"""Parses a ROS 2 YAML launch file into the processes to start (the YAML frontend subset we use).

Every action takes the standard ``if``/``unless`` attributes (after substitution: true/1/false/0);
``executable: {cmd: ...}`` runs a plain command (split like a shell, ``shlex``), supervised like a node.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from neurohybrid.core.errors import NeurohybridError
from neurohybrid.launcher.plan import ProcessPlan, plan_from_command
from neurohybrid.launcher.substitutions import SubstitutionError, substitute


class LaunchError(NeurohybridError):
    """A launch file is invalid; the message names the file and the tag."""


@dataclass
class NodeSpec:
    """One node process to start."""

    package: str
    executable: str
    name: str | None = None
    namespace: str = "/"
    params: list[tuple[str, Any]] = field(default_factory=list)
    param_files: list[str] = field(default_factory=list)
    remaps: list[tuple[str, str]] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    respawn: bool = False
    respawn_delay_s: float = 1.0
    source: str = ""
    #: The command of an ``executable`` action (its first word is looked up on PATH); empty for a node.
    cmd: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        ns = self.namespace.rstrip("/")
        return f"{ns}/{self.name or self.executable}"


@dataclass
class _Scope:
    variables: dict[str, str]
    namespace: str
    env: dict[str, str]


ACTIONS = ("arg", "let", "node", "executable", "include", "group", "set_env", "set-env",
           "push_ros_namespace", "push-ros-namespace")
NODE_KEYS = {"pkg", "exec", "name", "namespace", "param", "remap", "respawn", "respawn_delay",
             "args", "output", "env", "ros_args", "launch-prefix", "exec_name"}
EXECUTABLE_KEYS = {"cmd", "name", "output", "env", "respawn", "respawn_delay"}
#: Attributes every action takes (ROS 2 launch frontend): the action runs only if the condition holds.
CONDITION_KEYS = ("if", "unless")
#: Values a condition may take once substituted (ROS 2 ``IfCondition``, case-insensitive).
CONDITION_VALUES = {"true": True, "1": True, "false": False, "0": False}


def load_launch_file(path: str | Path, arguments: dict[str, str] | None = None) -> list[NodeSpec]:
    """The node processes ``path`` describes, with ``arguments`` (``name:=value``) applied."""
    path = Path(path)
    scope = _Scope(variables={k: str(v) for k, v in (arguments or {}).items()}, namespace="/", env={})
    nodes: list[NodeSpec] = []
    _load(path, dict(arguments or {}), scope, nodes, stack=())
    return nodes


def _load(path: Path, arguments: dict[str, str], scope: _Scope, nodes: list[NodeSpec],
          stack: tuple[Path, ...]) -> None:
    if path.resolve() in stack:
        raise LaunchError(f"{path}: include cycle")
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise LaunchError(f"{path}: launch file not found") from None
    except yaml.YAMLError as exc:
        raise LaunchError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"launch"} or not isinstance(doc["launch"], list):
        raise LaunchError(f"{path}: top level must be a single 'launch:' list")
    ctx = _Context(path, arguments, nodes, stack + (path.resolve(),))
    ctx.actions(doc["launch"], scope)
    unused = set(arguments) - ctx.declared
    if unused and not stack:
        raise LaunchError(f"{path}: arguments not declared by the file: {', '.join(sorted(unused))}")


class _Context:
    def __init__(self, path: Path, arguments: dict[str, str], nodes: list[NodeSpec],
                 stack: tuple[Path, ...]) -> None:
        self.path = path
        self.arguments = arguments
        self.nodes = nodes
        self.stack = stack
        self.declared: set[str] = set()

    def error(self, tag: str, reason: str) -> LaunchError:
        return LaunchError(f"{self.path}: <{tag}>: {reason}")

    def sub(self, value: Any, scope: _Scope, tag: str) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return substitute(value, scope.variables, str(self.path.parent))
        except SubstitutionError as exc:
            raise self.error(tag, str(exc)) from None

    def actions(self, items: list, scope: _Scope) -> None:
        for item in items:
            if not isinstance(item, dict) or len(item) != 1:
                raise self.error("launch", f"each action must be a one-key mapping, got {item!r}")
            (tag, body), = item.items()
            if tag not in ACTIONS:
                raise self.error(tag, f"unknown tag; supported: {', '.join(ACTIONS)}")
            if isinstance(body, dict) and any(k in body for k in CONDITION_KEYS):
                if not self._condition_holds(tag, body, scope):
                    continue
                body = {k: v for k, v in body.items() if k not in CONDITION_KEYS}
            getattr(self, "_" + tag.replace("-", "_"))(body, scope)

    def _condition_holds(self, tag: str, body: dict, scope: _Scope) -> bool:
        """``if``/``unless`` of an action: each must substitute to true/1/false/0."""
        if all(k in body for k in CONDITION_KEYS):
            raise self.error(tag, "give either 'if' or 'unless', not both")
        key = "if" if "if" in body else "unless"
        text = str(self.sub(body[key], scope, tag)).strip().lower()
        if text not in CONDITION_VALUES:
            raise self.error(tag, f"{key}={body[key]!r} resolved to {text!r}; allowed "
                                  f"{', '.join(CONDITION_VALUES)}")
        return CONDITION_VALUES[text] == (key == "if")

    def _attrs(self, tag: str, body: Any, required: tuple[str, ...], allowed: set[str]) -> dict:
        if not isinstance(body, dict):
            raise self.error(tag, f"expected a mapping, got {body!r}")
        unknown = set(body) - allowed
        if unknown:
            raise self.error(tag, f"unknown attribute(s) {', '.join(sorted(unknown))}")
        missing = [k for k in required if k not in body]
        if missing:
            raise self.error(tag, f"missing attribute(s) {', '.join(missing)}")
        return body

    def _arg(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("arg", body, ("name",), {"name", "default", "description", "choices"})
        name = a["name"]
        self.declared.add(name)
        if name in scope.variables:  # given on the command line, by an include, or set before
            value = scope.variables[name]
        elif "default" in a:
            value = str(self.sub(a["default"], scope, "arg"))
        else:
            raise self.error("arg", f"argument {name!r} has no default and was not given ({name}:=VALUE)")
        choices = a.get("choices")
        if choices and value not in [str(c.get("value", c)) if isinstance(c, dict) else str(c) for c in choices]:
            raise self.error("arg", f"{name}={value!r} not among choices {choices}")
        scope.variables[name] = value

    def _let(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("let", body, ("name", "value"), {"name", "value"})
        scope.variables[a["name"]] = str(self.sub(a["value"], scope, "let"))

    def _set_env(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("set_env", body, ("name", "value"), {"name", "value"})
        scope.env[a["name"]] = str(self.sub(a["value"], scope, "set_env"))

    def _push_ros_namespace(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("push_ros_namespace", body, ("namespace",), {"namespace"})
        scope.namespace = _join_ns(scope.namespace, str(self.sub(a["namespace"], scope, "push_ros_namespace")))

    def _group(self, body: Any, scope: _Scope) -> None:
        """A scoped group (the default) keeps what its actions set (variables, namespace,
        environment) to itself; an unscoped one is just a list of actions."""
        if isinstance(body, dict):
            a = self._attrs("group", body, ("children",), {"children", "scoped", "forwarding"})
            children = a["children"]
            scoped = _bool(self.sub(a.get("scoped", True), scope, "group"),
                           self.error("group", "scoped must be true/false"))
            if not _bool(self.sub(a.get("forwarding", True), scope, "group"),
                         self.error("group", "forwarding must be true/false")):
                raise self.error("group", "forwarding: false is not supported by this runner")
        else:
            children, scoped = body, True
        if not isinstance(children, list):
            raise self.error("group", "children must be a list of actions")
        inner = _Scope(dict(scope.variables), scope.namespace, dict(scope.env)) if scoped else scope
        self.actions(children, inner)

    def _include(self, body: Any, scope: _Scope) -> None:
        """As stock launch includes: not scoped. The file sees (and its ``arg`` defaults yield to)
        the variables already set, and what it sets (variables, namespace, environment) stays
        set after it; put the include in a ``group`` to keep it to itself."""
        a = self._attrs("include", body, ("file",), {"file", "arg"})
        target = Path(self.sub(a["file"], scope, "include"))
        if not target.is_absolute():
            target = self.path.parent / target
        if not str(target).endswith((".yaml", ".yml")):
            raise self.error("include", f"{target}: only YAML launch files are supported here")
        args = {}
        for entry in a.get("arg", []) or []:
            e = self._attrs("include/arg", entry, ("name", "value"), {"name", "value"})
            args[e["name"]] = str(self.sub(e["value"], scope, "include"))
        scope.variables.update(args)
        try:
            _load(target, args, scope, self.nodes, self.stack)
        except LaunchError as exc:
            raise LaunchError(f"{exc}\n  included from {self.path}") from None

    def _node(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("node", body, ("pkg", "exec"), NODE_KEYS)
        s = lambda v: self.sub(v, scope, "node")  # noqa: E731
        ns = _join_ns(scope.namespace, str(s(a["namespace"]))) if "namespace" in a else scope.namespace
        spec = NodeSpec(package=s(a["pkg"]), executable=s(a["exec"]),
                        name=s(a["name"]) if "name" in a else None, namespace=ns,
                        env=dict(scope.env), source=str(self.path))
        for entry in a.get("param", []) or []:
            if not isinstance(entry, dict):
                raise self.error("node/param", f"expected a mapping, got {entry!r}")
            if "from" in entry:
                spec.param_files.append(str(s(entry["from"])))
            elif "name" in entry and "value" in entry:
                name = str(s(entry["name"]))
                try:
                    spec.params.append((name, _param_value(entry["value"], s)))
                except ValueError as exc:
                    raise self.error("node/param", f"{name}: {exc}") from None
            else:
                raise self.error("node/param", f"needs 'from' or 'name' and 'value', got {entry!r}")
        for entry in a.get("remap", []) or []:
            e = self._attrs("node/remap", entry, ("from", "to"), {"from", "to"})
            spec.remaps.append((str(s(e["from"])), str(s(e["to"]))))
        for entry in a.get("env", []) or []:
            e = self._attrs("node/env", entry, ("name", "value"), {"name", "value"})
            spec.env[e["name"]] = str(s(e["value"]))
        if "args" in a:
            spec.args = str(s(a["args"])).split()
        spec.respawn = _bool(s(a.get("respawn", False)), self.error("node", "respawn must be true/false"))
        spec.respawn_delay_s = float(s(a.get("respawn_delay", 1.0)))
        self.nodes.append(spec)

    def _executable(self, body: Any, scope: _Scope) -> None:
        a = self._attrs("executable", body, ("cmd",), EXECUTABLE_KEYS)
        s = lambda v: self.sub(v, scope, "executable")  # noqa: E731
        try:
            cmd = shlex.split(str(s(a["cmd"])))
        except ValueError as exc:
            raise self.error("executable", f"cmd {a['cmd']!r}: {exc}") from None
        if not cmd:
            raise self.error("executable", "cmd is empty")
        spec = NodeSpec(package="", executable=Path(cmd[0]).name,
                        name=str(s(a["name"])) if "name" in a else None, namespace=scope.namespace,
                        env=dict(scope.env), source=str(self.path), cmd=cmd)
        for entry in a.get("env", []) or []:
            e = self._attrs("executable/env", entry, ("name", "value"), {"name", "value"})
            spec.env[e["name"]] = str(s(e["value"]))
        spec.respawn = _bool(s(a.get("respawn", False)), self.error("executable", "respawn must be true/false"))
        spec.respawn_delay_s = float(s(a.get("respawn_delay", 1.0)))
        self.nodes.append(spec)


#: The types a parameter value may take, as stock launch_ros allows them (lists uniform).
PARAM_TYPES = (bool, int, float, str)


def _param_value(value: Any, s: Any) -> Any:
    """A parameter's value as stock launch_ros types it.

    A literal keeps its YAML type (a quoted ``"2"`` stays text); text holding a substitution is
    read as YAML once substituted (``$(var x)`` with x ``2`` is the integer 2; empty stays text).
    The result must be a bool, int, float or str, or a list of one of them; anything else
    (a mapping, null, a date, a mixed list) is refused, as stock launch refuses it.
    """
    if isinstance(value, list):
        items = [_param_scalar(v, s) for v in value]
        if len({type(v) for v in items}) > 1:
            raise ValueError(f"list {items!r} mixes types ({', '.join(sorted({type(v).__name__ for v in items}))})")
        return items
    result = _param_scalar(value, s, allow_list=True)
    if isinstance(result, list) and len({type(v) for v in result}) > 1:
        raise ValueError(f"list {result!r} mixes types")
    return result


def _param_scalar(value: Any, s: Any, allow_list: bool = False) -> Any:
    if isinstance(value, str):
        resolved = s(value)
        if resolved != value and resolved.strip():
            value = yaml.safe_load(resolved)
        else:
            value = resolved
    if allow_list and isinstance(value, list) and all(type(v) in PARAM_TYPES for v in value):
        return value
    if type(value) not in PARAM_TYPES:
        raise ValueError(f"value {value!r} ({type(value).__name__}) is not a bool, int, float, str or a "
                         f"list of one of them")
    return value


def _bool(value: Any, error: LaunchError) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise error


def _join_ns(base: str, ns: str) -> str:
    if ns.startswith("/"):
        return "/" + ns.strip("/") if ns.strip("/") else "/"
    joined = "/".join(p for p in (base.strip("/"), ns.strip("/")) if p)
    return "/" + joined


def parse_arguments(items: list[str]) -> dict[str, str]:
    """``["a:=1", "b:=x"]`` -> ``{"a": "1", "b": "x"}``; anything else is an error."""
    out = {}
    for item in items:
        if ":=" not in item:
            raise LaunchError(f"launch argument {item!r} must look like name:=value")
        key, value = item.split(":=", 1)
        out[key] = value
    return out


def command_line(spec: NodeSpec) -> list[str]:
    """The command that starts ``spec``, as ``ros2 launch`` would build it."""
    if spec.cmd:
        found = shutil.which(spec.cmd[0])
        if found is None:
            raise LaunchError(f"{spec.source}: <executable>: command {spec.cmd[0]!r} not found on PATH")
        return [found, *spec.cmd[1:]]
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        prefix = get_package_prefix(spec.package)
    except PackageNotFoundError:
        raise LaunchError(f"{spec.source}: <node>: package {spec.package!r} not found") from None
    exe = Path(prefix) / "lib" / spec.package / spec.executable
    if not os.access(exe, os.X_OK):
        raise LaunchError(f"{spec.source}: <node>: executable {spec.executable!r} not found in {exe.parent}")
    cmd = [str(exe), *spec.args, "--ros-args"]
    if spec.name:
        cmd += ["-r", f"__node:={spec.name}"]
    if spec.namespace != "/":
        cmd += ["-r", f"__ns:={spec.namespace}"]
    for pfile in spec.param_files:
        cmd += ["--params-file", pfile]
    for key, value in spec.params:
        cmd += ["-p", f"{key}:={_param_text(value)}"]
    for src, dst in spec.remaps:
        cmd += ["-r", f"{src}:={dst}"]
    return cmd


def plan(path: str | Path, arguments: dict[str, str] | None = None) -> list[ProcessPlan]:
    """What our runner starts for ``path``, in the form :mod:`neurohybrid.launcher.stock` also gives
    (the environment: what the file sets to a value other than this process's own)."""
    return [plan_from_command(command_line(spec), {k: v for k, v in spec.env.items() if os.environ.get(k) != v},
                              spec.name)
            for spec in load_launch_file(path, arguments)]


def _param_text(value: Any) -> str:
    """``value`` as rcl reads a ``-p name:=value`` (YAML), quoted where a string would not stay one."""
    if isinstance(value, str) and value and yaml.safe_load(value) == value:
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=float("inf")).strip().removesuffix("...").strip()
