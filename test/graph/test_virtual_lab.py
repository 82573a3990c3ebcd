"""The whole virtual lab as real processes: the loop closes, plasticity follows the rates,
and bad input is refused, reported and survived."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

PHASE_S = 10.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Run the virtual lab (LTP phase then LTD phase) with a test node poking it; yield results."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid import srv
    from neurohybrid.nodes.runtime import event_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    out = tmp_path_factory.mktemp("virtual_lab")
    recording = out / "recording.mcap"
    launcher = subprocess.Popen(
        [sys.executable, "-m", "neurohybrid", "launch", "virtual_lab.launch.yaml",
         f"output:={recording}", f"drive_phase_s:=[{PHASE_S}, {PHASE_S}]", "drive_rate_hz:=[40.0, 2.0]"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=out)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("virtual_lab_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.05)  # noqa: E731
    seen: dict[str, list] = {"refusals": [], "padova": [], "zurich": [], "states": []}
    for topic in ("/padova/refusals", "/zurich/refusals", "/southampton/refusals"):
        node.create_subscription(nh.Refusal, topic, seen["refusals"].append, event_qos())
    node.create_subscription(nh.SpikeBatch, "/padova/spikes", seen["padova"].append, stream_qos())
    node.create_subscription(nh.SpikeBatch, "/zurich/spikes", seen["zurich"].append, stream_qos())
    node.create_subscription(nh.SynapseStates, "/southampton/synapse_states", seen["states"].append,
                             event_qos(depth=1))
    probes = {}
    try:
        wait_for(lambda: seen["padova"] and seen["zurich"] and seen["states"], 60, spin,
                 "spikes from both labs and synapse states")
        # bad input, each of which must be refused and reported while the graph stays up
        stim = node.create_publisher(nh.StimulationCommand, "/padova/stimulation", stream_qos())
        spikes = node.create_publisher(nh.SpikeBatch, "/zurich/spikes", stream_qos())
        weighted = node.create_publisher(nh.WeightedEventBatch, "/zurich/weighted_events", stream_qos())
        wait_for(lambda: stim.get_subscription_count() and spikes.get_subscription_count()
                 and weighted.get_subscription_count(), 30, spin, "subscribers of the probe topics")
        too_strong = nh.StimulationCommand(electrode=[3], amplitude_ua=[500.0], phase_width_us=[200.0],
                                           pulse_count=[1], time_ns=[0], synapse_id=[0], weight=[1.0],
                                           pre_id=[0])
        stim.publish(too_strong)
        spikes.publish(nh.SpikeBatch(seq=10**9, source_id=[1, 2], time_ns=[0], kind=[3, 3]))
        weighted.publish(nh.WeightedEventBatch(pre_id=[1], pre_time_ns=[0], post_id=[1], synapse_id=[0],
                                               weight=[0.5, 0.5], weight_byte=[1], delivery_time_ns=[0]))
        program = node.create_client(srv.ProgramMemristor, "/southampton/program_memristor")
        read = node.create_client(srv.ReadMemristor, "/southampton/read_memristor")
        wait_for(lambda: program.service_is_ready() and read.service_is_ready(), 30, spin, "hub services")

        def call(client, request):
            future = client.call_async(request)
            wait_for(future.done, 30, spin, "service response")
            return future.result()

        r0 = call(read, srv.ReadMemristor.Request(wordline=5, bitline=5))
        probes["program_refused"] = call(program, srv.ProgramMemristor.Request(
            wordline=5, bitline=5, amplitude_v=12.0, width_s=1e-4, count=1))
        r1 = call(read, srv.ReadMemristor.Request(wordline=5, bitline=5))
        probes["resistance_before_after_refusal"] = (r0.resistance_ohm, r1.resistance_ohm)
        probes["program_ok"] = call(program, srv.ProgramMemristor.Request(
            wordline=5, bitline=5, amplitude_v=4.0, width_s=1e-4, count=20))
        def probes_refused() -> bool:
            reasons = {(r.header.frame_id, r.category): r.reason for r in seen["refusals"]}
            stim = [r.reason for r in seen["refusals"] if "amplitude_ua=500" in r.reason]
            return bool(stim) and {("southampton/memristor", 2), ("zurich/board", 2)} <= set(reasons)

        wait_for(probes_refused, 30, spin, "the probes' refusals")
        probes["refusals"] = list(seen["refusals"])
        n_before = len(seen["padova"])
        wait_for(lambda: len(seen["padova"]) > n_before + 10, 30, spin, "MEA still streaming after bad input")
        deadline_batches = len(seen["zurich"]) + int(2 * PHASE_S / 0.01)
        wait_for(lambda: len(seen["zurich"]) >= deadline_batches, 2 * PHASE_S + 60, spin,
                 "both drive phases")
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    yield {"recording": recording, "launcher_code": launcher.returncode, "output": output, **probes}


def test_the_lab_shuts_down_cleanly(lab):
    assert lab["launcher_code"] == 0, lab["output"][-3000:]


def test_over_limit_stimulation_is_refused_and_reported(lab):
    reasons = [r.reason for r in lab["refusals"] if r.category == r.CATEGORY_STIMULATION]
    assert any("amplitude_ua=500" in r for r in reasons), reasons


def test_malformed_messages_are_counted_and_dropped(lab):
    malformed = [r for r in lab["refusals"] if r.category == r.CATEGORY_MALFORMED]
    frames = {r.header.frame_id for r in malformed}
    assert {"southampton/memristor", "zurich/board"} <= frames, malformed


def test_out_of_range_programming_is_refused_and_leaves_the_device_untouched(lab):
    res = lab["program_refused"]
    assert not res.success and "12.0" in res.message and "5.0" in res.message
    before, after = lab["resistance_before_after_refusal"]
    assert after == pytest.approx(before, rel=0.03)  # read noise only


def test_programming_within_limits_moves_the_device_the_right_way(lab):
    res = lab["program_ok"]
    assert res.success, res.message
    # +4 V raises R (weight up); 20 pulses move it far beyond the 0.5 % read noise
    assert res.resistance_after_ohm > res.resistance_before_ohm * 1.02


def test_recording_has_both_labs_spikes_stimulation_and_states(lab):
    from neurohybrid.io.reader import Recording

    rec = Recording.open(lab["recording"])
    assert len(rec.spikes("/padova/spikes")["source_id"]) > 100
    assert len(rec.spikes("/zurich/spikes")["source_id"]) > 100
    assert len(rec.stimulation("/padova/stimulation")["electrode"]) > 0
    assert len(rec.weighted("/zurich/weighted_events")["post_id"]) > 0


def test_the_paper_synapse_potentiates_at_high_rate_and_depresses_at_low_rate(lab):
    from neurohybrid.io.reader import Recording

    rec = Recording.open(lab["recording"])
    p = rec.plasticity("/southampton/plasticity")
    mine = (p["synapse_id"] == 0) & p["accepted"]
    directions = p["direction"][mine]
    t = p["trigger_time_ns"][mine]
    assert np.any(directions == 1), "no LTP on zurich:0 -> padova:24"
    assert np.any(directions == -1), "no LTD on zurich:0 -> padova:24"
    assert t[directions == 1].mean() < t[directions == -1].mean(), "LTP should come first"
