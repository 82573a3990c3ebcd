"""Live view at the demo's load: CPU of the live node, frame rate, and what the lab's nodes pay.

What is measured: the virtual lab (``virtual_lab.launch.yaml``, its high-rate phase of 40 Hz
drive all along: the demo's heavier half) runs; the lab's node processes' CPU is sampled over
``WINDOW_S`` without the live view (baseline). Then ``neurohybrid live`` joins the running graph as
a user starts it, and two windows follow: a client subscribed to the page's frames only (what an
open page costs), then a client subscribed to every advertised topic (Foxglove showing all raw
messages). CPU is user + system time of each process over the window (psutil), in % of one core.
Peer: the recorder node of the same run, which also subscribes to every topic (and writes MCAP).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from measure import REPO_ROOT, emit, entry

WINDOW_S = 15.0
WARMUP_S = 5.0
GOAL_CPU_PERCENT = 25.0
"""A quarter of one core: about what the recorder, which also takes every topic, costs at this load."""
GOAL_FRAME_HZ = 20.0
LAB_NODES = ("hub_node", "board_node", "mea_node", "recorder_node")
ADDRESS = re.compile(r"live view at http://([\d.]+):(\d+)/ \(Foxglove: ws://[\d.]+:(\d+)")


def lab_processes(launcher: psutil.Process) -> dict[str, psutil.Process]:
    """The lab's node processes started by ``launcher``, by executable name."""
    out = {}
    for proc in launcher.children(recursive=True):
        try:
            cmd = " ".join(proc.cmdline())
        except psutil.NoSuchProcess:
            continue
        out.update({name: proc for name in LAB_NODES if f"/{name} " in f"{cmd} "})
    return out


def cpu_over(procs: dict[str, psutil.Process], seconds: float, during=None) -> dict[str, float]:
    """% of one core used by each process over ``seconds`` (``during`` polled meanwhile)."""
    def cpu(p: psutil.Process) -> float:
        t = p.cpu_times()
        return t.user + t.system

    start = {n: cpu(p) for n, p in procs.items()}
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if during is not None:
            during()
        else:
            time.sleep(0.1)
    wall = time.monotonic() - t0
    return {n: round(100.0 * (cpu(p) - start[n]) / wall, 2) for n, p in procs.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    parser.parse_args()
    from neurohybrid.process_group import stop_process_group
    from neurohybrid.testing.foxglove_client import FoxgloveClient
    from neurohybrid.testing.graph import isolate_discovery, wait_for

    isolate_discovery()
    logs = REPO_ROOT / "results"
    logs.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_live_"))
    lab_log, live_log = open(logs / "bench_live_lab.log", "wb"), open(logs / "bench_live_node.log", "wb")
    lab = subprocess.Popen([sys.executable, "-m", "neurohybrid", "launch", "--runner", "ours", "virtual_lab.launch.yaml",
                            f"output:={work / 'rec.mcap'}", "drive_phase_s:=[600.0, 1.0]"],
                           stdout=lab_log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
    live = None
    try:
        root = psutil.Process(lab.pid)
        wait_for(lambda: len(lab_processes(root)) == len(LAB_NODES), 60, lambda: time.sleep(0.2), "the lab's nodes")
        time.sleep(WARMUP_S)
        baseline = cpu_over(lab_processes(root), WINDOW_S)
        live = subprocess.Popen([sys.executable, "-m", "neurohybrid", "live", "--port", "0", "--ws-port", "0"],
                                stdout=live_log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        log_path = logs / "bench_live_node.log"
        wait_for(lambda: ADDRESS.search(log_path.read_text()), 60, lambda: time.sleep(0.2), "the live view's address")
        host, _, ws_port = ADDRESS.search(log_path.read_text()).groups()
        procs = {**lab_processes(root), "live_node": psutil.Process(live.pid)}
        results = {}
        with FoxgloveClient(host, int(ws_port)) as client:
            client.wait_for_channels({"/live/view", "/zurich/spikes", "/padova/spikes"}, 30)
            time.sleep(WARMUP_S)  # discovery of the remaining topics
            client.subscribe("/live/view")
            received: list = []
            results["page"] = cpu_over(procs, WINDOW_S, lambda: received.extend(client.messages(0.1)))
            frames = [m for m in received if m.topic == "/live/view"]
            frame_hz = (len(frames) - 1) / ((frames[-1].log_time_ns - frames[0].log_time_ns) / 1e9)
            frame_bytes = sum(len(m.payload) for m in frames) / WINDOW_S
            client.subscribe(*[t for t in client.channels if t != "/live/view"])
            raw: list = []
            results["foxglove"] = cpu_over(procs, WINDOW_S, lambda: raw.extend(client.messages(0.1)))
            raw_per_s = len(raw) / WINDOW_S
    finally:
        if live is not None:
            stop_process_group(live, 10.0)
        stop_process_group(lab, 20.0)
        lab_log.close()
        live_log.close()
    lab_extra = {window: round(sum(results[window][n] - baseline[n] for n in LAB_NODES), 2) for window in results}
    common = dict(baseline_cpu_percent=baseline, page_cpu_percent=results["page"],
                  foxglove_cpu_percent=results["foxglove"], lab_nodes_extra_cpu_percent=lab_extra)
    for name, window, note in (
            ("live_view_cpu_page", "page", "a client on the page's frames only (an open page)"),
            ("live_view_cpu_foxglove", "foxglove", f"a client on every topic ({raw_per_s:.0f} messages/s forwarded)")):
        value = results[window]["live_node"]
        peer = results[window]["recorder_node"]
        emit(entry(name, value, "% of one core", f"<= {GOAL_CPU_PERCENT} %", value <= GOAL_CPU_PERCENT,
                   peer="recorder_node of the same run (subscribes to every topic, writes MCAP)",
                   peer_value=peer, ratio=value / peer if peer else None,
                   note=f"virtual lab at 40 Hz drive (demo's LTP phase), {WINDOW_S:g} s window; {note}", **common))
    emit(entry("live_view_frame_rate", frame_hz, "Hz", f"<= {GOAL_FRAME_HZ} Hz", frame_hz <= GOAL_FRAME_HZ,
               frame_bytes_per_s=frame_bytes, note="frames received by a client subscribed to /live/view"))


if __name__ == "__main__":
    main()
