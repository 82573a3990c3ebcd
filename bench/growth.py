"""How a cost grows: a fitted line and power law for a growth curve, and where it reaches real time.

A curve is CPU load ``y`` (seconds of one core per second of experiment; 1.0 = one core busy,
the real-time limit on one core) measured at sizes ``x``. Two fits, least squares:

* power law ``y = c x^k`` on log-log axes: ``k`` near 1 is linear growth, near 0 a constant cost,
  above 1 faster than linear;
* straight line ``y = a + b x``: ``x_realtime = (1 - a) / b`` is the size at which the load reaches
  one core (beyond the measured range it is an extrapolation, said so in ``x_realtime_extrapolated``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LINEAR_EXPONENT_TOLERANCE = 0.2
"""A power-law exponent within 1 +- this is reported as linear."""


def fit_curve(x: Sequence[float], y: Sequence[float], x_name: str, y_name: str) -> dict:
    """Fits of CPU load ``y`` (cores) against ``x``; keys are the bench.json fields of a curve."""
    xs, ys = np.asarray(x, float), np.asarray(y, float)
    exponent, log_c = np.polyfit(np.log(xs), np.log(ys), 1)
    slope, intercept = np.polyfit(xs, ys, 1)
    x_rt = (1.0 - intercept) / slope if slope > 0 else None
    if abs(exponent - 1.0) <= LINEAR_EXPONENT_TOLERANCE:
        shape = "linear"
    elif exponent < 1.0:
        shape = "sublinear"
    else:
        shape = "superlinear"
    return {
        "y_name": y_name,
        "power_law_exponent": round(float(exponent), 3),
        "growth": shape,
        "linear_fit_slope_per_unit": float(f"{slope:.4g}"),
        "linear_fit_intercept": float(f"{intercept:.4g}"),
        "x_realtime": None if x_rt is None else round(float(x_rt), 1),
        "x_realtime_extrapolated": None if x_rt is None else bool(x_rt > xs.max() or x_rt < xs.min()),
        "statement": (f"{y_name} grows {shape}ly with {x_name} (exponent {exponent:.2f}, "
                      f"+{slope:.3g} per {x_name.rstrip('s')}); "
                      + ("never reaches one core on this fit" if x_rt is None else
                         f"reaches one core (real-time limit) at {x_name} = {x_rt:.4g}"
                         + (" (extrapolated)" if x_rt > xs.max() else ""))),
    }
