"""Run the benchmark suite: each benchmark in its own process, results to results/bench.json.

``python bench/run.py [--quick 0|1] [--soak 0|1] [--only NAME ...]`` (``make bench``,
``make bench QUICK=1``, ``make bench SOAK=1``). Each benchmark script prints result lines
(see ``measure.py``); a benchmark that crashes or exceeds its time limit is reported as an
entry with ``met: null`` and a note. Benchmarks report; this script exits 0 whatever they find.

QUICK runs the reduced set (no ROS graph apart from the hop latency, smaller data) in about
30 s; SOAK replaces the 60 s RSS run by the 10-min soak at 100k spikes/s and runs the three-site
chaos test with 40 faults instead of 3.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from measure import RESULT_PREFIX, RESULTS_DIR, entry, machine
from plot import plot_curves

HERE = Path(__file__).resolve().parent
TIME_LIMIT_S = 120.0
STOP_GRACE_S = 20.0
SOAK_S = 600.0
RSS_RUN_S = 60.0
FULL_SCALE_RUN_S = 60.0
"""bench_scale.py runs the full-scale lab this long (plus start, warm-up and stop)."""
#: Faults of the chaos run (test/graph/test_chaos.py): as in ``make test``, and under SOAK.
CHAOS_FAULTS = 3
CHAOS_SOAK_FAULTS = 40
#: Wall-clock allowance per chaos fault, s (pause <= 3 s + convergence bound 30 s + stop).
CHAOS_FAULT_LIMIT_S = 40.0

# (name, script, runs in QUICK, metric names it reports)
BENCHMARKS = (
    ("hop_latency", "bench_hop.py", True, ("hop_latency",)),
    ("closed_loop", "bench_loop.py", False, ("closed_loop",)),
    ("experiment_latency", "bench_experiment.py", False, ("experiment_latency",)),
    ("hub_throughput", "bench_hub.py", True, ("hub_throughput_core", "hub_throughput_tiles", "hub_growth_synapses", "hub_growth_labs",
                                              "hub_throughput_node")),
    ("detection", "bench_detect.py", True, ("detection_x_realtime",)),
    ("board_dpi", "bench_board.py", True, ("board_dpi_x_realtime",)),
    ("memristor", "bench_memristor.py", True, ("memristor_pulses_per_s", "memristor_full_read")),
    ("full_scale", "bench_scale.py", True, ("full_scale_lab",)),
    ("growth", "bench_growth.py", True, ("board_growth_neurons", "board_dpi_16k_x_realtime", "mea_growth_channels",
                                         "detection_4096_x_realtime")),
    ("live_view", "bench_live.py", False, ("live_view_cpu_page", "live_view_cpu_foxglove", "live_view_frame_rate")),
    ("lsl_latency", "bench_lsl.py", True, ("lsl_latency",)),
    ("rss_soak", "bench_soak.py", False, ("rss_soak_hub_node", "rss_soak_board_node", "rss_soak_relay_node")),
    ("chaos", "bench_chaos.py", False, tuple(f"{prefix}_{name}" for prefix in ("chaos", "chaos_namespaces")
                                             for name in ("convergence_p50_s", "convergence_p99_s",
                                                          "convergence_max_s", "faults_survived"))),
)


def run_one(script: str, args: list[str], limit_s: float, log: Path) -> tuple[list[dict], str]:
    """Run a benchmark script; its result entries and a note ("" if it finished cleanly)."""
    t0 = time.monotonic()
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE,
                                stderr=err, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=limit_s)
            note = "" if proc.returncode == 0 else f"exited with {proc.returncode} (see {log.name})"
        except subprocess.TimeoutExpired:
            # SIGINT first: the benchmark's finally blocks stop the node processes it started
            # (they run in their own sessions, out of reach of a group kill).
            os.killpg(proc.pid, signal.SIGINT)
            try:
                out, _ = proc.communicate(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
            note = f"exceeded its {limit_s:.0f} s limit (see {log.name})"
    results = [json.loads(line[len(RESULT_PREFIX):]) for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    for r in results:
        r["bench_wall_s"] = round(time.monotonic() - t0, 2)
    return results, note


def fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:.3e}"
    return str(value)


def table(results: list[dict]) -> str:
    rows = [("metric", "value", "unit", "median/p99 ms", "goal", "met", "peer value", "ratio")]
    for r in results:
        lat = "-" if r.get("median_ms") is None else f"{fmt(r.get('median_ms'))}/{fmt(r.get('p99_ms'))}"
        rows.append((r["name"], fmt(r["value"]), r["unit"], lat, r["goal"], fmt(r["met"]),
                     fmt(r.get("peer_value")), fmt(r.get("ratio"))))
    widths = [min(max(len(row[i]) for row in rows), 70) for i in range(len(rows[0]))]
    lines = ["  ".join(cell[:70].ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--soak", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="benchmark names to run (default: all)")
    args = parser.parse_args()
    quick, soak = bool(args.quick), bool(args.soak)
    RESULTS_DIR.mkdir(exist_ok=True)
    results: list[dict] = []
    t_start = time.monotonic()
    for name, script, in_quick, metrics in BENCHMARKS:
        if args.only and name not in args.only:
            continue
        if quick and not in_quick:
            results += [entry(m, None, "-", "-", None, note="skipped in QUICK") for m in metrics]
            continue
        if name == "rss_soak":
            duration = SOAK_S if soak else RSS_RUN_S
            bench_args, limit = ["--duration", str(duration)], duration + TIME_LIMIT_S
        elif name == "full_scale":
            bench_args, limit = ["--quick", str(int(quick))], FULL_SCALE_RUN_S + TIME_LIMIT_S
        elif name == "chaos":
            faults = CHAOS_SOAK_FAULTS if soak else CHAOS_FAULTS
            bench_args, limit = ["--faults", str(faults)], faults * CHAOS_FAULT_LIMIT_S + TIME_LIMIT_S
        else:
            bench_args, limit = ["--quick", str(int(quick))], TIME_LIMIT_S
        print(f"[bench] {name} ...", flush=True)
        found, note = run_one(script, bench_args, limit, RESULTS_DIR / f"bench_{name}.stderr.log")
        seen = {r["name"] for r in found}
        for m in metrics:
            if m not in seen:
                found.append(entry(m, None, "-", "-", None, note=note or "no result reported"))
        if note:
            for r in found:
                r.setdefault("note", note)
        results += found
        print(f"[bench] {name}: {len(found)} result(s){' - ' + note if note else ''}", flush=True)
    report = {"quick": quick, "soak": soak, **machine(), "python": sys.version.split()[0],
              "total_wall_s": round(time.monotonic() - t_start, 2),
              "generated": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "entries": results}
    (RESULTS_DIR / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    plotted = plot_curves(results, RESULTS_DIR / "bench.png")
    print()
    print(table(results))
    print(f"\n{machine()['cpu_model']}, {machine()['cpu_cores']} cores; "
          f"{report['total_wall_s']} s; written to {RESULTS_DIR / 'bench.json'}"
          + (f" and {plotted}" if plotted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
