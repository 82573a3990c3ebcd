"""Resident memory of the nodes under sustained load: does RSS grow over a soak?

Graph: ``hub_node`` (``config/connectivity/three_neuron.yaml``), ``board_node`` (sim backend,
1,024 DPI neurons, fed by the hub's ``/zurich/weighted_events``) and ``relay_node``. This
process publishes ``RATE`` spikes/s (batches of ``BATCH`` spontaneous APs, uniformly over the 60
electrodes) on ``/padova/spikes`` for the hub and on ``in/spike_batch`` for the relay. RSS of
each node process (psutil) is sampled every ``SAMPLE_S``; "start" is the RSS once
``WARMUP_FRACTION`` of the run has passed (allocators and caches settled), "end" the last
sample. Goal: no growth, i.e. end - start <= max(``GROWTH_TOLERANCE_MB``,
``GROWTH_TOLERANCE_FRACTION`` x start) for every node.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import psutil

from measure import REPO_ROOT, alive, emit, entry
from neurohybrid.core.events import KIND_SPONTANEOUS_AP, SpikeEvents

CONNECTIVITY = REPO_ROOT / "config" / "connectivity" / "three_neuron.yaml"
RATE = 100_000
BATCH = 1000
SAMPLE_S = 2.0
WARMUP_FRACTION = 0.1
GROWTH_TOLERANCE_MB, GROWTH_TOLERANCE_FRACTION = 5.0, 0.02


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0)
    duration_s = parser.parse_args().duration
    import rclpy
    from rclpy.executors import SingleThreadedExecutor

    from neurohybrid.msg import SpikeBatch
    from neurohybrid.nodes.convert import fill_spike_batch
    from neurohybrid.nodes.runtime import stream_qos
    from neurohybrid.testing.graph import NodeProcess, isolate_discovery, wait_for

    isolate_discovery()
    logs = REPO_ROOT / "results"
    logs.mkdir(exist_ok=True)
    nodes = {
        "hub_node": NodeProcess("hub_node", ["--ros-args", "-p", f"connectivity_file:={CONNECTIVITY}"],
                                logs / "bench_soak_hub.log"),
        "board_node": NodeProcess("board_node", ["--ros-args", "-r", "__ns:=/zurich"], logs / "bench_soak_board.log"),
        "relay_node": NodeProcess("relay_node", [], logs / "bench_soak_relay.log"),
    }
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in nodes}
    sent = 0
    try:
        node = rclpy.create_node("bench_soak", context=ctx)
        ex = SingleThreadedExecutor(context=ctx)
        ex.add_node(node)
        pubs = [node.create_publisher(SpikeBatch, "/padova/spikes", stream_qos()),
                node.create_publisher(SpikeBatch, "in/spike_batch", stream_qos())]
        wait_for(lambda: all(alive(p) for p in nodes.values()) and all(p.get_subscription_count() > 0 for p in pubs),
                 30, lambda: ex.spin_once(timeout_sec=0.05), "hub_node and relay_node discovery")
        procs = {name: psutil.Process(p.proc.pid) for name, p in nodes.items()}
        rng = np.random.default_rng(0)
        period_s = BATCH / RATE
        base = time.time_ns()
        start = time.perf_counter()
        next_sample = start
        i = 0
        while time.perf_counter() - start < duration_s:
            t_ns = base + int(i * period_s * 1e9)
            events = SpikeEvents(rng.integers(0, 60, BATCH), t_ns + np.sort(rng.integers(0, int(period_s * 1e9), BATCH)),
                                 np.full(BATCH, KIND_SPONTANEOUS_AP))
            msg = fill_spike_batch(SpikeBatch(seq=i, clock_domain="padova", slice_start_ns=t_ns,
                                              slice_end_ns=t_ns + int(period_s * 1e9)), events)
            for pub in pubs:
                pub.publish(msg)
            sent += BATCH
            i += 1
            now = time.perf_counter()
            if now >= next_sample:
                for name, proc in procs.items():
                    if nodes[name].alive():
                        samples[name].append((now - start, proc.memory_info().rss))
                next_sample += SAMPLE_S
            while time.perf_counter() < start + i * period_s:
                ex.spin_once(timeout_sec=max(0.0, start + i * period_s - time.perf_counter()))
        elapsed = time.perf_counter() - start
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=ctx)
        for p in nodes.values():
            p.stop()
    for name, series in samples.items():
        if len(series) < 2:
            emit(entry(f"rss_soak_{name}", None, "MB", "no growth", None,
                       note=f"{name} did not run (see results/bench_soak_*.log)"))
            continue
        t = np.array([s[0] for s in series])
        rss_mb = np.array([s[1] for s in series]) / 2**20
        first = int(np.searchsorted(t, WARMUP_FRACTION * duration_s))
        start_mb, end_mb = float(rss_mb[min(first, len(rss_mb) - 1)]), float(rss_mb[-1])
        growth = end_mb - start_mb
        allowed = max(GROWTH_TOLERANCE_MB, GROWTH_TOLERANCE_FRACTION * start_mb)
        slope = float(np.polyfit(t[first:], rss_mb[first:], 1)[0] * 60) if len(t) - first >= 2 else None
        emit(entry(f"rss_soak_{name}", growth, "MB growth",
                   f"no growth (<= {allowed:.1f} MB after warm-up) at {RATE:,} spikes/s", growth <= allowed,
                   rss_start_mb=start_mb, rss_end_mb=end_mb, rss_max_mb=float(rss_mb.max()),
                   rss_first_sample_mb=float(rss_mb[0]), slope_mb_per_min=slope, duration_s=elapsed,
                   spikes_sent=sent, offered_spikes_per_s=RATE, batch_size=BATCH,
                   note="RSS of the node process (psutil); start = after the first "
                        f"{WARMUP_FRACTION:.0%} of the run"))


if __name__ == "__main__":
    main()
