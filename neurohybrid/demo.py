"""The main job: the virtual lab reproducing Serb et al. (2020) in real time, then its report.

Three labs on one machine (Padova MEA twin, Zurich DPI board twin, Southampton hub with the TiOx
crossbar twin) run the three-neuron network zurich:0 -> memristor -> padova -> memristor ->
zurich:1 on top of the full background networks. The presynaptic silicon neuron is driven at a
high rate (LTP phase) then a low rate (LTD phase); everything is recorded to MCAP and summarised.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from pathlib import Path

import psutil

from neurohybrid.launcher import Supervisor, load_launch_file
from neurohybrid.launcher.substitutions import find_pkg_share

LTP_RATE_HZ = 40.0  # well above the rate rule's 20 Hz LTP threshold (Serb et al. 2020)
LTD_RATE_HZ = 2.0   # well below its 5 Hz LTD threshold
STARTUP_MARGIN_S = 6.0


class CpuMonitor(threading.Thread):
    """Samples the CPU time of every node process once a second (for the summary)."""

    def __init__(self, supervisor: Supervisor, duration_s: float, recording: Path) -> None:
        super().__init__(daemon=True)
        self.supervisor = supervisor
        self.duration_s = duration_s
        self.recording = recording
        self.cpu_s: dict[str, float] = {}
        self.wall_s: dict[str, float] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        procs: dict[str, tuple[psutil.Process, float]] = {}
        while not self._halt.wait(1.0):
            for label, pid in self.supervisor.pids().items():
                try:
                    if label not in procs:
                        procs[label] = (psutil.Process(pid), time.monotonic())
                    proc, t0 = procs[label]
                    times = proc.cpu_times()
                    self.cpu_s[label] = times.user + times.system
                    self.wall_s[label] = time.monotonic() - t0
                except psutil.NoSuchProcess:
                    continue
            elapsed = time.monotonic() - start
            size = self.recording.stat().st_size / 1e6 if self.recording.exists() else 0.0
            print(f"\r[demo] {elapsed:5.0f} s / {self.duration_s:.0f} s   recording {size:6.1f} MB",
                  end="", flush=True)
        print(flush=True)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def cpu_percent(self) -> dict[str, float]:
        return {k: round(100.0 * self.cpu_s[k] / max(self.wall_s[k], 1e-9), 1) for k in self.cpu_s}


def run_demo(duration_s: float, results_root: Path = Path("results")) -> int:
    """Run the virtual lab for ``duration_s`` seconds of experiment; write results/<stamp>/."""
    from neurohybrid.io.report import make_report

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (results_root / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    latest = results_root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp)
    recording = out / "recording.mcap"
    half = duration_s / 2.0
    launch_file = Path(find_pkg_share("neurohybrid")) / "launch" / "virtual_lab.launch.yaml"
    specs = load_launch_file(launch_file, {
        "output": str(recording),
        "drive_phase_s": f"[{half}, {half}]",
        "drive_rate_hz": f"[{LTP_RATE_HZ}, {LTD_RATE_HZ}]",
    })
    print(f"[demo] virtual lab: {len(specs)} nodes, {duration_s:.0f} s "
          f"(LTP phase {half:.0f} s at {LTP_RATE_HZ} Hz, LTD phase {half:.0f} s at {LTD_RATE_HZ} Hz)")
    supervisor = Supervisor(specs)
    monitor = CpuMonitor(supervisor, duration_s + STARTUP_MARGIN_S, recording)
    monitor.start()
    code = supervisor.run(duration_s=duration_s + STARTUP_MARGIN_S)
    monitor.stop()
    if code != 0:
        print(f"[demo] a node failed: {', '.join(supervisor.failed)}", file=sys.stderr)
        return code
    summary = make_report(recording, out, extra={
        "cpu_percent_per_node": monitor.cpu_percent(),
        "protocol": {"ltp_phase_s": half, "ltd_phase_s": half,
                     "ltp_rate_hz": LTP_RATE_HZ, "ltd_rate_hz": LTD_RATE_HZ},
    })
    print(json.dumps({k: summary[k] for k in summary if k in ("events", "plasticity", "stimulation")},
                     indent=1, default=str)[:2000])
    print(f"[demo] results in {out}: recording.mcap, summary.json, report.png, report.html "
          f"(results/latest points there)")
    return 0
