"""LeanExecutor serves a node as rclpy's executor would: every message (with or without its
info), timers (with or without TimerInfo), guard conditions, services and clients, and entities
created or destroyed while it spins. Real rclpy, real Fast DDS, one process."""

import pytest
from rclpy.node import Node
from rclpy.timer import TimerInfo
from std_msgs.msg import UInt32

from neurohybrid.nodes.executor import LeanExecutor
from neurohybrid.nodes.runtime import stream_qos
from neurohybrid.srv import ReadMemristor

pytestmark = pytest.mark.graph


@pytest.fixture
def pair(ros_context):
    served = Node("lean_served", context=ros_context)
    peer = Node("lean_peer", context=ros_context)
    lean, other = LeanExecutor(served), LeanExecutor(peer)

    def spin_until(done, timeout_s: float = 20.0) -> None:
        from neurohybrid.testing.graph import wait_for

        wait_for(done, timeout_s, lambda: (lean.spin_once(0.01), other.spin_once(0.0)))

    yield served, peer, spin_until
    served.destroy_node()
    peer.destroy_node()


def test_every_message_reaches_its_callback_with_and_without_info(pair):
    served, peer, spin_until = pair
    plain, with_info = [], []
    served.create_subscription(UInt32, "numbers", lambda m: plain.append(m.data), stream_qos(depth=1000))
    served.create_subscription(UInt32, "numbers", lambda m, info: with_info.append((m.data, info)),
                               stream_qos(depth=1000))
    pub = peer.create_publisher(UInt32, "numbers", stream_qos(depth=1000))
    spin_until(lambda: pub.get_subscription_count() == 2)
    for i in range(500):  # a burst: several messages wait in each queue at one wake-up
        pub.publish(UInt32(data=i))
    spin_until(lambda: len(plain) == 500 and len(with_info) == 500)
    assert plain == list(range(500))
    assert [d for d, _ in with_info] == list(range(500))
    assert all(info["source_timestamp"] > 0 for _, info in with_info)


def test_timers_guards_and_entities_made_or_destroyed_while_spinning(pair):
    served, _, spin_until = pair
    ticks, infos, fired = [], [], []
    guard = served.create_guard_condition(lambda: fired.append(True))

    def tick() -> None:
        ticks.append(True)
        if len(ticks) == 3:  # a callback creates an entity: the next wake-up serves it
            served.create_timer(0.01, lambda info=None: None)
            guard.trigger()
        if len(ticks) == 6:
            served.destroy_timer(timer)

    def with_info(info: TimerInfo) -> None:  # rclpy passes a TimerInfo to a parameter annotated so
        infos.append(info)

    timer = served.create_timer(0.01, tick)
    served.create_timer(0.01, with_info)
    spin_until(lambda: len(ticks) >= 6 and len(infos) >= 6 and fired)
    count = len(ticks)
    spin_until(lambda: len(infos) >= count + 10)  # the destroyed timer is never called again
    assert len(ticks) == 6
    assert all(isinstance(i, TimerInfo) for i in infos)


def test_services_and_clients_go_through_the_control_plane(pair):
    served, peer, spin_until = pair

    def on_read(req: ReadMemristor.Request, res: ReadMemristor.Response) -> ReadMemristor.Response:
        res.success, res.resistance_ohm = True, 1000.0 * req.wordline + req.bitline
        return res

    served.create_service(ReadMemristor, "read_memristor", on_read)
    client = peer.create_client(ReadMemristor, "read_memristor")
    spin_until(client.service_is_ready)
    futures = [client.call_async(ReadMemristor.Request(wordline=w, bitline=3)) for w in range(5)]
    spin_until(lambda: all(f.done() for f in futures))
    assert [f.result().resistance_ohm for f in futures] == [1000.0 * w + 3 for w in range(5)]
