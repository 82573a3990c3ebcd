"""Argument checks shared by every core: one wording for "key=value outside allowed range".

Every check raises :class:`~neurohybrid.core.errors.ConfigError` (a ValueError) whose message
names the key, the value and the allowed range, e.g. ``dt_s=0.01 outside allowed [1e-06,
0.001]``; a value is refused, never clipped. Booleans are not numbers here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Iterable, Mapping

import numpy as np

from neurohybrid.core.errors import ConfigError


def is_int(value: object) -> bool:
    """True for a Python or numpy integer, False for bool and everything else."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for a Python or numpy int or float (finite or not), False for bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """True for a finite int or float (numpy scalars included), False for bool and the rest."""
    return is_number(value) and math.isfinite(value)


@dataclass(frozen=True)
class Bounds:
    """An allowed interval: ``low`` .. ``high``, each end closed unless marked open.

    ``integer`` requires an integer value (int or numpy integer, never bool or float).
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"Bounds low={self.low!r} above high={self.high!r}")

    def text(self) -> str:
        """The interval as written in error messages and tables, e.g. ``(0, 13.5]``."""
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        span = f"{left}{_number(self.low)}, {_number(self.high)}{right}"
        return f"integers {span}" if self.integer else span

    def contains(self, value: object) -> bool:
        """Whether ``value`` is a number of the right kind inside the interval."""
        if not (is_int(value) if self.integer else is_real(value)):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(above and below)

    def check(self, key: str, value: object) -> Any:
        """``value`` (as int or float) if inside; ConfigError naming key, value, range otherwise."""
        if not self.contains(value):
            raise ConfigError(f"{key}={value!r} outside allowed {self.text()}")
        return int(value) if self.integer else float(value)


def _number(x: float) -> str:
    return f"{x:g}" if not isinstance(x, int) else str(x)


def check_real(key: str, value: object, low: float = -math.inf, high: float = math.inf, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as float if a finite number in the interval; ConfigError naming key otherwise."""
    return Bounds(low, high, low_open, high_open).check(key, value)


def check_positive(key: str, value: object, high: float = math.inf) -> float:
    """``value`` as float if in (0, high]; ConfigError naming key otherwise."""
    return Bounds(0.0, high, low_open=True).check(key, value)


def check_int(key: str, value: object, low: float = -math.inf, high: float = math.inf) -> int:
    """``value`` as int if an integer in [low, high]; ConfigError naming key otherwise."""
    return Bounds(low, high, integer=True).check(key, value)


def check_choice(key: str, value: object, choices: Iterable[str]) -> str:
    """``value`` if one of ``choices``; ConfigError naming key and the choices otherwise."""
    allowed = tuple(choices)
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} unknown; allowed: {', '.join(allowed)}")
    return str(value)


def check_fields(obj: object, bounds: Mapping[str, Bounds], prefix: str = "") -> None:
    """Check every field of the frozen dataclass ``obj`` against ``bounds[field]``, in place.

    Each value is replaced by its checked int or float; messages name ``prefix + field``.
    """
    for f in fields(obj):
        object.__setattr__(obj, f.name, bounds[f.name].check(prefix + f.name, getattr(obj, f.name)))


def unknown_keys(mapping: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """ConfigError listing the known keys if ``mapping`` has any other."""
    allowed = sorted(known)
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown {what} key(s) {unknown}; allowed: {', '.join(allowed)}")
