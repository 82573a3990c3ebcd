"""The package's compiled (numba) kernels, and compiling them all ahead of the first run.

Kernels: the DPI board's step loop (:mod:`neurohybrid.board.kernel`), the spike detector's
fused filter and peak search (:mod:`neurohybrid.mea.detector_kernel`) and the programming rate
check (:mod:`neurohybrid.memristor.limits`). Each compiles on first use (seconds) and is cached on
disk next to its module; every class owning one loads it at construction, so a node pays this at
configure, never on a streamed message. ``python -m neurohybrid.kernels`` (run by ``make build``)
fills the cache once, so that the first node started after a build does not compile either.
"""

from __future__ import annotations

import time

DETECTOR_FS_HZ = 20_000.0  # any valid rate: the kernel does not depend on it


def compile_all() -> dict[str, float]:
    """Construct one owner of each kernel (loading or compiling it); seconds taken per kernel."""
    from neurohybrid.board.dpi import DPIPopulation
    from neurohybrid.mea.detector import OnlineSpikeDetector
    from neurohybrid.memristor.limits import ProgrammingGuard

    seconds = {}
    for name, build in (
        ("board", lambda: DPIPopulation(1)),
        ("detector", lambda: OnlineSpikeDetector(1, DETECTOR_FS_HZ)),
        ("programming_guard", ProgrammingGuard),
    ):
        start = time.perf_counter()
        build()
        seconds[name] = time.perf_counter() - start
    return seconds


if __name__ == "__main__":
    taken = compile_all()
    print("kernels ready: " + ", ".join(f"{name} {s:.1f} s" for name, s in taken.items()))
