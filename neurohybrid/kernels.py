"""The package's compiled (numba) kernels, and compiling them all ahead of the first run.

Kernels: the DPI board's step loop (:mod:`neurohybrid.board.kernel`), the spike detector's
fused filter and peak search (:mod:`neurohybrid.mea.detector_kernel`), the MEA twin's spike
rendering (:mod:`neurohybrid.mea.extracellular_kernel`), the hub's fan-out
(:mod:`neurohybrid.hub.fanout_kernel`), the stimulation budget
check (:mod:`neurohybrid.mea.stimulation`) and the programming rate check (:mod:`neurohybrid.memristor.limits`). Each compiles on first use (seconds) and is cached on
disk next to its module; every class owning one loads it at construction, so a node pays this at
configure, never on a streamed message. ``python -m neurohybrid.kernels`` (run by ``make build``)
fills the cache once, so that the first node started after a build does not compile either.

numba keys a cached kernel on its own file only: a kernel whose callee changed in another file
(``board/kernel.py`` calls ``board/simd_exp.py``) would load stale code. :func:`refresh_cache`
therefore drops every cached kernel of the package when any kernel source changed.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

PACKAGE_DIR = Path(__file__).resolve().parent
KERNEL_SOURCES = ("board/kernel.py", "board/simd_exp.py", "hub/fanout_kernel.py", "mea/detector_kernel.py",
                  "mea/extracellular_kernel.py", "mea/stimulation.py", "memristor/limits.py")
CACHE_SUFFIXES = (".nbi", ".nbc")

DETECTOR_FS_HZ = 20_000.0  # any valid rate: the kernel does not depend on it


def refresh_cache(package_dir: Path = Path(__file__).parent) -> bool:
    """Delete the package's cached kernels if a kernel source changed since the last call.

    ``package_dir`` is the package as imported (the cache sits in its ``__pycache__`` folders).
    Returns True if the cache was dropped.
    """
    digest = hashlib.sha256(b"".join((PACKAGE_DIR / src).read_bytes() for src in KERNEL_SOURCES)).hexdigest()
    stamp = package_dir / "__pycache__" / "kernels.sha256"
    if stamp.exists() and stamp.read_text() == digest:
        return False
    for path in package_dir.rglob("*"):
        if path.suffix in CACHE_SUFFIXES and path.parent.name == "__pycache__":
            path.unlink()
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(digest)
    return True


def _smallest_hub() -> object:
    """A one-synapse hub: constructing it loads the fan-out kernels for the hub's array types."""
    from neurohybrid.hub import Connectivity, Hub, StimulusMap, Synapse, WeightMap
    from neurohybrid.memristor.plasticity import PLASTICITY_RULES
    from neurohybrid.memristor.sim import SimMemristorBackend

    memristor = SimMemristorBackend(seed=0)
    memristor.configure()
    return Hub(Connectivity([Synapse(0, "padova", 0, "zurich", 0, 0, 0, 0.0)], {"padova": "mea", "zurich": "board"}),
               memristor, PLASTICITY_RULES.create("rate", n_synapses=1), WeightMap(), StimulusMap())


def compile_all() -> dict[str, float]:
    """Construct one owner of each kernel (loading or compiling it); seconds taken per kernel."""
    from neurohybrid.board.dpi import DPIPopulation
    from neurohybrid.mea.detector import OnlineSpikeDetector
    from neurohybrid.mea.extracellular import ExtracellularModel
    from neurohybrid.mea.layout import make_layout
    from neurohybrid.mea.stimulation import StimulationGuard, StimulationLimits
    from neurohybrid.memristor.limits import ProgrammingGuard

    seconds = {}
    for name, build in (
        ("board", lambda: DPIPopulation(1)),
        ("detector", lambda: OnlineSpikeDetector(1, DETECTOR_FS_HZ)),
        ("extracellular", lambda: ExtracellularModel(make_layout("grid", 4), np.zeros((1, 2)), noise_uv_rms=0.0)),
        ("hub_fanout", _smallest_hub),
        ("stimulation_guard", lambda: StimulationGuard(StimulationLimits(), 1)),
        ("programming_guard", ProgrammingGuard),
    ):
        start = time.perf_counter()
        build()
        seconds[name] = time.perf_counter() - start
    return seconds


if __name__ == "__main__":
    if refresh_cache():
        print("kernel sources changed: cached kernels dropped")
    taken = compile_all()
    print("kernels ready: " + ", ".join(f"{name} {s:.1f} s" for name, s in taken.items()))
