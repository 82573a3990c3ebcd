"""make_report(): report.png and summary.json of a recording, fast enough for a 60 s experiment."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rclpy.serialization import serialize_message

from neurohybrid import msg as nh
from neurohybrid.analysis.report import REPORT_PNG, SUMMARY_JSON, make_report
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.io.recording import RecordingWriter
from neurohybrid.nodes.convert import fill_spike_batch, fill_stimulation, fill_weighted_batch, to_array
from neurohybrid.testing.mock import mock_stimulus, mock_weighted

T0_NS = 1_700_000_000_000_000_000
S = 1_000_000_000
SLICE_NS = 100_000_000
DURATION_S = 60
N_SYNAPSES = 16
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _stamp(m, t_ns: int, frame: str):
    m.header.stamp.sec, m.header.stamp.nanosec = divmod(t_ns, S)
    m.header.frame_id = frame
    return m


def _experiment(path, rng: np.random.Generator) -> int:
    """60 s of two labs' spikes (~100k events), hub output, plasticity and synapse states."""
    total = 0
    resistance = np.full(N_SYNAPSES, 6000.0)
    ids = np.arange(N_SYNAPSES)
    with RecordingWriter(path) as w:
        def put(topic, m, t_ns):
            w.write(topic, f"neurohybrid/msg/{type(m).__name__}", serialize_message(m), t_ns, t_ns)
        for i in range(DURATION_S * S // SLICE_NS):
            t = T0_NS + i * SLICE_NS
            for lab, frame, rate_hz, n_src, kinds in (
                    ("padova", "padova/mea", 1000, 60, [KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP]),
                    ("zurich", "zurich/board", 700, 256, [KIND_SILICON_SPIKE])):
                n = rng.poisson(rate_hz * SLICE_NS / S)
                events = SpikeEvents(rng.integers(0, n_src, n), np.sort(rng.integers(t, t + SLICE_NS, n)),
                                     rng.choice(kinds, n))
                put(f"/{lab}/spikes", _stamp(fill_spike_batch(nh.SpikeBatch(seq=i), events), t, frame), t)
                total += n
            hub_t = t + int(rng.integers(1, 5) * 1e6)
            put("/zurich/weighted_events", _stamp(fill_weighted_batch(
                nh.WeightedEventBatch(seq=i, pre_frame="padova/mea", pre_stamp_ns=t), mock_weighted(5, i)),
                hub_t, "southampton/hub"), hub_t)
            put("/padova/stimulation", _stamp(fill_stimulation(
                nh.StimulationCommand(seq=i, pre_frame="zurich/board", pre_stamp_ns=t), mock_stimulus(2, i)),
                hub_t + 1_000_000, "southampton/hub"), hub_t + 1_000_000)
            if i % 10 == 0:
                sid = int(rng.integers(0, 4))
                direction = 1 if i < 300 else -1
                before = resistance[sid]
                resistance[sid] += 150.0 * direction
                put("/southampton/plasticity", _stamp(nh.PlasticityEvent(
                    synapse_id=sid, direction=direction, accepted=True, resistance_before_ohm=before,
                    resistance_after_ohm=resistance[sid]), t, "southampton/memristor"), t)
                put("/southampton/synapse_states", _stamp(nh.SynapseStates(
                    synapse_id=to_array(ids, np.uint32), wordline=to_array(ids, np.uint16),
                    bitline=to_array(ids, np.uint16), resistance_ohm=to_array(resistance, np.float64),
                    weight=to_array(np.zeros(N_SYNAPSES), np.float32),
                    weight_byte=to_array(np.zeros(N_SYNAPSES), np.uint8),
                    pre=[f"zurich:{k}" for k in ids], post=[f"padova:{k}" for k in ids]),
                    t, "southampton/memristor"), t)
    return total


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "recording.mcap"
    return path, _experiment(path, np.random.default_rng(7))


def test_report_of_a_60_s_recording_with_100k_spikes_holds_every_event(experiment, tmp_path):
    path, n_spikes = experiment
    assert n_spikes > 95_000
    summary = make_report(path, tmp_path / "out", extra={"protocol": {"ltp_rate_hz": 30.0}})
    png = (tmp_path / "out" / REPORT_PNG).read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20_000
    on_disk = json.loads((tmp_path / "out" / SUMMARY_JSON).read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["protocol"] == {"ltp_rate_hz": 30.0}
    assert on_disk["events"]["padova"]["total"] + on_disk["events"]["zurich"]["total"] == n_spikes
    assert set(on_disk["latency_ms"]) == {"padova->hub", "zurich->hub"}
    assert on_disk["plasticity"]["ltp"]["accepted"] == 30 and on_disk["plasticity"]["ltd"]["accepted"] == 30


def test_extra_keys_may_not_overwrite_measured_ones(experiment, tmp_path):
    with pytest.raises(ValueError, match="events"):
        make_report(experiment[0], tmp_path, extra={"events": {}})


def test_a_recording_without_spikes_or_synapses_still_gets_a_report(tmp_path):
    path = tmp_path / "quiet.mcap"
    link = _stamp(nh.LinkStatus(lab="padova", peer_lab="southampton", link_up=True), T0_NS, "padova/link")
    with RecordingWriter(path) as w:
        w.write("/padova/link_status", "neurohybrid/msg/LinkStatus", serialize_message(link), T0_NS, T0_NS)
    summary = make_report(path, tmp_path / "out")
    assert summary["events"] == {} and summary["latency_ms"] == {}
    assert (tmp_path / "out" / REPORT_PNG).read_bytes().startswith(PNG_MAGIC)
