"""The part every device node shares: a lifecycle node that paces a backend to the wall clock,
publishes its spikes as batches (one message per tick, sequence-numbered) and watches its link to
the hub (NTP-like clock exchange, ``link_status`` at 1 Hz, a watchdog on the hub's messages)."""

from __future__ import annotations

import time

import numpy as np

from neurohybrid.core.batching import SliceBatcher
from neurohybrid.core.clock import DeviceClock
from neurohybrid.core.events import NO_PRE_TIME_NS, SpikeEvents
from neurohybrid.core.link import LinkMonitor
from neurohybrid.core.params import ParamSet
from neurohybrid.msg import LinkStatus, Refusal, SpikeBatch
from neurohybrid.nodes.clock_link import ClockSyncClient
from neurohybrid.nodes.convert import fill_spike_batch
from neurohybrid.nodes.managed import ACTIVE, ManagedNode
from neurohybrid.nodes.runtime import Pacer, RefusalReporter, stamp_now, state_qos, stream_qos

LINK_STATUS_PERIOD_S = 1.0
"""``link_status`` is published once a second."""
WATCHDOG_POLL_MAX_S = 0.02
"""The watchdog looks at the link at least this often, s (and at least twice per ``watchdog_s``)."""


class DeviceNode(ManagedNode):
    """Base of the MEA and board nodes: configure opens the backend, activate arms it and streams
    spikes, deactivate puts the device in its safe state, cleanup releases it."""

    device = "device"

    def __init__(self, name: str, specs: ParamSet) -> None:
        super().__init__(name, specs)
        self.lab = self.params["lab"]
        self.hub_namespace = self.params["hub_namespace"]
        self.frame_id = f"{self.lab}/{self.device}"
        self.link = LinkMonitor(self.lab, self.hub_namespace.strip("/") or "hub", self.params["watchdog_s"])
        self._link_was_up = False
        self.backend = None
        self.clock_map: DeviceClock | None = None
        self._seq = 0
        self.batcher = SliceBatcher(self.params["idle_batch_s"], self.params["period_s"])

    # -- hooks for subclasses -------------------------------------------------------------
    def open_backend(self) -> object:
        """The (not yet configured) backend the node's parameters describe."""
        raise NotImplementedError

    def create_inputs(self) -> None:
        """Subscriptions and services of the device (made at configure, ``own``ed)."""

    # -- lifecycle ---------------------------------------------------------------------------
    def configure_node(self) -> None:
        self.backend = self.open_backend()
        self.backend.configure()
        self._spike_pub = self.own(self.create_lifecycle_publisher(SpikeBatch, "spikes",
                                                                   stream_qos(self.params["qos_depth"])))
        reporter = RefusalReporter(self, self.frame_id)
        self.refusals = self.own(reporter, release=reporter.destroy)
        self._status_pub = self.own(self.create_publisher(LinkStatus, "link_status", state_qos()))
        self.create_inputs()
        self.get_logger().info(f"configured {self.frame_id}: {self.backend.info()}")

    def activate_node(self) -> None:
        self.batcher.reset()
        self.own(self.create_timer(self.params["period_s"], self._tick), ACTIVE)
        sync = ClockSyncClient(f"{self.get_name()}_clock", self.get_namespace(), self.context,
                               f"{self.hub_namespace}/clock_sync",
                               self.params["sync_period_s"], self.link.add_exchange)
        self.own(sync, ACTIVE, release=sync.close)
        self.own(self.create_timer(LINK_STATUS_PERIOD_S, self._publish_link_status), ACTIVE)
        self.own(self.create_timer(min(self.params["watchdog_s"] / 2, WATCHDOG_POLL_MAX_S), self._watch_link), ACTIVE)
        self.backend.arm()
        # anchored right after arm: a live source (lsl) starts its device clock there (no timer runs before)
        self.clock_map = DeviceClock(self.frame_id, time.time_ns() - int(self.backend.now_ns))
        # paced from the same instant: device time then maps onto the wall clock without a lead
        # (a pacer started before the clock sync client's set-up ran the device 8-17 ms ahead)
        self._pacer = Pacer(self.params["max_step_s"])

    def deactivate_node(self) -> None:
        self.backend.safe_state()

    def deactivated_note(self) -> str:
        return f"{self.frame_id} deactivated: device in safe state"

    def release_device(self) -> None:
        if self.backend is not None:
            self.backend.shutdown()
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
        """The SpikeBatch of the slice [start, end) of device time, times in the lab clock; silent
        slices are merged up to ``idle_batch_s`` (:class:`~neurohybrid.core.batching.SliceBatcher`)."""
        span = self.batcher.span(len(events), start_ns, end_ns)
        if span is None:
            return
        start_ns, end_ns = span
        offset = self.clock_map.epoch_ns
        lab_events = SpikeEvents(events.source_id, events.time_ns + offset, events.kind)
        msg = SpikeBatch(seq=self._seq, clock_domain=self.lab,
                         slice_start_ns=int(start_ns + offset), slice_end_ns=int(end_ns + offset))
        fill_spike_batch(msg, lab_events)
        stamp_now(self, msg.header, self.frame_id)
        self._spike_pub.publish(msg)
        self._seq += 1

    def report_malformed(self, what: str, exc: Exception) -> None:
        """Count a malformed message from the hub and publish why it was dropped."""
        self.link.malformed += 1
        self.refusals.report(Refusal.CATEGORY_MALFORMED, f"{what}: {exc}")

    # -- link to the hub ---------------------------------------------------------------------
    def hub_heard(self, seq: int) -> None:
        """A batch from the hub arrived: the link is up from now (before the batch is used)."""
        self.link.heard(time.monotonic(), seq)
        if not self._link_was_up:
            self._watch_link()

    def hub_to_device_ns(self, hub_ns: np.ndarray) -> np.ndarray:
        """Hub-clock times (ns) -> this device's clock (ns), with the current offset estimate."""
        return self.clock_map.to_device(hub_ns - self.link.offset_ns)

    def note_arrival(self, pre_time_hub_ns: np.ndarray) -> None:
        """Input caused by presynaptic spikes at ``pre_time_hub_ns`` (hub clock) arrived now: count
        each one's experiment latency (:mod:`neurohybrid.core.latency`) in this device's clock."""
        caused = pre_time_hub_ns[pre_time_hub_ns != NO_PRE_TIME_NS]
        if len(caused):
            arrival_ns = self.clock_map.to_device(time.time_ns())
            self.link.latency.add_ns(arrival_ns - self.hub_to_device_ns(caused))

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
                    f"no message from {self.hub_namespace} for more than {self.params['watchdog_s']} s: link down")
                self.on_link_lost()

    def on_link_lost(self) -> None:
        """The hub fell silent beyond the watchdog (fail-safe hook)."""

    def on_link_restored(self) -> None:
        """The hub is heard again."""
