"""DPI (differential-pair integrator) neurons and synapses, the silicon twin of a DYNAP chip.

Model (all currents in ampere, times in second), as in the teili toolbox's DPI neuron
(Milde et al., teili, ``models/equations/dpi_neuron.py``; circuit from Chicca et al. 2014,
"Neuromorphic electronic circuits for building autonomous cognitive systems",
Proc. IEEE 102(9):1367) and the DPI synapse (Bartolozzi & Indiveri 2007, Neural Comput.
19(10):2581; teili ``dpi_synapse.py``)::

    dImem/dt = ((Ith/Itau)(Iin + Ia - Ishunt - Iahp) - Ith - (1 + (Ishunt + Iahp - Ia)/Itau) Imem)
               / (tau (Ith/(Imem + I0) + 1))
    Ia       = Iagain / (1 + exp(-(Imem - Iath)/Ianorm))       positive feedback
    tau      = Cmem UT / (kappa Itau)                           membrane time constant
    Iin      = Isyn + Idc                                       synaptic + DC bias current
    dIsyn/dt = -Isyn / tau_syn,  tau_syn = Csyn UT / (kappa Itau_syn)
    on event:  Isyn += weight * base_weight                     (weight >= 0)
    spike:     Imem > threshold  ->  Imem = I0, held there for the refractory period

What is implemented, exactly:

* ``Ishunt = Iahp = 0``: no shunting inhibition and no spike-frequency adaptation (teili's
  default ``Ishunt`` is only I0; adaptation is an optional block that DYNAP cores can switch
  off, and it is off here).
* The DPI synapse above its floor: teili writes
  ``dIsyn/dt = (-Isyn - Igain)/(tau_syn (Igain/Isyn + 1))``, which simplifies exactly to
  ``-Isyn/tau_syn``; below ``I0`` teili pushes ``Isyn`` back up to ``I0``. We integrate
  ``-Isyn/tau_syn`` and floor ``Isyn`` at ``I0`` after every step.
* The jump per event is ``weight * base_weight_a``: the DPI's response to one input pulse in
  its linear regime (Bartolozzi & Indiveri 2007), with the circuit gain ``Igain Iw / Itau``
  and the pulse width folded into ``base_weight_a`` (teili's "current" synapse convention,
  ``Ie_syn += baseweight_e * weight``). ``igain_a`` is therefore carried for provenance and for
  the hardware bias mapping (see :mod:`neurohybrid.board.template`), not used by the twin.
* teili guards the denominator by swapping ``Itau``, ``Ith`` for ``I0`` when ``Imem <= I0``;
  we instead floor ``Imem`` at ``I0`` after every step, which keeps the denominator factor
  ``Ith/(Imem + I0) + 1`` within ``[1, 1 + Ith/(2 I0)]`` (no division blow-up).
* Reset is to ``I0`` (teili resets to ``Ireset = 0.6 pA``, within 0.1 pA of ``I0``).
* Integration: forward Euler at ``dt_s`` with Brian2's schedule (state update with the values
  at the start of the step, then threshold, then input events, then reset); a neuron that
  spikes at step ``k`` is held for steps ``k+1 .. k+R-1``, ``R = round(refractory_s/dt_s)``, as
  Brian2's ``(unless refractory)`` does. Spikes at step ``k`` are stamped ``k * dt_s``.
  The step loop is a numba-compiled kernel (:mod:`neurohybrid.board.kernel`).

Device mismatch: each neuron's ``itau_a, ith_a, iagain_a, iath_a, threshold_a, refractory_s``
and synaptic ``itau_a, base_weight_a`` are nominal x N(1, mismatch), drawn from a seeded
``numpy`` Generator and clipped to at least ``MISMATCH_MIN_FACTOR`` (real chips show 10-20 %,
Chicca et al. 2014). ``Cmem``, ``Csyn``, ``I0``, ``UT`` and ``kappa`` stay nominal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurohybrid.board.kernel import dpi_run
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import Bounds, check_fields, check_int, check_real, is_int

UT_DEFAULT_V = 0.025
"""Thermal voltage at room temperature, volt (teili ``constants.UT``)."""
KAPPA_DEFAULT = 0.7
"""Subthreshold slope factor, mean of teili's KAPPA_N 0.75 and KAPPA_P 0.66 rounded (teili)."""
I0_DEFAULT_A = 0.5e-12
"""Transistor dark (leakage) current, ampere (teili ``constants.I0``)."""

DT_MIN_S = 1e-6
"""Smallest integration step accepted, second."""
DT_MAX_S = 1e-3
"""Largest integration step accepted, second (also bounded by ``DT_MAX_FRACTION_OF_TAU``)."""
DT_MAX_FRACTION_OF_TAU = 0.1
"""Forward Euler needs dt well below the fastest time constant; we require dt <= 0.1 tau."""
MISMATCH_MAX = 0.5
"""Largest relative parameter spread accepted (real DYNAP chips: 0.1-0.2, Chicca et al. 2014)."""
MISMATCH_MIN_FACTOR = 0.01
"""Mismatch factors are clipped to at least this, so every drawn parameter stays positive."""
I_DC_MAX_A = 1e-6
"""Largest DC bias current accepted, ampere (far above any DPI operating point)."""
N_NEURONS_MAX = 1 << 20
"""Largest population accepted."""
SEED_MAX = 2**63 - 1
"""Largest seed accepted (numpy SeedSequence takes any non-negative integer)."""
THRESHOLD_MIN_OVER_I0 = 2.0
"""Mismatched thresholds are kept at least this multiple of I0, so a neuron held at I0 during
its refractory period can never cross threshold."""
TIME_BIN_TOLERANCE_STEPS = 1e-3
"""Event times are binned as floor(t/dt + 1e-3), Brian2's SpikeGeneratorGroup convention, so
that times at exact multiples of dt never fall into the previous step."""


def _positive_up_to(high: float) -> Bounds:
    return Bounds(0.0, high, low_open=True)


# Allowed ranges per field, wide enough for any DPI bias setting.
_NEURON_RANGES = {
    "cmem_f": _positive_up_to(1e-9),
    "itau_a": _positive_up_to(1e-6),
    "ith_a": _positive_up_to(1e-6),
    "threshold_a": _positive_up_to(1e-3),
    "refractory_s": Bounds(0.0, 1.0),
    "iagain_a": _positive_up_to(1e-6),
    "iath_a": _positive_up_to(1e-3),
    "ianorm_a": _positive_up_to(1e-6),
    "i0_a": _positive_up_to(1e-9),
    "ut_v": _positive_up_to(0.1),
    "kappa": _positive_up_to(1.0),
}
_SYNAPSE_RANGES = {
    "igain_a": _positive_up_to(1e-6),
    "csyn_f": _positive_up_to(1e-9),
    "itau_a": _positive_up_to(1e-6),
    "base_weight_a": _positive_up_to(1e-6),
    "i0_a": _positive_up_to(1e-9),
    "ut_v": _positive_up_to(0.1),
    "kappa": _positive_up_to(1.0),
}


@dataclass(frozen=True)
class DPINeuronParams:
    """Nominal DPI neuron biases (teili ``dpi_neuron_param.py``; Chicca et al. 2014).

    Units are in the names: farad, ampere, second, volt. ``threshold_a`` is the spike
    threshold on ``Imem``; ``i0_a`` is the dark current, reset value and floor of ``Imem``.
    """

    cmem_f: float = 1.5e-12
    itau_a: float = 8e-12
    ith_a: float = 0.9e-12
    threshold_a: float = 1e-9
    refractory_s: float = 1e-3
    iagain_a: float = 50e-12
    iath_a: float = 0.5e-9
    ianorm_a: float = 10e-12
    i0_a: float = I0_DEFAULT_A
    ut_v: float = UT_DEFAULT_V
    kappa: float = KAPPA_DEFAULT

    def __post_init__(self) -> None:
        check_fields(self, _NEURON_RANGES, prefix="neuron.")
        if self.threshold_a <= self.i0_a:
            raise ConfigError(
                f"neuron.threshold_a={self.threshold_a!r} must exceed neuron.i0_a={self.i0_a!r}"
            )

    @property
    def tau_s(self) -> float:
        """Membrane time constant Cmem UT / (kappa Itau), second."""
        return self.cmem_f * self.ut_v / (self.kappa * self.itau_a)


@dataclass(frozen=True)
class DPISynapseParams:
    """Nominal DPI synapse biases (teili ``dpi_synapse_param.py``; Bartolozzi & Indiveri 2007).

    ``base_weight_a`` is the jump of ``Isyn`` caused by one event of weight 1, ampere.
    ``igain_a`` is the DPI gain bias, kept for provenance and hardware mapping (see module doc).
    """

    igain_a: float = 15e-12
    csyn_f: float = 1.5e-12
    itau_a: float = 10e-12
    base_weight_a: float = 50e-12
    i0_a: float = I0_DEFAULT_A
    ut_v: float = UT_DEFAULT_V
    kappa: float = KAPPA_DEFAULT

    def __post_init__(self) -> None:
        check_fields(self, _SYNAPSE_RANGES, prefix="synapse.")

    @property
    def tau_s(self) -> float:
        """Synaptic time constant Csyn UT / (kappa Itau_syn), second."""
        return self.csyn_f * self.ut_v / (self.kappa * self.itau_a)


@dataclass(frozen=True)
class InputSchedule:
    """Synaptic input events for :meth:`DPIPopulation.step`.

    ``post_idx`` (int64) neuron index, ``step_idx`` (int64) absolute step at which the event
    applies, ``weight`` (float64, dimensionless, >= 0) multiplying the neuron's base weight.
    """

    post_idx: np.ndarray
    step_idx: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        post = np.ascontiguousarray(self.post_idx, dtype=np.int64)
        step = np.ascontiguousarray(self.step_idx, dtype=np.int64)
        weight = np.ascontiguousarray(self.weight, dtype=np.float64)
        if not (post.ndim == step.ndim == weight.ndim == 1):
            raise ValueError("post_idx, step_idx and weight must be 1-D arrays")
        if not (len(post) == len(step) == len(weight)):
            raise ValueError(
                f"post_idx, step_idx and weight differ in length: "
                f"{len(post)}, {len(step)}, {len(weight)}"
            )
        bad = ~np.isfinite(weight) | (weight < 0)
        if bad.any():
            raise ValueError(f"weight {float(weight[bad][0])!r} outside allowed [0, inf)")
        object.__setattr__(self, "post_idx", post)
        object.__setattr__(self, "step_idx", step)
        object.__setattr__(self, "weight", weight)

    def __len__(self) -> int:
        return len(self.post_idx)

    @classmethod
    def empty(cls) -> "InputSchedule":
        """A schedule with no events."""
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def concat(cls, schedules: list["InputSchedule"]) -> "InputSchedule":
        """Join schedules (order kept; :meth:`DPIPopulation.step` sorts by step)."""
        if not schedules:
            return cls.empty()
        return cls(
            np.concatenate([s.post_idx for s in schedules]),
            np.concatenate([s.step_idx for s in schedules]),
            np.concatenate([s.weight for s in schedules]),
        )


def mismatch_factors(rng: np.random.Generator, n: int, spread: float) -> np.ndarray:
    """``n`` factors drawn from N(1, spread), clipped to at least ``MISMATCH_MIN_FACTOR``."""
    return np.maximum(rng.normal(1.0, spread, n), MISMATCH_MIN_FACTOR)


class DPIPopulation:
    """``n`` DPI neurons, each with one DPI synapse, integrated by compiled forward Euler.

    State (ampere, one entry per neuron): ``imem_a``, ``isyn_a``; per-neuron DC bias
    ``i_dc_a`` (settable). Per-neuron (mismatched) parameters are read-only arrays named like
    the dataclass fields (``itau_a``, ``ith_a``, ``threshold_a``, ...).

    The Euler step (:func:`neurohybrid.board.kernel.dpi_run`) uses the model's equation
    rearranged with per-neuron constants. Numerator (``Ishunt = Iahp = 0``)::

        (Ith/Itau)(Isyn + Idc + Ia) - Ith - (1 - Ia/Itau) Imem
          = g Isyn + c0 - Imem + Ia (Ith + Imem)/Itau,   g = Ith/Itau, c0 = g Idc - Ith,
        Ia/Itau = 1/(exp(-(Imem - Iath)/Ianorm) Itau/Iagain + Itau/Iagain)
                = 1/(exp(k1 Imem + k2) + m),   k1 = -1/Ianorm,
                  k2 = Iath/Ianorm - ln(Iagain/Itau),  m = Itau/Iagain.

    Dividing by ``tau (Ith/(Imem + I0) + 1)`` and multiplying by ``dt`` is multiplying by
    ``(dt/tau)(Imem + I0)/(Imem + I0 + Ith) = a - a Ith/(Imem + I0 + Ith)``, ``a = dt/tau``.
    """

    def __init__(
        self,
        n: int,
        neuron: DPINeuronParams | None = None,
        synapse: DPISynapseParams | None = None,
        mismatch: float = 0.1,
        seed: int = 0,
        dt_s: float = 1e-4,
    ) -> None:
        self.n = check_int("n", n, 1, N_NEURONS_MAX)
        self.mismatch = check_real("mismatch", mismatch, 0.0, MISMATCH_MAX)
        self.dt_s = check_real("dt_s", dt_s, DT_MIN_S, DT_MAX_S)
        self.seed = check_int("seed", seed, 0, SEED_MAX)
        self.neuron = neuron if neuron is not None else DPINeuronParams()
        self.synapse = synapse if synapse is not None else DPISynapseParams()

        rng = np.random.default_rng(self.seed)
        nrn, syn = self.neuron, self.synapse

        def draw(nominal: float) -> np.ndarray:
            return nominal * mismatch_factors(rng, self.n, self.mismatch)

        self.itau_a = draw(nrn.itau_a)
        self.ith_a = draw(nrn.ith_a)
        self.iagain_a = draw(nrn.iagain_a)
        self.iath_a = draw(nrn.iath_a)
        self.threshold_a = np.maximum(draw(nrn.threshold_a), THRESHOLD_MIN_OVER_I0 * nrn.i0_a)
        self.refractory_s = draw(nrn.refractory_s)
        self.syn_itau_a = draw(syn.itau_a)
        self.base_weight_a = draw(syn.base_weight_a)
        for arr in (self.itau_a, self.ith_a, self.iagain_a, self.iath_a, self.threshold_a,
                    self.refractory_s, self.syn_itau_a, self.base_weight_a):
            arr.flags.writeable = False

        self.tau_s = nrn.cmem_f * nrn.ut_v / (nrn.kappa * self.itau_a)
        self.syn_tau_s = syn.csyn_f * syn.ut_v / (syn.kappa * self.syn_itau_a)
        fastest_s = float(min(self.tau_s.min(), self.syn_tau_s.min()))
        if self.dt_s > DT_MAX_FRACTION_OF_TAU * fastest_s:
            raise ConfigError(
                f"dt_s={dt_s!r} outside allowed (0, {DT_MAX_FRACTION_OF_TAU * fastest_s:.3g}] "
                f"({DT_MAX_FRACTION_OF_TAU:g} x the fastest time constant {fastest_s:.3g} s)"
            )
        self.refractory_steps = np.rint(self.refractory_s / self.dt_s).astype(np.int64)

        # Per-neuron constants of the rearranged Euler step (derivation in the class docstring).
        self._a = self.dt_s / self.tau_s
        self._g = self.ith_a / self.itau_a
        self._k1 = -1.0 / nrn.ianorm_a
        self._k2 = self.iath_a / nrn.ianorm_a - np.log(self.iagain_a / self.itau_a)
        self._m = self.itau_a / self.iagain_a
        self._i0_plus_ith = nrn.i0_a + self.ith_a
        self._a_ith = self._a * self.ith_a
        self._syn_decay = 1.0 - self.dt_s / self.syn_tau_s
        self._i0 = float(nrn.i0_a)
        self._syn_i0 = float(syn.i0_a)

        self._i_dc_a = np.zeros(self.n)
        self._c0 = np.empty(self.n)
        self._update_c0()

        self.imem_a = np.full(self.n, self._i0)
        self.isyn_a = np.full(self.n, self._syn_i0)
        self.step_count = 0
        self._refractory_until = np.zeros(self.n, np.int64)
        self.step(0)  # loads (or compiles) the kernel now rather than on the first streamed step

    # --- DC bias -------------------------------------------------------------------------
    @property
    def i_dc_a(self) -> np.ndarray:
        """Per-neuron DC bias current, ampere (read-only view; assign to set)."""
        view = self._i_dc_a.view()
        view.flags.writeable = False
        return view

    @i_dc_a.setter
    def i_dc_a(self, value: float | np.ndarray) -> None:
        raw = np.asarray(value, dtype=np.float64)
        try:
            arr = np.broadcast_to(raw, (self.n,))
        except ValueError:
            raise ConfigError(f"i_dc_a has shape {raw.shape}, allowed () or ({self.n},)") from None
        bad = ~np.isfinite(arr) | (arr < 0) | (arr > I_DC_MAX_A)
        if bad.any():
            raise ConfigError(f"i_dc_a={float(arr[bad][0])!r} outside allowed [0, {I_DC_MAX_A:g}]")
        self._i_dc_a[:] = arr
        self._update_c0()

    def _update_c0(self) -> None:
        # g Idc - Ith: the input-independent part of the numerator.
        np.multiply(self._g, self._i_dc_a, self._c0)
        self._c0 -= self.ith_a

    # --- integration ---------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        """Simulated time, second (``step_count * dt_s``)."""
        return self.step_count * self.dt_s

    def time_to_step(self, time_s: np.ndarray) -> np.ndarray:
        """Step index of each time (floor with Brian2's tolerance), int64."""
        return np.floor(np.asarray(time_s, dtype=np.float64) / self.dt_s
                        + TIME_BIN_TOLERANCE_STEPS).astype(np.int64)

    def step(
        self, n_steps: int, inputs: InputSchedule | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Integrate ``n_steps`` steps, applying ``inputs`` at their steps; return the spikes.

        Events whose ``step_idx`` is before ``step_count`` apply at the first step; events at
        or after ``step_count + n_steps`` raise ValueError (the caller keeps them queued).
        Returns ``(neuron_idx, step_idx)`` (int64), sorted by step then neuron. The step loop
        is the compiled kernel :func:`neurohybrid.board.kernel.dpi_run` (one call for all
        ``n_steps``, input events applied inside it).
        """
        if not (is_int(n_steps) and n_steps >= 0):
            raise ValueError(f"n_steps={n_steps!r} outside allowed integers [0, inf)")
        k0 = self.step_count
        k_end = k0 + int(n_steps)
        ev_steps, ev_bounds, ev_post, ev_jump = self._prepare_inputs(inputs, k0, k_end)
        spike_neurons, spike_steps = dpi_run(
            self.imem_a, self.isyn_a, self._refractory_until, k0, k_end,
            ev_steps, ev_bounds, ev_post, ev_jump,
            self._k1, self._k2, self._m, self.ith_a, self._g, self._c0,
            self._i0_plus_ith, self._a_ith, self._a, self._i0, self._syn_decay, self._syn_i0,
            self.threshold_a, self.refractory_steps,
        )
        self.step_count = k_end
        return spike_neurons, spike_steps

    def _prepare_inputs(
        self, inputs: InputSchedule | None, k0: int, k_end: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Sort events by step; return the distinct steps, slice bounds, targets and jumps."""
        if inputs is None or len(inputs) == 0:
            return np.empty(0, np.int64), np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0)
        post = inputs.post_idx
        if post.min() < 0 or post.max() >= self.n:
            bad = post[(post < 0) | (post >= self.n)][0]
            raise ValueError(f"post_idx {int(bad)} outside allowed [0, {self.n - 1}]")
        steps = np.maximum(inputs.step_idx, k0)
        if len(steps) and steps.max() >= k_end:
            raise ValueError(
                f"step_idx {int(steps.max())} outside this call's window [{k0}, {k_end - 1}]"
            )
        order = np.argsort(steps, kind="stable")
        steps = steps[order]
        post = post[order]
        jump = inputs.weight[order] * self.base_weight_a[post]
        distinct, starts = np.unique(steps, return_index=True)
        bounds = np.append(starts, len(steps)).astype(np.int64)
        return distinct, bounds, post, jump
