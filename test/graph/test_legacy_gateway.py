"""The legacy gateway against a client written from the 2017 protocol description (plain sockets).

The client packs packets itself with ``struct '!II'`` (word 1: sender code << 24 | neuron id;
word 2: kind or weight byte << 24 | 24-bit time in 50 us ticks), independently of the codec.
"""

from __future__ import annotations

import socket
import struct
import time

import numpy as np
import pytest

pytestmark = pytest.mark.graph

TICK_NS = 50_000
MASK = 2**24 - 1


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def packet(code: str, neuron_id: int, byte: int, ticks: int) -> bytes:
    return struct.pack("!II", (ord(code) << 24) | neuron_id, (byte << 24) | ticks)


class Harness:
    """The test's node (spikes, refusals in; weighted events, stimulation out) and a UDP client."""

    def __init__(self, context: object, lab: str) -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        from neurohybrid.msg import Refusal, SpikeBatch, StimulationCommand, WeightedEventBatch
        from neurohybrid.nodes.runtime import event_qos, stream_qos

        self.node = Node(f"legacy_test_{lab}", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.batches: list = []
        self.refusals: list = []
        self.node.create_subscription(SpikeBatch, f"/{lab}/spikes", self.batches.append, stream_qos())
        self.node.create_subscription(Refusal, "/refusals", self.refusals.append, event_qos())
        self.weighted = self.node.create_publisher(WeightedEventBatch, f"/{lab}/weighted_events", stream_qos())
        self.stimulation = self.node.create_publisher(StimulationCommand, f"/{lab}/stimulation", stream_qos())
        self.client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.client.bind(("127.0.0.1", 0))
        self.client.setblocking(False)
        self.received: list[bytes] = []

    def poll(self) -> None:
        self.executor.spin_once(timeout_sec=0.02)
        while True:
            try:
                self.received.append(self.client.recv(64))
            except BlockingIOError:
                return

    def events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All spike events received so far, in message order: ids, times (ns), kinds."""
        cat = lambda name, dt: np.concatenate(  # noqa: E731
            [np.asarray(getattr(b, name), dtype=dt) for b in self.batches] or [np.empty(0, dt)])
        return cat("source_id", np.uint32), cat("time_ns", np.int64), cat("kind", np.uint8)

    def malformed_total(self) -> int:
        return max((r.total for r in self.refusals if r.category == 2), default=0)

    def close(self) -> None:
        self.client.close()
        self.node.destroy_node()


def wait_active(h: Harness, gateway: object) -> None:
    """Discovery done and the gateway streaming (its timer only runs once it is active)."""
    from neurohybrid.testing.graph import wait_for

    wait_for(lambda: bool(h.batches) and h.weighted.get_subscription_count() > 0,
             timeout_s=30, poll=h.poll, what=f"gateway active (log: {gateway.log_path})")


def test_dendrite_peer_round_trips_ids_kinds_and_timestamps_and_survives_garbage(ros_context, start_node):
    from neurohybrid.msg import StimulationCommand, WeightedEventBatch
    from neurohybrid.nodes.convert import to_array
    from neurohybrid.testing.graph import wait_for

    port = free_udp_port()
    gateway = start_node("legacy_gateway_node", "--ros-args", "-p", f"port:={port}", "-p", "lab:=padova",
                         "-p", "sender_code:=D")
    h = Harness(ros_context, "padova")
    wait_active(h, gateway)
    ids = [0, 21, MASK, 1000, 7]
    kinds = [2, 0, 1, 2, 0]
    ticks = [MASK - 2, MASK, 1, 5, 40]           # the 24-bit timestamp wraps after the second
    unwrapped = np.array([MASK - 2, MASK, MASK + 2, MASK + 6, MASK + 41])
    garbage = [b"abc", b"123456789", packet("X", 1, 0, 0), packet("D", 2, 7, 0), packet("A", 3, 0, 9)]
    first_seq = h.batches[-1].seq
    sent_at = time.time_ns()
    for i in range(len(ids)):
        h.client.sendto(packet("D", ids[i], kinds[i], ticks[i]), ("127.0.0.1", port))
        if i == 2:
            for g in garbage:
                h.client.sendto(g, ("127.0.0.1", port))
    wait_for(lambda: len(h.events()[0]) == len(ids) and h.malformed_total() == len(garbage),
             timeout_s=20, poll=h.poll, what="spikes and refusals from the gateway")
    got_ids, got_t, got_kinds = h.events()
    assert got_ids.tolist() == ids
    assert got_kinds.tolist() == kinds
    assert (got_t - got_t[0]).tolist() == ((unwrapped - unwrapped[0]) * TICK_NS).tolist()
    assert abs(int(got_t[-1]) - sent_at) < 5e9, "lab-anchored times lie on this machine's clock"
    later = [b for b in h.batches if b.seq >= first_seq]
    assert [b.seq for b in later] == list(range(first_seq, first_seq + len(later)))
    assert {b.clock_domain for b in h.batches} == {"padova/legacy"}
    assert {b.header.frame_id for b in h.batches} == {"padova/legacy"}

    # Hub -> peer: weights go out as 'S' packets to where the peer sent from, with the
    # presynaptic times given back in the peer's own ticks.
    post, weight_bytes, pre = [3, MASK, 0], [0, 255, 128], got_t[[0, 2, 4]]
    msg = WeightedEventBatch(seq=1, clock_domain="southampton")
    msg.pre_id = to_array(np.array([1, 2, 3]), np.uint32)
    msg.pre_time_ns = to_array(pre, np.int64)
    msg.post_id = to_array(np.array(post), np.uint32)
    msg.synapse_id = to_array(np.array([0, 1, 2]), np.uint32)
    msg.weight = to_array(np.array(weight_bytes) / 255, np.float32)
    msg.weight_byte = to_array(np.array(weight_bytes), np.uint8)
    msg.delivery_time_ns = to_array(pre + 1_000_000, np.int64)
    h.weighted.publish(msg)
    stim = StimulationCommand(seq=2, clock_domain="southampton")
    for name, values, dtype in (("electrode", [24], np.uint32), ("amplitude_ua", [15.0], np.float64),
                                ("phase_width_us", [200.0], np.float64), ("pulse_count", [1], np.uint32),
                                ("time_ns", [got_t[1]], np.int64), ("synapse_id", [5], np.uint32),
                                ("weight", [0.5], np.float32), ("pre_id", [9], np.uint32)):
        setattr(stim, name, to_array(np.array(values), dtype))
    wait_for(lambda: h.stimulation.get_subscription_count() > 0, timeout_s=20, poll=h.poll,
             what="stimulation subscription")
    h.stimulation.publish(stim)
    wait_for(lambda: len(h.received) >= 4, timeout_s=20, poll=h.poll, what="'S' packets at the client")
    words = [struct.unpack("!II", d) for d in h.received]
    assert all(len(d) == 8 for d in h.received) and len(h.received) == 4
    assert [w1 >> 24 for w1, _ in words] == [ord("S")] * 4
    by_id = {w1 & MASK: (w2 >> 24, w2 & MASK) for w1, w2 in words}
    assert by_id == {3: (0, MASK - 2), MASK: (255, 1), 0: (128, 40), 24: (128, MASK)}
    assert gateway.alive()
    h.close()


def test_axon_peer_intervals_accumulate_and_weights_go_to_the_configured_peer(ros_context, start_node):
    from neurohybrid.core.events import KIND_SILICON_SPIKE
    from neurohybrid.msg import WeightedEventBatch
    from neurohybrid.nodes.convert import to_array
    from neurohybrid.testing.graph import wait_for

    port = free_udp_port()
    h = Harness(ros_context, "zurich")
    peer_port = h.client.getsockname()[1]
    gateway = start_node("legacy_gateway_node", "--ros-args", "-p", f"port:={port}", "-p", "lab:=zurich",
                         "-p", "sender_code:=A", "-p", "clock_anchor:=session", "-p", f"peer_port:={peer_port}")
    wait_active(h, gateway)
    ids, intervals = [1, 2, 3, MASK], [0, 20, MASK, 3]
    for i, dt in zip(ids, intervals):
        h.client.sendto(packet("A", i, 0, dt), ("127.0.0.1", port))
    h.client.sendto(b"\x00" * 3, ("127.0.0.1", port))
    wait_for(lambda: len(h.events()[0]) == len(ids) and h.malformed_total() == 1,
             timeout_s=20, poll=h.poll, what="spikes from the gateway")
    got_ids, got_t, got_kinds = h.events()
    assert got_ids.tolist() == ids
    assert got_t.tolist() == (np.cumsum(intervals) * TICK_NS).tolist()
    assert set(got_kinds.tolist()) == {KIND_SILICON_SPIKE}
    assert {b.clock_domain for b in h.batches} == {"zurich/legacy"}

    pre = np.array([0, TICK_NS - 1, TICK_NS, 1_700_000_000_000_123_456, 2**24 * TICK_NS + 7 * TICK_NS])
    msg = WeightedEventBatch(seq=1, clock_domain="southampton")
    n = len(pre)
    msg.pre_id = to_array(np.arange(n), np.uint32)
    msg.pre_time_ns = to_array(pre, np.int64)
    msg.post_id = to_array(np.arange(10, 10 + n), np.uint32)
    msg.synapse_id = to_array(np.arange(n), np.uint32)
    msg.weight = to_array(np.linspace(0, 1, n), np.float32)
    msg.weight_byte = to_array(np.array([0, 64, 128, 192, 255]), np.uint8)
    msg.delivery_time_ns = to_array(pre, np.int64)
    h.weighted.publish(msg)
    wait_for(lambda: len(h.received) >= n, timeout_s=20, poll=h.poll, what="'S' packets at the peer port")
    words = [struct.unpack("!II", d) for d in h.received]
    assert [w1 >> 24 for w1, _ in words] == [ord("S")] * n
    assert [w1 & MASK for w1, _ in words] == list(range(10, 10 + n))
    assert [w2 >> 24 for _, w2 in words] == [0, 64, 128, 192, 255]
    assert [w2 & MASK for _, w2 in words] == [0, 0, 1, (1_700_000_000_000_123_456 // TICK_NS) % 2**24, 7]
    assert gateway.alive()
    h.close()
