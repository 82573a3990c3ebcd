"""Closed loop without ROS: the culture twin drives the robot; the controls run the same way;
metrics are those of the papers."""

import math
from pathlib import Path

import numpy as np
import pytest

from neurohybrid.robot import DriveLimits, arena_from_dict
from neurohybrid.neurorobot.loop import run_loop
from neurohybrid.robot.metrics import coverage, run_metrics

R = DriveLimits().robot_radius_m
ARENA = arena_from_dict({"walls": {"shape": "circle", "radius_m": 0.6},
                         "obstacles": [{"x_m": 0.35, "y_m": 0.0, "radius_m": 0.08}]}, R)


@pytest.mark.parametrize("controller", ["culture", "shuffled"])
def test_the_culture_loop_stimulates_and_drives(controller):
    result = run_loop(ARENA, controller, seed=1, duration_s=4.0, period_s=0.02, decoder={"baseline_s": 1.0},
                      mea={"fs_hz": 10000.0})
    assert result.stim_delivered > 0 and result.stim_refused == 0
    assert result.metrics.distance_m > 0.05
    assert len(result.trajectory_xy_m) == 200


def test_random_walk_stays_within_the_wheel_limit_and_collides_in_a_small_arena():
    result = run_loop(ARENA, "random_walk", seed=0, duration_s=60.0, decoder={"baseline_s": 0.0})
    m = result.metrics
    assert m.collisions >= 1 and m.distance_m <= 0.22 * 60.0
    assert m.collisions_per_min == pytest.approx(m.collisions) and m.collisions_per_m == pytest.approx(m.collisions / m.distance_m)


def test_unknown_controller_is_refused():
    with pytest.raises(ValueError, match="controller"):
        run_loop(ARENA, "teleop", 0, 1.0)


def test_coverage_counts_free_cells_once():
    assert coverage(ARENA, np.zeros((5, 2)), R) == coverage(ARENA, np.zeros((1, 2)), R) > 0
    everywhere = np.stack(np.meshgrid(np.linspace(-0.6, 0.6, 60), np.linspace(-0.6, 0.6, 60)), -1).reshape(-1, 2)
    assert coverage(ARENA, everywhere, R) == pytest.approx(1.0)
    assert math.isnan(run_metrics(ARENA, np.zeros((1, 2)), 60.0, 0.0, 0, R).collisions_per_m)  # no distance


def test_bump_reflex_frees_a_pinned_controller():
    pinned = run_loop(ARENA, "random_walk", seed=0, duration_s=60.0, decoder={"baseline_s": 0.0}).metrics
    freed = run_loop(ARENA, "random_walk", seed=0, duration_s=60.0, decoder={"baseline_s": 0.0}, recover_s=1.0).metrics
    assert freed.collisions > pinned.collisions and freed.distance_m > pinned.distance_m


HYBRID = {"connectivity_file": str(Path(__file__).parents[2] / "config/connectivity/neurorobot.yaml")}


def test_the_board_loop_drives_through_silicon_neurons_and_the_board_refuses_unknown_ones():
    ok = run_loop(ARENA, "board", seed=1, duration_s=3.0, period_s=0.02, decoder={"baseline_s": 1.0})
    assert ok.stim_delivered > 0 and ok.stim_refused == 0 and ok.metrics.distance_m > 0.05
    # neuron 5000 is not on the 16-neuron board: its input check refuses the batches, counted
    bad = run_loop(ARENA, "board", seed=1, duration_s=3.0, period_s=0.02, decoder={"baseline_s": 1.0},
                   encoder={"input_neurons": [2, 3, 4, 5000]})
    assert bad.stim_refused > 0 and bad.stim_delivered < ok.stim_delivered


def test_the_hybrid_loop_routes_the_culture_through_the_memristors_to_the_board():
    result = run_loop(ARENA, "hybrid", seed=1, duration_s=3.0, period_s=0.02, decoder={"baseline_s": 1.0},
                      mea={"fs_hz": 10000.0}, hub=HYBRID)
    assert result.stim_delivered > 0 and result.stim_refused == 0
    assert result.plasticity_pulses > 0 and result.weight_change != 0.0
    assert result.metrics.distance_m > 0.05


def test_the_hybrid_loop_needs_a_connectivity():
    with pytest.raises(ValueError, match="connectivity_file"):
        run_loop(ARENA, "hybrid", 0, 1.0)


@pytest.mark.slow
def test_the_hybrid_loop_collides_less_than_the_random_walk_over_seeds():
    """5 seeds x 15 s in the Tessadori arena, bump reflex for both: one-sided Mann-Whitney U."""
    from scipy.stats import mannwhitneyu

    from neurohybrid.robot import load_arena

    arena = load_arena(Path(__file__).parents[2] / "config/arenas/tessadori.yaml", R)
    seeds = range(5)
    rate = {c: [run_loop(arena, c, s, 15.0, period_s=0.02, decoder={"baseline_s": 2.0}, mea={"fs_hz": 10000.0},
                         hub=HYBRID, recover_s=1.0).metrics.collisions_per_min for s in seeds]
            for c in ("hybrid", "random_walk")}
    assert np.mean(rate["hybrid"]) < np.mean(rate["random_walk"])
    assert mannwhitneyu(rate["hybrid"], rate["random_walk"], alternative="less").pvalue < 0.05
