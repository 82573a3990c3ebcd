"""The legacy gateway's datagram handling without ROS: a peer on loopback, packets in and out."""

from __future__ import annotations

import socket
import struct
import time

import numpy as np
import pytest

from neurohybrid.core.errors import DeviceError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP
from neurohybrid.legacy.gateway import Incoming, LegacyGateway
from neurohybrid.legacy.params import legacy_gateway
from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.mock import mock_stimulus, mock_weighted


def _packet(code: str, neuron_id: int, byte: int, ticks: int) -> bytes:
    return struct.pack("!II", (ord(code) << 24) | neuron_id, (byte << 24) | ticks)


@pytest.fixture
def peer():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    yield s
    s.close()


@pytest.fixture
def gateway():
    g = legacy_gateway({"port": _free_port(), "sender_code": "D"})
    g.open()
    g.start(time.time_ns())
    yield g
    g.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _collect(g: LegacyGateway, until) -> list[Incoming]:
    polls: list[Incoming] = []

    def done() -> bool:
        polls.append(g.poll(time.time_ns()))
        return until(polls)

    wait_for(done, 5.0, what="datagrams through loopback")
    return polls


def test_peer_packets_become_events_in_consecutive_slices_and_garbage_is_counted(gateway, peer):
    target = ("127.0.0.1", gateway.port)
    for datagram in (_packet("D", 7, 0, 100), _packet("D", 8, 1, 120), b"\x00\x01", _packet("A", 1, 0, 5),
                     _packet("D", 9, 7, 130)):
        peer.sendto(datagram, target)
    polls = _collect(gateway, lambda p: sum(len(x.events) for x in p) >= 2 and sum(
        sum(x.malformed.values()) for x in p) >= 3)
    events = [e for x in polls for e in zip(x.events.source_id.tolist(), x.events.kind.tolist())]
    assert events == [(7, KIND_PSP), (8, KIND_EVOKED_AP)]
    reasons = " | ".join(r for x in polls for r in x.malformed)
    assert "datagram length 2 bytes" in reasons and "sender code 'A', this gateway expects 'D'" in reasons
    assert "event kind 7 from a 'D' sender" in reasons
    assert gateway.received == 2 and gateway.malformed == 3
    assert all(a.slice_end_ns == b.slice_start_ns for a, b in zip(polls, polls[1:]))
    assert any(x.new_session_from == peer.getsockname() for x in polls)


def test_weighted_events_go_back_to_the_learned_peer_and_what_cannot_be_sent_is_refused(gateway, peer):
    w = _after_zero(gateway, mock_weighted(3))
    out = gateway.send_weighted(w, "WeightedEventBatch seq 1")
    assert out.sent == 0 and "no legacy peer to send to yet" in out.refused[0][0] and out.refused[0][1] == 3
    peer.sendto(_packet("D", 1, 0, 10), ("127.0.0.1", gateway.port))
    _collect(gateway, lambda p: any(len(x.events) for x in p))
    big = _after_zero(gateway, mock_weighted(2))
    big = type(big)(**{**big.__dict__, "post_id": np.array([5, 2**24])})
    out = gateway.send_weighted(big, "WeightedEventBatch seq 2")
    assert out.sent == 1 and "target id 16777216 outside allowed [0, 16777215]" in out.refused[0][0]
    received = []
    wait_for(lambda: _drain(peer, received) >= 1, 5.0, what="the 'S' packet at the peer")
    word1, word2 = struct.unpack("!II", received[0])
    assert word1 == (ord("S") << 24) | 5 and word2 >> 24 == int(big.weight_byte[0])


def test_stimulation_with_a_weight_outside_0_1_is_refused_and_the_rest_sent(gateway, peer):
    peer.sendto(_packet("D", 1, 0, 10), ("127.0.0.1", gateway.port))
    _collect(gateway, lambda p: any(len(x.events) for x in p))
    stim = _after_zero(gateway, mock_stimulus(3))
    stim = type(stim)(**{**stim.__dict__, "weight": np.array([0.5, 1.5, 0.25], np.float32)})
    out = gateway.send_stimulation(stim, "StimulationCommand seq 3")
    assert out.sent == 2 and out.refused == [("StimulationCommand seq 3: weight 1.5 outside allowed [0, 1]", 1)]
    assert gateway.takes_stimulation


def test_times_before_the_sessions_zero_are_refused_not_sent_modulo_2_24(gateway, peer):
    """A session starting at tick 0: a command timed before its zero (here a presynaptic spike of
    another lab 1 ms before it) is refused; sent mod 2**24 it would read as a wrap to the peer."""
    peer.sendto(_packet("D", 1, 0, 0), ("127.0.0.1", gateway.port))
    _collect(gateway, lambda p: any(len(x.events) for x in p))
    zero_ns = gateway.clock.epoch_ns
    w = mock_weighted(2)
    w = type(w)(**{**w.__dict__, "post_id": np.array([3, 4]),
                   "pre_time_ns": np.array([zero_ns - 1_000_000, zero_ns + 1_000_000], np.int64)})
    out = gateway.send_weighted(w, "WeightedEventBatch seq 4")
    assert out.sent == 1
    assert out.refused == [(f"WeightedEventBatch seq 4: time {zero_ns - 1_000_000} ns before the legacy "
                            f"session's zero ({zero_ns} ns, tick 0): allowed times >= {zero_ns} ns", 1)]
    received = []
    wait_for(lambda: _drain(peer, received) >= 1, 5.0, what="the 'S' packet at the peer")
    word1, word2 = struct.unpack("!II", received[0])
    assert word1 == (ord("S") << 24) | 4 and word2 & 0xFFFFFF == 20  # 1 ms = 20 ticks after tick 0


def _after_zero(gateway: LegacyGateway, batch):
    """``batch`` with its times moved past the session's zero (mock times start at 0 ns)."""
    shift = {k: v + gateway.clock.epoch_ns for k, v in batch.__dict__.items()
             if k in ("time_ns", "pre_time_ns", "delivery_time_ns")}
    return type(batch)(**{**batch.__dict__, **shift})


def test_a_busy_port_is_a_device_error_naming_address_and_port(gateway):
    other = legacy_gateway({"port": gateway.port})
    with pytest.raises(DeviceError, match=f"cannot bind UDP 127.0.0.1:{gateway.port}"):
        other.open()


def _drain(sock: socket.socket, into: list[bytes]) -> int:
    while True:
        try:
            into.append(sock.recv(64))
        except BlockingIOError:
            return len(into)
