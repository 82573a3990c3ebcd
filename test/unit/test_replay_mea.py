"""The MEA replay backend: spike lists (MCAP, NWB Units) as recorded, raw voltage (NWB
ElectricalSeries, neo files) through the online detector, stimulation refused and counted."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.io.replay import REFUSAL_REASON
from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
from neurohybrid.mea.replay import ReplayMEABackend
from neurohybrid.nodes.convert import fill_spike_batch
from neurohybrid.testing.mock import mock_stimulus

T0_NS = 1_700_000_000_000_000_000
SLICE_NS = 10_000_000
FS_HZ = 25_000.0
STEP_S = 0.01
SPIKE_UV = -200.0  # injected spike amplitude, 20 x the noise: always detected
THRESHOLD_K = 8.0  # far above the noise: no false detection in 3 s x 60 channels
NOISE_UV = 10.0
RAW_SPIKES_S = (1.5, 1.9, 2.3)  # after the detector's 1 s noise window


def _backend(path, **kw) -> ReplayMEABackend:
    b = MEA_BACKENDS.create("replay", layout=mcs60_layout(), limits=StimulationLimits(), replay_file=str(path), **kw)
    b.configure()
    return b


def _run(b, seconds: float) -> tuple[SpikeEvents, list[tuple[int, int, SpikeEvents]]]:
    calls = []
    for _ in range(int(round(seconds / STEP_S))):
        start = b.now_ns
        ev = b.advance(STEP_S)
        calls.append((start, b.now_ns, ev))
    return SpikeEvents.concat([c[2] for c in calls]), calls


def _write_mcap(path, events: SpikeEvents, topic="/padova/spikes", frame="padova/mea") -> None:
    with RecordingWriter(path) as w:
        for i in range(int((events.time_ns.max() - T0_NS) // SLICE_NS) + 1):
            t = T0_NS + i * SLICE_NS
            sel = (events.time_ns >= t) & (events.time_ns < t + SLICE_NS)
            m = fill_spike_batch(nh.SpikeBatch(seq=i, slice_start_ns=t, slice_end_ns=t + SLICE_NS), events.select(sel))
            m.header.frame_id = frame
            w.write(topic, "neurohybrid/msg/SpikeBatch", serialize_message(m), t, t)


@pytest.fixture
def recorded(tmp_path):
    rng = np.random.default_rng(5)
    n = 400
    ev = SpikeEvents(rng.integers(0, 60, n), np.sort(rng.integers(T0_NS, T0_NS + 2 * 10**9, n)),
                     rng.choice([KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP], n))
    _write_mcap(tmp_path / "rec.mcap", ev)
    return tmp_path / "rec.mcap", ev


def _nwb(path, labels=None, units=None, series=None):
    """A small NWB file: electrodes (labels), optional Units rows and ElectricalSeries."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.ecephys import ElectricalSeries

    nwb = NWBFile(session_description="t", identifier="t", session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
    dev = nwb.create_device("mea")
    group = nwb.create_electrode_group("g", "g", "culture", dev)
    nwb.add_electrode_column("label", "label")
    for label in labels or []:
        nwb.add_electrode(group=group, location="culture", label=label)
    if units is not None:
        nwb.add_unit_column("event_kind", "kind")
        for row, kind, times in units:
            nwb.add_unit(spike_times=times, electrodes=[row], event_kind=kind)
    if series is not None:
        data, rows = series
        region = nwb.create_electrode_table_region(list(rows), "recorded electrodes")
        nwb.add_acquisition(ElectricalSeries(name="raw", data=data, electrodes=region, rate=FS_HZ))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def _noise_with_spikes(n_channels: int, spike_channel: int, seconds: float = 3.0) -> np.ndarray:
    """Microvolt samples: Gaussian noise on every channel, sharp negative spikes on one."""
    rng = np.random.default_rng(9)
    x = rng.normal(0.0, NOISE_UV, (int(seconds * FS_HZ), n_channels))
    for t in RAW_SPIKES_S:
        i = int(t * FS_HZ)
        x[i:i + 3, spike_channel] += SPIKE_UV * np.array([0.5, 1.0, 0.5])
    return x


def test_replay_is_registered_in_the_mea_backends():
    assert "replay" in MEA_BACKENDS.names()


def test_mcap_replay_gives_the_recorded_ids_kinds_and_times_from_the_first_slice(recorded):
    path, ev = recorded
    out, calls = _run(_backend(path), 2.1)
    np.testing.assert_array_equal(out.source_id, ev.source_id)
    np.testing.assert_array_equal(out.kind, ev.kind)
    np.testing.assert_array_equal(out.time_ns, ev.time_ns - T0_NS)
    for start, end, batch in calls:  # each event comes out in the call whose window holds it
        assert np.all((batch.time_ns >= start) & (batch.time_ns < end))


def test_replay_speed_scales_the_timing_and_keeps_the_order(recorded):
    path, ev = recorded
    out, _ = _run(_backend(path, replay_speed=2.0), 1.05)
    assert len(out) == len(ev)
    np.testing.assert_allclose(out.time_ns, (ev.time_ns - T0_NS) / 2.0, atol=1)


def test_after_the_last_event_the_replay_stays_up_and_silent(recorded):
    b = _backend(recorded[0])
    _run(b, 2.1)
    assert len(b.advance(1.0)) == 0 and b.now_ns == int(3.1e9)


def test_stimulation_is_refused_whole_with_the_replay_reason_and_counted(recorded):
    b = _backend(recorded[0])
    b.arm()
    with pytest.raises(InputRefused) as refused:
        b.stimulate(mock_stimulus(3, 1))
    assert refused.value.count == 3 and refused.value.reason.startswith(REFUSAL_REASON)
    assert "3 stimulation command(s) refused" in str(refused.value)
    assert b.refused_total == 3 and b.delivered_total == 0


def test_nwb_units_replay_maps_electrodes_by_label_and_kinds_by_name(tmp_path):
    labels = ["12", "47", "87"]
    path = _nwb(tmp_path / "u.nwb", labels, units=[(1, "evoked_ap", [0.5, 1.25]), (2, "psp", [0.75])])
    b = _backend(path)
    out, _ = _run(b, 1.5)
    layout = mcs60_layout()
    assert b.source == "nwb_units"
    assert out.time_ns.tolist() == [500_000_000, 750_000_000, 1_250_000_000]
    assert out.source_id.tolist() == [layout.labels.index("47"), layout.labels.index("87"), layout.labels.index("47")]
    assert out.kind.tolist() == [KIND_EVOKED_AP, KIND_PSP, KIND_EVOKED_AP]


def test_nwb_electrical_series_is_detected_by_the_online_detector(tmp_path):
    labels = ["21", "33", "58"]
    volts = _noise_with_spikes(3, spike_channel=1) / 1e6
    b = _backend(_nwb(tmp_path / "raw.nwb", labels, series=(volts, [0, 1, 2])), threshold_k=THRESHOLD_K)
    out, _ = _run(b, 3.0)
    assert b.source == "nwb_raw"
    assert set(out.source_id.tolist()) == {mcs60_layout().labels.index("33")}
    np.testing.assert_allclose(out.time_ns / 1e9, RAW_SPIKES_S, atol=1e-3)
    assert np.all(out.kind == KIND_SPONTANEOUS_AP)


def test_neo_raw_binary_file_with_given_units_is_detected(tmp_path):
    x = _noise_with_spikes(60, spike_channel=7)
    x.astype(np.float32).tofile(tmp_path / "raw.dat")
    b = _backend(tmp_path / "raw.dat", neo_io="RawBinarySignalIO", raw_units="uV", threshold_k=THRESHOLD_K,
                 neo_kwargs={"dtype": "float32", "nb_channel": 60, "sampling_rate": FS_HZ})
    out, _ = _run(b, 3.0)
    assert b.source == "neo" and out.source_id.tolist() == [7, 7, 7]
    np.testing.assert_allclose(out.time_ns / 1e9, RAW_SPIKES_S, atol=1e-3)


def test_neo_file_with_its_own_voltage_units_and_channel_names_is_detected(tmp_path):
    import neo
    import quantities as pq

    labels = mcs60_layout().labels
    sig = neo.AnalogSignal(_noise_with_spikes(2, spike_channel=0) / 1e3, units="mV", sampling_rate=FS_HZ * pq.Hz,
                           array_annotations={"channel_names": np.array([labels[30], labels[5]])})
    block = neo.Block()
    block.segments.append(neo.Segment())
    block.segments[0].analogsignals.append(sig)
    neo.io.PickleIO(str(tmp_path / "raw.pkl")).write_block(block)
    out, _ = _run(_backend(tmp_path / "raw.pkl", threshold_k=THRESHOLD_K), 3.0)
    assert out.source_id.tolist() == [30, 30, 30]


def test_raw_samples_without_voltage_units_are_refused(tmp_path):
    np.zeros((100, 2), np.int16).tofile(tmp_path / "raw.dat")
    with pytest.raises(ConfigError, match="raw.dat.*not a voltage"):
        _backend(tmp_path / "raw.dat", neo_io="RawBinarySignalIO", neo_kwargs={"nb_channel": 2})


def test_a_file_without_units_or_electrical_series_is_refused_naming_the_file(tmp_path):
    path = _nwb(tmp_path / "empty.nwb", ["12"])
    with pytest.raises(ConfigError, match="empty.nwb: no Units table 'units' and no ElectricalSeries"):
        _backend(path)
    with pytest.raises(ConfigError, match="empty.nwb: no Units table 'units'"):
        _backend(path, source="nwb_units")


def test_an_electrode_label_not_in_the_layout_is_refused(tmp_path):
    path = _nwb(tmp_path / "bad.nwb", ["12", "99"], units=[(1, "psp", [0.5])])
    with pytest.raises(ConfigError, match=r"bad.nwb.*unknown electrode label\(s\) \['99'\]"):
        _backend(path)


def test_an_electrode_index_beyond_the_layout_in_an_mcap_is_refused(tmp_path):
    _write_mcap(tmp_path / "big.mcap", SpikeEvents([75], [T0_NS + 5], [KIND_PSP]))
    with pytest.raises(ConfigError, match="big.mcap.*unknown electrode 75"):
        _backend(tmp_path / "big.mcap")


def test_an_mcap_with_only_silicon_spikes_is_refused_for_the_mea(tmp_path):
    _write_mcap(tmp_path / "si.mcap", SpikeEvents([3], [T0_NS + 5], [KIND_SILICON_SPIKE]),
                topic="/zurich/spikes", frame="zurich/board")
    with pytest.raises(ConfigError, match="si.mcap.*0 SpikeBatch topics with biological events"):
        _backend(tmp_path / "si.mcap")


@pytest.mark.parametrize("kwargs, match", [
    ({"replay_file": "/nonexistent.nwb"}, "replay_file='/nonexistent.nwb': no such file"),
    ({"replay_speed": 0.0}, r"replay_speed=0.0 outside allowed \(0, 100\]"),
    ({"source": "tape"}, "source='tape' unknown"),
])
def test_bad_arguments_name_the_key(recorded, kwargs, match):
    args = {"replay_file": str(recorded[0]), **kwargs}
    with pytest.raises(ConfigError, match=match):
        ReplayMEABackend(mcs60_layout(), StimulationLimits(), **args)
