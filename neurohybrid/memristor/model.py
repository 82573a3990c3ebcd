"""Data-driven TiOx ReRAM switching model with a closed-form pulse response.

Model: Messaris, Serb, Stathopoulos, Khiat, Nikolaidis, Prodromakis, "A Data-Driven
Verilog-A ReRAM Model", IEEE TCAD 37(12), 3151-3162 (2018), in the form with the
second-order window of its companion preprint (Messaris et al., "A Compact Verilog-A
ReRAM Switching Model", arXiv:1703.01167, eqs. 2, 4, 5, 7, 8). Both come from the
Southampton group whose TiOx crossbar served as the synapses of Serb et al. 2020.

Switching rate of the resistive state R (ohm) under a bias v (volt)::

    dR/dt = +s_p(v) (r_p(v) - R)^2    for v > 0 and R < r_p(v)     (eqs. 4, 8)
    dR/dt = -s_n(v) (R - r_n(v))^2    for v < 0 and R > r_n(v)
    dR/dt = 0                         otherwise (non-volatile: s(0) = 0)

    s_p(v) = A_p (exp(v / t_p) - 1),  s_n(v) = A_n (exp(-v / t_n) - 1)   (eq. 7)
    r_p(v) = a0_p + a1_p v,           r_n(v) = a0_n + a1_n v            (eq. 5)

The absolute thresholds r_p, r_n are the resistive bounds of operation at bias v: a
positive pulse can push R up to r_p(v) "but no further", a negative one down to r_n(v);
a device already beyond the bound does not switch (the model's voltage threshold).

Sign convention (a deliberate choice, documented here): **positive pulses raise R,
negative pulses lower it.** In this package the weight is ``w = (R - Rmin) / (Rmax - Rmin)``
(Serb et al. 2020 hub code) and LTP is the +4.0 V pulse, so potentiation must move R up.
The model is written with positive magnitudes ``A_p, A_n`` and the direction made explicit
(+ for v > 0, - for v < 0), so R always approaches the bound of the active branch. Which
physical electrode is "positive" is a wiring matter; the fitted device of arXiv:1703.01167
(A_p < 0 there) set under positive bias, so a real crossbar may need its low/high channels
swapped to follow this convention (see ``template.py``).

Closed form (no ODE solver): for constant v over a rectangular pulse of width t, let
``d = |r(v) - R|`` be the distance to the active bound. Both branches give
``dd/dt = -s d^2``, hence ``d(t) = d0 / (1 + s t d0)`` and

    R(t) = r_p - (r_p - R0) / (1 + s_p t (r_p - R0))    (v > 0, R0 < r_p)
    R(t) = r_n + (R0 - r_n) / (1 + s_n t (R0 - r_n))    (v < 0, R0 > r_n)

R approaches the bound asymptotically and never crosses it, so one formula covers the
whole pulse. Repeated pulses therefore saturate.

Default parameters. The device fitted in arXiv:1703.01167 (a0 = 17.16 kOhm,
a1 = 0.15 kOhm/V, b0 = 24.81 kOhm, b1 = 17.91 kOhm/V, A_p = -4.86e-5 /(Ohm s),
t_p = 0.12 V, A_n = 1.09e-3 /(Ohm s), t_n = 0.18 V) switched between 10 and 17 kOhm at
0.6-0.8 V. The Serb et al. 2020 devices were operated between Rmin = 4 kOhm and
Rmax = 9 kOhm with +/-4.0 V, 100 us pulses, so the defaults below keep the functional
form and rescale the constants to that regime: r_p(+4 V) = 10 kOhm, r_n(-4 V) = 3 kOhm,
one 100 us pulse moves R by about 3 % of the 4-9 kOhm range far from the bound
(R = 4 kOhm for LTP, 9 kOhm for LTD), about 1 % mid-range and < 0.2 % near the bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Mapping

import numpy as np

from neurohybrid.core.validate import Bounds, check_fields, unknown_keys

#: The linear thresholds of eq. 5 are fits over the measured voltage range; extrapolated to
#: large negative bias r_n(v) could reach zero. Bounds are floored here so R stays positive.
MIN_BOUNDARY_OHM = 100.0

#: Largest exponent argument |v|/t evaluated; beyond it the pulse saturates the device to
#: its bound anyway (exp(700) is close to the float64 maximum, exp(709.8)).
MAX_EXPONENT = 700.0


_POSITIVE = Bounds(0.0, np.inf, low_open=True)
_SLOPE_BOUNDS = Bounds(0.0, np.inf)  # a1 of the threshold lines r(v) = a0 + a1 v: 0 allowed


@dataclass(frozen=True)
class TiOxParams:
    """Nominal device parameters of the data-driven TiOx model (Messaris et al. 2018).

    ``a_p_per_ohm_s`` / ``a_n_per_ohm_s``: switching-sensitivity prefactors A_p, A_n
    (1/(ohm s), eq. 7, positive magnitudes, see the module's sign convention);
    ``t_p_v`` / ``t_n_v``: exponential voltage scales t_p, t_n (V, eq. 7);
    ``a0_p_ohm``, ``a1_p_ohm_per_v``: r_p(v) = a0_p + a1_p v (ohm, ohm/V, eq. 5);
    ``a0_n_ohm``, ``a1_n_ohm_per_v``: r_n(v) = a0_n + a1_n v (ohm, ohm/V, eq. 5; with
    a1_n >= 0 the bound falls as the negative bias grows, as b1 > 0 in the paper).
    """

    a_p_per_ohm_s: float = 8.0e-4
    t_p_v: float = 1.0
    a_n_per_ohm_s: float = 8.0e-4
    t_n_v: float = 1.0
    a0_p_ohm: float = 2000.0
    a1_p_ohm_per_v: float = 2000.0
    a0_n_ohm: float = 11000.0
    a1_n_ohm_per_v: float = 2000.0

    def __post_init__(self) -> None:
        check_fields(self, {f.name: _SLOPE_BOUNDS if f.name.startswith("a1_") else _POSITIVE for f in fields(self)},
                     prefix="TiOxParams.")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, float]) -> "TiOxParams":
        """Build from a config mapping; unknown keys raise ConfigError listing the known ones."""
        unknown_keys(mapping, [f.name for f in fields(cls)], "TiOxParams")
        return cls(**mapping)

    def to_dict(self) -> dict[str, float]:
        """Parameters as a plain dict (for provenance and YAML)."""
        return asdict(self)


def switching_sensitivity_per_ohm_s(
    amplitude_v: np.ndarray,
    a_p_per_ohm_s: np.ndarray,
    t_p_v: np.ndarray,
    a_n_per_ohm_s: np.ndarray,
    t_n_v: np.ndarray,
) -> np.ndarray:
    """Magnitude of the switching sensitivity s(v), 1/(ohm s) (Messaris et al., eq. 7).

    ``s = A_p (exp(v/t_p) - 1)`` for v > 0, ``A_n (exp(-v/t_n) - 1)`` for v < 0, 0 at v = 0.
    """
    v = np.asarray(amplitude_v, dtype=np.float64)
    positive = v > 0
    scale = np.where(positive, t_p_v, t_n_v)
    prefactor = np.where(positive, a_p_per_ohm_s, a_n_per_ohm_s)
    exponent = np.minimum(np.abs(v) / scale, MAX_EXPONENT)
    return prefactor * np.expm1(exponent)


def bound_ohm(
    amplitude_v: np.ndarray,
    a0_p_ohm: np.ndarray,
    a1_p_ohm_per_v: np.ndarray,
    a0_n_ohm: np.ndarray,
    a1_n_ohm_per_v: np.ndarray,
) -> np.ndarray:
    """Absolute threshold r(v) of the active branch, ohm (Messaris et al., eq. 5).

    ``r_p(v) = a0_p + a1_p v`` for v > 0, ``r_n(v) = a0_n + a1_n v`` for v <= 0, floored at
    :data:`MIN_BOUNDARY_OHM`.
    """
    v = np.asarray(amplitude_v, dtype=np.float64)
    r = np.where(v > 0, a0_p_ohm + a1_p_ohm_per_v * v, a0_n_ohm + a1_n_ohm_per_v * v)
    return np.maximum(r, MIN_BOUNDARY_OHM)


def switching_rate_ohm_per_s(
    r_ohm: np.ndarray,
    amplitude_v: np.ndarray,
    *,
    a_p_per_ohm_s: np.ndarray,
    t_p_v: np.ndarray,
    a_n_per_ohm_s: np.ndarray,
    t_n_v: np.ndarray,
    a0_p_ohm: np.ndarray,
    a1_p_ohm_per_v: np.ndarray,
    a0_n_ohm: np.ndarray,
    a1_n_ohm_per_v: np.ndarray,
) -> np.ndarray:
    """dR/dt in ohm/s at state ``r_ohm`` under bias ``amplitude_v`` (Messaris et al., eq. 8).

    The right-hand side the closed form :func:`pulse_response` integrates; exposed so the
    closed form can be checked against a numerical integration.
    """
    r = np.asarray(r_ohm, dtype=np.float64)
    v = np.asarray(amplitude_v, dtype=np.float64)
    s = switching_sensitivity_per_ohm_s(v, a_p_per_ohm_s, t_p_v, a_n_per_ohm_s, t_n_v)
    bound = bound_ohm(v, a0_p_ohm, a1_p_ohm_per_v, a0_n_ohm, a1_n_ohm_per_v)
    up = (v > 0) & (r < bound)
    down = (v < 0) & (r > bound)
    return np.where(up, s * (bound - r) ** 2, 0.0) - np.where(down, s * (r - bound) ** 2, 0.0)


def pulse_response(
    r_ohm: np.ndarray,
    amplitude_v: np.ndarray,
    width_s: np.ndarray,
    *,
    a_p_per_ohm_s: np.ndarray,
    t_p_v: np.ndarray,
    a_n_per_ohm_s: np.ndarray,
    t_n_v: np.ndarray,
    a0_p_ohm: np.ndarray,
    a1_p_ohm_per_v: np.ndarray,
    a0_n_ohm: np.ndarray,
    a1_n_ohm_per_v: np.ndarray,
    sensitivity_factor: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Resistance (ohm) after a rectangular pulse, closed form of eq. 8 (vectorised).

    ``r_ohm``: state before the pulse (ohm); ``amplitude_v``: pulse voltage (V, sign picks
    the branch: + raises R, - lowers it); ``width_s``: pulse width (s). Device parameters
    are the :class:`TiOxParams` fields, scalars or per-pulse arrays (device-to-device
    variability). ``sensitivity_factor`` multiplies s(v) (cycle-to-cycle variability).
    All arguments broadcast together::

        R = r - (r - R0) / (1 + s t (r - R0))   with r = r_p(v) or r_n(v)

    Where the window is closed (R0 beyond the active bound, v = 0 or t = 0) R is unchanged.
    """
    r0 = np.asarray(r_ohm, dtype=np.float64)
    v = np.asarray(amplitude_v, dtype=np.float64)
    t = np.asarray(width_s, dtype=np.float64)
    s = sensitivity_factor * switching_sensitivity_per_ohm_s(
        v, a_p_per_ohm_s, t_p_v, a_n_per_ohm_s, t_n_v
    )
    bound = bound_ohm(v, a0_p_ohm, a1_p_ohm_per_v, a0_n_ohm, a1_n_ohm_per_v)
    signed_gap = bound - r0
    open_window = ((v > 0) & (signed_gap > 0)) | ((v < 0) & (signed_gap < 0))
    distance = np.abs(signed_gap)
    with np.errstate(over="ignore", invalid="ignore"):
        remaining = distance / (1.0 + s * t * distance)
    return np.where(open_window, bound - np.sign(signed_gap) * remaining, r0)
