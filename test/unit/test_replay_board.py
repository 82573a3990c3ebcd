"""The board replay backend: recorded silicon spikes (MCAP, NWB units) in their original timing;
weighted input refused with the replay reason and counted."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.board.backend import BOARD_BACKENDS
from neurohybrid.board.replay import ReplayBoardBackend
from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.io.replay import REFUSAL_REASON
from neurohybrid.nodes.convert import fill_spike_batch

T0_NS = 1_700_000_000_000_000_000
SLICE_NS = 10_000_000
STEP_S = 0.01


@pytest.fixture
def recorded(tmp_path):
    rng = np.random.default_rng(11)
    n = 300
    ev = SpikeEvents(rng.integers(0, 1024, n), np.sort(rng.integers(T0_NS, T0_NS + 10**9, n)),
                     np.full(n, KIND_SILICON_SPIKE))
    with RecordingWriter(tmp_path / "rec.mcap") as w:
        for i in range(100):
            t = T0_NS + i * SLICE_NS
            sel = (ev.time_ns >= t) & (ev.time_ns < t + SLICE_NS)
            m = fill_spike_batch(nh.SpikeBatch(seq=i, slice_start_ns=t, slice_end_ns=t + SLICE_NS), ev.select(sel))
            m.header.frame_id = "zurich/board"
            w.write("/zurich/spikes", "neurohybrid/msg/SpikeBatch", serialize_message(m), t, t)
    return tmp_path / "rec.mcap", ev


def _nwb_units(path, ids, times_s, table="silicon_units"):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.misc import Units

    nwb = NWBFile(session_description="t", identifier="t", session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    units = Units(name=table, description="silicon")
    units.add_column("source_id", "neuron id")
    for sid, t in zip(ids, times_s):
        units.add_row(spike_times=t, source_id=sid)
    nwb.create_processing_module("silicon", "silicon").add(units)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _play(b, seconds: float) -> SpikeEvents:
    return SpikeEvents.concat([b.advance(STEP_S) for _ in range(int(round(seconds / STEP_S)))])


def _backend(path, **kw) -> ReplayBoardBackend:
    b = BOARD_BACKENDS.create("replay", replay_file=str(path), **kw)
    b.configure()
    return b


def test_replay_is_registered_in_the_board_backends():
    assert "replay" in BOARD_BACKENDS.names()


def test_mcap_replay_gives_the_recorded_neurons_at_their_times_from_the_first_slice(recorded):
    path, ev = recorded
    out = _play(_backend(path), 1.0)
    np.testing.assert_array_equal(out.source_id, ev.source_id)
    np.testing.assert_array_equal(out.time_ns, ev.time_ns - T0_NS)
    assert np.all(out.kind == KIND_SILICON_SPIKE)


def test_a_faster_replay_compresses_time_by_the_speed_factor(recorded):
    path, ev = recorded
    out = _play(_backend(path, replay_speed=4.0), 0.25)
    assert len(out) == len(ev)
    np.testing.assert_allclose(out.time_ns, (ev.time_ns - T0_NS) / 4.0, atol=1)


def test_nwb_silicon_units_replay_by_source_id(tmp_path):
    path = _nwb_units(tmp_path / "s.nwb", [5, 900], [[0.1, 0.3], [0.2]])
    out = _play(_backend(path), 0.5)
    assert out.source_id.tolist() == [5, 900, 5]
    assert out.time_ns.tolist() == [100_000_000, 200_000_000, 300_000_000]


def test_weighted_input_is_refused_with_the_replay_reason_and_counted(recorded):
    b = _backend(recorded[0])
    with pytest.raises(InputRefused, match=REFUSAL_REASON) as info:
        b.deliver(np.array([1, 2]), np.array([0, 0]), np.array([0.5, 0.5]))
    assert isinstance(info.value, ValueError)  # the node reports ValueErrors as refused input
    assert info.value.count == 2
    assert b.refused_total == 2 and b.delivered_total == 0 and b.info()["refused_total"] == 2


def test_a_neuron_beyond_the_board_is_refused_at_configure(recorded):
    b = BOARD_BACKENDS.create("replay", replay_file=str(recorded[0]), n_neurons=16)
    with pytest.raises(ConfigError, match=r"rec.mcap: unknown neuron \d+ \(board has neurons 0..15"):
        b.configure()


def test_a_missing_units_table_is_refused_naming_the_file_and_the_tables(tmp_path):
    path = _nwb_units(tmp_path / "other.nwb", [1], [[0.1]], table="sorted")
    with pytest.raises(ConfigError, match=r"other.nwb: no Units table 'silicon_units'.*processing/silicon/sorted"):
        _backend(path)


@pytest.mark.parametrize("kwargs, match", [
    ({"replay_file": ""}, "replay_file='': no such file"),
    ({"replay_speed": 1000.0}, r"replay_speed=1000.0 outside allowed"),
    ({"n_neurons": 0}, r"n_neurons=0 outside allowed"),
    ({"source": "wav"}, "source='wav' unknown"),
])
def test_bad_arguments_name_the_key(recorded, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ReplayBoardBackend(**{"replay_file": str(recorded[0]), **kwargs})
