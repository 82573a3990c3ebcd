"""The nodes' lifecycle, driven over their lifecycle services as a lifecycle manager would.

Cleanup destroys what configure created (configure -> cleanup -> configure -> activate routes
each batch exactly once), a transition that fails says why and leaves nothing behind, and
shutdown works from every state, after which the process exits cleanly on SIGINT.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.graph

N_BATCHES = 20
PRE_NEURON = 0
"""zurich:0 -> padova:24 is synapse 0 of three_neuron.yaml: each of its spikes is one stimulation command."""


def _connectivity() -> Path:
    from neurohybrid.launcher.substitutions import find_pkg_share

    return Path(find_pkg_share("neurohybrid")) / "config" / "connectivity" / "three_neuron.yaml"


@pytest.fixture
def probe(ros_context):
    """The test's node and a spin function."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    node = Node("lifecycle_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    yield node, lambda: executor.spin_once(timeout_sec=0.05)
    node.destroy_node()


def _endpoints(node, topic: str, owner: str, publishers: bool) -> int:
    infos = node.get_publishers_info_by_topic(topic) if publishers else node.get_subscriptions_info_by_topic(topic)
    return sum(1 for info in infos if info.node_name == owner)


def test_configure_cleanup_configure_activate_routes_each_batch_exactly_once(probe, start_node):
    from neurohybrid import msg as nh
    from neurohybrid.core.events import KIND_SILICON_SPIKE
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.graph import LifecycleClient, wait_for

    node, spin = probe
    hub = start_node("hub_node", "--ros-args", "-p", "autostart:=false", "-p", f"connectivity_file:={_connectivity()}")
    lifecycle = LifecycleClient(node, "/hub", spin)
    for transition in ("configure", "cleanup", "configure", "activate"):
        assert lifecycle.change(transition), f"{transition} failed: {hub.output()[-2000:]}"
    assert lifecycle.state() == "active"

    commands: list = []
    node.create_subscription(nh.StimulationCommand, "/padova/stimulation", commands.append, stream_qos())
    spikes = node.create_publisher(nh.SpikeBatch, "/zurich/spikes", stream_qos())
    wait_for(lambda: _endpoints(node, "/zurich/spikes", "hub", publishers=False) >= 1
             and spikes.get_subscription_count() >= 1 and len(commands) > 0, 30, spin,
             "the hub subscribed and its keepalives flowing")
    # one of each endpoint, not one per configure
    assert _endpoints(node, "/zurich/spikes", "hub", publishers=False) == 1
    assert _endpoints(node, "/padova/spikes", "hub", publishers=False) == 1
    assert _endpoints(node, "/padova/stimulation", "hub", publishers=True) == 1
    assert _endpoints(node, "/zurich/weighted_events", "hub", publishers=True) == 1
    assert _endpoints(node, "/synapse_states", "hub", publishers=True) == 1

    t0 = 1_000_000_000
    for seq in range(N_BATCHES + 1):  # the last batch is the sentinel: anything routed twice came before it
        t = t0 + seq * 10_000_000
        spikes.publish(nh.SpikeBatch(seq=seq, clock_domain="zurich", slice_start_ns=t, slice_end_ns=t + 10_000_000,
                                     source_id=[PRE_NEURON], time_ns=[t + 1], kind=[KIND_SILICON_SPIKE]))
    routed = lambda: [c.pre_seq for c in commands if len(c.electrode)]  # noqa: E731
    wait_for(lambda: N_BATCHES in routed(), 30, spin, "the sentinel batch routed")
    counts = np.bincount(routed(), minlength=N_BATCHES + 1)
    assert counts.tolist() == [1] * (N_BATCHES + 1), f"commands per input batch: {counts.tolist()}"
    assert all(np.asarray(c.electrode).tolist() == [24] for c in commands if len(c.electrode))
    assert hub.alive()


def test_a_failed_configure_says_why_leaves_nothing_behind_and_can_be_retried(probe, start_node):
    from neurohybrid.testing.graph import LifecycleClient, wait_for

    node, spin = probe
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    gateway = start_node("legacy_gateway_node", "--ros-args", "-p", "autostart:=false", "-p", f"port:={port}")
    lifecycle = LifecycleClient(node, "/legacy_gateway", spin)
    assert not lifecycle.change("configure")
    wait_for(lambda: f"configure failed: cannot bind UDP 127.0.0.1:{port}" in gateway.output(), 10, spin,
             "the reason in the log")
    assert lifecycle.state() == "unconfigured"
    assert _endpoints(node, "/padova/spikes", "legacy_gateway", publishers=True) == 0
    blocker.close()
    assert lifecycle.change("configure") and lifecycle.change("activate")
    wait_for(lambda: _endpoints(node, "/padova/spikes", "legacy_gateway", publishers=True) == 1, 10, spin,
             "the gateway's spike publisher")
    assert _endpoints(node, "/padova/weighted_events", "legacy_gateway", publishers=False) == 1
    assert gateway.alive()


NODES = {
    "mea_node": ("mea", ["-p", "n_neurons:=50"]),
    "board_node": ("board", ["-p", "neurons_per_core:=16"]),
    "hub_node": ("hub", ["-p", f"connectivity_file:={_connectivity()}"]),
    "legacy_gateway_node": ("legacy_gateway", []),
}
PATHS = {"unconfigured": [], "inactive": ["configure"], "active": ["configure", "activate"]}


@pytest.mark.parametrize("exe", sorted(NODES))
def test_shutdown_works_from_every_state_and_the_process_exits_cleanly(exe, probe, start_node):
    from neurohybrid.testing.graph import LifecycleClient

    node, spin = probe
    name, args = NODES[exe]
    procs = {}
    for i, start in enumerate(PATHS):
        extra = ["-p", f"port:={_free_udp_port()}"] if exe == "legacy_gateway_node" else []
        procs[start] = start_node(exe, "--ros-args", "-r", f"__ns:=/lc{i}", "-p", "autostart:=false", *args, *extra)
    for i, (start, path) in enumerate(PATHS.items()):
        lifecycle = LifecycleClient(node, f"/lc{i}/{name}", spin)
        for transition in path:
            assert lifecycle.change(transition), f"{exe}: {transition} failed: {procs[start].output()[-2000:]}"
        assert lifecycle.state() == start
        assert lifecycle.change("shutdown"), f"{exe}: shutdown from {start} failed"
        assert lifecycle.state() == "finalized"
    for start, proc in procs.items():
        assert proc.alive(), f"{exe} died after shutdown from {start}"
        assert proc.stop() == 0, proc.output()[-2000:]
        out = proc.output()
        assert not any(word in out for word in ("[ERROR]", "[FATAL]", "Traceback")), f"{exe} from {start}: {out}"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
