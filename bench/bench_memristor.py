"""Memristor twin: programming pulses per second on a 1,024-device crossbar, full-array read time.

Measured on :class:`neurohybrid.memristor.crossbar.Crossbar` (32 x 32, default variability):

* ``memristor_pulses_per_s``: ``Crossbar.pulse`` on a batch of random addresses with
  +/-4 V, 100 us pulses (Serb et al. 2020); repeated addresses are applied in order, as the
  crossbar guarantees. Peer: the same pulses applied one call per pulse, as the original hub
  drove its instrument (one pulse per command).
* ``memristor_full_read``: ``Crossbar.read_all`` (1,024 devices with read noise), median and
  p99 over many reads; the backend's ``read_all`` (with its lifecycle checks) is reported too.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from measure import emit, entry, percentiles_ms, profile_to_file
from neurohybrid.memristor.crossbar import Crossbar
from neurohybrid.memristor.sim import SimMemristorBackend

SIDE = 32
PULSE_GOAL_PER_S = 1e6
READ_GOAL_MS = 1.0
LTP_V, LTD_V, WIDTH_S = 4.0, -4.0, 100e-6  # Serb et al. 2020 programming pulses


def pulses(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, SIDE, n), rng.integers(0, SIDE, n),
            np.where(rng.random(n) < 0.5, LTP_V, LTD_V))


def pulse_rate(crossbar: Crossbar, n: int, repeats: int) -> float:
    wl, bl, amp = pulses(n, seed=1)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        crossbar.pulse(wl, bl, amp, WIDTH_S)
        best = min(best, time.perf_counter() - t0)
    return n / best


def single_pulse_rate(crossbar: Crossbar, n: int) -> float:
    wl, bl, amp = pulses(n, seed=2)
    t0 = time.perf_counter()
    for i in range(n):
        crossbar.pulse(wl[i : i + 1], bl[i : i + 1], amp[i : i + 1], WIDTH_S)
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    quick = bool(parser.parse_args().quick)
    crossbar = Crossbar(SIDE, SIDE, seed=0)
    batch_sizes = (1024, 16384) if quick else (1024, 16384, 131072)
    rates = {n: pulse_rate(crossbar, n, repeats=3 if quick else 10) for n in batch_sizes}
    best_batch = max(rates, key=rates.get)
    peer = single_pulse_rate(crossbar, 500 if quick else 3000)
    value = rates[best_batch]
    met = value >= PULSE_GOAL_PER_S
    emit(entry("memristor_pulses_per_s", value, "pulses/s", f">= {PULSE_GOAL_PER_S:.0e} pulses/s",
               met, peer="same pulses, one Crossbar.pulse call per pulse", peer_value=peer,
               ratio=value / peer, batch_size=best_batch,
               rate_by_batch_size={str(k): v for k, v in rates.items()},
               note="32x32 crossbar, random addresses (repeats applied in order), +/-4 V 100 us"))
    if not met:
        wl, bl, amp = pulses(best_batch, seed=3)
        profile_to_file("memristor_pulses", lambda: [crossbar.pulse(wl, bl, amp, WIDTH_S) for _ in range(5)],
                        f"Crossbar.pulse x5, batch {best_batch}")

    n_reads = 300 if quick else 3000
    samples = []
    for _ in range(n_reads):
        t0 = time.perf_counter_ns()
        crossbar.read_all()
        samples.append(time.perf_counter_ns() - t0)
    backend = SimMemristorBackend(seed=0)
    backend.configure()
    backend_samples = []
    for _ in range(n_reads):
        t0 = time.perf_counter_ns()
        backend.read_all()
        backend_samples.append(time.perf_counter_ns() - t0)
    stats, bstats = percentiles_ms(samples), percentiles_ms(backend_samples)
    emit(entry("memristor_full_read", stats["p99"], "ms (p99)", f"< {READ_GOAL_MS} ms", stats["p99"] < READ_GOAL_MS,
               median_ms=stats["median"], p99_ms=stats["p99"], n=stats["n"],
               backend_read_all_median_ms=bstats["median"], backend_read_all_p99_ms=bstats["p99"],
               note="Crossbar.read_all of 32x32 devices with read noise; backend_* through "
                    "SimMemristorBackend.read_all"))


if __name__ == "__main__":
    main()
