"""``exp`` for double precision that the compiler can vectorise, within 1 ulp of the C library's.

A call to the C library's ``exp`` inside a numba loop keeps the loop scalar (no vector ``exp`` is
linked in), and in the DPI twin's step that call alone cost more than all the other arithmetic.
:func:`simd_exp` is branch-free arithmetic (selects, an integer shift, fused multiply-adds) so a
loop over an array of arguments becomes SIMD code:

* Cody-Waite reduction (Cody & Waite 1980, *Software Manual for the Elementary Functions*):
  ``x = n ln2 + r`` with ``n = round(x / ln2)``, ``|r| <= ln2/2``, and ``ln2`` split into a high
  part with trailing zero bits (``n * LN2_HI`` is exact for every ``|n| <= 1024``) and the rest;
  the ``ln2`` split is fdlibm's (Sun Microsystems 1993, ``e_exp.c`` constants ``ln2HI``/``ln2LO``).
* ``exp(r)`` by its Taylor polynomial to degree 13 (the first omitted term is below 2**-54 on
  ``|r| <= ln2/2``), evaluated by Horner's rule with fused multiply-adds.
* ``2**n`` applied as two factors ``2**(n//2)`` and ``2**(n - n//2)``, each built from its
  IEEE-754 bits, so that ``n = 1024`` (``x`` just below the overflow bound) and ``n = -1022``
  stay representable.

Results: +inf above ``OVERFLOW_X``; 0 below ``UNDERFLOW_X`` (where the exact value is subnormal
or 0; the twin adds it to a number of order 1, so that is exact there); otherwise within 1 ulp of a correctly rounded ``exp`` (checked against ``numpy.exp`` in
``test/unit/test_board_simd_exp.py``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

LOG2E = 1.4426950408889634
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
OVERFLOW_X = 709.782712893384  # largest x with exp(x) finite in double precision
UNDERFLOW_X = -708.3964185322641  # ln of the smallest normal double; below, 0 is returned
EXPONENT_BIAS = 1023
MIN_N, MAX_N = -1022.0, 1024.0  # n = round(x/ln2) on [UNDERFLOW_X, OVERFLOW_X]
MANTISSA_BITS = 52
C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13 = (1.0 / math.factorial(k) for k in range(2, 14))  # 1/k!


@njit(cache=True, inline="always")
def _power_of_two(n: int) -> float:
    """``2.0**n`` for ``-1022 <= n <= 1023``, from its IEEE-754 bits."""
    return np.int64((n + EXPONENT_BIAS) << MANTISSA_BITS).view(np.float64)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def simd_exp(x: float) -> float:
    """``exp(x)`` (dimensionless), vectorisable inside a numba loop; see the module docstring."""
    n = math.floor(x * LOG2E + 0.5)
    n = min(max(n, MIN_N), MAX_N)
    r = x - n * LN2_HI
    r = r - n * LN2_LO
    p = C13
    p = p * r + C12
    p = p * r + C11
    p = p * r + C10
    p = p * r + C9
    p = p * r + C8
    p = p * r + C7
    p = p * r + C6
    p = p * r + C5
    p = p * r + C4
    p = p * r + C3
    p = p * r + C2
    p = p * r + 1.0
    p = p * r + 1.0
    n_int = np.int64(n)
    n_low = n_int >> 1
    y = p * _power_of_two(n_low) * _power_of_two(n_int - n_low)
    y = np.inf if x > OVERFLOW_X else y
    return 0.0 if x < UNDERFLOW_X else y

