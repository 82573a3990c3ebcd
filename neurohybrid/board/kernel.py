"""Compiled step loop of the DPI twin: forward Euler of every neuron and synapse, many steps a call.

The model and its rearrangement are those of :mod:`neurohybrid.board.dpi` (teili DPI neuron,
Milde et al.; Chicca et al. 2014, Proc. IEEE 102(9):1367; DPI synapse, Bartolozzi & Indiveri
2007, Neural Comput. 19(10):2581). With ``Ishunt = Iahp = 0`` the Euler increment of ``Imem``
(ampere) over one step ``dt`` is::

    numerator = g Isyn + c0 - Imem + (Imem + Ith) / (exp(k1 Imem + k2) + m)
    dImem     = numerator * (a - a Ith / (Imem + I0 + Ith))

with ``g = Ith/Itau``, ``c0 = g Idc - Ith``, ``k1 = -1/Ianorm``,
``k2 = Iath/Ianorm - ln(Iagain/Itau)``, ``m = Itau/Iagain`` and ``a = dt/tau``
(derivation in :class:`neurohybrid.board.dpi.DPIPopulation`). Each operation is the IEEE-754
double operation, in that order (no fast-math, no fused multiply-add). ``exp`` is
:func:`neurohybrid.board.simd_exp.simd_exp` (within 1 ulp of the C library's ``exp`` that
Brian2's generated code calls): a call to the C library's keeps the loop scalar and cost more
than the rest of the step. ``error_model="numpy"``: a division by zero gives ``inf``/``nan`` as
in numpy instead of raising, which also lets the update loop use SIMD.

Schedule per step ``k`` (Brian2's: state update with start-of-step values, threshold, input
events, reset): ``Imem`` (held during the refractory period) and ``Isyn`` are updated and
floored at ``I0``; ``Imem > threshold`` fires; the step's input events add their jumps to
``Isyn``; fired neurons are reset to ``I0`` and held until step ``k + refractory_steps``.
The reset only writes ``Imem`` and the events only write ``Isyn``, so a neuron is reset as
soon as it is found firing. ``exp`` overflowing to ``inf`` gives ``Ia = 0``, which is exact.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from neurohybrid.board.simd_exp import simd_exp

SPIKE_BUFFER_MIN = 1024
"""Initial length of the spike output buffers, which double whenever full."""


@njit(cache=True, error_model="numpy", inline="always")
def _imem_next(
    imem: float, isyn: float, exp_term: float, m: float, ith: float, g: float, c0: float,
    i0_plus_ith: float, a_ith: float, a: float, i0_a: float, refractory: bool,
) -> float:
    """Imem (ampere) after one Euler step, floored at I0 (module docstring's equations)."""
    t2 = exp_term + m
    t3 = imem + ith
    t2 = t3 / t2
    t1 = isyn * g
    t1 = t1 + c0
    t1 = t1 - imem
    t1 = t1 + t2
    t3 = imem + i0_plus_ith
    t3 = a_ith / t3
    t3 = a - t3
    d_imem = 0.0 if refractory else t1 * t3
    imem = imem + d_imem
    return i0_a if imem < i0_a else imem


@njit(cache=True, error_model="numpy")
def dpi_run(
    imem_a: np.ndarray,
    isyn_a: np.ndarray,
    refractory_until: np.ndarray,
    k0: int,
    k_end: int,
    ev_steps: np.ndarray,
    ev_bounds: np.ndarray,
    ev_post: np.ndarray,
    ev_jump_a: np.ndarray,
    k1: float,
    k2: np.ndarray,
    m: np.ndarray,
    ith_a: np.ndarray,
    g: np.ndarray,
    c0_a: np.ndarray,
    i0_plus_ith_a: np.ndarray,
    a_ith_a: np.ndarray,
    a: np.ndarray,
    i0_a: float,
    syn_decay: np.ndarray,
    syn_i0_a: float,
    threshold_a: np.ndarray,
    refractory_steps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate steps ``k0 .. k_end-1`` in place; return ``(neuron_idx, step_idx)`` of spikes.

    ``imem_a``, ``isyn_a`` (ampere) and ``refractory_until`` (step up to which each neuron is
    held, exclusive) are updated in place. Input events: ``ev_steps`` (int64, increasing) are
    the distinct steps carrying events; the events of ``ev_steps[j]`` are
    ``ev_post[ev_bounds[j]:ev_bounds[j+1]]`` with ``Isyn`` jumps ``ev_jump_a`` (ampere), added
    in that order. Per-neuron constants are those of the module docstring. Spikes come out
    sorted by step, then neuron (int64).
    """
    n = imem_a.shape[0]
    capacity = max(SPIKE_BUFFER_MIN, n)
    out_neuron = np.empty(capacity, np.int64)
    out_step = np.empty(capacity, np.int64)
    count = 0
    next_ev = 0
    n_ev_steps = ev_steps.shape[0]
    # Each step runs in passes so that the per-neuron arithmetic is a branch-free loop the
    # compiler turns into SIMD code: (1) the Euler update of every neuron and synapse,
    # (2) threshold and reset, (3) input events.
    for k in range(k0, k_end):
        if count + n > capacity:
            capacity = 2 * max(capacity, count + n)
            grown_neuron = np.empty(capacity, np.int64)
            grown_step = np.empty(capacity, np.int64)
            grown_neuron[:count] = out_neuron[:count]
            grown_step[:count] = out_step[:count]
            out_neuron = grown_neuron
            out_step = grown_step
        for i in range(n):
            imem = imem_a[i]
            t2 = imem * k1
            t2 = t2 + k2[i]
            imem_a[i] = _imem_next(imem, isyn_a[i], simd_exp(t2), m[i], ith_a[i], g[i], c0_a[i],
                                   i0_plus_ith_a[i], a_ith_a[i], a[i], i0_a, refractory_until[i] > k)
            isyn = isyn_a[i] * syn_decay[i]
            isyn_a[i] = syn_i0_a if isyn < syn_i0_a else isyn
        for i in range(n):
            if imem_a[i] > threshold_a[i]:
                imem_a[i] = i0_a
                refractory_until[i] = k + refractory_steps[i]
                out_neuron[count] = i
                out_step[count] = k
                count += 1
        if next_ev < n_ev_steps and ev_steps[next_ev] == k:
            for e in range(ev_bounds[next_ev], ev_bounds[next_ev + 1]):
                isyn_a[ev_post[e]] += ev_jump_a[e]
            next_ev += 1
    return out_neuron[:count].copy(), out_step[:count].copy()
