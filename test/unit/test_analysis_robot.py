"""The robot section and the loop latency budget of a neurorobot recording, and its figures:
a recording with known numbers (neurohybrid.testing.robot_recording), every value checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurohybrid.analysis.html import FIGURE_ID_PREFIX
from neurohybrid.analysis.report import REPORT_HTML, REPORT_PNG, SUMMARY_JSON, make_report
from neurohybrid.analysis.summary import summarize
from neurohybrid.io.reader import Recording
from neurohybrid.robot.arena import arena_from_dict
from neurohybrid.robot.metrics import coverage
from neurohybrid.testing.robot_recording import LEGS_MS, write_robot_recording

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_robot_recording(tmp_path_factory.mktemp("robot") / "recording.mcap")


@pytest.fixture(scope="module")
def summary(recording):
    return summarize(Recording.open(recording))


def test_distance_duration_and_collisions_come_from_odom_and_the_collision_points(summary):
    robot = summary["robot"]
    assert robot["duration_s"] == pytest.approx(10.0)
    assert robot["distance_m"] == pytest.approx(1.0)
    assert robot["collisions"] == 2
    assert robot["collisions_per_min"] == pytest.approx(12.0)
    assert robot["collisions_per_m"] == pytest.approx(2.0)
    assert robot["collision_points_m"] == [[-0.2, 0.0], [0.2, 0.0]]
    assert robot["topics"]["odom"] == "/robot/odom" and robot["topics"]["spikes"] == "/padova/spikes"


def test_coverage_is_that_of_the_robot_metrics_in_the_attached_arena(summary):
    import yaml

    from neurohybrid.testing.robot_recording import ARENA_YAML

    arena = arena_from_dict(yaml.safe_load(ARENA_YAML), 0.105)
    xy = np.column_stack([np.linspace(-0.5, 0.5, 1001), np.zeros(1001)])
    assert summary["robot"]["coverage"] == pytest.approx(coverage(arena, xy, 0.105))
    assert 0 < summary["robot"]["coverage"] < 1
    assert summary["robot"]["arena"]["attachment"] == "arena.yaml"
    assert summary["robot"]["arena"]["walls"] == {"shape": "circle", "radius_m": 1.0}


def test_decoded_cmd_vel_statistics(summary):
    cmd = summary["robot"]["cmd_vel"]
    assert cmd["n"] == 1001 and cmd["rate_hz"] == pytest.approx(100.1)
    assert cmd["linear_m_s"]["mean"] == pytest.approx(0.1) and cmd["linear_m_s"]["max"] == pytest.approx(0.1)
    assert cmd["angular_rad_s"]["min"] == 0.0 and cmd["angular_rad_s"]["max"] == 0.5
    assert cmd["stopped_fraction"] == 0.0


def test_stimulation_per_sector_with_refusals_attributed_by_the_named_electrode(summary):
    per = summary["robot"]["stimulation_per_sector"]
    # the split of the recorded /neurorobot parameters, not the encoder's defaults ([48, 49], [8, 9])
    assert per["sectors"]["right"] == {"electrodes": [48, 50], "commands": 5, "pulses": 5, "refused": 1,
                                       "delivered": 4}
    assert per["sectors"]["left"] == {"electrodes": [8, 10], "commands": 5, "pulses": 5, "refused": 0,
                                      "delivered": 5}
    assert per["sector_split"].startswith("recorded parameters of /neurorobot")
    assert per["refused_unattributed"] == 2  # the "+2 more in this batch" name no electrode
    assert per["commands_outside_sectors"] == 0
    assert per["commands_of_other_sources"] == 1  # the hub's row on electrode 48
    assert summary["robot"]["robot_radius_from"] == "recorded parameters of /robot/robot"


def test_without_recorded_parameters_the_defaults_are_used_and_said(tmp_path):
    robot = summarize(Recording.open(write_robot_recording(tmp_path / "r.mcap", parameters=False)))["robot"]
    per = robot["stimulation_per_sector"]
    assert per["sectors"]["right"]["electrodes"] == [48, 49] and per["sectors"]["left"]["electrodes"] == [8, 9]
    assert per["sector_split"].startswith("sensory encoder defaults")
    assert robot["robot_radius_m"] == 0.105 and robot["robot_radius_from"].startswith("drive defaults")


@pytest.mark.parametrize("named_scans", [True, False])
def test_latency_budget_legs_are_the_known_delays(tmp_path, named_scans):
    budget = summarize(Recording.open(write_robot_recording(tmp_path / "r.mcap", named_scans)))["loop_latency_ms"]
    assert budget["commands"] == 10 and budget["n"] == 10
    assert budget["scan_from"] == ("pre_time_ns" if named_scans else "newest recorded scan at or before the command")
    for leg, ms in LEGS_MS.items():
        assert budget[leg] == pytest.approx({"p50": ms, "p99": ms, "max": ms}), leg
    assert set(budget["clocks"]) == set(LEGS_MS)
    assert budget["mea_clock_lead_ms"] == {"p50": 0.0, "max": 0.0}


def test_the_summary_with_a_robot_is_strict_json(summary):
    json.dumps(summary, allow_nan=False, default=lambda v: v.item())


def test_a_recording_without_robot_topics_has_neither_robot_section(tmp_path):
    from rclpy.serialization import serialize_message

    from neurohybrid import msg as nh
    from neurohybrid.io.recording import RecordingWriter

    path = tmp_path / "lab.mcap"
    with RecordingWriter(path) as w:
        w.write("/padova/spikes", "neurohybrid/msg/SpikeBatch", serialize_message(nh.SpikeBatch()), 1, 1)
    out = summarize(Recording.open(path))
    assert "robot" not in out and "loop_latency_ms" not in out


def test_report_draws_the_robot_figures_and_embeds_them(recording, tmp_path):
    summary = make_report(recording, tmp_path)
    for name in (REPORT_PNG, "robot.png", "loop_latency.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC), name
    html = (tmp_path / REPORT_HTML).read_text()
    assert f'id="{FIGURE_ID_PREFIX}robot"' in html and f'id="{FIGURE_ID_PREFIX}loop_latency"' in html
    written = json.loads((tmp_path / SUMMARY_JSON).read_text())
    assert written["robot"]["distance_m"] == pytest.approx(1.0)
    assert written["loop_latency_ms"]["total"]["p50"] == pytest.approx(25.0)
    assert summary["robot"]["collisions"] == 2


def test_the_demo_command_defaults_to_the_lab_and_refuses_lab_options_for_the_neurorobot(capsys):
    from neurohybrid.cli import build_parser, main

    assert build_parser().parse_args(["demo"]).kind == "lab"
    assert build_parser().parse_args(["demo", "--kind", "neurorobot"]).kind == "neurorobot"
    assert main(["demo", "--kind", "neurorobot", "--live"]) == 2
    assert "--live and --slice-s belong to --kind lab" in capsys.readouterr().err
