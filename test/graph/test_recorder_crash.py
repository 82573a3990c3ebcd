"""A recorder killed with SIGKILL mid-run leaves an MCAP file the mcap readers open, missing at
most about the last second (the writer's flush interval)."""

from __future__ import annotations

import time

import numpy as np
import pytest

pytestmark = [pytest.mark.graph]

PUBLISH_S = 4.0
PERIOD_S = 0.01
FLUSH_INTERVAL_S = 1.0  # RecordingWriter's default flush_interval_s (the recorder's)
LOSS_BOUND_S = FLUSH_INTERVAL_S + 0.5  # flush interval plus slack for a loaded machine
TOPIC = "/crashtest/spikes"


def test_a_recorder_killed_with_sigkill_leaves_a_readable_file_missing_at_most_the_last_second(
        ros_context, start_node, tmp_path):
    from mcap.exceptions import McapError
    from mcap.stream_reader import StreamReader
    from mcap.records import Message
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.io.reader import Recording
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.graph import wait_for

    output = tmp_path / "killed.mcap"
    recorder = start_node("recorder_node", "--ros-args", "-p", f"output:={output}",
                          "-p", "discovery_period_s:=0.1")
    node = Node("crash_probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    pub = node.create_publisher(nh.SpikeBatch, TOPIC, stream_qos())
    wait_for(lambda: pub.get_subscription_count() > 0, 30, lambda: executor.spin_once(timeout_sec=0.05),
             "the recorder to subscribe")
    sent_at = []
    t_end = time.monotonic() + PUBLISH_S
    seq = 0
    while time.monotonic() < t_end:
        pub.publish(nh.SpikeBatch(seq=seq, source_id=[seq % 7], time_ns=[time.time_ns()], kind=[3]))
        sent_at.append(time.monotonic())
        seq += 1
        executor.spin_once(timeout_sec=PERIOD_S)
    killed_at = time.monotonic()
    recorder.kill()
    node.destroy_node()

    assert recorder.proc.returncode == -9
    rec = Recording.open(output)
    assert rec.truncated
    recorded = rec.spikes(TOPIC)["batch_seq"]
    must_have = int(np.searchsorted(np.array(sent_at), killed_at - LOSS_BOUND_S))
    assert len(recorded) >= must_have > 0, (len(recorded), must_have, seq)
    np.testing.assert_array_equal(np.sort(recorded)[:must_have], np.arange(must_have))
    # the plain mcap stream reader reads the same messages up to the cut
    messages = 0
    with open(output, "rb") as f:
        try:
            for record in StreamReader(f).records:
                messages += isinstance(record, Message)
        except (McapError, EOFError, ValueError):
            pass
    assert messages == len(recorded)
