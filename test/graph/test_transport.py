"""Every message type crosses Fast DDS between two processes and arrives intact."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.graph


def test_every_message_type_round_trips_through_a_relay_process(ros_context, start_node):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid.nodes.relay_node import MESSAGE_TYPES, topic_name
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.graph import wait_for
    from neurohybrid.testing.messages import mock_messages

    relay = start_node("relay_node")
    sent = mock_messages(seed=3)
    assert set(sent) == {t.__name__ for t in MESSAGE_TYPES}, "a message type has no mock"

    node = Node("transport_test", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    received: dict[str, object] = {}
    pubs = {}
    for msg_type in MESSAGE_TYPES:
        name = topic_name(msg_type)
        pubs[msg_type.__name__] = node.create_publisher(msg_type, f"in/{name}", stream_qos())
        node.create_subscription(
            msg_type, f"out/{name}",
            lambda m, key=msg_type.__name__: received.setdefault(key, m), stream_qos())

    def spin() -> None:
        executor.spin_once(timeout_sec=0.05)

    wait_for(lambda: all(p.get_subscription_count() > 0 for p in pubs.values())
             and node.count_publishers("out/spike_batch") > 0,
             timeout_s=30, poll=spin, what="relay discovery")
    missing = lambda: [k for k in sent if k not in received]  # noqa: E731

    def publish_missing() -> None:
        for key in missing():
            pubs[key].publish(sent[key])
        for _ in range(5):
            spin()

    wait_for(lambda: not missing(), timeout_s=30, poll=publish_missing,
             what="all message types back from the relay")
    assert relay.alive()
    for key, msg in sent.items():
        assert received[key] == msg, f"{key} changed in transit"
    node.destroy_node()
