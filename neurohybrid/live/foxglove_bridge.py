"""The Foxglove WebSocket server of the live view (``foxglove-sdk``): every topic of the graph as
CDR with its ``ros2msg`` schema (as rosbag2 writes it in MCAP), and the live frames as JSON.

A channel costs nothing while no client subscribes to it: a raw message is only handed to the
server for a subscribed channel (``has_sinks``), and :meth:`FoxgloveBridge.subscribed` tells which
topics clients want, so that topics the view does not aggregate are taken from the graph only
then. The page of the live view is a client like Foxglove: it subscribes to :data:`FRAME_TOPIC`.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

import foxglove
from foxglove import Channel, Context, Schema
from foxglove.websocket import ChannelView, Client, ServerListener

from neurohybrid.io.msgdefs import ros2msg_definition
from neurohybrid.live.view import FRAME_SCHEMA

FRAME_TOPIC = "/live/view"
"""Foxglove channel of the live frames (JSON)."""
FRAME_SCHEMA_NAME = "neurohybrid.live.Frame"
SUBPROTOCOL = "foxglove.sdk.v1"
"""WebSocket subprotocol the server speaks (the Foxglove app and the page ask for it)."""


class _Subscribers(ServerListener):
    """Which clients subscribe to which topic; called from the server's threads."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, set[int]] = {}
        self._on_change = on_change

    def on_subscribe(self, client: Client, channel: ChannelView) -> None:
        with self._lock:
            self._clients.setdefault(channel.topic, set()).add(client.id)
        self._on_change()

    def on_unsubscribe(self, client: Client, channel: ChannelView) -> None:
        with self._lock:
            self._clients.get(channel.topic, set()).discard(client.id)
        self._on_change()

    def topics(self) -> set[str]:
        with self._lock:
            return {topic for topic, clients in self._clients.items() if clients}


class FoxgloveBridge:
    """Starts a Foxglove WebSocket server on ``host:port`` (0: any free port) with its own context;
    ``on_subscriptions`` is called (from a server thread) whenever a client (un)subscribes."""

    def __init__(self, host: str, port: int, on_subscriptions: Callable[[], None] = lambda: None,
                 name: str = "neurohybrid live") -> None:
        self._context = Context()
        self._subscribers = _Subscribers(on_subscriptions)
        self._server = foxglove.start_server(name=name, host=host, port=port, context=self._context,
                                             server_listener=self._subscribers)
        self._channels: dict[str, Channel] = {}
        self._frames = Channel(FRAME_TOPIC, message_encoding="json", context=self._context, schema=Schema(
            name=FRAME_SCHEMA_NAME, encoding="jsonschema", data=json.dumps(FRAME_SCHEMA).encode()))

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._server.port

    def add_topic(self, topic: str, type_name: str) -> None:
        """Advertise ``topic`` of ROS type ``type_name`` (e.g. ``neurohybrid/msg/SpikeBatch``)."""
        schema = Schema(name=type_name, encoding="ros2msg", data=ros2msg_definition(type_name).encode())
        self._channels[topic] = Channel(topic, message_encoding="cdr", schema=schema, context=self._context)

    def forward(self, topic: str, data: bytes, log_time_ns: int) -> None:
        """One serialized (CDR) message of ``topic``, to the clients subscribed to it."""
        channel = self._channels[topic]
        if channel.has_sinks():
            channel.log(data, log_time=log_time_ns)

    def subscribed(self) -> set[str]:
        """Topics some client is subscribed to now."""
        return self._subscribers.topics()

    def wants_frames(self) -> bool:
        """True while some client is subscribed to the frames."""
        return self._frames.has_sinks()

    def publish_frame(self, frame: dict[str, Any], log_time_ns: int) -> None:
        """One live frame, as compact JSON."""
        self._frames.log(json.dumps(frame, separators=(",", ":"), allow_nan=False).encode(), log_time=log_time_ns)

    def close(self) -> None:
        self._server.stop()
