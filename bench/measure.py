"""What every benchmark shares: result entries, machine facts, latency statistics, profiles.

A benchmark script (``bench/bench_*.py``) runs as its own process (started by ``bench/run.py``),
measures, and prints one JSON line per metric prefixed with ``RESULT_PREFIX``; ``run.py``
collects those lines. Benchmarks report, they never fail: a missed goal is ``met: false``.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import platform
import pstats
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

RESULT_PREFIX = "BENCH_RESULT "
"""Marks a result line on a benchmark's stdout (everything else is its log)."""
REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "results"
PROFILE_TOP_ENTRIES = 25
"""Rows of a cProfile listing kept in results/bench_profile_<name>.txt."""


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (platform.processor() as a fallback)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """The facts every entry carries: CPU model and core count."""
    return {"cpu_model": cpu_model(), "cpu_cores": os.cpu_count()}


def percentiles_ms(samples_ns: np.ndarray | list[int]) -> dict[str, float]:
    """Median, p99 and max of latency samples (ns) in milliseconds; n = sample count."""
    s = np.asarray(samples_ns, dtype=np.float64) / 1e6
    if not len(s):
        return {"median": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {"median": float(np.median(s)), "p99": float(np.percentile(s, 99)),
            "max": float(s.max()), "n": int(len(s))}


def entry(
    name: str,
    value: float | None,
    unit: str,
    goal: str,
    met: bool | None,
    peer: str | None = None,
    peer_value: float | None = None,
    ratio: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One metric: value vs goal (``met``), the peer measured in the same run and the ratio.

    ``goal`` is human-readable ("<= 0.2 ms"); ``met`` None means not measured (see ``note``).
    ``extra`` carries median/p99, batch sizes, notes and raw numbers.
    """
    out = {"name": name, "value": _clean(value), "unit": unit, "goal": goal,
           "met": None if met is None else bool(met), "peer": peer,
           "peer_value": _clean(peer_value), "ratio": _clean(ratio)}
    out.update({k: _clean(v) for k, v in extra.items()})
    out.update(machine())
    return out


def _clean(value: Any) -> Any:
    """numpy scalars to Python, NaN to None (JSON has no NaN)."""
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if value != value else round(value, 6)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(result: dict[str, Any]) -> None:
    """Print one result line for run.py."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def profile_to_file(name: str, fn: Callable[[], Any], header: str = "") -> Path:
    """Run ``fn`` under cProfile; write the top entries (by cumulative, then own time)."""
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    buf.write(f"# profile of {name} (cProfile), {time.strftime('%Y-%m-%d %H:%M:%S')}\n{header}\n")
    for key in ("cumulative", "tottime"):
        buf.write(f"\n## sorted by {key}\n")
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(PROFILE_TOP_ENTRIES)
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"bench_profile_{name}.txt"
    path.write_text(buf.getvalue())
    return path


def best_of(fn: Callable[[], Any], repeats: int) -> float:
    """Shortest wall time (s) of ``repeats`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def alive(proc: Any) -> bool:
    """True while a NodeProcess runs; raises (with the log's tail) once it has died."""
    if proc.alive():
        return True
    raise RuntimeError(f"{proc.exe} exited with {proc.proc.returncode}: {proc.output()[-2000:]}")


def start_pyspy(pid: int, duration_s: float, raw_path: Path) -> Any:
    """Start ``py-spy record`` on ``pid`` (collapsed stacks to ``raw_path``); None if unavailable."""
    import shutil
    import subprocess

    exe = shutil.which("py-spy")
    if exe is None:
        return None
    raw_path.parent.mkdir(exist_ok=True)
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(duration_s)),
                             "--rate", "250", "--format", "raw", "--output", str(raw_path), "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_pyspy(name: str, raw_path: Path, header: str = "") -> Path | None:
    """Top functions (inclusive and own samples) of a py-spy collapsed-stack file."""
    if not raw_path.exists():
        return None
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw_path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    lines = [f"# profile of {name} (py-spy, {total} samples of all threads)", header]
    for title, table in (("inclusive", inclusive), ("own", own)):
        lines.append(f"\n## top {PROFILE_TOP_ENTRIES} by {title} samples (% of all samples)")
        for frame, n in sorted(table.items(), key=lambda kv: -kv[1])[:PROFILE_TOP_ENTRIES]:
            lines.append(f"{100.0 * n / max(total, 1):6.1f}%  {frame}")
    path = RESULTS_DIR / f"bench_profile_{name}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


class ScriptProcess:
    """A bench/ script as its own process group (like testing.graph.NodeProcess for installed nodes)."""

    def __init__(self, script: str, args: list[str], log_path: Path) -> None:
        import subprocess
        import sys

        self.exe = script
        self.log_path = log_path
        log_path.parent.mkdir(exist_ok=True)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / script), *args],
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT the group, SIGKILL it if still running after ``timeout_s``."""
        from neurohybrid.process_group import stop_process_group

        code = stop_process_group(self.proc, timeout_s)
        self._log.close()
        return code

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def spin_bare(node: Any) -> None:
    """Spin ``node`` on a plain rclpy SingleThreadedExecutor until Ctrl-C or shutdown; clean up.

    The loop of the bench's bare-rclpy processes (peers and stand-ins): nothing of neurohybrid's
    runtime, so they measure rclpy alone.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
