"""Closed-loop runs in simulated time, without ROS: the culture twin, the silicon board twin or both
(through the hub's memristive synapses) driving the robot twin, and the controls of the issue
measured the same way.

* ``culture``: ranges -> :class:`SensoryEncoder` (target mea) -> MEA ``stimulate`` (its guard
  decides) -> MEA ``advance`` -> :class:`MotorDecoder` -> robot ``command``, every ``period_s``.
* ``shuffled``: the same loop, but the decoder gets a batch of the culture's output drawn at
  random from all batches so far (spikes shuffled in time: the sensory-motor link is cut, the
  statistics of the activity are kept): open loop.
* ``board``: ranges -> encoder (target board) -> board ``deliver`` (its input check decides:
  an unknown neuron refuses the batch, counted) -> board ``advance`` -> decoder (groups: silicon
  neurons) -> robot.
* ``hybrid``: ranges -> encoder (target mea) -> MEA -> the culture's spikes through the hub
  (:class:`~neurohybrid.hub.hub.Hub`: memristor read, weight, delay; plasticity on every board
  spike) -> weighted events -> board -> decoder (groups: the silicon populations) -> robot.
  The hub clock is the simulated time both devices start at.
* ``random_walk``: no brain; forward at the decoder's base speed, a new turn rate drawn
  uniformly every ``turn_interval_s`` in the widest range the wheel limit allows at that speed.

Bump reflex (``recover_s`` > 0, the same for every controller): after a collision the robot backs
off at RECOVER_SPEED_M_S for ``recover_s`` whatever the controller says, so that one collision
does not pin a controller that never reverses against the wall for the rest of the run.

The decoder's calibration (``baseline_s``) runs first with the robot held still, in every
controller, so the timed part has the same length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurohybrid.board import BOARD_BACKENDS
from neurohybrid.core.errors import SafetyRefusal
from neurohybrid.core.events import SpikeEvents, StimulusBatch, WeightedEvents
from neurohybrid.core.units import NS_PER_S
from neurohybrid.hub.params import hub_session
from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
from neurohybrid.robot.arena import Arena
from neurohybrid.robot.backend import SimRobotBackend
from neurohybrid.robot.decoder import MotorDecoder
from neurohybrid.robot.drive import DriveLimits
from neurohybrid.robot.encoder import SensoryEncoder
from neurohybrid.robot.metrics import RunMetrics, run_metrics

CONTROLLERS = ("culture", "shuffled", "board", "hybrid", "random_walk")
RECOVER_SPEED_M_S = -0.1
"""Backing-off speed of the bump reflex, m/s."""
MEA_LAB, BOARD_LAB = "padova", "zurich"
"""Lab names of the devices in a hybrid loop's connectivity."""
TARGET = {"culture": "mea", "shuffled": "mea", "board": "board", "hybrid": "mea", "random_walk": "mea"}
"""The encoder's target of each controller."""
BOARD_TWIN = {"cores_per_chip": 1, "neurons_per_core": 16, "background_rate_hz": 5.0, "input_base_weight_a": 2e-8}
"""The board twin of the simulated loops: config/zurich.yaml's neurons (5 Hz background, one w=1 event
~ one spike) on one core of 16, enough for the input neurons and the populations (keeps runs short)."""
HYBRID_POPULATIONS = {"right": [8, 9, 10, 11], "left": [12, 13, 14, 15]}
"""The silicon populations of config/connectivity/neurorobot.yaml (right / left sector's electrodes)."""
WIRING = {
    "board": {"decoder": {"left_group": [4, 5], "right_group": [2, 3], "gain_m_s": 0.04, "saturation": "shift"},
              "board": {}},
    "hybrid": {"decoder": {"left_group": HYBRID_POPULATIONS["left"], "right_group": HYBRID_POPULATIONS["right"],
                           "gain_m_s": 0.03, "saturation": "shift"},
               "board": {"quiet_neurons": tuple(HYBRID_POPULATIONS["right"] + HYBRID_POPULATIONS["left"])}},
}
"""Per controller, the decoder and board settings its launch file uses too
(launch/neurorobot_board.launch.yaml, launch/neurorobot_hybrid.launch.yaml): the decoder reads the
silicon neurons the encoder (board: the default ``input_neurons``, right sector 2, 3; left 4, 5)
or the hub (hybrid) drives; the gain is larger than the culture's because a silicon neuron's
rate rises a few-fold over its baseline, the culture's evoked response many-fold (a sweep of
2 seeds x 20 s, Tessadori arena: board gain 0.02 -> 5-6 collisions, 0.04 -> 0; hybrid 0.01 -> 1-2,
0.03 -> 0). Wheel saturation "shift" keeps the turn when both sides fire hard: the hybrid's
populations have no background, so an obstacle dead ahead drives both far above their floor
baseline and clipped wheels would stall the robot in front of it (seen in a 0.6 m arena).
The hybrid's populations take no background: they fire only through the memristive synapses."""


class Brain:
    """What the robot's senses stimulate and whose spikes drive it, stepped in simulated time.

    ``clock`` is the stimulated device: its time is the brain's and its ``delivered_total`` the
    stimulation delivered. ``refused`` counts the MEA guard's refusals (when there is an MEA)
    and the weighted events the board's input check refused (a batch is refused whole).
    """

    mea = None
    board = None
    board_refused = 0
    plasticity_pulses = 0

    def __init__(self, clock: Any) -> None:
        self._clock = clock

    @property
    def now_ns(self) -> int:
        """Simulated time of the brain (all its devices), ns."""
        return self._clock.now_ns

    @property
    def delivered(self) -> int:
        return self._clock.delivered_total

    @property
    def refused(self) -> int:
        return (self.mea.refused_total if self.mea is not None else 0) + self.board_refused

    def stimulate(self, batch: StimulusBatch | WeightedEvents) -> None:
        """Hand the encoder's batch to the stimulated device (its own checks decide)."""
        raise NotImplementedError

    def advance(self, period_s: float) -> SpikeEvents:
        """Advance every device by ``period_s``; the spikes the decoder reads."""
        raise NotImplementedError

    def _deliver_to_board(self, events: WeightedEvents) -> None:
        try:
            self.board.deliver(events.post_id, events.delivery_time_ns, events.weight)
        except ValueError:
            self.board_refused += len(events)


def _mea(seed: int, values: dict[str, Any]):
    mea = MEA_BACKENDS.create("sim", layout=mcs60_layout(), limits=StimulationLimits(), seed=seed, **values)
    mea.configure()
    mea.arm()
    return mea


def _board(seed: int, values: dict[str, Any]):
    board = BOARD_BACKENDS.create("sim", seed=seed, **values)
    board.configure()
    board.arm()
    return board


class CultureBrain(Brain):
    """The MEA twin: stimulation through its guard, all its electrodes' events out."""

    def __init__(self, seed: int, mea: dict[str, Any]) -> None:
        self.mea = _mea(seed, mea)
        super().__init__(self.mea)

    def stimulate(self, batch: StimulusBatch) -> None:
        self.mea.stimulate(batch)

    def advance(self, period_s: float) -> SpikeEvents:
        return self.mea.advance(period_s)


class BoardBrain(Brain):
    """The board twin: weighted events through its input check, its silicon spikes out."""

    def __init__(self, seed: int, board: dict[str, Any]) -> None:
        self.board = _board(seed, board)
        super().__init__(self.board)

    def stimulate(self, batch: WeightedEvents) -> None:
        self._deliver_to_board(batch)

    def advance(self, period_s: float) -> SpikeEvents:
        return self.board.advance(period_s)


class HybridBrain(Brain):
    """MEA -> hub (memristive synapses, plasticity) -> board; the board's spikes out.

    Each period: the MEA advances; its spikes go through the hub (routing reads the devices;
    the rule sees them as presynaptic spikes); the weighted events are delivered to the board at
    their delivery time; the board advances; its spikes go to the hub as postsynaptic events
    (plasticity) and to the decoder. ``plasticity_pulses`` counts the programming pulses the hub
    applied, ``programming_refused`` those its crossbar limits refused.
    """

    def __init__(self, seed: int, mea: dict[str, Any], board: dict[str, Any], hub: dict[str, Any]) -> None:
        self.mea = _mea(seed, mea)
        self.board = _board(seed, board)
        super().__init__(self.mea)
        session = hub_session({"seed": seed, **hub})
        session.activate(self.mea.now_ns)  # arms the crossbar
        self.hub = session.hub
        self.plasticity_pulses = 0
        self.programming_refused = 0
        self.routed = 0

    def stimulate(self, batch: StimulusBatch) -> None:
        self.mea.stimulate(batch)

    def advance(self, period_s: float) -> SpikeEvents:
        culture = self.mea.advance(period_s)
        out = self.hub.on_spikes(MEA_LAB, culture, now_ns=self.mea.now_ns)
        self.plasticity_pulses += int(np.count_nonzero(out.plasticity.accepted))
        self.programming_refused += len(out.refusals)
        events = out.weighted.get(BOARD_LAB)
        if events is not None and len(events):
            self.routed += len(events)
            self._deliver_to_board(events)
        silicon = self.board.advance(period_s)
        post = self.hub.on_spikes(BOARD_LAB, silicon, now_ns=self.board.now_ns)
        self.plasticity_pulses += int(np.count_nonzero(post.plasticity.accepted))
        self.programming_refused += len(post.refusals)
        return silicon


def weights(brain: Brain) -> np.ndarray:
    """The hub's synapse weights (0..1) of a hybrid brain; empty for the others."""
    if not isinstance(brain, HybridBrain):
        return np.empty(0)
    return np.asarray(brain.hub.synapse_states()["weight"], float)


@dataclass
class LoopResult:
    """Metrics of a run plus the counts of the stimulated device and the encoder."""

    controller: str
    seed: int
    metrics: RunMetrics
    stim_delivered: int = 0
    stim_refused: int = 0
    tetani: int = 0
    plasticity_pulses: int = 0
    weight_change: float = 0.0
    trajectory_xy_m: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))

    def to_dict(self) -> dict[str, Any]:
        """Plain data (summary.json)."""
        return {"controller": self.controller, "seed": self.seed, **self.metrics.to_dict(),
                "stim_delivered": self.stim_delivered, "stim_refused": self.stim_refused, "tetani": self.tetani,
                "plasticity_pulses": self.plasticity_pulses, "weight_change": self.weight_change}


def make_brain(controller: str, seed: int, mea: dict[str, Any] | None = None, board: dict[str, Any] | None = None,
               hub: dict[str, Any] | None = None) -> Brain | None:
    """The brain of ``controller`` (None for the random walk)."""
    if controller in ("culture", "shuffled"):
        return CultureBrain(seed, mea or {})
    if controller == "board":
        return BoardBrain(seed, board or {})
    if controller == "hybrid":
        if not hub or not hub.get("connectivity_file"):
            raise ValueError("controller='hybrid' needs hub={'connectivity_file': ...} (e.g. "
                             "config/connectivity/neurorobot.yaml)")
        return HybridBrain(seed, mea or {}, board or {}, hub)
    return None


def run_loop(arena: Arena, controller: str, seed: int, duration_s: float, period_s: float = 0.01,
             encoder: dict[str, Any] | None = None, decoder: dict[str, Any] | None = None,
             mea: dict[str, Any] | None = None, turn_interval_s: float = 1.0,
             recover_s: float = 0.0, board: dict[str, Any] | None = None,
             hub: dict[str, Any] | None = None) -> LoopResult:
    """One run of ``controller`` for ``duration_s`` of simulated time after the calibration.

    ``encoder``/``decoder`` are their parameters (the encoder's ``target`` follows the
    controller; ``decoder`` overrides the controller's WIRING); ``mea``, ``board`` the sim
    backends' parameters (``board`` over BOARD_TWIN and the WIRING); ``hub`` the hub node's
    parameters (``connectivity_file`` required for ``hybrid``).
    """
    if controller not in CONTROLLERS:
        raise ValueError(f"controller={controller!r} unknown; allowed: {', '.join(CONTROLLERS)}")
    rng = np.random.default_rng(seed)
    robot = SimRobotBackend(arena, DriveLimits())
    robot.configure()
    robot.arm()
    wiring = WIRING.get(controller, {})
    enc = SensoryEncoder(**{**(encoder or {}), "target": TARGET[controller]})
    dec = MotorDecoder(**{**wiring.get("decoder", {}), **(decoder or {})})
    brain = make_brain(controller, seed, mea, {**BOARD_TWIN, **wiring.get("board", {}), **(board or {})}, hub)
    w_start = weights(brain) if brain is not None else np.empty(0)
    max_turn_rad_s = (robot.limits.max_wheel_speed_m_s - abs(dec.p["base_speed_m_s"])) \
        / (robot.limits.wheel_separation_m / 2)
    period_ns = int(round(period_s * NS_PER_S))
    history: list[SpikeEvents] = []
    t_ns, turn = 0, 0.0
    calib_ns = int(dec.p["baseline_s"] * NS_PER_S)
    end_ns = calib_ns + int(duration_s * NS_PER_S)
    xy, tetani, stepped, recover_until = [], 0, 0, -1
    while t_ns < end_ns:
        running = t_ns >= calib_ns
        if brain is not None:
            if running:
                brain.stimulate(enc.encode(robot.scan(), robot.angles_rad, brain.now_ns, brain.now_ns))
            start = brain.now_ns
            events = brain.advance(period_s)
            history.append(SpikeEvents(events.source_id, events.time_ns - start, events.kind))
            fed = events
            if controller == "shuffled" and running:
                past = history[int(rng.integers(len(history)))]
                fed = SpikeEvents(past.source_id, past.time_ns + start, past.kind)
            dec.add(fed, start, brain.now_ns, t_ns)
            linear, angular = dec.command(t_ns)
        else:
            if stepped % max(1, int(round(turn_interval_s / period_s))) == 0:
                turn = float(rng.uniform(-max_turn_rad_s, max_turn_rad_s))
            linear, angular = dec.p["base_speed_m_s"], turn
        if running:
            if t_ns < recover_until:
                linear, angular = RECOVER_SPEED_M_S, 0.0
            try:
                robot.command(linear, angular)
            except SafetyRefusal:
                pass
            onsets = robot.advance(period_s)
            if onsets:
                recover_until = t_ns + int(recover_s * NS_PER_S)
            if onsets and brain is not None and enc.p["tetanus"]:
                brain.stimulate(enc.tetanus(brain.now_ns))
                tetani += 1
            xy.append((robot.body.pose.x_m, robot.body.pose.y_m))
            stepped += 1
        t_ns += period_ns
    xy_arr = np.array(xy).reshape(-1, 2)
    metrics = run_metrics(arena, xy_arr, duration_s, robot.body.distance_m, len(robot.body.collision_times_ns),
                          robot.limits.robot_radius_m)
    w_end = weights(brain) if brain is not None else np.empty(0)
    change = float(np.mean(w_end - w_start)) if len(w_end) else 0.0
    if brain is None:
        return LoopResult(controller, seed, metrics, trajectory_xy_m=xy_arr)
    return LoopResult(controller, seed, metrics, brain.delivered, brain.refused, tetani, brain.plasticity_pulses,
                      change, xy_arr)


def compare(arena: Arena, seeds: list[int], duration_s: float, controllers: tuple[str, ...] = CONTROLLERS,
            reference: str = "culture", **kwargs: Any) -> dict[str, Any]:
    """Every controller over ``seeds``; per controller the runs and means, and a one-sided
    Mann-Whitney U test (scipy) of the ``reference`` loop's collisions per metre and per minute
    against each other controller."""
    from scipy.stats import mannwhitneyu

    runs = {c: [run_loop(arena, c, s, duration_s, **kwargs).to_dict() for s in seeds] for c in controllers}
    out: dict[str, Any] = {"seeds": list(seeds), "duration_s": duration_s, "runs": runs, "mean": {}, "tests": {}}
    for c, rs in runs.items():
        out["mean"][c] = {k: float(np.nanmean([r[k] for r in rs])) for k in
                          ("distance_m", "collisions", "collisions_per_m", "collisions_per_min", "coverage")}
    if reference in runs:
        for c in controllers:
            if c == reference:
                continue
            out["tests"][f"{reference}_vs_{c}"] = tests = {}
            for key in ("collisions_per_m", "collisions_per_min"):
                ours = [r[key] for r in runs[reference]]
                test = mannwhitneyu(ours, [r[key] for r in runs[c]], alternative="less")
                tests[key] = {"U": float(test.statistic), "p_one_sided": float(test.pvalue)}
    return out
