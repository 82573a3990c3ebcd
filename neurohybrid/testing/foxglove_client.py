"""A minimal Foxglove WebSocket client (what the Foxglove app does to subscribe), for tests and bench.

Protocol (``foxglove.sdk.v1``): the server sends ``serverInfo`` and ``advertise`` (channels with
topic, encoding, schema name, schema encoding and schema text) as JSON text; the client sends
``subscribe`` with its own subscription ids; each message then arrives as a binary frame: opcode
0x01, subscription id (uint32 LE), log time (uint64 LE, ns), payload.
"""

from __future__ import annotations

import json
import struct
import time
from contextlib import ExitStack
from dataclasses import dataclass

from websockets.sync.client import connect

OP_MESSAGE_DATA = 0x01
_HEADER = struct.Struct("<BIQ")


@dataclass(frozen=True)
class Message:
    """One message received on a subscription."""

    topic: str
    log_time_ns: int
    payload: bytes


class FoxgloveClient:
    """Connects to ``ws://host:port``, keeps the advertised channels by topic, subscribes by topic."""

    def __init__(self, host: str, port: int, subprotocol: str = "foxglove.sdk.v1", timeout_s: float = 10.0) -> None:
        self._stack = ExitStack()
        self._ws = self._stack.enter_context(connect(f"ws://{host}:{port}", subprotocols=[subprotocol],
                                                     open_timeout=timeout_s, max_size=None))
        self.server_info: dict = {}
        self.channels: dict[str, dict] = {}
        self._subscriptions: dict[int, str] = {}
        self._pending: list[Message] = []

    def _handle_text(self, text: str) -> None:
        msg = json.loads(text)
        if msg.get("op") == "serverInfo":
            self.server_info = msg
        elif msg.get("op") == "advertise":
            self.channels.update({c["topic"]: c for c in msg["channels"]})
        elif msg.get("op") == "unadvertise":
            gone = set(msg["channelIds"])
            self.channels = {t: c for t, c in self.channels.items() if c["id"] not in gone}

    def _receive(self, timeout_s: float) -> None:
        data = self._ws.recv(timeout=timeout_s)
        if isinstance(data, str):
            self._handle_text(data)
            return
        op, sub_id, log_time = _HEADER.unpack_from(data)
        if op == OP_MESSAGE_DATA and sub_id in self._subscriptions:
            self._pending.append(Message(self._subscriptions[sub_id], log_time, bytes(data[_HEADER.size:])))

    def wait_for_channels(self, topics: set[str], timeout_s: float) -> None:
        """Read until every topic in ``topics`` has been advertised (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout_s
        while not topics <= set(self.channels):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"not advertised within {timeout_s} s: {sorted(topics - set(self.channels))}")
            self._receive(left)

    def subscribe(self, *topics: str) -> None:
        """Subscribe to advertised ``topics`` (one subscription id each)."""
        subs = []
        for topic in topics:
            sub_id = len(self._subscriptions) + 1
            self._subscriptions[sub_id] = topic
            subs.append({"id": sub_id, "channelId": self.channels[topic]["id"]})
        self._ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))

    def messages(self, timeout_s: float) -> list[Message]:
        """Messages received so far, waiting up to ``timeout_s`` for at least one."""
        deadline = time.monotonic() + timeout_s
        while not self._pending and time.monotonic() < deadline:
            try:
                self._receive(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        out, self._pending = self._pending, []
        return out

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> "FoxgloveClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
