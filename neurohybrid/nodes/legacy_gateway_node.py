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
Wire format and clock: ``neurohybrid.legacy.protocol``.
"""

from __future__ import annotations

import socket
import sys
import time

import numpy as np
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from neurohybrid.events import SpikeEvents
from neurohybrid.legacy.protocol import (
    DEFAULT_PORT,
    FIELD_MAX,
    SESSION_TIMEOUT_S,
    LegacyClock,
    decode,
    encode_synapse,
    spike_kinds,
    weight_to_byte,
)
from neurohybrid.msg import Refusal, SpikeBatch, StimulationCommand, WeightedEventBatch
from neurohybrid.nodes.convert import (
    MalformedMessage,
    fill_spike_batch,
    stimulus_from_msg,
    weighted_from_msg,
)
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import RefusalReporter, run, stamp_now, stream_qos

RECV_BYTES = 2048
"""Receive buffer per datagram, bytes: any datagram longer than one 8-byte packet is malformed."""

SOCKET_RCVBUF_BYTES = 1 << 22
"""Kernel receive buffer asked for, bytes: holds ~50k datagrams between two timer ticks."""

SENDER_CODES = {"A": ord("A"), "D": ord("D")}


class LegacyGatewayNode(LifecycleNode):
    """Lifecycle node: configure binds the UDP socket, activate streams, deactivate stops sending."""

    def __init__(self) -> None:
        super().__init__("legacy_gateway")
        d = lambda *a, **k: declare(self, *a, read_only=True, **k)  # noqa: E731
        declare(self, "autostart", True, "configure and activate at start")
        self.lab = d("lab", "padova", "lab the legacy peer plays: topics /<lab>/spikes, weighted_events, ...")
        code = d("sender_code", "D", "sender code of the peer: 'D' (MEA lab, timestamps) or 'A' "
                 "(board lab, inter-event intervals)", choices=tuple(SENDER_CODES))
        self.sender_code = SENDER_CODES[code]
        self.bind_address = d("bind_address", "127.0.0.1", "IPv4 address to listen on (0.0.0.0: all)")
        self.port = d("port", DEFAULT_PORT, "UDP port to listen on (5005 at the original hub)", (1, 65535))
        self.peer_address = d("peer_address", "127.0.0.1", "IPv4 address of the peer for 'S' packets "
                              "(used when peer_port is set)")
        self.peer_port = d("peer_port", 0, "UDP port of the peer for 'S' packets (0: reply to the "
                           "address and port its latest packet came from)", (0, 65535))
        self.period_s = d("period_s", 0.01, "socket poll and SpikeBatch publish period, s", (0.001, 1.0))
        self.session_timeout_s = d("session_timeout_s", SESSION_TIMEOUT_S,
                                   "silence after which the next packet starts a new session "
                                   "(legacy clock restarts), s", (0.01, 3600.0))
        self.clock_anchor = d("clock_anchor", "lab", "published times: 'lab' (wall clock of this machine, "
                              "session zero placed at the first packets) or 'session' (ns since the "
                              "session's zero)", choices=("lab", "session"))
        self.max_packets_per_tick = d("max_packets_per_tick", 10000, "datagrams read per tick at most",
                                      (1, 1_000_000))
        self.qos_depth = d("qos_depth", 100, "depth of the reliable streams", (1, 10000))
        self.frame_id = f"{self.lab}/legacy"
        self.clock = LegacyClock(anchored=self.clock_anchor == "lab",
                                 session_timeout_ns=int(self.session_timeout_s * 1e9))
        self.received = self.malformed = self.sent = 0
        self._sock: socket.socket | None = None
        self._entities: list = []
        self._spike_pub = None
        self._timer = None
        self._active = False
        self._seq = 0
        self._slice_start_ns = 0
        self._learned_peer: tuple[str, int] | None = None
        self.refusals: RefusalReporter | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_RCVBUF_BYTES)
            sock.bind((self.bind_address, self.port))
        except OSError as exc:
            sock.close()
            self.get_logger().error(f"configure failed: cannot bind UDP {self.bind_address}:{self.port}: {exc}")
            return TransitionCallbackReturn.FAILURE
        sock.setblocking(False)
        self._sock = sock
        qos = stream_qos(self.qos_depth)
        self._spike_pub = self.create_lifecycle_publisher(SpikeBatch, f"/{self.lab}/spikes", qos)
        self.refusals = RefusalReporter(self, self.frame_id)
        self._entities.append(self.create_subscription(
            WeightedEventBatch, f"/{self.lab}/weighted_events", self._on_weighted, qos))
        if self.sender_code == SENDER_CODES["D"]:
            self._entities.append(self.create_subscription(
                StimulationCommand, f"/{self.lab}/stimulation", self._on_stimulation, qos))
        self.get_logger().info(f"configured {self.frame_id}: UDP {self.bind_address}:{self.port}, "
                               f"peer sender {chr(self.sender_code)!r}, clock {self.clock_anchor}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        stale = len(self._read_datagrams()[0])
        if stale:
            self.get_logger().info(f"discarded {stale} datagrams queued while inactive")
        self.clock.reset(time.time_ns())
        self._slice_start_ns = self.clock.now_ns(time.time_ns())
        self._timer = self.create_timer(self.period_s, self._tick)
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        self.destroy_timer(self._timer)
        self._timer = None
        self.get_logger().info(f"{self.frame_id} deactivated: no 'S' packets sent; received "
                               f"{self.received}, malformed {self.malformed}, sent {self.sent}")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        for entity in self._entities:
            self.destroy_subscription(entity)
        self._entities = []
        self.destroy_lifecycle_publisher(self._spike_pub)
        self.refusals.destroy()
        self.shutdown_device()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.shutdown_device()
        return TransitionCallbackReturn.SUCCESS

    def shutdown_device(self) -> None:
        """Stop sending and close the socket, whatever the lifecycle state."""
        self._active = False
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- legacy peer -> graph ----------------------------------------------------------------
    def _read_datagrams(self) -> tuple[list[bytes], list[tuple[str, int]]]:
        """Everything queued on the socket (at most ``max_packets_per_tick``), without blocking."""
        data, sources = [], []
        for _ in range(self.max_packets_per_tick):
            try:
                datagram, source = self._sock.recvfrom(RECV_BYTES)
            except BlockingIOError:
                break
            except OSError as exc:  # e.g. an ICMP error reported for an earlier send
                self.get_logger().warning(f"UDP receive: {exc}", throttle_duration_sec=1.0)
                continue
            data.append(datagram)
            sources.append(source)
        return data, sources

    def _tick(self) -> None:
        datagrams, sources = self._read_datagrams()
        arrival_ns = time.time_ns()
        result = decode(datagrams)
        rejected = dict(result.rejected)
        wrong = result.packets.sender != self.sender_code
        if wrong.any():
            codes = ", ".join(sorted({chr(int(c)) for c in result.packets.sender[wrong]}))
            rejected[f"sender code {codes!r}, this gateway expects {chr(self.sender_code)!r}"] = int(wrong.sum())
        for reason, count in rejected.items():
            self.malformed += count
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"legacy UDP on port {self.port}: {reason}", count)
        packets, index = result.packets.select(~wrong), result.index[~wrong]
        times = np.empty(0, np.int64)
        if len(packets):
            sessions = self.clock.sessions
            times = self.clock.to_ns(packets.sender, packets.ticks, arrival_ns)
            if self.clock.sessions != sessions:
                self.get_logger().info(f"legacy session {self.clock.sessions} started by {sources[index[0]]}")
                if not self.clock.anchored:  # session time starts again from zero
                    self._slice_start_ns = 0
            self._learned_peer = sources[index[-1]]
            self.received += len(packets)
        self._publish(packets, times, arrival_ns)

    def _publish(self, packets: object, times: np.ndarray, arrival_ns: int) -> None:
        """One SpikeBatch for the slice [previous end, legacy clock now), events sorted by time."""
        order = np.argsort(times, kind="stable")
        events = SpikeEvents(packets.neuron_id[order], times[order], spike_kinds(packets)[order])
        end_ns = self.clock.now_ns(arrival_ns)
        msg = SpikeBatch(seq=self._seq, clock_domain=self.frame_id,
                         slice_start_ns=int(self._slice_start_ns), slice_end_ns=int(end_ns))
        fill_spike_batch(msg, events)
        stamp_now(self, msg.header, self.frame_id)
        self._spike_pub.publish(msg)
        self._seq += 1
        self._slice_start_ns = end_ns

    # -- graph -> legacy peer ----------------------------------------------------------------
    def _on_weighted(self, msg: WeightedEventBatch) -> None:
        if not self._active:
            return
        try:
            events = weighted_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"WeightedEventBatch: {exc}")
            return
        self._send(events.post_id, events.weight_byte, events.pre_time_ns, f"WeightedEventBatch seq {msg.seq}")

    def _on_stimulation(self, msg: StimulationCommand) -> None:
        if not self._active:
            return
        try:
            batch = stimulus_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"StimulationCommand: {exc}")
            return
        what = f"StimulationCommand seq {msg.seq}"
        w = batch.weight
        valid = np.isfinite(w) & (w >= 0) & (w <= 1)
        if not valid.all():
            self.refusals.report(Refusal.CATEGORY_INPUT, f"{what}: weight {w[~valid][0]!r} outside "
                                 "allowed [0, 1]", int((~valid).sum()))
        # A command carries its delivery time only: that is the time the peer is sent.
        self._send(batch.electrode[valid], weight_to_byte(w[valid]), batch.time_ns[valid], what)

    def _peer(self) -> tuple[str, int] | None:
        return (self.peer_address, self.peer_port) if self.peer_port else self._learned_peer

    def _send(self, post_id: np.ndarray, weight_byte: np.ndarray, time_ns: np.ndarray, what: str) -> None:
        """``'S'`` packets to the peer; targets beyond 24 bits, or no known peer, are refused."""
        fits = post_id <= FIELD_MAX
        if not fits.all():
            self.refusals.report(Refusal.CATEGORY_INPUT, f"{what}: target id {int(post_id[~fits][0])} outside "
                                 f"allowed [0, {FIELD_MAX}] of the 2017 protocol", int((~fits).sum()))
        n = int(fits.sum())
        if not n:
            return
        peer = self._peer()
        if peer is None:
            self.refusals.report(Refusal.CATEGORY_INPUT, f"{what}: no legacy peer to send to yet (it has "
                                 "sent nothing and peer_port is 0)", n)
            return
        datagrams = encode_synapse(post_id[fits], weight_byte[fits], self.clock.to_ticks(time_ns[fits]))
        for datagram in datagrams:
            try:
                self._sock.sendto(datagram, peer)
            except OSError as exc:
                self.get_logger().warning(f"UDP send to {peer}: {exc}", throttle_duration_sec=1.0)
                return
            self.sent += 1


def main(args: list[str] | None = None) -> None:
    sys.exit(run(LegacyGatewayNode, args))


if __name__ == "__main__":
    main()
