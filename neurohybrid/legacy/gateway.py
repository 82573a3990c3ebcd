"""The legacy gateway without ROS: a peer speaking the 2017 UDP protocol, as batches in and out.

:class:`LegacyGateway` owns the non-blocking UDP socket, the codec and the legacy clock
(:mod:`neurohybrid.legacy.protocol`). :meth:`~LegacyGateway.poll` reads what the peer sent
(at most ``max_packets_per_tick`` datagrams, never blocking) and returns it as spike events for
the slice since the previous poll, with what was malformed; :meth:`~LegacyGateway.send_weighted`
and :meth:`~LegacyGateway.send_stimulation` send ``'S'`` packets to the peer and return what
was refused. Nothing a peer sends raises: malformed input is counted and returned as reasons.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import numpy as np

from neurohybrid.core.errors import DeviceError
from neurohybrid.core.events import SpikeEvents, StimulusBatch, WeightedEvents
from neurohybrid.core.units import s_to_ns
from neurohybrid.legacy.protocol import (
    FIELD_MAX,
    SENDER_AXON,
    SENDER_DENDRITE,
    LegacyClock,
    decode,
    encode_synapse,
    spike_kinds,
    weight_to_byte,
)

RECV_BYTES = 2048
"""Receive buffer per datagram, bytes: any datagram longer than one 8-byte packet is malformed."""

SOCKET_RCVBUF_BYTES = 1 << 22
"""Kernel receive buffer asked for, bytes: holds ~50k datagrams between two timer ticks."""

SENDER_CODES = {"A": SENDER_AXON, "D": SENDER_DENDRITE}
"""The peers a gateway can stand for: ``'A'`` a board lab (intervals), ``'D'`` an MEA lab (timestamps)."""


@dataclass
class Incoming:
    """What one poll read: the slice's events (sorted by time), the slice [start, end) in published
    time (ns), malformed datagrams (reason -> count), the source that started a new session, if
    one did, and socket errors."""

    events: SpikeEvents
    slice_start_ns: int
    slice_end_ns: int
    malformed: dict[str, int] = field(default_factory=dict)
    new_session_from: tuple[str, int] | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class Outgoing:
    """What one send did: packets sent, refused items (reason, count), socket errors."""

    sent: int = 0
    refused: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class LegacyGateway:
    """UDP endpoint of one legacy peer playing a lab with ``sender_code`` ``'A'`` or ``'D'``.

    ``peer_port`` 0: reply to wherever the peer's latest packet came from. ``anchored``: publish
    lab wall-clock times (else session time). Counters: ``received``, ``malformed``, ``sent``.
    """

    def __init__(self, sender_code: str, bind_address: str, port: int, peer_address: str, peer_port: int,
                 session_timeout_s: float, anchored: bool, max_packets_per_tick: int) -> None:
        self.sender_code = SENDER_CODES[sender_code]
        self.bind_address, self.port = bind_address, port
        self.peer_address, self.peer_port = peer_address, peer_port
        self.max_packets_per_tick = max_packets_per_tick
        self.clock = LegacyClock(anchored=anchored, session_timeout_ns=s_to_ns(session_timeout_s))
        self.received = self.malformed = self.sent = 0
        self._sock: socket.socket | None = None
        self._slice_start_ns = 0
        self._learned_peer: tuple[str, int] | None = None

    @property
    def takes_stimulation(self) -> bool:
        """An MEA peer (``'D'``) also takes stimulation commands."""
        return self.sender_code == SENDER_DENDRITE

    def open(self) -> None:
        """Bind the non-blocking socket; DeviceError with the reason if the port is taken."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_RCVBUF_BYTES)
            sock.bind((self.bind_address, self.port))
        except OSError as exc:
            sock.close()
            raise DeviceError(f"cannot bind UDP {self.bind_address}:{self.port}: {exc}") from None
        sock.setblocking(False)
        self._sock = sock

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def start(self, now_lab_ns: int) -> int:
        """Begin streaming at lab time ``now_lab_ns``: what queued meanwhile is discarded (returned)."""
        stale = len(self._read()[0])
        self.clock.reset(now_lab_ns)
        self._slice_start_ns = self.clock.now_ns(now_lab_ns)
        return stale

    # --- peer -> graph -------------------------------------------------------------------
    def _read(self) -> tuple[list[bytes], list[tuple[str, int]], list[str]]:
        data, sources, errors = [], [], []
        for _ in range(self.max_packets_per_tick):
            try:
                datagram, source = self._sock.recvfrom(RECV_BYTES)
            except BlockingIOError:
                break
            except OSError as exc:  # e.g. an ICMP error reported for an earlier send
                errors.append(f"UDP receive: {exc}")
                continue
            data.append(datagram)
            sources.append(source)
        return data, sources, errors

    def poll(self, arrival_lab_ns: int) -> Incoming:
        """Everything queued on the socket, as the slice [previous end, legacy clock now)."""
        datagrams, sources, errors = self._read()
        result = decode(datagrams)
        malformed = {f"legacy UDP on port {self.port}: {reason}": n for reason, n in result.rejected.items()}
        wrong = result.packets.sender != self.sender_code
        if wrong.any():
            codes = ", ".join(sorted({chr(int(c)) for c in result.packets.sender[wrong]}))
            reason = f"sender code {codes!r}, this gateway expects {chr(self.sender_code)!r}"
            malformed[f"legacy UDP on port {self.port}: {reason}"] = int(wrong.sum())
        self.malformed += sum(malformed.values())
        packets, index = result.packets.select(~wrong), result.index[~wrong]
        times = np.empty(0, np.int64)
        new_session = None
        if len(packets):
            sessions = self.clock.sessions
            times = self.clock.to_ns(packets.sender, packets.ticks, arrival_lab_ns)
            if self.clock.sessions != sessions:
                new_session = sources[index[0]]
                if not self.clock.anchored:  # session time starts again from zero
                    self._slice_start_ns = 0
            self._learned_peer = sources[index[-1]]
            self.received += len(packets)
        order = np.argsort(times, kind="stable")
        events = SpikeEvents(packets.neuron_id[order], times[order], spike_kinds(packets)[order])
        start, self._slice_start_ns = self._slice_start_ns, self.clock.now_ns(arrival_lab_ns)
        return Incoming(events, start, self._slice_start_ns, malformed, new_session, errors)

    # --- graph -> peer -------------------------------------------------------------------
    def send_weighted(self, events: WeightedEvents, what: str) -> Outgoing:
        """Weighted events as ``'S'`` packets: target, weight byte, presynaptic time."""
        return self._send(events.post_id, events.weight_byte, events.pre_time_ns, what, Outgoing())

    def send_stimulation(self, batch: StimulusBatch, what: str) -> Outgoing:
        """Stimulation commands as ``'S'`` packets: electrode, ``rint(255 w)``, delivery time."""
        out = Outgoing()
        w = batch.weight
        valid = np.isfinite(w) & (w >= 0) & (w <= 1)
        if not valid.all():
            out.refused.append((f"{what}: weight {float(w[~valid][0])!r} outside allowed [0, 1]", int((~valid).sum())))
        # A command carries its delivery time only: that is the time the peer is sent.
        return self._send(batch.electrode[valid], weight_to_byte(w[valid]), batch.time_ns[valid], what, out)

    def _peer(self) -> tuple[str, int] | None:
        return (self.peer_address, self.peer_port) if self.peer_port else self._learned_peer

    def _send(self, post_id: np.ndarray, weight_byte: np.ndarray, time_ns: np.ndarray, what: str,
              out: Outgoing) -> Outgoing:
        """``'S'`` packets to the peer; targets beyond 24 bits, times before the session's zero, or
        no known peer, are refused."""
        fits = post_id <= FIELD_MAX
        if not fits.all():
            out.refused.append((f"{what}: target id {int(post_id[~fits][0])} outside allowed [0, {FIELD_MAX}] "
                                "of the 2017 protocol", int((~fits).sum())))
        # A time before tick 0 (e.g. a spike of another lab from before this peer's session began,
        # or one in flight when a new session moved the zero) has no 24-bit timestamp: sent modulo
        # 2**24 it would read as a wrap, 838.9 s later, to the peer.
        zero_ns = self.clock.epoch_ns
        early = fits & (time_ns < zero_ns)
        if early.any():
            out.refused.append((f"{what}: time {int(time_ns[early][0])} ns before the legacy session's zero "
                                f"({zero_ns} ns, tick 0): allowed times >= {zero_ns} ns", int(early.sum())))
            fits &= ~early
        n = int(fits.sum())
        if not n:
            return out
        peer = self._peer()
        if peer is None:
            out.refused.append((f"{what}: no legacy peer to send to yet (it has sent nothing and peer_port is 0)", n))
            return out
        for datagram in encode_synapse(post_id[fits], weight_byte[fits], self.clock.to_ticks(time_ns[fits])):
            try:
                self._sock.sendto(datagram, peer)
            except OSError as exc:
                out.errors.append(f"UDP send to {peer}: {exc}")
                return out
            out.sent += 1
            self.sent += 1
        return out
