"""RecordingWriter: rosbag2/Foxglove-compatible MCAP, crash safety, and errors that name the path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rclpy.serialization import serialize_message

from neurohybrid.core.errors import ConfigError, NeurohybridError
from neurohybrid.io.msgdefs import ros2msg_definition
from neurohybrid.io.reader import Recording
from neurohybrid.io.recording import RecordingError, RecordingWriter
from neurohybrid.testing.messages import mock_messages

T0_NS = 1_700_000_000_000_000_000


def _same(decoded, original) -> None:
    """Every field of a decoded mcap_ros2 message equals the rclpy original."""
    for name in original.get_fields_and_field_types():
        want, got = getattr(original, name), getattr(decoded, name)
        if name == "header":
            assert (got.stamp.sec, got.stamp.nanosec, got.frame_id) == (
                want.stamp.sec, want.stamp.nanosec, want.frame_id)
        elif isinstance(want, (str, bool, int, float)):
            assert got == want, name
        elif len(want) and isinstance(want[0], str):
            assert list(got) == list(want), name
        else:
            np.testing.assert_array_equal(np.asarray(list(got) if isinstance(got, bytes) else got),
                                          np.asarray(want), err_msg=name)


def _write_all(path, compression="zstd"):
    msgs = mock_messages()
    with RecordingWriter(path, metadata={"run": {"seed": "0"}}, compression=compression) as w:
        for i, (name, msg) in enumerate(msgs.items()):
            w.write(f"/lab/{name}", f"neurohybrid/msg/{name}", serialize_message(msg), T0_NS + i, T0_NS + i)
        w.attach("lab.yaml", b"rate_hz: 20\n", "text/yaml", T0_NS)
    return msgs


@pytest.mark.parametrize("compression", ["zstd", "lz4", None])
def test_every_message_type_round_trips_through_the_plain_mcap_ros2_reader(tmp_path, compression):
    path = tmp_path / "all.mcap"
    msgs = _write_all(path, compression)
    seen = {}
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        assert reader.get_header().profile == "ros2"
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            assert schema.encoding == "ros2msg" and channel.message_encoding == "cdr"
            assert schema.data.decode() == ros2msg_definition(schema.name)
            seen[schema.name.split("/")[-1]] = decoded
            assert channel.topic == f"/lab/{schema.name.split('/')[-1]}"
    assert set(seen) == set(msgs)
    for name, msg in msgs.items():
        _same(seen[name], msg)


def test_every_message_type_round_trips_through_the_numpy_reader(tmp_path):
    path = tmp_path / "all.mcap"
    msgs = _write_all(path)
    rec = Recording.open(path)
    assert not rec.truncated
    spikes = rec.spikes("/lab/SpikeBatch")
    np.testing.assert_array_equal(spikes["source_id"], np.asarray(msgs["SpikeBatch"].source_id))
    np.testing.assert_array_equal(spikes["time_ns"], np.asarray(msgs["SpikeBatch"].time_ns))
    np.testing.assert_array_equal(spikes["kind"], np.asarray(msgs["SpikeBatch"].kind))
    assert set(spikes["seq"]) == {7}
    np.testing.assert_array_equal(rec.weighted("/lab/WeightedEventBatch")["weight"],
                                  np.asarray(msgs["WeightedEventBatch"].weight, np.float32))
    np.testing.assert_array_equal(rec.stimulation("/lab/StimulationCommand")["electrode"],
                                  np.asarray(msgs["StimulationCommand"].electrode))
    states = rec.synapse_states("/lab/SynapseStates")
    np.testing.assert_array_equal(states["resistance_ohm"][0], [4000.0, 5500.5, 7000.25, 9000.0])
    assert list(states["post"]) == ["padova:21", "zurich:1", "padova:0", "padova:59"]
    p = rec.plasticity("/lab/PlasticityEvent")
    assert p["direction"][0] == 1 and p["accepted"][0] and p["pre_count"][0] == 25
    assert rec.refusals("/lab/Refusal")["reason"][0].startswith("amplitude_ua=80.0")
    assert rec.link_status("/lab/LinkStatus")["rtt_s"][0] == pytest.approx(0.021)
    assert rec.metadata() == {"run": {"seed": "0"}}
    (att,) = rec.attachments()
    assert (att.name, att.media_type, att.data) == ("lab.yaml", "text/yaml", b"rate_hz: 20\n")


def test_schema_is_registered_once_per_type_and_channel_once_per_topic(tmp_path):
    path = tmp_path / "two.mcap"
    data = serialize_message(mock_messages()["SpikeBatch"])
    with RecordingWriter(path) as w:
        a = w.channel("/padova/spikes", "neurohybrid/msg/SpikeBatch", qos="- history: keep_last\n")
        assert w.channel("/padova/spikes", "neurohybrid/msg/SpikeBatch") == a
        for topic in ("/padova/spikes", "/zurich/spikes", "/padova/spikes"):
            w.write(topic, "neurohybrid/msg/SpikeBatch", data, T0_NS, T0_NS)
        assert w.messages_written == 3
    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    assert len(summary.schemas) == 1
    assert sorted(c.topic for c in summary.channels.values()) == ["/padova/spikes", "/zurich/spikes"]
    assert summary.channels[a].metadata == {"offered_qos_profiles": "- history: keep_last\n"}
    assert summary.statistics.message_count == 3


def test_close_is_idempotent_and_writing_after_close_is_an_error(tmp_path):
    w = RecordingWriter(tmp_path / "c.mcap")
    w.close()
    w.close()
    assert w.closed
    with pytest.raises(RecordingError, match="closed"):
        w.write("/a", "neurohybrid/msg/Refusal", b"", 0, 0)


def test_unwritable_path_raises_recording_error_naming_the_path(tmp_path):
    bad = tmp_path / "no_such_dir" / "x.mcap"
    with pytest.raises(RecordingError, match="no_such_dir/x.mcap") as err:
        RecordingWriter(bad)
    assert isinstance(err.value, NeurohybridError)
    with pytest.raises(RecordingError, match=str(tmp_path)):
        RecordingWriter(tmp_path)  # a directory


def test_unknown_message_type_is_an_error_naming_the_topic(tmp_path):
    with RecordingWriter(tmp_path / "u.mcap") as w:
        with pytest.raises(RecordingError, match="/odd.*NoSuchType"):
            w.write("/odd", "neurohybrid/msg/NoSuchType", b"", 0, 0)


@pytest.mark.parametrize("key, kwargs", [
    ("compression", {"compression": "gzip"}),
    ("chunk_size", {"chunk_size": 0}),
    ("flush_interval_s", {"flush_interval_s": 0.0}),
    ("flush_interval_s", {"flush_interval_s": float("nan")}),
])
def test_bad_settings_are_refused_naming_the_key(tmp_path, key, kwargs):
    with pytest.raises(ConfigError, match=key):
        RecordingWriter(tmp_path / "x.mcap", **kwargs)
    assert not (tmp_path / "x.mcap").exists()


def test_metadata_values_must_be_strings(tmp_path):
    with pytest.raises(ConfigError, match="metadata\\['run'\\]"):
        RecordingWriter(tmp_path / "m.mcap", metadata={"run": {"seed": 3}})


_FULL_DISK = textwrap.dedent("""
    import resource, signal, sys
    from neurohybrid.io.recording import RecordingError, RecordingWriter
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    w = RecordingWriter(sys.argv[1], chunk_size=4096, compression=None)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    try:
        for i in range(100):
            w.write("/a", "neurohybrid/msg/Refusal", bytes(2048), i, i)
    except RecordingError as exc:
        print("ERROR", exc)
    w.close()  # already reported: must not raise again
    print("CLOSED")
""")


def test_a_write_error_raises_recording_error_with_the_reason(tmp_path):
    path = tmp_path / "full.mcap"
    out = subprocess.run([sys.executable, "-c", _FULL_DISK, str(path)], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"ERROR writing recording {path} failed: File too large" in out.stdout
    assert "CLOSED" in out.stdout


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    from rclpy.serialization import serialize_message
    from neurohybrid.io.recording import RecordingWriter
    from neurohybrid.testing.messages import mock_messages
    msg = mock_messages()["SpikeBatch"]
    w = RecordingWriter(sys.argv[1], chunk_size=1 << 30, flush_interval_s=float(sys.argv[2]))
    start = time.monotonic()
    last_report = start
    seq = 0
    while True:
        now_ns = time.time_ns()
        msg.seq = seq
        w.write("/padova/spikes", "neurohybrid/msg/SpikeBatch", serialize_message(msg), now_ns, now_ns)
        seq += 1
        if time.monotonic() - last_report > 0.05:
            last_report = time.monotonic()
            print(now_ns, last_report - start, flush=True)
        time.sleep(0.001)  # a 1 kHz publisher
""")


def test_a_recording_whose_writer_was_sigkilled_opens_with_messages_up_to_the_flush_interval(tmp_path):
    """Chunks far larger than the data: only the wall-clock flush puts messages on disk."""
    path = tmp_path / "killed.mcap"
    flush_interval_s = 1.0
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path), str(flush_interval_s)],
                            stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        elapsed_s, last_ns = 0.0, 0
        while elapsed_s < 2.5 * flush_interval_s:
            line = proc.stdout.readline()
            assert line, "writer died before it was killed"
            last_ns, elapsed_s = int(line.split()[0]), float(line.split()[1])
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    rec = Recording.open(path)
    assert rec.truncated
    spikes = rec.spikes("padova")
    seqs = spikes["batch_seq"]
    np.testing.assert_array_equal(seqs, np.arange(len(seqs)))  # every complete chunk, in order
    assert len(spikes["source_id"]) == 100 * len(seqs)
    lost_s = (last_ns - rec.end_ns) / 1e9
    print(f"lost the last {lost_s:.3f} s of {elapsed_s:.2f} s")
    assert lost_s < flush_interval_s + 0.3, f"lost the last {lost_s:.2f} s"
