"""Parameter specs: each core declares its parameters once, everything else reads them.

A :class:`ParamSpec` is one parameter: name, type (that of its default), default, allowed range
or choices, unit, description and whether it is read-only once the node runs. A
:class:`ParamSet` is the ordered parameters of one core or node. From the same specs the nodes
declare their ROS parameters (``neurohybrid.nodes.params``), the cores check their arguments,
the tests check the YAML configurations and ``neurohybrid params`` prints the tables that the
README carries.

Types follow ROS 2 parameters: ``bool``, ``int``, ``float``, ``string`` and arrays of the three
last. A strict check (what rclpy does with a parameter file) refuses an int for a float; the
lenient check (Python callers) accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Iterable, Iterator, Mapping

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import Bounds, is_int, is_number

ParamValue = bool | int | float | str | list


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)) and value:
        return _type_name(value[0]) + "[]"
    raise TypeError(f"no parameter type for {value!r} (bool, int, float, str or a non-empty list)")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its default fixes its type; ``bounds`` apply to a number or to each
    element of a number array; ``choices`` to a string."""

    name: str
    default: ParamValue
    description: str
    unit: str = ""
    bounds: Bounds | None = None
    choices: tuple[str, ...] = ()
    read_only: bool = True

    def __post_init__(self) -> None:
        type_name = _type_name(self.default)
        if type_name.endswith("[]") and any(_type_name(v) != type_name[:-2] for v in self.default):
            raise TypeError(f"parameter {self.name!r}: default {self.default!r} mixes types")
        if self.bounds is not None and type_name.rstrip("[]") not in ("int", "float"):
            raise TypeError(f"parameter {self.name!r}: bounds on a {type_name} parameter")
        if self.bounds is not None and self.bounds.integer != (type_name.rstrip("[]") == "int"):
            raise TypeError(f"parameter {self.name!r}: integer bounds must go with an int default")
        if self.choices and type_name != "string":
            raise TypeError(f"parameter {self.name!r}: choices on a {type_name} parameter")
        self.check(self.default, strict=True)

    @property
    def type_name(self) -> str:
        """ROS parameter type: bool, int, float, string, int[], float[] or string[]."""
        return _type_name(self.default)

    def allowed(self) -> str:
        """What values are allowed, as the tables and error messages say it."""
        if self.bounds is not None:
            return self.bounds.text() + (" each" if self.type_name.endswith("[]") else "")
        if self.choices:
            return "one of: " + ", ".join(self.choices)
        return "any"

    def check(self, value: object, strict: bool = False) -> Any:
        """``value`` if it has this parameter's type and lies in its range or choices.

        ``strict``: types exactly as ROS 2 parameters (an int is not a float). Otherwise an int
        is taken for a float. Raises ConfigError naming the parameter, the value and what is allowed.
        """
        base = self.type_name.rstrip("[]")
        if self.type_name.endswith("[]"):
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"{self.name}={value!r} must be a list of {base}")
            return [self._element(v, base, strict) for v in value]
        return self._element(value, base, strict)

    def _element(self, value: object, base: str, strict: bool) -> Any:
        ok = {
            "bool": isinstance(value, bool),
            "int": is_int(value),
            "float": (isinstance(value, float) if strict else is_number(value)),
            "string": isinstance(value, str),
        }[base]
        if not ok:
            raise ConfigError(f"{self.name}={value!r} must be of type {base} ({self.allowed()})")
        if self.bounds is not None:
            return self.bounds.check(self.name, value)
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.name}={value!r} unknown; allowed: {', '.join(self.choices)}")
        return value


class ParamSet(Mapping[str, ParamSpec]):
    """The ordered parameter specs of one core or node (a name appears once)."""

    def __init__(self, title: str, specs: Iterable[ParamSpec]) -> None:
        self.title = title
        self._specs: dict[str, ParamSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"{title}: parameter {spec.name!r} declared twice")
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> ParamSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def join(self, title: str, *others: "ParamSet") -> "ParamSet":
        """This set followed by ``others``, under a new title."""
        return ParamSet(title, [s for p in (self, *others) for s in p.values()])

    def with_defaults(self, **defaults: ParamValue) -> "ParamSet":
        """A copy with other defaults for the named parameters (e.g. the lab of a node)."""
        unknown = sorted(set(defaults) - set(self))
        if unknown:
            raise KeyError(f"{self.title}: no parameter(s) {unknown}")
        return ParamSet(self.title, [replace(s, default=defaults.get(n, s.default)) for n, s in self.items()])

    def defaults(self) -> dict[str, ParamValue]:
        """Every parameter at its default."""
        return {name: spec.default for name, spec in self.items()}

    def check(self, values: Mapping[str, object], strict: bool = False) -> dict[str, Any]:
        """``values`` checked (unknown names refused), the missing ones at their defaults."""
        unknown = sorted(set(values) - set(self))
        if unknown:
            raise ConfigError(f"{self.title}: unknown parameter(s) {unknown}; known: {', '.join(self)}")
        return {name: spec.check(values[name], strict) if name in values else spec.default
                for name, spec in self.items()}

    def check_fields(self, obj: object) -> None:
        """Check every field of the frozen dataclass ``obj`` against the spec of its name, in place."""
        for f in fields(obj):
            object.__setattr__(obj, f.name, self[f.name].check(getattr(obj, f.name)))

    def markdown(self) -> str:
        """The set as a Markdown table (the ``neurohybrid params`` output and the README)."""
        rows = [f"**{self.title}**", "",
                "| parameter | type | default | allowed | unit | description |",
                "|---|---|---|---|---|---|"]
        for spec in self.values():
            writable = "" if spec.read_only else " (settable at run time)"
            rows.append(f"| `{spec.name}` | {spec.type_name} | `{_show(spec.default)}` | {spec.allowed()} | "
                        f"{spec.unit} | {spec.description}{writable} |")
        return "\n".join(rows)


def _show(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return repr(value)
