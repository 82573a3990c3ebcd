"""What every neurohybrid node shares: QoS, stamping, counters, the main() runner."""

from __future__ import annotations

import gc
import time
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)

from neurohybrid.core.units import NS_PER_S
from neurohybrid.msg import Refusal
from neurohybrid.nodes.executor import LeanExecutor
from neurohybrid.nodes.stop import STOP


def stream_qos(depth: int = 100, reliable: bool = True) -> QoSProfile:
    """Spike streams: reliable with bounded depth (loss visible via seq) or best effort."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.VOLATILE,
    )


def state_qos() -> QoSProfile:
    """State and configuration: reliable + transient-local, so late joiners get the latest."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=1,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def event_qos(depth: int = 1000) -> QoSProfile:
    """Sparse but precious events (refusals, plasticity): reliable, kept for late joiners."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL,
    )


def stamp_now(node: Node, header: object, frame_id: str) -> None:
    """Stamp ``header`` with the node's ROS time and set its frame."""
    header.stamp = node.get_clock().now().to_msg()
    header.frame_id = frame_id


def stamp_ns(header: object) -> int:
    """A header stamp as integer nanoseconds."""
    return int(header.stamp.sec) * NS_PER_S + int(header.stamp.nanosec)


class RefusalReporter:
    """Logs, counts and publishes refusals (stimulation, programming, malformed input).

    Every refusal is published; the log gets at most one line per second (a logger call costs
    more than the refusal itself at high rates), carrying the count since the last line.
    """

    def __init__(self, node: Node, frame_id: str, topic: str = "refusals",
                 log_period_s: float = 1.0) -> None:
        self._node = node
        self._frame_id = frame_id
        self._pub = node.create_publisher(Refusal, topic, event_qos())
        self._log_period_s = log_period_s
        self._last_log = float("-inf")
        self._unlogged = 0
        self.totals: dict[int, int] = {}

    def report(self, category: int, reason: str, count: int = 1) -> None:
        """Count ``count`` refused items of ``category`` and tell the world why."""
        self.totals[category] = self.totals.get(category, 0) + count
        self._unlogged += count
        now = time.monotonic()
        if now - self._last_log >= self._log_period_s:
            self._node.get_logger().warning(
                f"refused {self._unlogged} item(s) since last report (total {self.totals[category]}): {reason}")
            self._last_log, self._unlogged = now, 0
        msg = Refusal(category=category, reason=reason, count=count, total=self.totals[category])
        stamp_now(self._node, msg.header, self._frame_id)
        self._pub.publish(msg)

    def report_all(self, category: int, reasons: list[str]) -> None:
        """One refusal of ``len(reasons)`` items, told by the first reason (and how many more)."""
        if reasons:
            more = f" (+{len(reasons) - 1} more in this batch)" if len(reasons) > 1 else ""
            self.report(category, reasons[0] + more, len(reasons))

    def destroy(self) -> None:
        self._node.destroy_publisher(self._pub)


class Pacer:
    """Paces a simulated device to the wall clock: how far to advance on each timer tick.

    A tick advances by the wall time elapsed since the device's last advance, capped at
    ``max_step_s`` so a stall is caught up gradually; ``lag_s`` says how far behind it is.
    """

    def __init__(self, max_step_s: float) -> None:
        self.max_step_s = max_step_s
        self._start = time.monotonic()
        self._advanced_s = 0.0

    def step_s(self) -> float:
        due = time.monotonic() - self._start - self._advanced_s
        step = min(max(due, 0.0), self.max_step_s)
        self._advanced_s += step
        return step

    @property
    def lag_s(self) -> float:
        return time.monotonic() - self._start - self._advanced_s


def autostart(node: LifecycleNode) -> None:
    """Configure and activate ``node`` (used when its ``autostart`` parameter is true).

    A stop requested while the node configures (a kernel may be loading) skips the activation.
    """
    if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
        raise RuntimeError(f"{node.get_name()}: configure failed (see log)")
    if STOP.requested:
        return
    if node.trigger_activate() != TransitionCallbackReturn.SUCCESS:
        raise RuntimeError(f"{node.get_name()}: activate failed (see log)")


def run(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    """Init rclpy, build the node, spin until SIGINT/SIGTERM or shutdown, clean up; exit code.

    Signals are a stop request (:mod:`neurohybrid.nodes.stop`), not an exception: the loop
    returns at the next wake-up, and the device is put in its safe state and closed while the
    context is still valid (so what it publishes on the way out is delivered), then the context
    is shut down. A signal arriving while the node starts lets it finish starting, then stop.
    """
    STOP.install()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    wake = None
    code = 0
    try:
        node = make_node()
        if isinstance(node, LifecycleNode) and node.get_parameter("autostart").value and not STOP.requested:
            autostart(node)
        # The objects of start-up (modules, rclpy, configured devices) leave the collector's
        # view: its full passes then scan only what streaming allocates (a pause in the loop).
        gc.freeze()
        wake = node.create_guard_condition(lambda: None).trigger
        STOP.add_waker(wake)
        LeanExecutor(node).spin_until(lambda: STOP.requested)
        node.get_logger().info(f"{STOP.signal_name}: stopping")
    except ExternalShutdownException:
        pass
    except Exception as exc:  # a node that cannot start says why and exits non-zero
        if node is not None:
            node.get_logger().fatal(str(exc))
        else:
            print(f"fatal: {exc}", flush=True)
        code = 1
    finally:
        if wake is not None:
            STOP.remove_waker(wake)
        if node is not None:
            shutdown = getattr(node, "shutdown_device", None)
            if shutdown is not None:
                shutdown()
            node.destroy_node()
        rclpy.try_shutdown()
        STOP.settle()
    return code
