"""The executor of our nodes: one wait set kept across iterations, the data path served directly.

rclpy's ``SingleThreadedExecutor`` rebuilds its wait set over every entity of every node on
each iteration (a lifecycle node has ~30: parameter and lifecycle services, QoS event handlers,
timers, publishers' events), wraps each ready callback in a generator, a handler and a task, and
runs one callback per wait. That costs ~100 us of Python per message on these machines, against
tens of microseconds for the DDS sample itself.

:class:`LeanExecutor` keeps the entity lists and the ``WaitSet`` until the node creates or
destroys an entity, waits once for everything, and then calls the callbacks of ready
subscriptions (taking every queued message, not one per wait), timers and guard conditions
itself. The control plane (services, clients, QoS event handlers and other waitables) is rare
and stays with rclpy: when one of those is ready, rclpy's own executor takes it (``spin_once``
with a zero timeout), so parameter, lifecycle and service semantics are rclpy's exactly.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from rclpy.exceptions import InvalidHandle
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.subscription import Subscription

#: Messages taken from one subscription per wake-up before the others get their turn.
MAX_TAKES_PER_WAKE = 1000


class LeanExecutor:
    """Spins one node: subscriptions, timers and guard conditions directly, the rest through rclpy."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._context = node.context
        self._control = SingleThreadedExecutor(context=self._context)
        self._control.add_node(node)
        self._signature: tuple = ()
        self._wait_set: Any = None

    def _entities(self) -> tuple:
        n = self._node
        return (tuple(n.subscriptions), tuple(n.timers), tuple(n.guards), tuple(n.clients),
                tuple(n.services), tuple(n.waitables))

    def _refresh(self, entities: tuple) -> None:
        subs, timers, guards, clients, services, waitables = entities
        events = sum(w.get_num_entities().num_events for w in waitables)
        extra = [w.get_num_entities() for w in waitables]
        self._wait_set = _rclpy.WaitSet(
            len(subs) + sum(e.num_subscriptions for e in extra),
            len(guards) + sum(e.num_guard_conditions for e in extra),
            len(timers) + sum(e.num_timers for e in extra),
            len(clients) + sum(e.num_clients for e in extra),
            len(services) + sum(e.num_services for e in extra),
            events, self._context.handle)
        self._subs = {s.handle.pointer: s for s in subs}
        self._with_info = {s.handle.pointer for s in subs
                           if s._callback_type is Subscription.CallbackType.WithMessageInfo}
        # a timer whose callback wants a TimerInfo is left to rclpy, which passes it
        self._timers = {t.handle.pointer: t for t in timers
                        if t.callback is not None and not inspect.signature(t.callback).parameters}
        self._guards = {g.handle.pointer: g for g in guards}
        self._handles = ([s.handle for s in subs], [t.handle for t in timers], [g.handle for g in guards],
                         [c.handle for c in clients], [s.handle for s in services], list(waitables))
        self._signature = entities

    def spin_until(self, done: Callable[[], bool], timeout_s: float | None = None) -> None:
        """Serve the node until ``done()`` is true (checked after every wake-up)."""
        while not done():
            self.spin_once(timeout_s)

    def spin_once(self, timeout_s: float | None = None) -> None:
        """Wait (at most ``timeout_s``, forever if None) and run everything that became ready."""
        if not self._context.ok():
            raise ExternalShutdownException()
        entities = self._entities()
        if entities != self._signature:
            self._refresh(entities)
        ws = self._wait_set
        subs, timers, guards, clients, services, waitables = self._handles
        ws.clear_entities()
        for h in subs:
            ws.add_subscription(h)
        for h in timers:
            ws.add_timer(h)
        for h in guards:
            ws.add_guard_condition(h)
        for h in clients:
            ws.add_client(h)
        for h in services:
            ws.add_service(h)
        for w in waitables:
            w.add_to_wait_set(ws)
        ws.wait(-1 if timeout_s is None else int(timeout_s * 1e9))
        if not self._context.ok():
            raise ExternalShutdownException()
        control = bool(ws.get_ready_entities("client") or ws.get_ready_entities("service")
                       or any(w.is_ready(ws) for w in waitables))
        ready_timers = ws.get_ready_entities("timer")
        ready_guards = ws.get_ready_entities("guard_condition")
        for ptr in ws.get_ready_entities("subscription"):
            self._take_all(self._subs[ptr], ptr in self._with_info)
        for ptr in ready_timers:
            timer = self._timers.get(ptr)
            if timer is None:
                control = True
            else:
                self._call_timer(timer)
        for ptr in ready_guards:
            guard = self._guards.get(ptr)
            if guard is not None and guard.callback is not None:
                guard.callback()
        if control:
            self._control.spin_once(timeout_sec=0.0)

    @staticmethod
    def _take_all(sub: Subscription, with_info: bool) -> None:
        for _ in range(MAX_TAKES_PER_WAKE):
            try:
                with sub.handle:
                    taken = sub.handle.take_message(sub.msg_type, sub.raw)
            except InvalidHandle:  # destroyed by an earlier callback of this wake-up
                return
            if taken is None:
                return
            if with_info:
                sub.callback(*taken)
            else:
                sub.callback(taken[0])

    @staticmethod
    def _call_timer(timer: Any) -> None:
        try:
            with timer.handle:
                if not timer.handle.is_timer_ready():  # cancelled after the wait (rcl quirk)
                    return
                timer.handle.call_timer()
        except InvalidHandle:
            return
        timer.callback()
