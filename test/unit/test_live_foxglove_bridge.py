"""The Foxglove server of the live view: topics advertised with their ros2msg schemas, raw CDR
forwarded to subscribers only, frames as JSON (a real foxglove-sdk server, a WebSocket client)."""

from __future__ import annotations

import json

import pytest
from rclpy.serialization import serialize_message

from neurohybrid.io.msgdefs import ros2msg_definition
from neurohybrid.live.foxglove_bridge import FRAME_SCHEMA_NAME, FRAME_TOPIC, FoxgloveBridge
from neurohybrid.testing.foxglove_client import FoxgloveClient
from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.messages import mock_messages

SPIKES = "/padova/spikes"


@pytest.fixture
def bridge():
    b = FoxgloveBridge("127.0.0.1", 0)
    b.add_topic(SPIKES, "neurohybrid/msg/SpikeBatch")
    yield b
    b.close()


def test_topics_are_advertised_as_cdr_with_the_ros2msg_schema_rosbag2_writes(bridge):
    with FoxgloveClient("127.0.0.1", bridge.port) as client:
        client.wait_for_channels({SPIKES, FRAME_TOPIC}, 10)
        ch = client.channels[SPIKES]
        assert (ch["encoding"], ch["schemaName"], ch["schemaEncoding"]) == ("cdr", "neurohybrid/msg/SpikeBatch", "ros2msg")
        assert ch["schema"] == ros2msg_definition("neurohybrid/msg/SpikeBatch")
        frames = client.channels[FRAME_TOPIC]
        assert (frames["encoding"], frames["schemaName"], frames["schemaEncoding"]) == ("json", FRAME_SCHEMA_NAME, "jsonschema")
        assert json.loads(frames["schema"])["type"] == "object"


def test_a_subscriber_gets_the_serialized_message_byte_for_byte(bridge):
    data = serialize_message(mock_messages()["SpikeBatch"])
    with FoxgloveClient("127.0.0.1", bridge.port) as client:
        client.wait_for_channels({SPIKES}, 10)
        assert not bridge.wants_frames()
        assert bridge.subscribed() == set()
        client.subscribe(SPIKES, FRAME_TOPIC)
        wait_for(lambda: bridge.subscribed() == {SPIKES, FRAME_TOPIC} and bridge.wants_frames(), 10,
                 what="the server to register the subscriptions")
        bridge.forward(SPIKES, data, 123)
        got = client.messages(5)
        assert got[0].topic == SPIKES and got[0].payload == data and got[0].log_time_ns == 123
        bridge.publish_frame({"seq": 3, "now": 1.5}, 456)
        frame = next(m for m in client.messages(5) if m.topic == FRAME_TOPIC)
        assert json.loads(frame.payload) == {"seq": 3, "now": 1.5} and frame.log_time_ns == 456


def test_the_bridge_hears_when_a_client_leaves(bridge):
    changes = []
    b = FoxgloveBridge("127.0.0.1", 0, on_subscriptions=lambda: changes.append(1))
    b.add_topic(SPIKES, "neurohybrid/msg/SpikeBatch")
    try:
        with FoxgloveClient("127.0.0.1", b.port) as client:
            client.wait_for_channels({SPIKES}, 10)
            client.subscribe(SPIKES)
            wait_for(lambda: b.subscribed() == {SPIKES}, 10, what="the subscription")
        wait_for(lambda: b.subscribed() == set(), 10, what="the unsubscription on disconnect")
        assert len(changes) >= 2
    finally:
        b.close()


def test_a_busy_port_is_refused(bridge):
    with pytest.raises(RuntimeError):
        FoxgloveBridge("127.0.0.1", bridge.port)
