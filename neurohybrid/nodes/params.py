"""Parameter declaration with type, range and description (rclpy refuses values outside the range)."""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node


def declare(
    node: Node,
    name: str,
    default: Any,
    description: str,
    range_: tuple[float, float] | None = None,
    read_only: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """Declare ``name`` with its type, range and description; return its value.

    Out-of-range values (from a launch file, a YAML file or ``ros2 param set``) are refused by
    rclpy with a message naming the parameter and its range; ``choices`` are checked here.
    """
    desc = ParameterDescriptor(description=description, read_only=read_only)
    if choices:
        desc.additional_constraints = f"one of: {', '.join(choices)}"
    if range_ is not None:
        lo, hi = range_
        if isinstance(default, bool):
            raise TypeError(f"parameter {name!r}: a bool has no range")
        if isinstance(default, int):
            desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
        else:
            desc.floating_point_range = [
                FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)
            ]
    value = node.declare_parameter(name, default, desc).value
    if choices and value not in choices:
        raise ValueError(f"parameter {name!r}={value!r} not one of: {', '.join(choices)}")
    return value

