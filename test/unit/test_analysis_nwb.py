"""export_nwb() and `neurohybrid export nwb`: a valid NWB file that reads back to the recording."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.analysis.nwb import export_nwb
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.nodes.convert import fill_spike_batch, fill_stimulation, to_array
from neurohybrid.testing.mock import mock_stimulus

T0_NS = 1_700_000_000_123_456_789
S = 1_000_000_000
SLICE_NS = 10_000_000
N_SLICES = 200
N_SYNAPSES = 4
PADOVA_YAML = b"/**:\n  ros__parameters:\n    lab: padova\n    backend: sim\n    layout: mcs60\n    pitch_um: 200.0\n"


def _stamp(m, t_ns: int, frame: str):
    m.header.stamp.sec, m.header.stamp.nanosec = divmod(t_ns, S)
    m.header.frame_id = frame
    return m


def write_recording(path, rng: np.random.Generator, max_electrode: int = 60,
                    subject: dict[str, str] | None = None) -> dict:
    """2 s of both labs' spikes, stimulation, plasticity, synapse states, link status and a refusal."""
    spikes = {"padova": [], "zurich": []}
    resistance = []
    r = np.full(N_SYNAPSES, 6000.0)
    with RecordingWriter(path, metadata={"subject": subject} if subject else None) as w:
        def put(topic, m, t_ns):
            w.write(topic, f"neurohybrid/msg/{type(m).__name__}", serialize_message(m), t_ns, t_ns)
        w.attach("padova.yaml", PADOVA_YAML, "text/yaml", T0_NS)
        for i in range(N_SLICES):
            t = T0_NS + i * SLICE_NS
            for lab, frame, n_src, kinds in (("padova", "padova/mea", max_electrode,
                                              [KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP]),
                                             ("zurich", "zurich/board", 256, [KIND_SILICON_SPIKE])):
                n = int(rng.poisson(5))
                ev = SpikeEvents(rng.integers(0, n_src, n), np.sort(rng.integers(t, t + SLICE_NS, n)),
                                 rng.choice(kinds, n))
                spikes[lab].append(ev)
                put(f"/{lab}/spikes", _stamp(fill_spike_batch(
                    nh.SpikeBatch(seq=i, clock_domain=lab, slice_start_ns=t, slice_end_ns=t + SLICE_NS), ev),
                    t + SLICE_NS, frame), t + SLICE_NS)
            if i % 20 == 0:
                stim = mock_stimulus(2, i)
                put("/padova/stimulation", _stamp(fill_stimulation(nh.StimulationCommand(seq=i), stim),
                                                  t, "southampton/hub"), t)
                r = r + rng.normal(0.0, 50.0, N_SYNAPSES)
                resistance.append(r.copy())
                ids = np.arange(N_SYNAPSES)
                put("/southampton/synapse_states", _stamp(nh.SynapseStates(
                    synapse_id=to_array(ids, np.uint32), wordline=to_array(ids, np.uint16),
                    bitline=to_array(ids, np.uint16), resistance_ohm=to_array(r, np.float64),
                    weight=to_array(np.full(N_SYNAPSES, 0.5), np.float32),
                    weight_byte=to_array(np.full(N_SYNAPSES, 128), np.uint8),
                    pre=[f"zurich:{k}" for k in ids], post=[f"padova:{k}" for k in ids]), t, "southampton/memristor"), t)
                put("/southampton/plasticity", _stamp(nh.PlasticityEvent(
                    rule="rate", synapse_id=1, direction=1, accepted=True, resistance_before_ohm=6000.0,
                    resistance_after_ohm=5900.0, pulse_amplitude_v=4.0, pulse_width_s=1e-4, trigger_time_ns=t),
                    t, "southampton/memristor"), t)
                put("/padova/link_status", _stamp(nh.LinkStatus(lab="padova", peer_lab="southampton", link_up=True,
                                                                rtt_s=1e-3), t, "padova/link"), t)
        put("/padova/refusals", _stamp(nh.Refusal(category=0, reason="amplitude_ua=500 outside", count=1, total=1),
                                       T0_NS + S, "padova/mea"), T0_NS + S)
    return {lab: SpikeEvents.concat(v) for lab, v in spikes.items()} | {"resistance": np.array(resistance)}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nwb")
    truth = write_recording(folder / "rec.mcap", np.random.default_rng(3), subject={"subject_id": "from-metadata"})
    result = export_nwb(folder / "rec.mcap", folder / "rec.nwb", session_description="unit test")
    return result, truth


def _read(path):
    from pynwb import NWBHDF5IO

    io = NWBHDF5IO(str(path), "r")
    return io, io.read()


def test_export_passes_the_pynwb_validator(exported):
    from pynwb import validate

    assert validate(path=str(exported[0].path)) == []


def test_spike_counts_ids_and_times_read_back_per_lab_and_kind(exported):
    result, truth = exported
    io, nwb = _read(result.path)
    with io:
        units = nwb.units.to_dataframe()
        silicon = nwb.processing["silicon"]["silicon_units"].to_dataframe()
        start_ns = result.session_start_ns
        for lab, table in (("padova", units), ("zurich", silicon)):
            ev = truth[lab]
            assert sum(len(t) for t in table["spike_times"]) == len(ev)
            for kind in np.unique(ev.kind):
                rows = table[table["event_kind"] == {0: "psp", 1: "evoked_ap", 2: "spontaneous_ap",
                                                     3: "silicon_spike"}[int(kind)]]
                got = sorted((int(sid), int(round(t * S)) + start_ns) for sid, times in
                             zip(rows["source_id"], rows["spike_times"]) for t in times)
                mine = ev.kind == kind
                want = sorted(zip(ev.source_id[mine].tolist(), ev.time_ns[mine].tolist()))
                assert got == want
        assert set(units["lab"]) == {"padova"} and set(silicon["lab"]) == {"zurich"}


def test_session_start_is_the_recording_start_floored_to_the_microsecond(exported):
    result, _ = exported
    io, nwb = _read(result.path)
    with io:
        start = nwb.session_start_time
        assert int(start.timestamp()) * S + start.microsecond * 1000 == result.session_start_ns
    assert result.session_start_ns % 1000 == 0 and T0_NS - 1000 < result.session_start_ns <= T0_NS


def test_electrodes_carry_the_mcs60_labels_and_positions_and_units_point_at_them(exported):
    from neurohybrid.mea.layout import mcs60_layout

    io, nwb = _read(exported[0].path)
    with io:
        el = nwb.electrodes.to_dataframe()
        layout = mcs60_layout()
        assert list(el["label"]) == list(layout.labels)
        np.testing.assert_allclose(el[["rel_x", "rel_y"]].to_numpy(), layout.positions_um)
        units = nwb.units.to_dataframe(index=True)
        assert all(list(e) == [s] for e, s in zip(units["electrodes"], units["source_id"]))


def test_resistance_per_synapse_reads_back_exactly(exported):
    result, truth = exported
    io, nwb = _read(result.path)
    with io:
        mem = nwb.processing["memristor"]
        np.testing.assert_array_equal(mem["resistance"].data[:], truth["resistance"])
        assert mem["resistance"].unit == "ohm"
        assert list(mem["synapses"]["pre"].data[:]) == [f"zurich:{k}" for k in range(N_SYNAPSES)]


def test_stimulation_plasticity_link_status_refusals_and_configuration_are_exported(exported):
    io, nwb = _read(exported[0].path)
    with io:
        stim = nwb.intervals["stimulation"].to_dataframe()
        assert len(stim) == 2 * N_SLICES // 20
        assert np.all(stim["stop_time"] > stim["start_time"])
        assert len(nwb.intervals["plasticity"]) == N_SLICES // 20
        assert len(nwb.processing["network"]["link_status"]) == N_SLICES // 20
        assert list(nwb.processing["network"]["refusals"]["category"].data[:]) == ["stimulation"]
        att = nwb.processing["configuration"]["attachments"].to_dataframe()
        assert att["content"].iloc[0] == PADOVA_YAML.decode()


def test_subject_comes_from_the_recording_metadata_and_the_caller_overrides_the_session(exported):
    io, nwb = _read(exported[0].path)
    with io:
        assert nwb.subject.subject_id == "from-metadata"
        assert nwb.subject.species == "Rattus norvegicus"
        assert nwb.session_description == "unit test"


def test_an_existing_output_is_refused_unless_overwrite(exported):
    with pytest.raises(ConfigError, match="out_path=.*exists"):
        export_nwb(exported[0].path.with_suffix(".mcap"), exported[0].path)


def test_a_spike_on_an_electrode_beyond_the_layout_is_refused(tmp_path):
    write_recording(tmp_path / "bad.mcap", np.random.default_rng(1), max_electrode=64)
    with pytest.raises(ConfigError, match="electrode 6[0-3] beyond the 60 electrodes"):
        export_nwb(tmp_path / "bad.mcap", tmp_path / "bad.nwb")


def test_the_export_nwb_subcommand_writes_a_valid_file(exported, tmp_path, capsys):
    from neurohybrid.analysis.cli import add_parsers

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(["export", "nwb", str(exported[0].path.with_suffix(".mcap")), str(tmp_path / "o.nwb"),
                            "--subject-id", "cli-subject"])
    assert ns.func(ns) == 0
    assert "passes pynwb validation" in capsys.readouterr().out
    io, nwb = _read(tmp_path / "o.nwb")
    with io:
        assert nwb.subject.subject_id == "cli-subject"
