"""Units and time: the one place conversion factors between units are defined.

Times travel as integer nanoseconds (int64) of a named clock; configuration and models use
seconds. Names carry the unit (``_ns``, ``_s``, ``_us``, ``_uv``), as in the rest of the package.
"""

from __future__ import annotations

import numpy as np

NS_PER_S = 1_000_000_000
"""Nanoseconds per second."""
NS_PER_MS = 1_000_000
"""Nanoseconds per millisecond."""
NS_PER_US = 1_000
"""Nanoseconds per microsecond."""
US_PER_S = 1_000_000
"""Microseconds per second."""
MS_PER_S = 1_000
"""Milliseconds per second."""
UV_PER_V = 1_000_000
"""Microvolts per volt."""
NEVER_NS = int(np.iinfo(np.int64).min)
"""A time older than any event (int64 minimum): empty history slots, "never happened"."""


def s_to_ns(seconds: float) -> int:
    """Seconds -> integer nanoseconds, rounded to the nearest."""
    return int(round(float(seconds) * NS_PER_S))


def ns_to_s(nanoseconds: float) -> float:
    """Nanoseconds -> seconds (float)."""
    return float(nanoseconds) / NS_PER_S


def seconds_to_ns(time_s: np.ndarray) -> np.ndarray:
    """Float seconds -> int64 nanoseconds (nearest), element-wise."""
    return np.rint(np.asarray(time_s, np.float64) * NS_PER_S).astype(np.int64)
