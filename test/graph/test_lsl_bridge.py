"""The lsl_bridge node on the graph: our spike, stimulation and plasticity topics come out as LSL
streams (real liblsl inlets on loopback) with the topic's events and their times mapped into LSL's
clock within 1 ms; a malformed message is refused while the node stays up; LSL latency measured."""

from __future__ import annotations

import time

import numpy as np
import pytest

from neurohybrid.testing.graph import wait_for

pytestmark = pytest.mark.graph

MS = 1e-3
N_BATCHES = 200
EVENTS_PER_BATCH = 5


@pytest.fixture
def probe(ros_context):
    """A test node publishing the three bridged types, and a spin function."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid.msg import PlasticityEvent, Refusal, SpikeBatch, StimulationCommand
    from neurohybrid.nodes.runtime import event_qos, stream_qos

    node = Node("lsl_probe", context=ros_context)
    pubs = {"spikes": node.create_publisher(SpikeBatch, "/padova/spikes", stream_qos()),
            "stim": node.create_publisher(StimulationCommand, "/padova/stimulation", stream_qos()),
            "plast": node.create_publisher(PlasticityEvent, "/southampton/plasticity", stream_qos())}
    refusals = []
    node.create_subscription(Refusal, "/refusals", refusals.append, event_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    yield pubs, refusals, lambda: executor.spin_once(timeout_sec=0.01)
    node.destroy_node()


def _inlet(topic: str, spin):
    from neurohybrid.io.lsl import pylsl_module

    lsl = pylsl_module()
    found = []
    wait_for(lambda: found.extend(lsl.resolve_byprop("source_id", topic, 1, 0.2)) or found, 60.0, spin,
             what=f"an LSL stream for {topic}")
    inlet = lsl.StreamInlet(found[0])
    inlet.open_stream(10.0)
    return inlet


def _pull_all(inlet, n: int, timeout_s: float = 30.0):
    """n samples (values, LSL times, local receive times) from ``inlet``; blocks in liblsl until each
    arrives (nothing else in between, so the receive time is when it arrived)."""
    from neurohybrid.io.lsl import pylsl_module

    lsl = pylsl_module()
    values, stamps, received = [], [], []

    def more() -> bool:
        sample, stamp = inlet.pull_sample(timeout=0.01)
        if stamp is not None:
            values.append(sample), stamps.append(stamp), received.append(lsl.local_clock())
        return len(values) >= n

    wait_for(more, timeout_s, lambda: None, what=f"{n} LSL samples")
    return np.array(values), np.array(stamps), np.array(received)


def test_bridge_streams_the_topics_events_with_times_mapped_within_1_ms(start_node, probe, tmp_path):
    from neurohybrid.core.events import SpikeEvents
    from neurohybrid.io.lsl_bridge import WallToLsl
    from neurohybrid.msg import PlasticityEvent, SpikeBatch, StimulationCommand
    from neurohybrid.nodes.convert import fill_spike_batch, fill_stimulation
    from neurohybrid.testing.mock import mock_stimulus

    pubs, refusals, spin = probe
    bridge = start_node("lsl_bridge_node")
    wait_for(lambda: pubs["spikes"].get_subscription_count() > 0 and pubs["stim"].get_subscription_count() > 0
             and pubs["plast"].get_subscription_count() > 0, 60.0, spin, what="the bridge subscribed")
    inlets = {k: _inlet(t, spin) for k, t in (("spikes", "/padova/spikes"), ("stim", "/padova/stimulation"),
                                             ("plast", "/southampton/plasticity"))}
    clock = WallToLsl()
    rng = np.random.default_rng(2)

    # spikes: each batch's events at its publish time, so LSL receive - event time is the latency
    sent = []
    latency = []
    for seq in range(N_BATCHES):
        t = time.time_ns()
        ev = SpikeEvents(rng.integers(0, 60, EVENTS_PER_BATCH), t + np.arange(EVENTS_PER_BATCH) * 1000,
                         rng.integers(0, 3, EVENTS_PER_BATCH))
        pubs["spikes"].publish(fill_spike_batch(SpikeBatch(seq=seq, clock_domain="padova", slice_start_ns=t,
                                                           slice_end_ns=t + 10**7), ev))
        values, stamps, received = _pull_all(inlets["spikes"], EVENTS_PER_BATCH)
        sent.append((ev, values, stamps))
        latency.append(received[0] - clock(np.array([t]))[0])
    for ev, values, stamps in sent:
        np.testing.assert_array_equal(values[:, 0], ev.source_id)
        np.testing.assert_array_equal(values[:, 1], ev.kind)
        assert np.all(np.abs(stamps - np.array(clock(ev.time_ns))) <= 1 * MS)
    lat_ms = np.array(latency) * 1e3
    print(f"LSL bridge latency (ROS publish -> LSL inlet, {N_BATCHES} batches): median {np.median(lat_ms):.3f} ms, "
          f"p99 {np.percentile(lat_ms, 99):.3f} ms, max {lat_ms.max():.3f} ms")
    (tmp_path / "lsl_latency.txt").write_text(f"{np.median(lat_ms)} {np.percentile(lat_ms, 99)} {lat_ms.max()}\n")

    # stimulation and plasticity
    stim = mock_stimulus(4)
    t = time.time_ns()
    stim = type(stim)(**{**stim.__dict__, "time_ns": stim.time_ns + t})
    pubs["stim"].publish(fill_stimulation(StimulationCommand(seq=0, clock_domain="southampton"), stim))
    values, stamps, _ = _pull_all(inlets["stim"], 4)
    np.testing.assert_array_equal(values[:, 0], stim.electrode)
    np.testing.assert_allclose(values[:, 1], stim.amplitude_ua)
    assert np.all(np.abs(stamps - np.array(clock(stim.time_ns))) <= 1 * MS)
    pubs["plast"].publish(PlasticityEvent(rule="rate", synapse_id=7, wordline=3, bitline=4, direction=1,
                                          pulse_amplitude_v=4.0, pulse_width_s=1e-4, resistance_before_ohm=1e4,
                                          resistance_after_ohm=1.1e4, accepted=True, trigger_time_ns=t))
    values, stamps, _ = _pull_all(inlets["plast"], 1)
    np.testing.assert_allclose(values[0], [7, 3, 4, 1, 4.0, 1e-4, 1e4, 1.1e4, 1])
    assert abs(stamps[0] - clock(np.array([t]))[0]) <= 1 * MS

    # a malformed batch is refused and the bridge goes on
    bad = SpikeBatch(seq=N_BATCHES, clock_domain="padova")
    bad.source_id, bad.time_ns, bad.kind = [1, 2], [t], [0]
    pubs["spikes"].publish(bad)
    wait_for(lambda: any(r.category == r.CATEGORY_MALFORMED for r in refusals), 30.0, spin,
             what="the bridge's refusal of a malformed batch")
    t = time.time_ns()
    pubs["spikes"].publish(fill_spike_batch(SpikeBatch(seq=N_BATCHES + 1, clock_domain="padova"),
                                            SpikeEvents(np.array([9]), np.array([t]), np.array([2]))))
    values, _, _ = _pull_all(inlets["spikes"], 1)
    assert values[0].tolist() == [9, 2] and bridge.alive()
    for inlet in inlets.values():
        inlet.close_stream()
    assert bridge.stop() == 0
    log = bridge.output()
    assert "bridging /padova/spikes" in log
    for bad_word in ("[ERROR]", "[FATAL]", "Traceback", "ERR|"):
        assert bad_word not in log, log[-2000:]
