"""Each node's parameters, read once through its standard parameter services (for provenance).

Every rclpy/rclcpp node serves ``<node>/list_parameters`` and ``<node>/get_parameters``
(rcl_interfaces). :class:`ParameterSnapshots` finds the nodes of the graph, asks each once for
the names then the values of all its parameters, and hands ``(node, {name: value})`` to a
callback. It is polled from the owner's timer (no future callbacks: those would need rclpy's
executor task queue); a node whose services never come up is simply asked again on every poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rcl_interfaces.srv import GetParameters, ListParameters
from rclpy.node import Node
from rclpy.parameter import parameter_value_to_python


@dataclass
class _Pending:
    lister: Any
    getter: Any
    future: Any = None
    names: list[str] | None = None


class ParameterSnapshots:
    """Reads the parameters of every other node in ``node``'s graph once; ``on_snapshot(fq_name, values)``."""

    def __init__(self, node: Node, on_snapshot: Callable[[str, dict[str, Any]], None]) -> None:
        self._node = node
        self._on_snapshot = on_snapshot
        self._pending: dict[str, _Pending] = {}
        self._done: set[str] = {node.get_fully_qualified_name()}

    def poll(self) -> None:
        """Start asking newly seen nodes and move every pending request one step on."""
        for name, namespace in self._node.get_node_names_and_namespaces():
            fq = f"{namespace.rstrip('/')}/{name}"
            if fq not in self._done and fq not in self._pending:
                self._pending[fq] = _Pending(self._node.create_client(ListParameters, f"{fq}/list_parameters"),
                                             self._node.create_client(GetParameters, f"{fq}/get_parameters"))
        for fq, p in list(self._pending.items()):
            self._step(fq, p)

    def _step(self, fq: str, p: _Pending) -> None:
        if p.future is None:
            if p.names is None and p.lister.service_is_ready():
                p.future = p.lister.call_async(ListParameters.Request())
            elif p.names is not None and p.getter.service_is_ready():
                p.future = p.getter.call_async(GetParameters.Request(names=p.names))
            return
        if not p.future.done():
            return
        result, p.future = p.future.result(), None
        if p.names is None:
            p.names = sorted(result.result.names)
            return
        self._finish(fq, p)
        self._on_snapshot(fq, {n: parameter_value_to_python(v) for n, v in zip(p.names, result.values)})

    def _finish(self, fq: str, p: _Pending) -> None:
        self._node.destroy_client(p.lister)
        self._node.destroy_client(p.getter)
        del self._pending[fq]
        self._done.add(fq)
