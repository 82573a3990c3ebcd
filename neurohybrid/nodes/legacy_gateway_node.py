"""Legacy gateway: a set-up speaking the original 2017 UDP protocol joins as one of the labs.

The peer plays lab ``lab`` with sender code ``sender_code`` (``'D'``: an MEA lab sending
timestamps, e.g. Padova; ``'A'``: a board lab sending inter-event intervals, e.g. Zurich).
Its packets, read from a non-blocking UDP socket on a timer (no blocking loop), become one
``SpikeBatch`` per tick on ``/<lab>/spikes`` (clock domain ``<lab>/legacy``, sequence-numbered).
``WeightedEventBatch`` on ``/<lab>/weighted_events`` (and, for a ``'D'`` peer,
``StimulationCommand`` on ``/<lab>/stimulation``, by the command's weight) go to the peer as
``'S'`` packets: target id, weight byte, presynaptic time in 50 us ticks modulo 2**24.
Malformed packets are counted, dropped and reported on ``refusals``; nothing a peer sends can
raise out of the node. Deactivated, the gateway sends nothing (its safe state).
Datagrams, codec and clock: :mod:`neurohybrid.legacy.gateway`, :mod:`neurohybrid.legacy.protocol`.
"""

from __future__ import annotations

import sys
import time

from neurohybrid.legacy.gateway import LegacyGateway, Outgoing
from neurohybrid.legacy.params import gateway_params, legacy_gateway
from neurohybrid.msg import Refusal, SpikeBatch, StimulationCommand, WeightedEventBatch
from neurohybrid.nodes.convert import MalformedMessage, fill_spike_batch, stimulus_from_msg, weighted_from_msg
from neurohybrid.nodes.managed import ACTIVE, ManagedNode
from neurohybrid.nodes.runtime import RefusalReporter, run, stamp_now, stream_qos

UDP_LOG_PERIOD_S = 1.0
"""Socket errors are logged at most once a second."""


class LegacyGatewayNode(ManagedNode):
    """Lifecycle node: configure binds the UDP socket, activate streams, deactivate stops sending."""

    def __init__(self) -> None:
        super().__init__("legacy_gateway", gateway_params())
        self.lab = self.params["lab"]
        self.frame_id = f"{self.lab}/legacy"
        self.gateway: LegacyGateway | None = None
        self._seq = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def configure_node(self) -> None:
        self.gateway = legacy_gateway(self.params)
        self.gateway.open()
        qos = stream_qos(self.params["qos_depth"])
        self._spike_pub = self.own(self.create_lifecycle_publisher(SpikeBatch, f"/{self.lab}/spikes", qos))
        reporter = RefusalReporter(self, self.frame_id)
        self.refusals = self.own(reporter, release=reporter.destroy)
        self.own(self.create_subscription(WeightedEventBatch, f"/{self.lab}/weighted_events", self._on_weighted, qos))
        if self.gateway.takes_stimulation:
            self.own(self.create_subscription(StimulationCommand, f"/{self.lab}/stimulation", self._on_stimulation,
                                              qos))
        self.get_logger().info(f"configured {self.frame_id}: UDP {self.params['bind_address']}:{self.params['port']}, "
                               f"peer sender {self.params['sender_code']!r}, clock {self.params['clock_anchor']}")

    def activate_node(self) -> None:
        stale = self.gateway.start(time.time_ns())
        if stale:
            self.get_logger().info(f"discarded {stale} datagrams queued while inactive")
        self.own(self.create_timer(self.params["period_s"], self._tick), ACTIVE)

    def deactivated_note(self) -> str:
        g = self.gateway
        return (f"{self.frame_id} deactivated: no 'S' packets sent; received {g.received}, malformed {g.malformed}, "
                f"sent {g.sent}")

    def release_device(self) -> None:
        if self.gateway is not None:
            self.gateway.close()
            self.gateway = None

    # -- legacy peer -> graph ----------------------------------------------------------------
    def _tick(self) -> None:
        arrival_ns = time.time_ns()
        incoming = self.gateway.poll(arrival_ns)
        for error in incoming.errors:
            self.get_logger().warning(error, throttle_duration_sec=UDP_LOG_PERIOD_S)
        for reason, count in incoming.malformed.items():
            self.refusals.report(Refusal.CATEGORY_MALFORMED, reason, count)
        if incoming.new_session_from is not None:
            self.get_logger().info(f"legacy session {self.gateway.clock.sessions} started by "
                                   f"{incoming.new_session_from}")
        msg = SpikeBatch(seq=self._seq, clock_domain=self.frame_id, slice_start_ns=int(incoming.slice_start_ns),
                         slice_end_ns=int(incoming.slice_end_ns))
        fill_spike_batch(msg, incoming.events)
        stamp_now(self, msg.header, self.frame_id)
        self._spike_pub.publish(msg)
        self._seq += 1

    # -- graph -> legacy peer ----------------------------------------------------------------
    def _on_weighted(self, msg: WeightedEventBatch) -> None:
        if self.phase != ACTIVE:
            return
        try:
            events = weighted_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"WeightedEventBatch: {exc}")
            return
        self._report(self.gateway.send_weighted(events, f"WeightedEventBatch seq {msg.seq}"))

    def _on_stimulation(self, msg: StimulationCommand) -> None:
        if self.phase != ACTIVE:
            return
        try:
            batch = stimulus_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"StimulationCommand: {exc}")
            return
        self._report(self.gateway.send_stimulation(batch, f"StimulationCommand seq {msg.seq}"))

    def _report(self, out: Outgoing) -> None:
        for reason, count in out.refused:
            self.refusals.report(Refusal.CATEGORY_INPUT, reason, count)
        for error in out.errors:
            self.get_logger().warning(error, throttle_duration_sec=UDP_LOG_PERIOD_S)


def main(args: list[str] | None = None) -> None:
    sys.exit(run(LegacyGatewayNode, args))


if __name__ == "__main__":
    main()
