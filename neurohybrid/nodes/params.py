"""ROS parameters declared from the cores' specs: type, default, range, unit, description, read-only.

rclpy refuses values outside a declared range (from a launch file, a YAML file or
``ros2 param set``) with a message naming the parameter and its range; what a ROS range cannot
say (an open end, choices, array elements) is checked here against the same spec, at
declaration and on every later update of a writable parameter.
"""

from __future__ import annotations

from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec


def descriptor(spec: ParamSpec) -> ParameterDescriptor:
    """The ROS descriptor of ``spec``: description with its unit, allowed values, range, read-only."""
    unit = f" [{spec.unit}]" if spec.unit else ""
    # A float parameter takes an integer too (``replay_speed:=2`` from a launch file or the CLI is
    # YAML-typed as an integer, which ROS would refuse): its type is checked by the spec instead.
    desc = ParameterDescriptor(description=spec.description + unit, read_only=spec.read_only,
                               additional_constraints=spec.allowed(), dynamic_typing=spec.type_name == "float")
    if spec.bounds is not None and not spec.type_name.endswith("[]"):
        lo, hi = spec.bounds.low, spec.bounds.high
        if spec.bounds.integer:
            desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=0)]
        else:
            desc.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
    return desc


def declare_params(node: Node, specs: ParamSet) -> dict[str, Any]:
    """Declare every parameter of ``specs`` on ``node``; return the values, each checked by its spec.

    A value its spec refuses raises ConfigError (naming the parameter, the value and what is
    allowed); later updates of writable parameters are refused the same way, with that reason.
    """
    values = {}
    for name, spec in specs.items():
        value = node.declare_parameter(name, spec.default, descriptor(spec)).value
        checked = spec.check(list(value) if spec.type_name.endswith("[]") else value)
        values[name] = float(checked) if spec.type_name == "float" else checked

    def on_set(parameters: list) -> SetParametersResult:
        for parameter in parameters:
            if parameter.name in specs:
                try:
                    specs[parameter.name].check(parameter.value)
                except ConfigError as exc:
                    return SetParametersResult(successful=False, reason=str(exc))
        return SetParametersResult(successful=True)

    node.add_on_set_parameters_callback(on_set)
    return values
