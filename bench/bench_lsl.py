"""LSL latency on loopback: an outlet process pushes samples, this process's inlet receives them.

Each sample carries its push time (liblsl ``local_clock()``, one steady clock for every process of
the machine); the latency is the inlet's ``local_clock()`` when ``pull_sample`` returns minus it.
``python bench/bench_lsl.py [--quick 0|1]``; ``--outlet NAME N RATE`` is the pushing side.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading

import numpy as np
from measure import emit, entry, percentiles_ms

from neurohybrid.io.lsl import pylsl_module
from neurohybrid.testing.lsl_source import unique_name

GOAL_P50_MS = 1.0
RATE_HZ = 500.0


def outlet(name: str, n: int, rate_hz: float) -> None:
    lsl = pylsl_module()
    out = lsl.StreamOutlet(lsl.StreamInfo(name, "Latency", 1, lsl.IRREGULAR_RATE, lsl.cf_double64, name))
    while not out.wait_for_consumers(1.0):
        pass
    pacing = threading.Event()  # the source's own rate, not a synchronisation
    for _ in range(n):
        now = lsl.local_clock()
        out.push_sample([now], now)
        pacing.wait(1.0 / rate_hz)
    out.wait_for_consumers(1.0)
    pacing.wait(1.0)  # let the last samples leave before the outlet goes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    parser.add_argument("--outlet", nargs=3)
    args = parser.parse_args()
    if args.outlet:
        outlet(args.outlet[0], int(args.outlet[1]), float(args.outlet[2]))
        return
    lsl = pylsl_module()
    n = 500 if args.quick else 5000
    name = unique_name("nh-bench")
    proc = subprocess.Popen([sys.executable, __file__, "--outlet", name, str(n), str(RATE_HZ)])
    try:
        found = lsl.resolve_byprop("name", name, 1, 30.0)
        inlet = lsl.StreamInlet(found[0])
        inlet.open_stream(30.0)
        lat_ns = []
        while len(lat_ns) < n:
            sample, stamp = inlet.pull_sample(timeout=10.0)
            if stamp is None:
                break
            lat_ns.append((lsl.local_clock() - sample[0]) * 1e9)
        inlet.close_stream()
    finally:
        proc.wait(timeout=60)
    p = percentiles_ms(np.array(lat_ns))
    emit(entry("lsl_latency", p["median"], "ms (median)", f"median <= {GOAL_P50_MS} ms", p["median"] <= GOAL_P50_MS,
               median_ms=p["median"], p99_ms=p["p99"], max_ms=p["max"], n=p["n"], lost=n - p["n"],
               rate_hz=RATE_HZ, note="liblsl outlet process -> inlet process, loopback, one double per sample"))


if __name__ == "__main__":
    main()
