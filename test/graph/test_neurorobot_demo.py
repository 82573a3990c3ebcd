"""`neurohybrid demo --kind neurorobot` (what `make demo DEMO=neurorobot` runs): the closed loop
for a short run, then the report; exit 0, clean logs, and a summary with the robot section
(the robot moved) and a finite latency budget."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

LOOP_S = 20.0  # from the MEA's first spike batch, the decoder's 5 s baseline included
TIMEOUT_S = 600.0  # the culture is built first (tens of seconds on a loaded machine), then the report


def test_the_neurorobot_demo_drives_the_robot_and_reports_it(tmp_path):
    from neurohybrid.analysis.loop_latency import LEGS
    from neurohybrid.testing.ros2cli import unclean_lines

    run = subprocess.run([sys.executable, "-m", "neurohybrid", "demo", "--kind", "neurorobot",
                          "--duration", str(LOOP_S), "--results", str(tmp_path)],
                         capture_output=True, text=True, timeout=TIMEOUT_S, cwd=tmp_path)
    text = run.stdout + run.stderr
    assert run.returncode == 0, text[-4000:]
    assert not unclean_lines(text), "\n".join(unclean_lines(text))
    out = (tmp_path / "latest").resolve()
    assert (out / "report.png").stat().st_size > 0 and (out / "robot.png").exists()
    summary = json.loads((out / "summary.json").read_text())
    robot = summary["robot"]
    assert robot["distance_m"] > 0
    assert robot["odom_messages"] > 0 and robot["cmd_vel"]["n"] > 0
    assert robot["arena"]["attachment"] == "tessadori.yaml"
    assert sum(s["commands"] for s in robot["stimulation_per_sector"]["sectors"].values()) > 0
    assert robot["stimulation_per_sector"]["sector_split"].startswith("recorded parameters of /neurorobot")
    budget = summary["loop_latency_ms"]
    assert budget["n"] > 0
    for leg in LEGS:
        assert math.isfinite(budget[leg]["p50"]) and math.isfinite(budget[leg]["p99"]), leg
    assert summary["protocol"]["kind"] == "neurorobot" and summary["protocol"]["loop_s"] == LOOP_S
