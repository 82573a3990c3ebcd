"""A DYNAP-like board: chips x cores x neurons of DPI neurons with background activity.

Layout as on DYNAP-SE1 (4 chips x 4 cores x 256 neurons; Moradi et al. 2018, IEEE TBioCAS
12(1):106): neuron id = (chip * cores_per_chip + core) * neurons_per_core + neuron.

Background activity: each neuron's synapse receives an independent Poisson train of
``background_rate_hz`` events, each of ``background_weight_a`` (ampere of Isyn jump), as
the DYNAP-SE FPGA's Poisson spike generators deliver (libcaer
``caerDynapseWritePoissonSpikeRate``). With the default 20 nA jump a nominal neuron at rest
fires about one spike per background event (single-event responses of the nominal DPI
neuron: no spike below ~13 nA, one spike for ~13-28 nA, two above), so the population rate
follows ``background_rate_hz``: with the defaults (10 Hz, 10 % mismatch) the mean is ~13 Hz
and single-neuron rates span ~7-23 Hz (5th-95th percentile); the Poisson input makes firing
irregular. A DC bias (``dc_bias_a``, the core's constant-current
bias, with per-neuron mismatch) adds regular drive; the nominal neuron's rheobase is ~4 nA.

Background events are drawn per block of ``BACKGROUND_BLOCK_STEPS`` steps from a generator
seeded by (seed, block), so output spikes do not depend on how time is cut into ``advance``
calls. Input events are binned to steps as :meth:`DPIPopulation.time_to_step` does; events
already in the past when scheduled apply at the next step and are counted in ``late_total``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from neurohybrid.board.dpi import (
    DT_MAX_S,
    DT_MIN_S,
    I_DC_MAX_A,
    MISMATCH_MAX,
    TIME_BIN_TOLERANCE_STEPS,
    DPINeuronParams,
    DPIPopulation,
    DPISynapseParams,
    InputSchedule,
    mismatch_factors,
)
from neurohybrid.core.device import ADVANCE_MAX_S
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.node_params import SEED_BOUNDS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds, check_real, is_real

BACKGROUND_WEIGHT_A = 20e-9
"""Isyn jump of one background event, ampere: mid-way in the 13-28 nA range in which one
event evokes exactly one spike of the nominal DPI neuron at rest (see module docstring)."""
BACKGROUND_RATE_MAX_HZ = 1000.0
"""Largest background rate accepted per neuron, hertz."""
BACKGROUND_WEIGHT_MAX_A = 1e-6
"""Largest background jump accepted, ampere."""
INPUT_WEIGHT_MAX_A = 1e-6
"""Largest input base weight accepted, ampere."""
BACKGROUND_BLOCK_STEPS = 10_000
"""Steps per independently seeded block of background events."""
_STREAM_BACKGROUND = 1  # seed-sequence stream ids, so the draws never overlap
_STREAM_DC = 2
CHIPS_MAX = 64
"""Largest number of chips accepted (a DYNAP-SE1 board has 4)."""
CORES_PER_CHIP_MAX = 16
"""Largest number of cores per chip accepted (DYNAP-SE1/SE2 chips have 4)."""
NEURONS_PER_CORE_MAX = 1024
"""Largest number of neurons per core accepted (DYNAP-SE1/SE2 cores have 256)."""

SIM_PARAMS = ParamSet("board sim backend (DPI twin of a DYNAP board)", [
    ParamSpec("n_chips", 1, "chips", "", Bounds(1, CHIPS_MAX, integer=True)),
    ParamSpec("cores_per_chip", 4, "cores per chip", "", Bounds(1, CORES_PER_CHIP_MAX, integer=True)),
    ParamSpec("neurons_per_core", 256, "neurons per core", "", Bounds(1, NEURONS_PER_CORE_MAX, integer=True)),
    ParamSpec("dt_s", 1e-4, "integration step", "s", Bounds(DT_MIN_S, DT_MAX_S)),
    ParamSpec("mismatch", 0.1, "relative spread of neuron parameters (device mismatch)", "", Bounds(0.0, MISMATCH_MAX)),
    ParamSpec("seed", 0, "random seed", "", SEED_BOUNDS),
    ParamSpec("background_rate_hz", 10.0, "background Poisson input per neuron", "Hz",
              Bounds(0.0, BACKGROUND_RATE_MAX_HZ)),
    ParamSpec("input_base_weight_a", BACKGROUND_WEIGHT_A, "synaptic current jump of a weight-1 input event", "A",
              Bounds(0.0, INPUT_WEIGHT_MAX_A, low_open=True)),
])
"""The board twin's parameters a node sets (the rest keep their defaults)."""


class DynapBoard:
    """Simulated DYNAP board: a :class:`DPIPopulation` plus addressing, input queue and background.

    ``input_base_weight_a`` (ampere), if given, replaces ``synapse.base_weight_a``: the Isyn
    jump of an input event of weight 1, as one scalar for flat configurations (ROS parameters).
    With the teili default of 50 pA an input event barely moves a neuron (one w=1 event raises
    Imem by 1-2 pA; firing needs ~0.5 nA); about 20 nA makes one w=1 event evoke about one
    spike of a nominal neuron at rest, like one background event.

    Counters: ``late_total`` (input events scheduled after their time), ``applied_total``
    (input events applied); ``pending_count`` events wait in the queue.
    """

    def __init__(
        self,
        n_chips: int = 1,
        cores_per_chip: int = 4,
        neurons_per_core: int = 256,
        dt_s: float = 1e-4,
        mismatch: float = 0.1,
        seed: int = 0,
        background_rate_hz: float = 10.0,
        background_weight_a: float = BACKGROUND_WEIGHT_A,
        dc_bias_a: float = 0.0,
        neuron: DPINeuronParams | None = None,
        synapse: DPISynapseParams | None = None,
        input_base_weight_a: float | None = None,
        quiet_neurons: tuple[int, ...] = (),
    ) -> None:
        self.n_chips = SIM_PARAMS["n_chips"].check(n_chips)
        self.cores_per_chip = SIM_PARAMS["cores_per_chip"].check(cores_per_chip)
        self.neurons_per_core = SIM_PARAMS["neurons_per_core"].check(neurons_per_core)
        self.background_rate_hz = SIM_PARAMS["background_rate_hz"].check(background_rate_hz)
        self.background_weight_a = check_real("background_weight_a", background_weight_a, 0.0,
                                                BACKGROUND_WEIGHT_MAX_A)
        self.dc_bias_a = check_real("dc_bias_a", dc_bias_a, 0.0, I_DC_MAX_A)
        if input_base_weight_a is not None:
            weight_a = SIM_PARAMS["input_base_weight_a"].check(input_base_weight_a)
            synapse = dataclasses.replace(synapse if synapse is not None else DPISynapseParams(),
                                          base_weight_a=weight_a)
        self.n_neurons = self.n_chips * self.cores_per_chip * self.neurons_per_core
        self.population = DPIPopulation(self.n_neurons, neuron, synapse, mismatch, seed, dt_s)
        self.seed = self.population.seed
        self.dt_s = self.population.dt_s
        if self.dc_bias_a > 0.0:
            dc_rng = np.random.default_rng([self.seed, _STREAM_DC])
            self.population.i_dc_a = np.minimum(
                self.dc_bias_a * mismatch_factors(dc_rng, self.n_neurons, self.population.mismatch),
                I_DC_MAX_A,
            )
        # Background weight in units of the synapse's nominal base weight (mismatch applies).
        self._background_weight = self.background_weight_a / self.population.synapse.base_weight_a
        quiet = np.asarray(quiet_neurons, dtype=np.int64)
        if np.any((quiet < 0) | (quiet >= self.n_neurons)):
            raise ConfigError(f"quiet_neurons={quiet.tolist()} outside allowed [0, {self.n_neurons - 1}]")
        # Neurons taken out of the background (an experiment's own neurons, driven only by it).
        self._gets_background = np.ones(self.n_neurons, bool)
        self._gets_background[quiet] = False
        self._background_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._target_steps = 0.0
        self._pending = InputSchedule.empty()
        self.late_total = 0
        self.applied_total = 0

    # --- addressing ----------------------------------------------------------------------
    def neuron_id(self, chip: np.ndarray, core: np.ndarray, neuron: np.ndarray) -> np.ndarray:
        """Neuron id of (chip, core, neuron) addresses (chip-major), int64."""
        chip, core, neuron = (np.asarray(x, dtype=np.int64) for x in (chip, core, neuron))
        for key, arr, high in (("chip", chip, self.n_chips), ("core", core, self.cores_per_chip),
                               ("neuron", neuron, self.neurons_per_core)):
            bad = (arr < 0) | (arr >= high)
            if bad.any():
                raise ValueError(f"{key} {int(arr[bad].flat[0])} outside allowed [0, {high - 1}]")
        return (chip * self.cores_per_chip + core) * self.neurons_per_core + neuron

    def address(self, neuron_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(chip, core, neuron) of each neuron id, int64 arrays."""
        nid = self._check_ids(neuron_id)
        core_global, neuron = np.divmod(nid, self.neurons_per_core)
        chip, core = np.divmod(core_global, self.cores_per_chip)
        return chip, core, neuron

    def _check_ids(self, neuron_id: np.ndarray) -> np.ndarray:
        raw = np.asarray(neuron_id)
        if raw.dtype.kind == "f":
            if not np.all(np.isfinite(raw) & (raw == np.round(raw))):
                raise ValueError("neuron ids must be integers")
        elif raw.size and raw.dtype.kind not in "iu":
            raise ValueError(f"neuron ids must be integers, got dtype {raw.dtype}")
        ids = raw.astype(np.int64).ravel()
        bad = (ids < 0) | (ids >= self.n_neurons)
        if bad.any():
            raise ValueError(
                f"neuron id {int(ids[bad][0])} outside allowed [0, {self.n_neurons - 1}]")
        return ids

    # --- time ----------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        """Board time, second (steps done x dt_s)."""
        return self.population.now_s

    @property
    def step_count(self) -> int:
        """Integration steps done since construction."""
        return self.population.step_count

    # --- input queue ---------------------------------------------------------------------
    @property
    def pending_count(self) -> int:
        """Input events queued for the future."""
        return len(self._pending)

    def schedule(self, post_id: np.ndarray, time_s: np.ndarray, weight: np.ndarray) -> None:
        """Queue input events (weight 0..1 x base weight) at board times ``time_s``.

        The whole batch is refused (ValueError) if any id is unknown, any time is not finite
        or any weight is outside [0, 1] or NaN. Past times apply at the next step (late).
        """
        ids = self._check_ids(post_id)
        t = np.asarray(time_s, dtype=np.float64).ravel()
        w = np.asarray(weight, dtype=np.float64).ravel()
        if not len(ids) == len(t) == len(w):
            raise ValueError(f"post_id, time_s and weight differ in length: "
                             f"{len(ids)}, {len(t)}, {len(w)}")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"time_s {float(t[~np.isfinite(t)][0])!r} is not finite")
        bad = ~((w >= 0.0) & (w <= 1.0))
        if bad.any():
            raise ValueError(f"weight {float(w[bad][0])!r} outside allowed [0, 1]")
        if not len(ids):
            return
        steps = self.population.time_to_step(t)
        self.late_total += int(np.count_nonzero(steps < self.step_count))
        self._pending = InputSchedule.concat([self._pending, InputSchedule(ids, steps, w)])

    def clear_pending(self) -> int:
        """Drop every queued input event; return how many were dropped."""
        dropped = len(self._pending)
        self._pending = InputSchedule.empty()
        return dropped

    # --- simulation ----------------------------------------------------------------------
    def advance(
        self,
        duration_s: float,
        post_id: np.ndarray | None = None,
        time_s: np.ndarray | None = None,
        weight: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Queue the given input events, run ``duration_s``, return ``(neuron_id, spike_time_s)``.

        Spikes are stamped at the start of their step (Brian2 convention), sorted by time.
        Durations that are not a multiple of ``dt_s`` carry the remainder to the next call.
        """
        if not (is_real(duration_s) and 0.0 < duration_s <= ADVANCE_MAX_S):
            raise ValueError(f"duration_s={duration_s!r} outside allowed (0, {ADVANCE_MAX_S:g}]")
        given = (post_id, time_s, weight)
        if any(x is not None for x in given):
            if any(x is None for x in given):
                raise ValueError("post_id, time_s and weight must be given together")
            self.schedule(post_id, time_s, weight)
        self._target_steps += duration_s / self.dt_s
        k_end = max(self.step_count, int(math.floor(self._target_steps + TIME_BIN_TOLERANCE_STEPS)))
        neurons: list[np.ndarray] = []
        steps: list[np.ndarray] = []
        k = self.step_count
        while k < k_end:  # one background block at a time bounds the memory of long advances
            k_next = min(k_end, (k // BACKGROUND_BLOCK_STEPS + 1) * BACKGROUND_BLOCK_STEPS)
            neuron_idx, step_idx = self.population.step(k_next - k, self._inputs(k, k_next))
            neurons.append(neuron_idx)
            steps.append(step_idx)
            k = k_next
        if not neurons:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        return np.concatenate(neurons), np.concatenate(steps) * self.dt_s

    def _inputs(self, k0: int, k_end: int) -> InputSchedule:
        """Queued input due before ``k_end`` (taken off the queue) plus background in [k0, k_end).

        ``[k0, k_end)`` lies within one background block.
        """
        external = InputSchedule.empty()
        if len(self._pending):
            due = self._pending.step_idx < k_end
            external = InputSchedule(self._pending.post_idx[due], self._pending.step_idx[due],
                                     self._pending.weight[due])
            self._pending = InputSchedule(self._pending.post_idx[~due],
                                          self._pending.step_idx[~due], self._pending.weight[~due])
            self.applied_total += len(external)
        if self.background_rate_hz == 0.0 or self.background_weight_a == 0.0:
            return external
        post, steps = self._background_block(k0 // BACKGROUND_BLOCK_STEPS)
        lo, hi = np.searchsorted(steps, (k0, k_end))
        background = InputSchedule(post[lo:hi], steps[lo:hi],
                                   np.full(hi - lo, self._background_weight))
        return InputSchedule.concat([external, background])

    def _background_block(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """(post, step) of one block's background events, sorted by step, drawn once and cached."""
        if block not in self._background_cache:
            rng = np.random.default_rng([self.seed, _STREAM_BACKGROUND, block])
            lam = self.n_neurons * self.background_rate_hz * BACKGROUND_BLOCK_STEPS * self.dt_s
            count = int(rng.poisson(lam))
            offsets = np.sort(rng.integers(0, BACKGROUND_BLOCK_STEPS, count))
            steps = block * BACKGROUND_BLOCK_STEPS + offsets
            post = rng.integers(0, self.n_neurons, count)
            keep = self._gets_background[post]
            self._background_cache = {block: (post[keep], steps[keep])}
        return self._background_cache[block]
