"""The part every device node shares: a lifecycle node that paces a backend to the wall clock,
publishes its spikes as batches (one message per tick, sequence-numbered) and watches its link to
the hub (NTP-like clock exchange, ``link_status`` at 1 Hz, a watchdog on the hub's messages)."""

from __future__ import annotations

import time

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from neurohybrid.clock import DeviceClock
from neurohybrid.events import SpikeEvents
from neurohybrid.link import LinkMonitor
from neurohybrid.msg import LinkStatus, Refusal, SpikeBatch
from neurohybrid.nodes.convert import fill_spike_batch
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import Pacer, RefusalReporter, stamp_now, state_qos, stream_qos
from neurohybrid.nodes.clock_link import ClockSyncClient


class DeviceNode(LifecycleNode):
    """Base of the MEA and board nodes: configure opens the backend, activate streams spikes,
    deactivate puts the device in its safe state, cleanup closes it."""

    device = "device"

    def __init__(self, name: str, default_lab: str) -> None:
        super().__init__(name)
        declare(self, "autostart", True, "configure and activate at start (no lifecycle manager needed)")
        self.lab = declare(self, "lab", default_lab, "lab owning this device; frame_id is <lab>/<device>",
                           read_only=True)
        self.period_s = declare(self, "period_s", 0.01, "device step and publish period, s",
                                (0.001, 0.1), read_only=True)
        self.max_step_s = declare(self, "max_step_s", 0.1, "largest catch-up step after a stall, s",
                                  (0.001, 1.0), read_only=True)
        self.qos_depth = declare(self, "qos_depth", 100, "depth of the reliable spike streams",
                                 (1, 10000), read_only=True)
        self.hub_namespace = declare(self, "hub_namespace", "/southampton", "namespace of the hub node",
                                     read_only=True)
        self.sync_period_s = declare(self, "sync_period_s", 0.25, "period of clock exchanges with the hub, s",
                                     (0.01, 60.0), read_only=True)
        self.watchdog_s = declare(self, "watchdog_s", 0.1, "hub silent longer than this: link down, s",
                                  (0.001, 60.0), read_only=True)
        self.frame_id = f"{self.lab}/{self.device}"
        self.link = LinkMonitor(self.lab, self.hub_namespace.strip("/") or "hub", self.watchdog_s)
        self._link_timers: list = []
        self._sync: ClockSyncClient | None = None
        self._link_was_up = False
        self.backend = None
        self.clock_map: DeviceClock | None = None
        self._seq = 0
        self._timer = None
        self._spike_pub = None
        self.refusals: RefusalReporter | None = None

    # -- hooks for subclasses -------------------------------------------------------------
    def open_backend(self) -> object:
        raise NotImplementedError

    def create_inputs(self) -> None:
        """Subscriptions and services of the device (made at configure)."""

    def destroy_inputs(self) -> None:
        """Undo ``create_inputs``."""

    # -- lifecycle ---------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self.backend = self.open_backend()
            self.backend.configure()
        except (ValueError, KeyError, OSError) as exc:
            self.get_logger().error(f"configure failed: {exc}")
            self.backend = None
            return TransitionCallbackReturn.FAILURE
        self._spike_pub = self.create_lifecycle_publisher(SpikeBatch, "spikes", stream_qos(self.qos_depth))
        self.refusals = RefusalReporter(self, self.frame_id)
        self._status_pub = self.create_publisher(LinkStatus, "link_status", state_qos())
        self.create_inputs()
        self.get_logger().info(f"configured {self.frame_id}: {self.backend.info()}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.clock_map = DeviceClock(self.frame_id, time.time_ns() - int(self.backend.now_ns))
        self._pacer = Pacer(self.max_step_s)
        self._timer = self.create_timer(self.period_s, self._tick)
        self._sync = ClockSyncClient(f"{self.get_name()}_clock", self.get_namespace(),
                                     f"{self.hub_namespace}/clock_sync", self.sync_period_s,
                                     self.link.add_exchange)
        self._link_timers = [self.create_timer(1.0, self._publish_link_status),
                             self.create_timer(min(self.watchdog_s / 2, 0.02), self._watch_link)]
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.destroy_timer(self._timer)
        for timer in self._link_timers:
            self.destroy_timer(timer)
        self._sync.close()
        self._timer, self._link_timers, self._sync = None, [], None
        self.backend.safe_state()
        self.get_logger().info(f"{self.frame_id} deactivated: device in safe state")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.destroy_inputs()
        self.destroy_publisher(self._status_pub)
        self.destroy_lifecycle_publisher(self._spike_pub)
        self.refusals.destroy()
        self.backend.close()
        self.backend = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.shutdown_device()
        return TransitionCallbackReturn.SUCCESS

    def shutdown_device(self) -> None:
        """Safe state and close, whatever the lifecycle state (Ctrl-C, shutdown)."""
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        if self.backend is not None:
            self.backend.safe_state()
            self.backend.close()
            self.backend = None

    # -- streaming ---------------------------------------------------------------------------
    def _tick(self) -> None:
        step_s = self._pacer.step_s()
        if step_s <= 0.0:
            return
        start_ns = self.backend.now_ns
        events = self.backend.advance(step_s)
        self.publish_spikes(events, start_ns, self.backend.now_ns)

    def publish_spikes(self, events: SpikeEvents, start_ns: int, end_ns: int) -> None:
        """One SpikeBatch for the slice [start, end) of device time, times in the lab clock."""
        offset = self.clock_map.epoch_ns
        lab_events = SpikeEvents(events.source_id, events.time_ns + offset, events.kind)
        msg = SpikeBatch(seq=self._seq, clock_domain=self.lab,
                         slice_start_ns=int(start_ns + offset), slice_end_ns=int(end_ns + offset))
        fill_spike_batch(msg, lab_events)
        stamp_now(self, msg.header, self.frame_id)
        self._spike_pub.publish(msg)
        self._seq += 1

    def report_malformed(self, what: str, exc: Exception) -> None:
        self.link.malformed += 1
        self.refusals.report(Refusal.CATEGORY_MALFORMED, f"{what}: {exc}")

    # -- link to the hub ---------------------------------------------------------------------
    def hub_to_device_ns(self, hub_ns):
        """Hub-clock times -> this device's clock, with the current offset estimate."""
        return self.clock_map.to_device(hub_ns - self.link.offset_ns)

    def _publish_link_status(self) -> None:
        msg = LinkStatus(**self.link.status(time.monotonic()))
        stamp_now(self, msg.header, f"{self.lab}/link")
        self._status_pub.publish(msg)

    def _watch_link(self) -> None:
        up = self.link.is_up(time.monotonic())
        if up != self._link_was_up:
            self._link_was_up = up
            if up:
                self.get_logger().info(f"link to {self.hub_namespace} up")
                self.on_link_restored()
            else:
                self.get_logger().warning(
                    f"no message from {self.hub_namespace} for more than {self.watchdog_s} s: link down")
                self.on_link_lost()

    def on_link_lost(self) -> None:
        """The hub fell silent beyond the watchdog (fail-safe hook)."""

    def on_link_restored(self) -> None:
        """The hub is heard again."""
