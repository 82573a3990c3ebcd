"""The virtual lab at full hardware scale, in real time: sequence gaps, watchdog, CPU per node.

What is measured: ``virtual_lab_full.launch.yaml`` (1,024-channel MEA at 20 kHz, 4-chip board of
4,096 neurons, 12,000 synapses on 16 crossbar tiles) runs for ``RUN_S`` (60 s; 15 s with QUICK)
after a warm-up, the driven neuron at 40 Hz throughout (the demo's heavier phase). Over the run:

* CPU of each node process (user + system, psutil), % of one core;
* sequence gaps per spike topic (from the recording, ``neurohybrid.analysis.summary``) and the
  largest ``sequence_gaps`` each lab's ``LinkStatus`` reported;
* watchdog: "link down" warnings in the launch log (a lab heard nothing from the hub for longer
  than ``watchdog_s``) and ``LinkStatus`` samples with ``link_up`` false;
* real time: device time the lab's SpikeBatch messages cover (slice_end - slice_start, summed
  over the batches logged in the window) divided by the window's wall time (1.0 = the device kept
  real time; a lab behind real time covers less, whatever the size of its catch-up batches).

Goal (issue 14): no sequence gaps, the watchdog quiet, both labs at real time (>= 0.98 of slices).
No peer: nothing else runs this graph.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from bench_live import cpu_over, lab_processes
from measure import REPO_ROOT, emit, entry, start_pyspy, summarize_pyspy

RUN_S, QUICK_RUN_S = 60.0, 15.0
WARMUP_S = 5.0
REALTIME_GOAL = 0.98
LAB_NODES = ("hub_node", "board_node", "mea_node", "recorder_node")
LINK_DOWN = re.compile(r"no message from \S+ for more than [\d.]+ s: link down")


def analyse(recording: Path, log_text: str, window_ns: tuple[int, int]) -> dict:
    """Gaps, watchdog and real-time figures of one run from its recording and launch log.

    Real time counts the batches the recorder logged inside ``window_ns`` (wall clock, ns).
    """
    from neurohybrid.analysis.summary import summarize
    from neurohybrid.io.reader import Recording, UnknownTopicError

    rec = Recording.open(recording)
    summary = summarize(rec)
    out = {"sequence_gaps": summary["sequence_gaps"], "events_per_s": summary["events"],
           "watchdog_link_down_warnings": len(LINK_DOWN.findall(log_text)),
           "link_status": {}, "realtime_fraction": {}}
    for lab in ("padova", "zurich"):
        try:
            status = rec.link_status(lab)
        except UnknownTopicError:  # a lab too far behind to publish its 1 Hz status at all
            out["link_status"][lab] = {"samples": 0, "link_down_samples": 0, "max_sequence_gaps": 0,
                                       "max_late_events": 0, "recorded": False}
            status = None
        if status is not None:
            out["link_status"][lab] = {
                "samples": int(len(status["link_up"])),
                "link_down_samples": int(np.sum(~status["link_up"].astype(bool))),
                "max_sequence_gaps": int(status["sequence_gaps"].max(initial=0)),
                "max_late_events": int(status["late_events"].max(initial=0)),
                "recorded": True,
            }
        try:
            spikes = rec.spikes(lab)
            logged = spikes["batch_log_time_ns"]
            covered_ns = spikes["batch_slice_end_ns"] - spikes["batch_slice_start_ns"]
        except UnknownTopicError:  # the lab never published a batch the recorder saw
            logged = covered_ns = np.empty(0, np.int64)
        inside = (logged >= window_ns[0]) & (logged < window_ns[1])
        out["realtime_fraction"][lab] = round(float(covered_ns[inside].sum()) / (window_ns[1] - window_ns[0]), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    quick = bool(parser.parse_args().quick)
    run_s = QUICK_RUN_S if quick else RUN_S
    from neurohybrid.process_group import stop_process_group
    from neurohybrid.testing.graph import isolate_discovery, wait_for

    isolate_discovery()
    logs = REPO_ROOT / "results"
    logs.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    log_path = logs / "bench_scale_lab.log"
    recording = work / "rec.mcap"
    with open(log_path, "wb") as lab_log:
        lab = subprocess.Popen([sys.executable, "-m", "neurohybrid", "launch", "--runner", "ours",
                                "virtual_lab_full.launch.yaml", f"output:={recording}", "drive_phase_s:=[3600.0, 1.0]"],
                               stdout=lab_log, stderr=subprocess.STDOUT, cwd=work, start_new_session=True)
        spies = {}
        try:
            root = psutil.Process(lab.pid)
            wait_for(lambda: len(lab_processes(root)) == len(LAB_NODES), 60, lambda: time.sleep(0.2), "the lab's nodes")
            wait_for(lambda: log_path.read_text().count("link to /southampton up") >= 2, 60, lambda: time.sleep(0.2),
                     "both labs' links up")
            time.sleep(WARMUP_S)  # not a synchronisation: a warm-up window left out of the measurement
            procs = lab_processes(root)
            mark = len(log_path.read_text())
            for name in ("hub_node", "mea_node", "board_node"):
                spies[name] = (start_pyspy(procs[name].pid, min(10.0, run_s / 2), logs / f"bench_pyspy_scale_{name}.raw"))
            t0_ns = time.time_ns()
            cpu = cpu_over(procs, run_s)
            window_ns = (t0_ns, time.time_ns())
            run_log = log_path.read_text()[mark:]
        finally:
            stop_process_group(lab, 30.0)
    result = analyse(recording, run_log, window_ns)
    gaps = sum(result["sequence_gaps"].values()) + sum(v["max_sequence_gaps"] for v in result["link_status"].values())
    watchdog = result["watchdog_link_down_warnings"]
    realtime = min(result["realtime_fraction"].values())
    met = gaps == 0 and watchdog == 0 and realtime >= REALTIME_GOAL
    for name, spy in spies.items():
        if spy is not None:
            spy.wait(30)
            if not met:
                summarize_pyspy(f"full_scale_{name}", logs / f"bench_pyspy_scale_{name}.raw",
                                f"{name} in virtual_lab_full.launch.yaml")
    emit(entry("full_scale_lab", float(gaps + watchdog), "gaps + watchdog trips",
               f"0 sequence gaps, 0 watchdog trips, real time >= {REALTIME_GOAL} of slices, over {run_s:g} s", met,
               run_s=run_s, cpu_percent_per_node=cpu, cpu_percent_total=round(sum(cpu.values()), 1), **result,
               note="virtual_lab_full.launch.yaml: 1,024-ch MEA (20 kHz), 4-chip board (4,096 neurons), "
                    "12,000 synapses on 16 tiles; driven neuron at 40 Hz; machine shared (2 cores)"))


if __name__ == "__main__":
    main()
