"""simd_exp: within 1 ulp of exp where the result is normal, exact limits outside."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from neurohybrid.board.simd_exp import OVERFLOW_X, UNDERFLOW_X, simd_exp


@njit
def _exp_all(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = simd_exp(x[i])
    return out


def _ulp_error(x: np.ndarray) -> np.ndarray:
    ours = _exp_all(x)
    ref = np.exp(x)
    return np.abs(ours - ref) / np.spacing(ref)


@pytest.mark.parametrize("lo, hi", [(UNDERFLOW_X, OVERFLOW_X), (-60.0, 60.0), (-1.0, 1.0), (-1e-9, 1e-9)])
def test_within_one_ulp_of_exp(lo: float, hi: float) -> None:
    x = np.random.default_rng(7).uniform(lo, hi, 200_000)
    assert _ulp_error(x).max() <= 1.0


def test_reduction_boundaries_and_exact_points() -> None:
    ln2 = np.log(2.0)
    n = np.arange(-1000, 1020, dtype=float)
    x = np.concatenate([n * ln2, (n + 0.5) * ln2, np.nextafter((n + 0.5) * ln2, np.inf), [0.0, 1.0, -1.0]])
    assert _ulp_error(x).max() <= 1.0
    assert _exp_all(np.array([0.0]))[0] == 1.0


def test_overflow_gives_inf_and_underflow_gives_zero() -> None:
    with np.errstate(over="ignore"):
        out = _exp_all(np.array([OVERFLOW_X, np.nextafter(OVERFLOW_X, np.inf), 1e6, np.inf]))
    assert np.isfinite(out[0]) and out[0] == np.exp(OVERFLOW_X)
    assert np.all(np.isposinf(out[1:]))
    out = _exp_all(np.array([UNDERFLOW_X - 1e-9, -1e6, -np.inf]))
    np.testing.assert_array_equal(out, 0.0)
    assert _exp_all(np.array([UNDERFLOW_X]))[0] >= np.finfo(float).tiny


def test_nan_propagates() -> None:
    assert np.isnan(_exp_all(np.array([np.nan]))[0])
