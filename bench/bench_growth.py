"""How the device twins' cost grows, and the raised kernel goals at full scale (issue 14).

Curves (CPU load in cores = wall time / simulated time, one process, one BLAS thread; fitted by
``bench/growth.py``: power-law exponent, line slope, where the load reaches one core):

* ``board_growth_neurons``: :class:`~neurohybrid.board.board.DynapBoard` ``advance`` with 1,024 ->
  16,384 neurons (1 -> 16 chips of 4 x 256), dt 0.1 ms, Poisson input 10 Hz per neuron (as
  ``bench_board.py``); events/s = output spikes + input events per wall second.
* ``mea_growth_channels``: the MEA twin (:class:`~neurohybrid.mea.sim.SimMEABackend`: culture,
  extracellular rendering, detection) in 10 ms slices, 60 (mcs60, 25 kHz) and 256 / 1,024 / 4,096
  (grid, 17.5 um, 20 kHz) channels; events/s = detected events per wall second.

Kernel goals:

* ``detection_4096_x_realtime``: :class:`~neurohybrid.mea.detector.OnlineSpikeDetector` on 4,096
  channels x 20 kHz of synthetic noise with spikes, 10 ms chunks, after its 1 s noise window, one
  core; goal >= 10x real time.
* ``board_dpi_16k_x_realtime``: ``DynapBoard`` with 16,384 neurons; goal >= 2x real time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from bench_board import DT_S, INPUT_WEIGHT_A, poisson_input
from growth import fit_curve
from measure import emit, entry, profile_to_file
from neurohybrid.board.board import DynapBoard

BOARD_NEURONS = (1024, 2048, 4096, 8192, 16384)
MEA_CHANNELS = (60, 256, 1024, 4096)
GOAL_DETECT_X, GOAL_BOARD_16K_X = 10.0, 2.0
SLICE_S = 0.01


def board_cost(n_neurons: int, duration_s: float) -> tuple[float, float]:
    """(CPU cores, events/s) of a board of ``n_neurons`` over ``duration_s`` of Poisson input."""
    board = DynapBoard(n_chips=n_neurons // 1024, cores_per_chip=4, neurons_per_core=256, dt_s=DT_S, mismatch=0.1,
                       seed=0, background_rate_hz=0.0, input_base_weight_a=INPUT_WEIGHT_A)
    post, step = poisson_input(n_neurons, duration_s, seed=1)
    board.advance(0.05, np.empty(0, np.int64), np.empty(0), np.empty(0))  # kernel loaded, state warm
    t = time.perf_counter()
    ids, _ = board.advance(duration_s, post, (step + 0.5) * DT_S + 0.05, np.ones(len(post)))
    wall = time.perf_counter() - t
    return wall / duration_s, (len(ids) + len(post)) / wall


def mea_backend(n_channels: int):
    from neurohybrid.mea.layout import make_layout
    from neurohybrid.mea.sim import SimMEABackend
    from neurohybrid.mea.stimulation import StimulationLimits

    if n_channels == 60:
        layout, fs_hz = make_layout("mcs60"), 25000.0
    else:
        layout, fs_hz = make_layout("grid", n_channels, 17.5), 20000.0
    backend = SimMEABackend(layout, StimulationLimits(), fs_hz=fs_hz)
    backend.configure()
    return backend


def mea_cost(n_channels: int, duration_s: float) -> tuple[float, float]:
    """(CPU cores, detected events/s) of the MEA twin in 10 ms slices, after its 1 s noise window."""
    backend = mea_backend(n_channels)
    for _ in range(int(1.0 / SLICE_S) + 1):
        backend.advance(SLICE_S)
    n = int(round(duration_s / SLICE_S))
    events = 0
    t = time.perf_counter()
    for _ in range(n):
        events += len(backend.advance(SLICE_S))
    wall = time.perf_counter() - t
    return wall / (n * SLICE_S), events / wall


def detection_x_realtime(n_channels: int, duration_s: float) -> float:
    """Real-time factor of the detector alone on ``n_channels`` x 20 kHz of noise with spikes."""
    from neurohybrid.mea.detector import OnlineSpikeDetector

    fs_hz = 20000.0
    chunk = int(SLICE_S * fs_hz)
    rng = np.random.default_rng(0)
    block = rng.standard_normal((chunk * 20, n_channels), dtype=np.float32) * np.float32(6.0)
    block[::997, :] -= np.float32(80.0)  # a spike-like trough now and then on every channel
    detector = OnlineSpikeDetector(n_channels, fs_hz)
    for i in range(int(1.0 / SLICE_S) + 1):  # the noise window
        detector.process(block[(i % 20) * chunk:(i % 20 + 1) * chunk], i * 10_000_000)
    n = int(round(duration_s / SLICE_S))
    t = time.perf_counter()
    for i in range(n):
        detector.process(block[(i % 20) * chunk:(i % 20 + 1) * chunk], (i + 200) * 10_000_000)
    return n * SLICE_S / (time.perf_counter() - t)


def curve(name: str, x_name: str, xs: tuple, costs: list[tuple[float, float]], note: str) -> None:
    cpu = [c for c, _ in costs]
    rates = [r for _, r in costs]
    emit(entry(name, rates[-1], "events/s", "curve (report)", None, x_name=x_name, x=list(xs),
               cpu_load_cores=[round(c, 4) for c in cpu], events_per_s=[round(r) for r in rates],
               **fit_curve(xs, cpu, x_name, "CPU load (cores)"), note=note))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", type=int, default=0)
    quick = bool(parser.parse_args().quick)
    board_s, mea_s, detect_s = (0.5, 0.5, 1.0) if quick else (2.0, 2.0, 3.0)
    with threadpool_limits(limits=1):
        board = [board_cost(n, board_s) for n in BOARD_NEURONS]
        curve("board_growth_neurons", "neurons", BOARD_NEURONS, board,
              "DynapBoard.advance, dt 0.1 ms, Poisson input 10 Hz/neuron, 1-16 chips of 4 x 256; one core")
        x16 = 1.0 / board[-1][0]
        emit(entry("board_dpi_16k_x_realtime", x16, "x real time", f">= {GOAL_BOARD_16K_X}x", x16 >= GOAL_BOARD_16K_X,
                   n_neurons=BOARD_NEURONS[-1], note="DynapBoard 16 chips x 4 cores x 256, dt 0.1 ms, one core"))
        mea = [mea_cost(n, mea_s) for n in MEA_CHANNELS]
        curve("mea_growth_channels", "channels", MEA_CHANNELS, mea,
              "SimMEABackend.advance in 10 ms slices (culture 1,000 neurons + rendering + detection); one core")
        x_det = detection_x_realtime(4096, detect_s)
        met = x_det >= GOAL_DETECT_X
        emit(entry("detection_4096_x_realtime", x_det, "x real time", f">= {GOAL_DETECT_X}x on one core", met,
                   n_channels=4096, fs_hz=20000.0, note="OnlineSpikeDetector.process, 10 ms chunks, one BLAS thread"))
        if not met:
            profile_to_file("detection_4096_x_realtime", lambda: detection_x_realtime(4096, 0.5),
                            "OnlineSpikeDetector.process, 4,096 ch x 20 kHz, 0.5 s")


if __name__ == "__main__":
    main()
