"""The MEA lsl backend with real liblsl outlets and inlets on loopback (pylsl).

The same synthetic voltage streamed over LSL and replayed from an NWB file gives the same spikes;
event streams map their LSL times into the device clock; stimulation is refused (read-only).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np
import pytest

from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import ConfigError, DeviceError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.io.lsl import pylsl_module
from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
from neurohybrid.mea.lsl import REFUSAL_REASON
from neurohybrid.testing.lsl_source import event_outlet, raw_outlet, unique_name
from neurohybrid.testing.mock import mock_stimulus

FS_HZ = 10_000.0
SECONDS = 3.0
STEP_S = 0.01
NOISE_UV = 10.0
SPIKE_UV = -200.0
THRESHOLD_K = 8.0
LABELS = ["21", "33", "58", "74"]
MS = 1_000_000


def _signal() -> tuple[np.ndarray, np.ndarray]:
    """Microvolts (samples x 4 channels): noise, and sharp spikes on random channels after 1 s."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, NOISE_UV, (int(SECONDS * FS_HZ), len(LABELS)))
    times = np.sort(rng.uniform(1.1, SECONDS - 0.1, 12))
    channels = rng.integers(0, len(LABELS), len(times))
    for t, c in zip(times, channels):
        i = int(t * FS_HZ)
        x[i:i + 3, c] += SPIKE_UV * np.array([0.5, 1.0, 0.5])
    return x, channels


def _nwb(path, volts: np.ndarray):
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries

    nwb = NWBFile(session_description="t", identifier="t", session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    group = nwb.create_electrode_group("g", "g", "culture", nwb.create_device("mea"))
    nwb.add_electrode_column("label", "label")
    for label in LABELS:
        nwb.add_electrode(group=group, location="culture", label=label)
    region = nwb.create_electrode_table_region(list(range(len(LABELS))), "recorded")
    nwb.add_acquisition(ElectricalSeries(name="raw", data=volts, electrodes=region, rate=FS_HZ))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _lsl(**kw):
    return MEA_BACKENDS.create("lsl", layout=mcs60_layout(), limits=StimulationLimits(), **kw)


def _advance_until(b, end_ns: int) -> SpikeEvents:
    out = []
    while b.now_ns < end_ns:
        out.append(b.advance(STEP_S))
    return SpikeEvents.concat(out)


def _configured(b):
    lsl = pylsl_module()
    before = lsl.local_clock()
    b.configure()
    return before, lsl.local_clock()


def test_the_same_signal_over_lsl_and_from_a_file_gives_the_same_spikes(tmp_path):
    uv, spike_channels = _signal()
    replay = MEA_BACKENDS.create("replay", layout=mcs60_layout(), limits=StimulationLimits(),
                                 replay_file=str(_nwb(tmp_path / "raw.nwb", uv / 1e6)), threshold_k=THRESHOLD_K)
    replay.configure()
    from_file = _advance_until(replay, int(SECONDS * 1e9))
    assert len(from_file) == len(spike_channels) > 0

    name = unique_name("nh-raw")
    outlet = raw_outlet(name, FS_HZ, LABELS, unit="microvolts")
    b = _lsl(stream_name=name, threshold_k=THRESHOLD_K)
    before, after = _configured(b)
    assert b.mode == "raw" and b.info()["lsl_channel_labels"] == LABELS
    lsl = pylsl_module()
    t0 = lsl.local_clock()
    for i in range(0, len(uv), 1000):  # the acquisition system's chunks, stamped on its sampling clock
        chunk = uv[i:i + 1000].astype(np.float32)
        outlet.push_chunk(chunk, [t0 + (i + k) / FS_HZ for k in range(len(chunk))])
    over_lsl = _advance_until(b, int((t0 - before + SECONDS) * 1e9) + 10 * MS)
    b.shutdown()

    np.testing.assert_array_equal(over_lsl.source_id, from_file.source_id)
    np.testing.assert_array_equal(over_lsl.kind, from_file.kind)
    offset = over_lsl.time_ns - from_file.time_ns  # where the stream's first sample fell on the device clock
    assert offset.max() - offset.min() <= 2
    assert (t0 - after) * 1e9 - MS <= offset[0] <= (t0 - before) * 1e9 + MS


def test_channels_are_matched_by_their_described_locations_without_labels():
    layout = mcs60_layout()
    rows = [5, 17, 42]
    name = unique_name("nh-pos")
    outlet = raw_outlet(name, FS_HZ, positions_um=layout.positions_um[rows], n_channels=3)
    b = _lsl(stream_name=name)
    b.configure()
    assert b._electrodes.tolist() == rows
    assert b.info()["lsl_channel_positions_um"] == layout.positions_um[rows].tolist()
    b.shutdown()
    del outlet


def test_a_channel_at_no_electrode_position_is_refused():
    name = unique_name("nh-pos")
    outlet = raw_outlet(name, FS_HZ, positions_um=np.array([[1.5e4, 3.0]]), n_channels=1)
    with pytest.raises(ConfigError, match="is no electrode of the layout"):
        _lsl(stream_name=name).configure()
    del outlet


def test_event_stream_times_map_into_the_device_clock_and_bad_events_are_dropped():
    name = unique_name("nh-ev")
    outlet = event_outlet(name)
    b = _lsl(stream_name=name)
    _, after = _configured(b)
    b.arm()
    assert b.mode == "events"
    lsl = pylsl_module()
    t = lsl.local_clock()
    sent = [(3, KIND_PSP, 0.05), (59, KIND_EVOKED_AP, 0.10), (60, KIND_PSP, 0.12), (7, 9, 0.13),
            (8, KIND_SPONTANEOUS_AP, 0.15)]
    for electrode, kind, dt in sent:
        outlet.push_sample([electrode, kind], t + dt)
    outlet.push_sample([1, KIND_PSP], after - 1.0)  # before the device started
    got = _advance_until(b, int((t - after + 0.2) * 1e9))
    assert got.source_id.tolist() == [3, 59, 8]
    assert got.kind.tolist() == [KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP]
    expected_ns = (t + np.array([0.05, 0.10, 0.15]) - after) * 1e9  # device time 0 is just before `after`
    assert np.all((got.time_ns >= expected_ns - MS) & (got.time_ns <= expected_ns + 5 * MS))
    assert np.all(np.abs(np.diff(got.time_ns) - np.diff(expected_ns)) <= 1)  # ns rounding
    info = b.info()
    assert info["malformed_total"] == 2 and info["early_total"] == 1
    b.shutdown()


def test_events_stamped_after_now_wait_for_their_time():
    name = unique_name("nh-ev")
    outlet = event_outlet(name)
    b = _lsl(stream_name=name)
    _, after = _configured(b)
    outlet.push_sample([4, KIND_PSP], after + 0.5)
    first = _advance_until(b, 300 * MS)
    assert len(first) == 0
    later = _advance_until(b, 600 * MS)
    assert later.source_id.tolist() == [4] and later.time_ns[0] > 300 * MS
    b.shutdown()


def test_stimulation_is_refused_whole_as_a_read_only_source():
    name = unique_name("nh-ev")
    outlet = event_outlet(name)
    b = _lsl(stream_name=name)
    b.configure()
    b.arm()
    with pytest.raises(InputRefused, match=re.escape(REFUSAL_REASON)) as refused:
        b.stimulate(mock_stimulus(3))
    assert refused.value.count == 3 and b.refused_total == 3
    b.shutdown()
    del outlet


def test_no_stream_is_a_device_error_naming_what_it_looked_for():
    name = unique_name("nh-none")
    with pytest.raises(DeviceError, match=f"no LSL stream matching name='{name}' within resolve_timeout_s=0.3"):
        _lsl(stream_name=name, resolve_timeout_s=0.3).configure()


def test_events_mode_on_a_voltage_stream_is_refused():
    name = unique_name("nh-raw")
    outlet = raw_outlet(name, FS_HZ, LABELS)
    with pytest.raises(ConfigError, match="mode='events' but stream"):
        _lsl(stream_name=name, mode="events").configure()
    del outlet


@pytest.mark.parametrize("kwargs, match", [
    ({}, "all empty"), ({"stream_name": "a'b"}, "quote"), ({"stream_name": "x", "mode": "spikes"}, "mode"),
    ({"stream_name": "x", "max_wait_s": -1.0}, "max_wait_s"), ({"stream_name": "x", "raw_units": "A"}, "raw_units"),
])
def test_bad_settings_name_the_key(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        _lsl(**kwargs)


def test_the_mea_node_parameters_build_the_lsl_backend():
    from neurohybrid.mea.params import mea_backend

    name = unique_name("nh-ev")
    outlet = event_outlet(name)
    b = mea_backend({"backend": "lsl", "lsl.stream_name": name, "lsl.max_wait_s": 0.05})
    assert b.name == "lsl" and b.info()["kwargs"]["max_wait_s"] == 0.05
    b.configure()
    assert b.mode == "events"
    b.shutdown()
    del outlet


def test_a_source_that_goes_away_leaves_the_device_up_and_silent():
    name = unique_name("nh-ev")
    outlet = event_outlet(name)
    b = _lsl(stream_name=name, max_wait_s=0.05)
    _, after = _configured(b)
    outlet.push_sample([2, KIND_PSP], after + 0.05)
    assert _advance_until(b, 200 * MS).source_id.tolist() == [2]
    del outlet  # the acquisition system stops (liblsl logs that the transmission broke off)
    assert len(_advance_until(b, 500 * MS)) == 0 and b.now_ns >= 500 * MS
    b.shutdown()
