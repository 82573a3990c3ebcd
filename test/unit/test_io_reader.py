"""Recording: MCAP -> numpy by topic or lab, truncated files, hop latencies, no rclpy needed."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.io.reader import Recording, RecordingReadError, UnknownTopicError
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.nodes.convert import to_array

T0_NS = 1_700_000_000_000_000_000
MS = 1_000_000


def _stamp(m, t_ns: int, frame: str):
    m.header.stamp.sec, m.header.stamp.nanosec = divmod(t_ns, 1_000_000_000)
    m.header.frame_id = frame
    return m


def _spikes(seq: int, t_ns: int, frame: str, ids, kind: int):
    m = nh.SpikeBatch(seq=seq, clock_domain=frame.split("/")[0])
    m.source_id = to_array(ids, np.uint32)
    m.time_ns = to_array(t_ns + np.arange(len(ids)), np.int64)
    m.kind = to_array(np.full(len(ids), kind), np.uint8)
    return _stamp(m, t_ns, frame)


def _states(t_ns: int, ids, resistance):
    m = nh.SynapseStates(synapse_id=to_array(ids, np.uint32), wordline=to_array(ids, np.uint16),
                         bitline=to_array(ids, np.uint16), resistance_ohm=to_array(resistance, np.float64),
                         weight=to_array(np.zeros(len(ids)), np.float32),
                         weight_byte=to_array(np.zeros(len(ids)), np.uint8),
                         pre=[f"zurich:{i}" for i in ids], post=[f"padova:{i}" for i in ids])
    return _stamp(m, t_ns, "southampton/memristor")


def _weighted(t_ns: int, pre_frame: str, pre_stamp_ns: int, n: int = 2):
    m = nh.WeightedEventBatch(seq=0, pre_frame=pre_frame, pre_stamp_ns=pre_stamp_ns)
    for name, dtype in (("pre_id", np.uint32), ("pre_time_ns", np.int64), ("post_id", np.uint32),
                        ("synapse_id", np.uint32), ("weight", np.float32), ("weight_byte", np.uint8),
                        ("delivery_time_ns", np.int64)):
        setattr(m, name, to_array(np.ones(n), dtype))
    return _stamp(m, t_ns, "southampton/hub")


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "r.mcap"
    with RecordingWriter(path, chunk_size=2048) as w:
        def put(topic, m, t_ns):
            w.write(topic, f"neurohybrid/msg/{type(m).__name__}", serialize_message(m), t_ns, t_ns)
        put("/padova/spikes", _spikes(0, T0_NS, "padova/mea", [1, 2, 3], 2), T0_NS)
        put("/zurich/spikes", _spikes(4, T0_NS + MS, "zurich/board", [9], 3), T0_NS + MS)
        put("/padova/spikes", _spikes(1, T0_NS + 2 * MS, "padova/mea", [], 2), T0_NS + 2 * MS)
        put("/padova/spikes", _spikes(2, T0_NS + 3 * MS, "padova/mea", [4, 5], 0), T0_NS + 3 * MS)
        put("/southampton/synapse_states", _states(T0_NS, [0, 1], [5000.0, 6000.0]), T0_NS)
        put("/southampton/synapse_states", _states(T0_NS + 5 * MS, [1, 7], [6500.0, 4000.0]), T0_NS + 5 * MS)
        put("/zurich/weighted_events", _weighted(T0_NS + 4 * MS, "padova/mea", T0_NS + 3 * MS), T0_NS + 4 * MS)
        put("/zurich/weighted_events", _weighted(T0_NS + 6 * MS, "padova/mea", 0), T0_NS + 6 * MS)
        put("/padova/weighted_events", _weighted(T0_NS + 7 * MS, "zurich/board", T0_NS + 5 * MS), T0_NS + 7 * MS)
    return path


def test_topics_are_found_by_schema_name(recording):
    rec = Recording.open(recording)
    assert rec.topics()["/padova/spikes"] == "neurohybrid/msg/SpikeBatch"
    assert rec.topics_of("neurohybrid/SpikeBatch") == ["/padova/spikes", "/zurich/spikes"]
    assert rec.message_count("/padova/spikes") == 3 and rec.message_count("/nowhere") == 0


def test_spikes_of_a_lab_are_concatenated_over_batches_with_their_batch_stamp_and_seq(recording):
    s = Recording.open(recording).spikes("padova")
    assert s["topic"] == "/padova/spikes"
    np.testing.assert_array_equal(s["source_id"], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(s["kind"], [2, 2, 2, 0, 0])
    np.testing.assert_array_equal(s["seq"], [0, 0, 0, 2, 2])
    np.testing.assert_array_equal(s["stamp_ns"], [T0_NS] * 3 + [T0_NS + 3 * MS] * 2)
    np.testing.assert_array_equal(s["time_ns"], [T0_NS, T0_NS + 1, T0_NS + 2, T0_NS + 3 * MS, T0_NS + 3 * MS + 1])
    np.testing.assert_array_equal(s["batch_seq"], [0, 1, 2])  # the empty batch is kept
    np.testing.assert_array_equal(s["batch_count"], [3, 0, 2])
    assert list(s["batch_frame_id"]) == ["padova/mea"] * 3
    assert s["source_id"].dtype == np.uint32 and s["time_ns"].dtype == np.int64 and s["kind"].dtype == np.uint8


def test_a_topic_name_works_as_well_as_a_lab(recording):
    rec = Recording.open(recording)
    assert rec.spikes("/zurich/spikes")["source_id"].tolist() == [9]
    assert rec.spikes("zurich")["kind"].tolist() == [3]


def test_unknown_lab_is_an_error_listing_the_topics_of_that_type(recording):
    with pytest.raises(UnknownTopicError, match=r"southampton.*'/padova/spikes', '/zurich/spikes'"):
        Recording.open(recording).spikes("southampton")


def test_a_topic_of_another_type_is_an_error_naming_its_type(recording):
    with pytest.raises(UnknownTopicError, match="SynapseStates"):
        Recording.open(recording).spikes("/southampton/synapse_states")


def test_a_lab_matching_several_topics_is_ambiguous(tmp_path):
    path = tmp_path / "two.mcap"
    data = serialize_message(_spikes(0, T0_NS, "padova/mea", [1], 2))
    with RecordingWriter(path) as w:
        for topic in ("/padova/spikes", "/padova/spikes_raw"):
            w.write(topic, "neurohybrid/msg/SpikeBatch", data, T0_NS, T0_NS)
    rec = Recording.open(path)
    with pytest.raises(UnknownTopicError, match="several"):
        rec.spikes("padova")
    assert rec.spikes("/padova/spikes_raw")["source_id"].tolist() == [1]


def test_synapse_states_form_a_time_by_synapse_matrix_with_nan_where_unlisted(recording):
    s = Recording.open(recording).synapse_states("southampton")
    np.testing.assert_array_equal(s["synapse_id"], [0, 1, 7])
    np.testing.assert_array_equal(s["stamp_ns"], [T0_NS, T0_NS + 5 * MS])
    np.testing.assert_array_equal(s["resistance_ohm"], [[5000.0, 6000.0, np.nan], [np.nan, 6500.0, 4000.0]])
    assert list(s["pre"]) == ["zurich:0", "zurich:1", "zurich:7"]


def test_hop_latencies_come_from_header_stamps_keyed_by_the_source_lab(recording):
    hops = Recording.open(recording).hop_latencies()
    assert set(hops) == {"padova->hub", "zurich->hub"}
    np.testing.assert_allclose(hops["padova->hub"], [1e-3])  # the batch without pre_stamp is skipped
    np.testing.assert_allclose(hops["zurich->hub"], [2e-3])


def test_duration_spans_the_log_times(recording):
    rec = Recording.open(recording)
    assert rec.start_ns == T0_NS and rec.end_ns == T0_NS + 7 * MS
    assert rec.duration_s == pytest.approx(7e-3)


def test_a_file_cut_anywhere_opens_in_stream_mode_with_a_prefix_of_its_messages(tmp_path, recording):
    data = recording.read_bytes()
    full = Recording.open(recording)
    assert not full.truncated
    counts = []
    for cut in np.linspace(200, len(data) - 1, 25).astype(int):
        part = tmp_path / f"cut{cut}.mcap"
        part.write_bytes(data[:cut])
        rec = Recording.open(part)
        assert rec.truncated
        n = rec.message_count("/padova/spikes")
        counts.append(n)
        if n:
            np.testing.assert_array_equal(rec.spikes("padova")["batch_seq"], np.arange(n))
    assert counts == sorted(counts) and counts[-1] == 3 and counts[0] == 0


def test_a_file_that_is_not_mcap_is_refused_naming_the_path(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, this is not an MCAP file")
    with pytest.raises(RecordingReadError, match="notes.txt"):
        Recording.open(bad)
    with pytest.raises(RecordingReadError, match="missing.mcap"):
        Recording.open(tmp_path / "missing.mcap")


def test_a_malformed_message_is_reported_with_its_topic_and_index(tmp_path):
    path = tmp_path / "bad.mcap"
    good = serialize_message(_spikes(0, T0_NS, "padova/mea", [1, 2], 2))
    with RecordingWriter(path) as w:
        w.write("/padova/spikes", "neurohybrid/msg/SpikeBatch", good, T0_NS, T0_NS)
        w.write("/padova/spikes", "neurohybrid/msg/SpikeBatch", good[:30], T0_NS + 1, T0_NS + 1)
    with pytest.raises(RecordingReadError, match="message 1 of /padova/spikes"):
        Recording.open(path).spikes("padova")


def test_the_robot_standard_messages_read_back_as_rclpy_deserialises_them(tmp_path):
    from rclpy.serialization import deserialize_message

    from neurohybrid.nodes.recorder_node import message_class
    from neurohybrid.testing.robot_recording import write_robot_recording

    rec = Recording.open(write_robot_recording(tmp_path / "robot.mcap"))
    assert rec.topics_of("nav_msgs/msg/Odometry") == ["/robot/odom"]
    odom, cmd = rec.odometry("robot"), rec.twists("/robot/cmd_vel")
    scans, hits = rec.scans("robot"), rec.points("robot")
    assert len(odom["x_m"]) == 1001 and odom["x_m"][0] == -0.5 and odom["x_m"][-1] == 0.5
    np.testing.assert_array_equal(odom["yaw_rad"], 0.0)
    assert cmd["linear_m_s"].shape == (1001, 3) and cmd["angular_rad_s"][-1, 2] == 0.5
    np.testing.assert_array_equal(scans["ranges_m"][0], np.float32([1.0, 0.5, 0.3, 0.5]))
    assert scans["frame_id"][0] == "base_scan"
    assert hits["x_m"].tolist() == [-0.2, 0.2]
    # the decoders built from the recorded schemas agree with the generated classes
    for topic, type_name in rec.topics().items():
        if type_name.startswith("neurohybrid/"):
            continue
        raw = rec._topics[topic].messages[0].data
        expected = deserialize_message(raw, message_class(type_name))
        ours = rec.decoded(topic)[0]
        if type_name == "nav_msgs/msg/Odometry":
            assert (ours.pose.pose.position.x, ours.child_frame_id) == (expected.pose.pose.position.x,
                                                                         expected.child_frame_id)
            assert ours.header.stamp.sec == expected.header.stamp.sec
        elif type_name == "sensor_msgs/msg/LaserScan":
            assert ours.ranges.tolist() == list(expected.ranges) and ours.angle_min == expected.angle_min
        elif type_name == "geometry_msgs/msg/Twist":
            assert (ours.linear.x, ours.angular.z) == (expected.linear.x, expected.angular.z)
        else:
            assert (ours.point.x, ours.header.frame_id) == (expected.point.x, expected.header.frame_id)
