"""Hub throughput: spike events per second through read, weight mapping, routing and plasticity.

Core (``hub_throughput_core``): :meth:`neurohybrid.hub.hub.Hub.on_spikes` of the same objects
``hub_node`` builds (``config/connectivity/three_neuron.yaml``: 258 synapses between 60 MEA
electrodes and 1,024 silicon neurons; simulated 32x32 crossbar; rate rule of Serb et al. 2020;
default weight and stimulus maps). Input: batches of spontaneous APs from the MEA lab
alternating with batches of silicon spikes from the board lab, each batch covering as much
simulated time as its events take at 1 M events/s. Zero loss: the (spike, synapse) pairs routed
must equal the fan-out counted independently from the connectivity. Reported per batch size;
the peer is the same hub fed one event per call (what a per-event message design does).

Node (``hub_throughput_node``, not in QUICK): ``hub_node`` as a process; this process
publishes SpikeBatch messages on ``/padova/spikes`` at a paced rate and counts the weighted
events arriving on ``/zurich/weighted_events``; zero loss means every expected pair arrives.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from measure import REPO_ROOT, alive, emit, entry, profile_to_file, start_pyspy, summarize_pyspy
from neurohybrid.events import KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.hub.connectivity import load_connectivity
from neurohybrid.hub.hub import Hub
from neurohybrid.hub.stimulus import StimulusMap
from neurohybrid.hub.weights import WeightMap
from neurohybrid.memristor.plasticity import PLASTICITY_RULES
from neurohybrid.memristor.sim import SimMemristorBackend

CONNECTIVITY = REPO_ROOT / "config" / "connectivity" / "three_neuron.yaml"
GOAL_EVENTS_PER_S = 1e6
NODE_OFFERED_EVENTS_PER_S = 1.25e6  # offered above the goal, so the sustained rate is measured, not the offer
SIM_RATE_EVENTS_PER_S = 1e6  # simulated time advances as if events arrived at this rate
N_ELECTRODES, N_SILICON = 60, 1024
LABS = (("padova", N_ELECTRODES, KIND_SPONTANEOUS_AP), ("zurich", N_SILICON, KIND_SILICON_SPIKE))


def make_hub(path: Path = CONNECTIVITY) -> Hub:
    conn = load_connectivity(path)
    memristor = SimMemristorBackend(seed=0)
    memristor.configure()
    rule = PLASTICITY_RULES.create("rate", n_synapses=len(conn))
    return Hub(conn, memristor, rule, WeightMap(), StimulusMap())


def expected_pairs(hub: Hub, lab: str, ids: np.ndarray) -> int:
    """Routed pairs counted from the connectivity alone (fan-out per presynaptic neuron)."""
    conn = hub.connectivity
    mask = conn.pre_lab_idx == conn.lab_index(lab)
    fanout = np.bincount(conn.pre_id[mask].astype(np.int64), minlength=N_SILICON)
    return int(fanout[ids.astype(np.int64)].sum())


def batches(n_batches: int, batch_size: int, seed: int) -> list[tuple[str, SpikeEvents]]:
    rng = np.random.default_rng(seed)
    span_ns = int(batch_size / SIM_RATE_EVENTS_PER_S * 1e9)
    out = []
    for b in range(n_batches):
        lab, n_ids, kind = LABS[b % 2]
        t = b * span_ns + np.sort(rng.integers(0, span_ns, batch_size))
        out.append((lab, SpikeEvents(rng.integers(0, n_ids, batch_size), t, np.full(batch_size, kind))))
    return out


def run_core(batch_size: int, total_events: int) -> dict:
    hub = make_hub()
    data = batches(max(2, total_events // batch_size), batch_size, seed=batch_size)
    expected = sum(expected_pairs(hub, lab, ev.source_id) for lab, ev in data)
    routed = pulses = 0
    t0 = time.perf_counter()
    for lab, ev in data:
        out = hub.on_spikes(lab, ev)
        routed += out.n_routed
        pulses += len(out.plasticity)
    wall = time.perf_counter() - t0
    n_events = sum(len(ev) for _, ev in data)
    return {"events_per_s": n_events / wall, "events": n_events, "routed": routed,
            "expected": expected, "lossless": routed == expected, "pulses": pulses}


def core(quick: bool) -> None:
    sizes = (1000, 10000) if quick else (100, 1000, 10000, 100000)
    total = 200_000 if quick else 1_000_000
    runs = {n: run_core(n, total) for n in sizes}
    per_event = run_core(1, 2000 if quick else 10000)
    best = max(runs, key=lambda n: runs[n]["events_per_s"])
    r = runs[best]
    met = r["events_per_s"] >= GOAL_EVENTS_PER_S and r["lossless"]
    emit(entry("hub_throughput_core", r["events_per_s"], "events/s",
               f">= {GOAL_EVENTS_PER_S:.0e} events/s, zero loss", met,
               peer="same Hub fed one event per on_spikes call", peer_value=per_event["events_per_s"],
               ratio=r["events_per_s"] / per_event["events_per_s"], batch_size=best,
               lossless=r["lossless"], routed_pairs=r["routed"], expected_pairs=r["expected"],
               plasticity_pulses=r["pulses"],
               by_batch_size={str(n): round(v["events_per_s"]) for n, v in runs.items()},
               lossless_by_batch_size={str(n): v["lossless"] for n, v in runs.items()},
               note="Hub.on_spikes (read + weight map + routing + stimulus map + rate rule + "
                    "programming), three_neuron.yaml (258 synapses), MEA and board batches alternating"))
    if not met:
        data = batches(20, best, seed=7)
        hub = make_hub()
        profile_to_file("hub_throughput_core", lambda: [hub.on_spikes(lab, ev) for lab, ev in data],
                        f"Hub.on_spikes x20, batch {best}")


def node(duration_s: float, batch_size: int, rate_events_per_s: float) -> None:
    """hub_node as a process, fed paced SpikeBatch messages; weighted events counted."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from neurohybrid.msg import SpikeBatch, WeightedEventBatch
    from neurohybrid.nodes.convert import fill_spike_batch
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.graph import NodeProcess, isolate_discovery, wait_for

    isolate_discovery()
    log = REPO_ROOT / "results" / "bench_hub_node.log"
    log.parent.mkdir(exist_ok=True)
    proc = NodeProcess("hub_node", ["--ros-args", "-p", f"connectivity_file:={CONNECTIVITY}",
                                    "-p", "qos_depth:=1000"], log)
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    try:
        n = rclpy.create_node("bench_hub_feeder", context=ctx)
        ex = SingleThreadedExecutor(context=ctx)
        ex.add_node(n)
        pub = n.create_publisher(SpikeBatch, "/padova/spikes", stream_qos(1000))
        got = {"events": 0, "msgs": 0, "last": 0.0}

        def on_weighted(m: WeightedEventBatch) -> None:
            if len(m.post_id):
                got["events"] += len(m.post_id)
                got["msgs"] += 1
                got["last"] = time.perf_counter()

        n.create_subscription(WeightedEventBatch, "/zurich/weighted_events", on_weighted, stream_qos(1000))
        wait_for(lambda: alive(proc) and pub.get_subscription_count() > 0
                 and n.count_publishers("/zurich/weighted_events") > 0, 30, lambda: ex.spin_once(timeout_sec=0.05), "hub_node discovery")
        for _ in range(20):  # let the hub finish activating
            ex.spin_once(timeout_sec=0.05)
        hub = make_hub()
        rng = np.random.default_rng(5)
        period_s = batch_size / rate_events_per_s
        n_msgs = int(duration_s / period_s)
        expected = 0
        raw = REPO_ROOT / "results" / "bench_pyspy_hub_node.raw"
        spy = start_pyspy(proc.proc.pid, min(5.0, duration_s / 2), raw)
        t_start = time.perf_counter()
        base_ns = time.time_ns()
        for i in range(n_msgs):
            ids = rng.integers(0, N_ELECTRODES, batch_size)
            expected += expected_pairs(hub, "padova", ids)
            t0 = base_ns + int(i * period_s * 1e9)
            times = t0 + np.sort(rng.integers(0, int(period_s * 1e9), batch_size))
            msg = fill_spike_batch(SpikeBatch(seq=i, slice_start_ns=t0, slice_end_ns=t0 + int(period_s * 1e9),
                                              clock_domain="padova"),
                                   SpikeEvents(ids, times, np.full(batch_size, KIND_SPONTANEOUS_AP)))
            pub.publish(msg)
            while time.perf_counter() < t_start + (i + 1) * period_s:
                ex.spin_once(timeout_sec=0.0005)
        deadline = time.perf_counter() + 10
        while got["events"] < expected and time.perf_counter() < deadline:
            ex.spin_once(timeout_sec=0.01)
        wall = max(got["last"], t_start + n_msgs * period_s) - t_start
        sent = n_msgs * batch_size
        rate = sent / wall if got["events"] >= expected else sent * got["events"] / max(expected, 1) / wall
        lossless = got["events"] == expected
        met = rate >= GOAL_EVENTS_PER_S and lossless
        if spy is not None:
            spy.wait(30)
            if not met:
                summarize_pyspy("hub_throughput_node", raw, f"hub_node fed {rate_events_per_s:.0e} events/s "
                                f"in batches of {batch_size}")
        emit(entry("hub_throughput_node", rate, "events/s",
                   f">= {GOAL_EVENTS_PER_S:.0e} events/s, zero loss", met,
                   batch_size=batch_size, offered_events_per_s=rate_events_per_s, sent_events=sent,
                   routed_pairs_expected=expected, routed_pairs_received=got["events"], lossless=lossless,
                   duration_s=duration_s,
                   note="hub_node process; this process publishes /padova/spikes (reliable, depth 1000) "
                        "and counts /zurich/weighted_events; rate = sent events / time to last output"))
        n.destroy_node()
    finally:
        rclpy.try_shutdown(context=ctx)
        proc.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    quick = bool(parser.parse_args().quick)
    core(quick)
    if quick:
        emit(entry("hub_throughput_node", None, "events/s", f">= {GOAL_EVENTS_PER_S:.0e} events/s, zero loss", None,
                   note="skipped in QUICK"))
    else:
        node(duration_s=10.0, batch_size=10000, rate_events_per_s=NODE_OFFERED_EVENTS_PER_S)


if __name__ == "__main__":
    main()
