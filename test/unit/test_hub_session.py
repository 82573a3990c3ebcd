"""The hub's node-side decisions without ROS: lab streams, gaps, keepalives, route-then-learn, services."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_PSP, KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.hub.params import hub_params, hub_session
from neurohybrid.hub.session import NOT_ACTIVE_REASON
from neurohybrid.hub.streams import HubStreams

MS = 1_000_000
S = 1_000_000_000


def _session(tmp_path, **values):
    conn = tmp_path / "c.yaml"
    conn.write_text("labs: {padova: mea, zurich: board}\nsynapses:\n"
                    "  - 'zurich:0 -> padova:24 @ (0, 0)'\n  - 'padova:24 -> zurich:1 @ (0, 1)'\n")
    return hub_session({"connectivity_file": str(conn), **values})


def _spikes(ids, times_ns, kind) -> SpikeEvents:
    return SpikeEvents(np.asarray(ids), np.asarray(times_ns), np.full(len(ids), kind))


def test_a_gap_in_sequence_or_time_is_reported_once_between_the_slices():
    streams = HubStreams(["padova"], keepalive_s=0.03, gap_tolerance_s=0.05)
    assert streams.receive("padova", 0, 0, 10 * MS) is None
    assert streams.receive("padova", 1, 10 * MS, 20 * MS) is None
    assert streams.receive("padova", 3, 30 * MS, 40 * MS) == (20 * MS, 30 * MS)  # seq 2 missing
    assert streams.receive("padova", 4, 100 * MS, 110 * MS) == (40 * MS, 100 * MS)  # 60 ms of time missing
    assert streams.receive("padova", 5, 110 * MS, 120 * MS) is None


def test_a_gap_is_measured_in_the_lab_clock_and_reported_in_the_hubs():
    """A new offset next to a lost batch must not turn the gap around (it once crashed the hub)."""
    streams = HubStreams(["padova"], keepalive_s=0.03, gap_tolerance_s=0.05)
    assert streams.receive("padova", 0, 0, 10 * MS) is None
    streams.set_offset("padova", 1.0, 0.001)
    assert streams.receive("padova", 2, 20 * MS, 30 * MS) == (S + 10 * MS, S + 20 * MS)
    streams.set_offset("padova", -1.0, 0.001)
    assert streams.receive("padova", 3, 30 * MS, 40 * MS) is None  # contiguous in the lab clock
    assert streams.receive("padova", 5, 35 * MS, 45 * MS) == (-S + 35 * MS, -S + 40 * MS)  # overlap: in order


def test_offsets_count_only_once_measured_and_keepalives_go_to_idle_labs():
    streams = HubStreams(["padova", "zurich"], keepalive_s=0.03, gap_tolerance_s=0.05)
    streams.set_offset("padova", 0.25, math.inf)
    assert streams.offset_ns("padova") == 0
    streams.set_offset("padova", 0.25, 0.001)
    assert streams.offset_ns("padova") == 250 * MS
    assert streams.keepalives_due(100.0) == ["padova", "zurich"]
    assert [streams.send("zurich", 100.0), streams.send("zurich", 100.01)] == [0, 1]
    assert streams.keepalives_due(100.02) == ["padova"]
    assert streams.keepalives_due(100.05) == ["padova", "zurich"]
    with pytest.raises(ConfigError, match="unknown lab 'mars'"):
        streams.send("mars", 0.0)


def test_a_batch_is_routed_at_once_and_learned_afterwards_in_the_hub_clock(tmp_path):
    session = _session(tmp_path)
    session.streams.set_offset("zurich", 1.0, 0.001)
    session.activate(now_ns=0)
    out = session.route("zurich", _spikes([0] * 30, np.arange(30) * 10 * MS, KIND_SILICON_SPIKE), 0, 0, 300 * MS)
    assert out.weighted["padova"].pre_time_ns.tolist() == (S + np.arange(30) * 10 * MS).tolist()
    assert session.pending == 1
    assert session.route("zurich", SpikeEvents.empty(), 1, 300 * MS, 310 * MS) is None
    assert session.pending == 1
    session.route("padova", _spikes([24], [S + 305 * MS], KIND_PSP), 0, S + 300 * MS, S + 310 * MS)
    first, second = session.learn_next(), session.learn_next()
    assert len(first.records) == 0 and second.records.direction.tolist() == [1]  # 30 pre spikes: LTP
    assert session.learn_next() is None and session.states_dirty


def test_deactivate_applies_the_pending_pulses_then_refuses_programming(tmp_path):
    session = _session(tmp_path)
    session.activate(now_ns=0)  # windows reaching before 0 hold no data: the spikes come 1 s later
    session.route("zurich", _spikes([0] * 30, S + np.arange(30) * 10 * MS, KIND_SILICON_SPIKE), 0, S, S + 300 * MS)
    session.route("padova", _spikes([24], [S + 305 * MS], KIND_PSP), 0, S + 300 * MS, S + 310 * MS)
    learned = session.deactivate()
    assert [len(x.records) for x in learned] == [0, 1] and learned[1].records.accepted.all()
    assert not session.hub.memristor.armed
    assert session.program(0, 0, 4.0, 1e-4, 1, 0).message == NOT_ACTIVE_REASON


def test_the_program_service_refuses_counts_and_limits_and_reads_back(tmp_path):
    session = _session(tmp_path)
    session.activate(now_ns=0)
    too_many = session.program(0, 0, 4.0, 1e-4, 51, 0)
    assert not too_many.success and too_many.refused == 1 and "count=51 outside allowed [1, 50]" in too_many.message
    too_high = session.program(0, 0, 12.0, 1e-4, 1, 0)
    assert not too_high.success and too_high.programmed and "max_abs_voltage_v" in too_high.refusal
    r0 = session.hub.memristor.resistance_ohm[0, 0]
    ok = session.program(0, 0, 4.0, 1e-4, 3, S)
    assert ok.success and ok.refused == 0 and ok.resistance_after_ohm > ok.resistance_before_ohm
    assert session.hub.memristor.resistance_ohm[0, 0] > r0
    r, weight, byte = session.read(0, 0)
    assert r > 0 and byte == round(255 * weight)


def test_the_hub_is_built_from_its_parameters(tmp_path):
    session = _session(tmp_path, rule="stdp", **{"stdp.ltp_window_s": 0.2, "max_pulses_per_s": 10.0})
    assert session.hub.rule.name == "stdp" and session.hub.rule.params["ltp_window_s"] == 0.2
    assert session.hub.memristor.limits.max_pulses_per_s == 10.0 and session.hub.memristor.configured
    with pytest.raises(ConfigError, match="connectivity_file' is empty"):
        hub_session({})
    assert set(hub_params()) >= {"rate.window_s", "stdp.ltd_window_s", "ltp_amplitude_v", "keepalive_s"}


def test_plasticity_waits_for_every_labs_data_and_a_lab_still_behind_is_missing_data(tmp_path):
    session = _session(tmp_path, learn_wait_s=0.5)
    session.activate(now_ns=0)
    # Zurich's presynaptic neuron fires at 100 Hz up to 1.3 s, then Zurich goes silent (dead or cut off)
    session.route("zurich", _spikes([0] * 30, S + np.arange(30) * 10 * MS, KIND_SILICON_SPIKE), 0, S, S + 300 * MS)
    assert session.learn_next(now_ns=S + 300 * MS) is None  # Padova has not covered 1.3 s yet
    session.route("padova", _spikes([24], [S + 305 * MS], KIND_PSP), 0, S + 300 * MS, S + 310 * MS)
    assert len(session.learn_next(now_ns=S + 310 * MS).records) == 0  # Zurich's batch: no trigger in it
    assert session.learn_next(now_ns=S + 311 * MS) is None  # Padova's post spike: Zurich's data not in yet
    # much later, a post spike with no Zurich data at all since 1.3 s: not read as "no pre spikes" (LTD)
    session.route("padova", SpikeEvents.empty(), 1, S + 310 * MS, 3 * S)
    session.route("padova", _spikes([24], [3 * S + 5 * MS], KIND_PSP), 2, 3 * S, 3 * S + 10 * MS)
    assert session.learn_next(now_ns=S + 500 * MS) is None  # still within learn_wait_s of 1.31 s
    late = session.learn_next(now_ns=S + 811 * MS)  # Zurich missing: its span to 1.31 s is a gap
    assert len(late.records) == 0
    wiped = session.learn_next(now_ns=3 * S + 600 * MS)
    assert len(wiped.records) == 0 and session.hub.rule.info()["active_gaps"] >= 1
    assert session.learn_next(now_ns=4 * S) is None and session.pending == 0
