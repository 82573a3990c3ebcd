"""The demos: a launch file run in real time, recorded to MCAP, then its report.

``lab`` (the default, :func:`run_demo`): the virtual lab reproducing Serb et al. (2020). Three
labs on one machine (Padova MEA twin, Zurich DPI board twin, Southampton hub with the TiOx
crossbar twin) run the three-neuron network zurich:0 -> memristor -> padova -> memristor ->
zurich:1 on top of the full background networks. The presynaptic silicon neuron is driven at a
high rate (LTP phase) then a low rate (LTD phase); everything is recorded to MCAP and summarised.

``neurorobot`` (:func:`run_neurorobot_demo`): ``neurorobot.launch.yaml``, the culture on the MEA
driving the robot twin in its arena (Novellino et al. 2007, Tessadori et al. 2012). The run lasts
``duration_s`` from the MEA's first spike batch (building the culture takes a while; the
decoder's baseline calibration is part of the run), then the report adds the robot section and
the loop's latency budget (:mod:`neurohybrid.analysis.robot`, :mod:`neurohybrid.analysis.loop_latency`).
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
MEA_SPIKES_TOPIC = "/padova/spikes"
"""The MEA's spike stream in ``neurorobot.launch.yaml`` (node mea, namespace /padova)."""
NEUROROBOT_STARTUP_TIMEOUT_S = 300.0
"""Longest wait for the MEA's first spike batch (its culture is built at configure), s."""


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


def _device_slices_s(specs: list) -> dict[str, float]:
    """``period_s`` (the device slice, s) of each node that has one, by node name."""
    return {f"{spec.namespace.rstrip('/')}/{spec.name}": float(value)
            for spec in specs for key, value in spec.params if key == "period_s"}


def _results_dir(results_root: Path) -> Path:
    """A new results/<stamp>/ folder, with results/latest pointing at it."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = (results_root / stamp).resolve()
    out.mkdir(parents=True, exist_ok=True)
    latest = results_root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(stamp)
    return out


def run_demo(duration_s: float, results_root: Path = Path("results"), live: bool = False,
             slice_s: float | None = None) -> int:
    """Run the virtual lab for ``duration_s`` seconds of experiment; write results/<stamp>/.

    ``live``: the launch file's ``live:=true`` (the live view, with its CPU use in the summary);
    ``slice_s``: its ``slice_s`` (the device slice, s), None for the launch file's default.
    """
    from neurohybrid.analysis.report import make_report

    out = _results_dir(results_root)
    recording = out / "recording.mcap"
    half = duration_s / 2.0
    launch_file = Path(find_pkg_share("neurohybrid")) / "launch" / "virtual_lab.launch.yaml"
    specs = load_launch_file(launch_file, {
        "output": str(recording),
        "drive_phase_s": f"[{half}, {half}]",
        "drive_rate_hz": f"[{LTP_RATE_HZ}, {LTD_RATE_HZ}]",
        "live": str(live).lower(),
        **({} if slice_s is None else {"slice_s": str(slice_s)}),
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
        "protocol": {"device_slice_s": _device_slices_s(specs), "ltp_phase_s": half, "ltd_phase_s": half,
                     "ltp_rate_hz": LTP_RATE_HZ, "ltd_rate_hz": LTD_RATE_HZ},
    })
    print(json.dumps({k: summary[k] for k in summary if k in ("events", "plasticity", "stimulation")},
                     indent=1, default=str)[:2000])
    print(f"[demo] results in {out}: recording.mcap, summary.json, report.png, report.html "
          f"(results/latest points there)")
    return 0


class LoopClock(threading.Thread):
    """Stops the supervised run ``duration_s`` after the MEA's first spike batch (a ROS probe).

    The culture twin is built when the MEA node configures (tens of seconds on a loaded
    machine), so a fixed wall-clock duration would mostly record the wait. ``started_s``: when
    the first batch arrived (monotonic), None if none came within ``timeout_s``.
    """

    def __init__(self, supervisor: Supervisor, duration_s: float, timeout_s: float) -> None:
        super().__init__(daemon=True)
        self.supervisor = supervisor
        self.duration_s = duration_s
        self.timeout_s = timeout_s
        self.started_s: float | None = None
        self.waited_s = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.signals import SignalHandlerOptions

        from neurohybrid.msg import SpikeBatch
        from neurohybrid.nodes.runtime import stream_qos

        context = rclpy.Context()
        rclpy.init(context=context, signal_handler_options=SignalHandlerOptions.NO)
        node = Node("demo_loop_clock", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        node.create_subscription(SpikeBatch, MEA_SPIKES_TOPIC, self._heard, stream_qos(10))
        begin = time.monotonic()
        try:
            while not self._halt.is_set():
                executor.spin_once(timeout_sec=0.1)
                now = time.monotonic()
                if self.started_s is None and now - begin > self.timeout_s:
                    print(f"\n[demo] no spike batch on {MEA_SPIKES_TOPIC} within {self.timeout_s:.0f} s",
                          file=sys.stderr, flush=True)
                    break
                if self.started_s is not None and now - self.started_s >= self.duration_s:
                    break
        finally:
            self.waited_s = (self.started_s or time.monotonic()) - begin
            self.supervisor.request_stop()
            executor.shutdown()
            node.destroy_node()
            rclpy.try_shutdown(context=context)

    def _heard(self, _msg: object) -> None:
        if self.started_s is None:
            self.started_s = time.monotonic()
            print(f"\n[demo] loop live (first spike batch): {self.duration_s:.0f} s from now", flush=True)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_neurorobot_demo(duration_s: float, results_root: Path = Path("results"),
                        startup_timeout_s: float = NEUROROBOT_STARTUP_TIMEOUT_S) -> int:
    """Run ``neurorobot.launch.yaml`` for ``duration_s`` s of closed loop; write results/<stamp>/.

    The run is timed from the MEA's first spike batch (:class:`LoopClock`); no batch within
    ``startup_timeout_s`` stops the run and returns 1. Writes ``recording.mcap``, then the report.
    """
    from neurohybrid.analysis.report import make_report

    out = _results_dir(results_root)
    recording = out / "recording.mcap"
    launch_file = Path(find_pkg_share("neurohybrid")) / "launch" / "neurorobot.launch.yaml"
    specs = load_launch_file(launch_file, {"output": str(recording), "record": "true"})
    print(f"[demo] neurorobot: {len(specs)} nodes, {duration_s:.0f} s of closed loop from the MEA's "
          f"first spike batch (the decoder's baseline included)")
    supervisor = Supervisor(specs)
    clock = LoopClock(supervisor, duration_s, startup_timeout_s)
    monitor = CpuMonitor(supervisor, duration_s, recording)
    clock.start()
    monitor.start()
    code = supervisor.run()
    clock.stop()
    monitor.stop()
    if code != 0:
        print(f"[demo] a node failed: {', '.join(supervisor.failed)}", file=sys.stderr)
        return code
    if clock.started_s is None:
        return 1
    summary = make_report(recording, out, extra={
        "cpu_percent_per_node": monitor.cpu_percent(),
        "protocol": {"kind": "neurorobot", "loop_s": duration_s, "startup_s": round(clock.waited_s, 1),
                     "launch": launch_file.name},
    })
    robot = summary.get("robot") or {}
    budget = summary.get("loop_latency_ms") or {}
    print(json.dumps({
        "robot": {k: robot.get(k) for k in ("distance_m", "collisions", "collisions_per_min",
                                            "collisions_per_m", "coverage")},
        "stimulation_per_sector": (robot.get("stimulation_per_sector") or {}).get("sectors"),
        "loop_latency_ms": {k: budget.get(k) for k in ("n", "scan_to_stimulation", "stimulation_to_spike",
                                                       "spike_to_batch_received", "batch_to_cmd_vel", "total")},
    }, indent=1, default=str))
    print(f"[demo] results in {out}: recording.mcap, summary.json, report.png, report.html "
          f"(results/latest points there)")
    return 0
