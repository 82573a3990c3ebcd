"""`neurohybrid live` on the graph, seen by a Foxglove WebSocket client: it advertises our topics
with their ros2msg schemas, a subscriber decodes a SpikeBatch from the schema alone, the frames
stay bounded whatever the spike rate while every spike is counted, and bad input is refused."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from neurohybrid.process_group import stop_process_group
from neurohybrid.testing.graph import wait_for

pytestmark = pytest.mark.graph

ADDRESS = re.compile(r"live view at http://([\d.]+):(\d+)/ \(Foxglove: ws://[\d.]+:(\d+)")
UPDATE_HZ = 10.0
POINTS_PER_S = 500
T0_NS = 1_700_000_000_000_000_000  # a multiple of the 50 ms rate bin
SLICE_NS = 10_000_000


class LiveCommand:
    """``neurohybrid live`` as a user starts it (any free ports), its log in a file."""

    def __init__(self, log_path, *options: str) -> None:
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "neurohybrid", "live", *options],
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=log_path.parent)  # the installed package, not the source tree

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def address(self, timeout_s: float = 60.0) -> tuple[str, int, int]:
        """(host, page port, Foxglove port) from the log line the node writes once it serves."""
        wait_for(lambda: ADDRESS.search(self.output()) or self.proc.poll() is not None, timeout_s,
                 what="the live view's address in its log")
        found = ADDRESS.search(self.output())
        assert found, self.output()[-2000:]
        return found.group(1), int(found.group(2)), int(found.group(3))

    def stop(self) -> int:
        code = stop_process_group(self.proc, 10.0)
        self._log.close()
        return code


@pytest.fixture
def live(tmp_path):
    cmd = LiveCommand(tmp_path / "live.log", "--port", "0", "--ws-port", "0", "--update-hz", str(UPDATE_HZ),
                      "--points-per-s", str(POINTS_PER_S))
    yield cmd
    cmd.stop()


@pytest.fixture
def probe(ros_context):
    """A test node publishing spike batches, and a spin function."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    node = Node("live_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    yield node, lambda: executor.spin_once(timeout_sec=0.02)
    node.destroy_node()


def spike_batch(seq: int, n: int, seed: int = 0):
    from neurohybrid.msg import SpikeBatch
    from neurohybrid.nodes.convert import fill_spike_batch
    from neurohybrid.testing.mock import mock_spikes

    start = T0_NS + seq * SLICE_NS
    msg = SpikeBatch(seq=seq, clock_domain="padova", slice_start_ns=start, slice_end_ns=start + SLICE_NS)
    msg.header.frame_id = "padova/mea"
    return fill_spike_batch(msg, mock_spikes(n, seed=seed + seq, n_sources=60, t0_ns=start, span_ns=SLICE_NS))


def connected(live, probe, topic: str):
    """A publisher of ``topic`` matched by the live node, and a Foxglove client that sees it."""
    from neurohybrid.msg import SpikeBatch
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.foxglove_client import FoxgloveClient

    node, spin = probe
    host, _, ws_port = live.address()
    pub = node.create_publisher(SpikeBatch, topic, stream_qos())
    wait_for(lambda: pub.get_subscription_count() > 0, 30, spin, "the live node's subscription")
    client = FoxgloveClient(host, ws_port)
    client.wait_for_channels({topic, "/live/view"}, 30)
    return pub, client


def test_a_foxglove_client_decodes_a_spike_batch_from_the_advertised_schema(live, probe):
    from mcap_ros2._dynamic import generate_dynamic
    from rclpy.serialization import deserialize_message

    from neurohybrid.io.msgdefs import ros2msg_definition
    from neurohybrid.msg import SpikeBatch

    node, spin = probe
    pub, client = connected(live, probe, "/padova/spikes")
    with client:
        channel = client.channels["/padova/spikes"]
        assert (channel["encoding"], channel["schemaEncoding"]) == ("cdr", "ros2msg")
        assert channel["schema"] == ros2msg_definition("neurohybrid/msg/SpikeBatch")
        client.subscribe("/padova/spikes")
        sent = {}
        got = []
        for seq in range(300):
            sent[seq] = spike_batch(seq, 25)
            pub.publish(sent[seq])
            spin()
            got = client.messages(0.05)
            if got:
                break
        assert got, "no SpikeBatch reached the Foxglove client"
        decode = generate_dynamic(channel["schemaName"], channel["schema"])[channel["schemaName"]]
        decoded = decode(got[0].payload)  # as Foxglove does: from the schema text alone
        original = sent[decoded.seq]
        assert decoded.clock_domain == "padova" and decoded.header.frame_id == "padova/mea"
        assert list(decoded.source_id) == list(original.source_id)
        assert list(decoded.time_ns) == list(original.time_ns) and list(decoded.kind) == list(original.kind)
        again = deserialize_message(got[0].payload, SpikeBatch)
        assert again.slice_end_ns == original.slice_end_ns == decoded.slice_end_ns


def test_frames_stay_bounded_whatever_the_spike_rate_and_count_every_spike(live, probe):
    node, spin = probe
    pub, client = connected(live, probe, "/padova/spikes")
    n_batches, per_batch = 100, 20_000  # 2 M spikes in 1 s of lab time
    with client:
        client.subscribe("/live/view")
        for seq in range(n_batches):
            pub.publish(spike_batch(seq, per_batch))
        frames, stamps_ns = [], []

        def all_counted() -> bool:
            for m in client.messages(0.1):
                frames.append(json.loads(m.payload))
                stamps_ns.append(m.log_time_ns)
            lab = frames[-1]["labs"].get("padova") if frames else None
            return lab is not None and lab["total"] == n_batches * per_batch and frames[-1]["now"] >= 1.0

        wait_for(all_counted, 60, spin, "every spike counted by the live view")
    budget = round(POINTS_PER_S / UPDATE_HZ)
    labs = [f["labs"]["padova"] for f in frames if "padova" in f["labs"]]
    assert max(len(lab["points"]["t"]) for lab in labs) <= budget
    assert sum(lab["offered"] for lab in labs) == n_batches * per_batch
    rate_counts = sum(sum(lab["rate"]["hz"]) * lab["rate"]["bin_s"] for lab in labs)
    assert rate_counts == pytest.approx(n_batches * per_batch)  # the population rate misses no spike
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "frames arrive in order, none lost"
    span_s = (stamps_ns[-1] - stamps_ns[0]) / 1e9
    assert len(frames) <= span_s * UPDATE_HZ + 2, "never more frames than update_hz, however many spikes"
    assert max(len(json.dumps(f)) for f in frames) < 64_000, "a frame's size does not grow with the rate"


def test_a_malformed_batch_is_counted_refused_and_dropped(live, probe):
    from neurohybrid.msg import Refusal, SpikeBatch
    from neurohybrid.nodes.runtime import event_qos

    node, spin = probe
    pub, client = connected(live, probe, "/zurich/spikes")
    refusals = []
    node.create_subscription(Refusal, "/refusals", refusals.append, event_qos())
    with client:
        client.subscribe("/live/view")
        pub.publish(SpikeBatch(seq=1, source_id=[1, 2], time_ns=[0], kind=[3, 3]))
        pub.publish(spike_batch(2, 10))
        frames = []

        def seen() -> bool:
            frames.extend(json.loads(m.payload) for m in client.messages(0.1))
            return bool(refusals) and bool(frames) and "zurich" in frames[-1]["labs"]

        wait_for(seen, 30, spin, "the refusal and the next valid batch")
    assert frames[-1]["malformed"] == 1 and frames[-1]["labs"]["zurich"]["total"] == 10
    r = refusals[0]
    assert r.category == Refusal.CATEGORY_MALFORMED and r.header.frame_id == "live"
    assert "/zurich/spikes" in r.reason and "lengths differ" in r.reason


@pytest.mark.parametrize("options, named", [
    (("--update-hz", "50"), ("update_hz", "20")),
    (("--host", "nowhere"), ("host='nowhere'", "IP address")),
    (("--window", "100", "--max-window", "30"), ("window_s=100.0", "max_window_s=30.0")),
])
def test_a_bad_option_stops_the_live_view_naming_key_value_and_range(tmp_path, options, named):
    cmd = LiveCommand(tmp_path / "bad.log", "--port", "0", "--ws-port", "0", *options)
    try:
        assert cmd.proc.wait(60) != 0
    finally:
        cmd.stop()
    out = cmd.output()
    assert all(n in out for n in named), out[-2000:]
    assert "Traceback" not in out


def test_a_topic_the_view_does_not_aggregate_is_taken_only_while_a_client_wants_it(live, probe):
    from neurohybrid.msg import WeightedEventBatch
    from neurohybrid.nodes.convert import fill_weighted_batch
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.foxglove_client import FoxgloveClient
    from neurohybrid.testing.mock import mock_weighted

    node, spin = probe
    host, _, ws_port = live.address()
    pub = node.create_publisher(WeightedEventBatch, "/zurich/weighted_events", stream_qos())
    msg = fill_weighted_batch(WeightedEventBatch(seq=5), mock_weighted(20))
    with FoxgloveClient(host, ws_port) as client:
        client.wait_for_channels({"/zurich/weighted_events"}, 30)
        assert pub.get_subscription_count() == 0, "advertised, but not taken from the graph while unwatched"
        client.subscribe("/zurich/weighted_events")
        wait_for(lambda: pub.get_subscription_count() == 1, 30, spin, "the live node to subscribe on demand")
        got = []
        wait_for(lambda: pub.publish(msg) or got.extend(client.messages(0.05)) or got, 30, spin,
                 "the weighted events at the client")
        assert got[0].topic == "/zurich/weighted_events"
    wait_for(lambda: pub.get_subscription_count() == 0, 30, spin, "the live node to let go once the client left")
