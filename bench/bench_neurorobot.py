"""Neurorobotic loop against its controls (random walk, culture spikes shuffled in time), over
seeds, in simulated time (no ROS): collisions per metre and per minute, distance, coverage.
The reference loop is the culture's, the silicon board's or the whole hybrid's (culture -> hub's
memristive synapses -> board); ``--reinforcement`` adds the reference loop with the tetanic
burst after each collision (Tessadori et al. 2012) against the same loop without it.

    python bench/bench_neurorobot.py --seeds 0 1 2 3 --duration 60 -o results/neurorobot.json
    python bench/bench_neurorobot.py --reference hybrid --controllers hybrid random_walk \\
        --seeds 0 1 2 3 4 5 --duration 60 --recover 1.0 --reinforcement -o results/neurorobot_hybrid.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from neurohybrid.neurorobot.loop import CONTROLLERS, compare, run_loop
from neurohybrid.robot import load_arena
from neurohybrid.robot.drive import DriveLimits

ROOT = Path(__file__).parents[1]
ARENA = ROOT / "config/arenas/tessadori.yaml"
CONNECTIVITY = ROOT / "config/connectivity/neurorobot.yaml"


def reinforcement(arena, controller: str, seeds: list[int], duration_s: float, **kwargs) -> dict:
    """``controller`` with and without the tetanic burst over ``seeds``: collisions per minute and
    per metre, and a two-sided Mann-Whitney U test (scipy) of each."""
    from scipy.stats import mannwhitneyu

    runs = {}
    for name, tetanus in (("tetanus_off", False), ("tetanus_on", True)):
        runs[name] = [run_loop(arena, controller, s, duration_s, encoder={"tetanus": tetanus}, **kwargs).to_dict()
                      for s in seeds]
    out = {"controller": controller, "runs": runs, "mean": {}, "tests": {}}
    for name, rs in runs.items():
        out["mean"][name] = {k: float(np.nanmean([r[k] for r in rs])) for k in
                             ("collisions_per_min", "collisions_per_m", "distance_m", "tetani", "plasticity_pulses",
                              "weight_change")}
    for key in ("collisions_per_min", "collisions_per_m"):
        off, on = ([r[key] for r in runs[n]] for n in ("tetanus_off", "tetanus_on"))
        if off == on:  # identical samples (e.g. no collision at all): no test to run
            out["tests"][key] = {"U": None, "p_two_sided": 1.0}
            continue
        test = mannwhitneyu(on, off, alternative="two-sided")
        out["tests"][key] = {"U": float(test.statistic), "p_two_sided": float(test.pvalue)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--duration", type=float, default=60.0, help="simulated seconds per run after calibration")
    ap.add_argument("--tetanus", action="store_true", help="tetanic burst after each collision")
    ap.add_argument("--recover", type=float, default=0.0, help="bump reflex: back off this long after a collision, s")
    ap.add_argument("--controllers", nargs="+", default=["culture", "shuffled", "random_walk"], choices=CONTROLLERS)
    ap.add_argument("--reference", default="culture", choices=CONTROLLERS[:-1],
                    help="the loop tested against the others")
    ap.add_argument("--reinforcement", action="store_true",
                    help="also the reference loop with and without the tetanic burst (Tessadori 2012)")
    ap.add_argument("--gain", type=float, default=None,
                    help="decoder gain_m_s (default: each controller's wiring, neurohybrid.neurorobot.loop.WIRING)")
    ap.add_argument("-o", "--output", type=Path, default=Path("results/neurorobot.json"))
    args = ap.parse_args()
    arena = load_arena(ARENA, DriveLimits().robot_radius_m)
    common = dict(period_s=0.02, mea={"fs_hz": 10000.0}, recover_s=args.recover,
                  hub={"connectivity_file": str(CONNECTIVITY)},
                  decoder={} if args.gain is None else {"gain_m_s": args.gain})
    result = compare(arena, args.seeds, args.duration, tuple(args.controllers), args.reference,
                     encoder={"tetanus": args.tetanus}, **common)
    if args.reinforcement:
        result["reinforcement"] = reinforcement(arena, args.reference, args.seeds, args.duration, **common)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    summary = {"mean": result["mean"], "tests": result["tests"]}
    if args.reinforcement:
        summary["reinforcement"] = {k: result["reinforcement"][k] for k in ("mean", "tests")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
