"""The lifecycle every neurohybrid managed node shares, done once.

* Parameters are declared from the node's specs at construction (``self.params``).
* What a transition creates it ``own``s: entities made in configure are destroyed in cleanup,
  those made in activate in deactivate (timers, the clock-exchange thread), in reverse order,
  so configure -> cleanup -> configure leaves exactly one of each.
* A transition that raises a NeurohybridError (or a ValueError or OSError: bad configuration,
  a busy port) logs ``<transition> failed: <reason>``, releases what it had made, and fails;
  anything else is logged too and sends the node to ErrorProcessing, which releases all.
* Shutdown works from every state: the device is put in its safe state and released, whatever
  was reached; :meth:`ManagedNode.shutdown_device` does the same for the runner's ``finally``.

Subclasses fill in ``configure_node``, ``activate_node``, ``deactivate_node`` and
``release_device`` (each may be left empty). The last two also run from ``shutdown_device``,
possibly after the ROS context is gone: they neither log nor publish then.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from rclpy.client import Client
from rclpy.guard_condition import GuardCondition
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.lifecycle.publisher import LifecyclePublisher
from rclpy.publisher import Publisher
from rclpy.service import Service
from rclpy.subscription import Subscription
from rclpy.timer import Timer

from neurohybrid.core.errors import NeurohybridError
from neurohybrid.core.params import ParamSet
from neurohybrid.nodes.params import declare_params

E = TypeVar("E")

EXPECTED_FAILURES = (NeurohybridError, ValueError, OSError)
"""What a transition may fail with for a reason it can name (logged, transition FAILURE)."""

UNCONFIGURED, INACTIVE, ACTIVE = "unconfigured", "inactive", "active"


class ManagedNode(LifecycleNode):
    """A lifecycle node that owns what its transitions create and says why a transition failed."""

    def __init__(self, name: str, specs: ParamSet) -> None:
        super().__init__(name)
        self.params: dict[str, Any] = declare_params(self, specs)
        self.phase = UNCONFIGURED
        self._owned: dict[str, list[Callable[[], object]]] = {INACTIVE: [], ACTIVE: []}

    # --- what subclasses fill in -----------------------------------------------------------
    def configure_node(self) -> None:
        """Open the device and create publishers, subscriptions, services (all ``own``ed)."""

    def activate_node(self) -> None:
        """Start streaming: arm the device, create timers (``own(..., ACTIVE)``)."""

    def deactivate_node(self) -> None:
        """Stop streaming: put the device in its safe state (no logging: it also runs at shutdown)."""

    def deactivated_note(self) -> str:
        """What the log says once a deactivate transition has succeeded."""
        return f"{self.get_name()} deactivated"

    def release_device(self) -> None:
        """Release the device opened by ``configure_node`` (idempotent)."""

    # --- ownership ---------------------------------------------------------------------------
    def own(self, entity: E, until: str = INACTIVE, release: Callable[[], object] | None = None) -> E:
        """Keep ``entity`` until the node leaves ``until`` (INACTIVE: cleanup, ACTIVE: deactivate).

        ROS entities are destroyed with the node's matching ``destroy_*``; anything else needs
        its ``release`` callable.
        """
        self._owned[until].append(release or self._destroyer(entity))
        return entity

    def _destroyer(self, entity: object) -> Callable[[], object]:
        for kind, destroy in ((LifecyclePublisher, self.destroy_lifecycle_publisher),
                              (Publisher, self.destroy_publisher), (Subscription, self.destroy_subscription),
                              (Service, self.destroy_service), (Client, self.destroy_client),
                              (Timer, self.destroy_timer), (GuardCondition, self.destroy_guard_condition)):
            if isinstance(entity, kind):
                return lambda: destroy(entity)
        raise TypeError(f"cannot destroy {entity!r}: pass release=")

    def _release(self, until: str) -> None:
        owned, self._owned[until] = self._owned[until], []
        for release in reversed(owned):
            release()

    # --- transitions -------------------------------------------------------------------------
    def _run(self, transition: str, step: Callable[[], None], undo: Callable[[], None]) -> TransitionCallbackReturn:
        try:
            step()
        except EXPECTED_FAILURES as exc:
            self.get_logger().error(f"{transition} failed: {exc}")
            undo()
            return TransitionCallbackReturn.FAILURE
        except Exception as exc:  # a bug: say what it was, then ErrorProcessing releases everything
            self.get_logger().error(f"{transition} failed: {type(exc).__name__}: {exc}")
            return TransitionCallbackReturn.ERROR
        return TransitionCallbackReturn.SUCCESS

    def _configure(self) -> None:
        self.configure_node()
        self.phase = INACTIVE

    def _activate(self) -> None:
        self.activate_node()
        self.phase = ACTIVE

    def _leave(self, owned_until: str, hook: Callable[[], None], then: str) -> None:
        try:
            hook()
        finally:
            self._release(owned_until)
            self.phase = then

    def _stop(self) -> None:
        """Leave the active phase: safe state, then what activate made is destroyed."""
        if self.phase == ACTIVE:
            self._leave(ACTIVE, self.deactivate_node, INACTIVE)

    def _clean(self) -> None:
        """Leave the configured phase: the device released, then what configure made destroyed."""
        self._stop()
        self._leave(INACTIVE, self.release_device, UNCONFIGURED)

    def _deactivate(self) -> None:
        self._stop()
        self.get_logger().info(self.deactivated_note())

    def _stop_partial(self) -> None:
        """Undo a failed activate: what it made is destroyed, the device back in its safe state."""
        self.phase = ACTIVE
        self._stop()

    def _transition(self, transition: str, step: Callable[[], None], undo: Callable[[], None],
                    parent: Callable[[LifecycleState], TransitionCallbackReturn],
                    state: LifecycleState) -> TransitionCallbackReturn:
        """``step``, then rclpy's own handling of the managed entities if it succeeded."""
        result = self._run(transition, step, undo)
        return parent(state) if result == TransitionCallbackReturn.SUCCESS else result

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._transition("configure", self._configure, self._clean, super().on_configure, state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._transition("activate", self._activate, self._stop_partial, super().on_activate, state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._transition("deactivate", self._deactivate, self._stop, super().on_deactivate, state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._transition("cleanup", self._clean, self._clean, super().on_cleanup, state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        return self._transition("shutdown", self._clean, self._clean, super().on_shutdown, state)

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._run("error processing", self._clean, self._clean)
        return super().on_error(state)

    def shutdown_device(self) -> None:
        """Safe state and release, whatever the lifecycle state (Ctrl-C, the runner's finally)."""
        self._clean()
