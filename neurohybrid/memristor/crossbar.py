"""A simulated TiOx crossbar: the digital twin of the Southampton 32x32 array.

Each device follows the data-driven TiOx model (:mod:`neurohybrid.memristor.model`,
Messaris et al., IEEE TCAD 2018) with three kinds of variability, all drawn from one seed:

* device-to-device: each device's A_p, A_n, t_p, t_n, a0_p and a0_n is the nominal value
  times a lognormal factor ``exp(d2d_spread * z)`` (z standard normal), drawn once;
* cycle-to-cycle: each pulse's switching sensitivity s(v) is multiplied by
  ``exp(c2c_spread * z)`` (median 1), drawn per pulse;
* read noise: a read returns ``R (1 + read_noise * z)``, Gaussian and relative.

The three draw from independent streams (``numpy.random.SeedSequence(seed).spawn``), so
reading never changes what a later pulse does. States are non-volatile: between pulses R
does not change (s(0) = 0 in eq. 7 of the model). Pulses are applied in the order given,
also when a batch addresses one device several times.
"""

from __future__ import annotations

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds, check_int, check_real, is_number
from neurohybrid.memristor.model import TiOxParams, pulse_response

#: Most word or bit lines accepted (ArC TWO drives a 32x32 array; larger arrays are allowed
#: for scaling studies).
MAX_LINES = 4096
#: Most crossbar tiles one hub drives (one ArC TWO per tile; 128 x 32 x 32 = 131,072 devices).
MAX_TILES = 128
#: Largest relative spread accepted for device-to-device and cycle-to-cycle variability.
MAX_SPREAD = 1.0
#: Largest relative read noise accepted (the brief asks for < 1 %; 10 % allows stress tests).
MAX_READ_NOISE = 0.1
#: Default initial state range, ohm: inside the hub's Rmin 4 kOhm .. Rmax 9 kOhm
#: (Serb et al. 2020 hub code), away from both bounds.
DEFAULT_INITIAL_RESISTANCE_OHM = (5000.0, 8000.0)
#: Parameters drawn with device-to-device spread: A and t of both branches, and a0.
VARIABLE_PARAMS = ("a_p_per_ohm_s", "t_p_v", "a_n_per_ohm_s", "t_n_v", "a0_p_ohm", "a0_n_ohm")
#: a1 shares its branch's a0 factor, so the whole bound r(v) = a0 + a1 v scales by one
#: factor (a device with a different resistance scale). Spreading a0 alone would move
#: r_n(-4 V) = a0_n - 4 a1_n by 10 % of a0_n, i.e. about 37 % of its default value.
SPREAD_SOURCE = {"a1_p_ohm_per_v": "a0_p_ohm", "a1_n_ohm_per_v": "a0_n_ohm"}

CROSSBAR_PARAMS = ParamSet("memristor crossbar", [
    ParamSpec("n_wordlines", 32, "crossbar word lines (ArC TWO: 32)", "", Bounds(1, MAX_LINES, integer=True)),
    ParamSpec("n_bitlines", 32, "crossbar bit lines (ArC TWO: 32)", "", Bounds(1, MAX_LINES, integer=True)),
    ParamSpec("n_tiles", 1, "crossbar tiles the hub drives, each n_wordlines x n_bitlines", "",
              Bounds(1, MAX_TILES, integer=True)),
])
_RESISTANCE_BOUNDS = Bounds(0.0, np.inf, low_open=True)


def validate_addresses(
    wordline: np.ndarray, bitline: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Check crossbar addresses; return them as 1-D int64 arrays.

    Raises ValueError naming ``wordline`` or ``bitline`` and the allowed range when an
    address is out of range, not an integer, or the two arrays differ in length.
    """
    out = []
    for name, values, size in (("wordline", wordline, shape[0]), ("bitline", bitline, shape[1])):
        arr = np.atleast_1d(np.asarray(values))
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
        if arr.size and arr.dtype.kind not in "iu":
            raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        bad = (arr < 0) | (arr >= size)
        if bad.any():
            raise ValueError(
                f"{name} {int(arr[bad][0])} outside allowed range 0..{size - 1}"
                f" ({int(bad.sum())} address(es) out of range)"
            )
        out.append(arr)
    if len(out[0]) != len(out[1]):
        raise ValueError(f"wordline and bitline differ in length: {len(out[0])}, {len(out[1])}")
    return out[0], out[1]


def validate_tiles(tile: np.ndarray | int | None, n: int, n_tiles: int) -> np.ndarray:
    """Tile of each of ``n`` addresses as int64 (None: all tile 0; a scalar: all that tile).

    Raises ValueError naming ``tile``, the value and the allowed range 0..n_tiles-1.
    """
    if tile is None:
        return np.zeros(n, np.int64)
    arr = np.asarray(tile)
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"tile must hold integers, got dtype {arr.dtype}")
    arr = np.broadcast_to(arr.astype(np.int64), (n,)) if arr.ndim == 0 else arr.astype(np.int64)
    if arr.shape != (n,):
        raise ValueError(f"tile has shape {arr.shape}, expected a scalar or ({n},)")
    bad = (arr < 0) | (arr >= n_tiles)
    if bad.any():
        raise ValueError(
            f"tile {int(arr[bad][0])} outside allowed range 0..{n_tiles - 1}"
            f" ({int(bad.sum())} address(es) out of range)"
        )
    return arr


def _initial_range(value: float | tuple[float, float]) -> tuple[float, float]:
    """Initial resistance as (low, high) ohm, from one value or a range."""
    key = "initial_resistance_ohm"
    if is_number(value):
        low = high = _RESISTANCE_BOUNDS.check(key, value)
    else:
        try:
            low_raw, high_raw = value
        except (TypeError, ValueError):
            raise ConfigError(
                f"{key}={value!r} must be a value or a (low, high) pair, ohm"
            ) from None
        low = _RESISTANCE_BOUNDS.check(key, low_raw)
        high = _RESISTANCE_BOUNDS.check(key, high_raw)
    if low > high:
        raise ConfigError(f"{key}={value!r}: low {low} exceeds high {high}")
    return low, high


def per_pulse(name: str, values: np.ndarray | float, n: int, dtype: type) -> np.ndarray:
    """``values`` as one entry per pulse: a scalar is repeated, an array must have ``n``."""
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim > 1 or (arr.ndim == 1 and len(arr) != n):
        raise ValueError(f"{name} has shape {arr.shape}, expected a scalar or ({n},)")
    return np.broadcast_to(arr, (n,))


def _pulse_arrays(
    amplitude_v: np.ndarray, width_s: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes and widths for ``n`` pulses; non-finite values or negative widths raise."""
    amplitude = per_pulse("amplitude_v", amplitude_v, n, np.float64)
    width = per_pulse("width_s", width_s, n, np.float64)
    for name, arr in (("amplitude_v", amplitude), ("width_s", width)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite")
    if (width < 0).any():
        raise ValueError(f"width_s {width.min()} outside allowed [0, inf)")
    return amplitude, width


def occurrence_rank(keys: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries share its key (0 for the first occurrence).

    Used to split a batch into rounds in which every key appears at most once, so repeated
    addresses are processed in their given order without a Python loop per event.
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    is_start = np.empty(n, bool)
    is_start[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=is_start[1:])
    start_positions = np.flatnonzero(is_start)
    group_sizes = np.diff(np.append(start_positions, n))
    rank_sorted = np.arange(n) - np.repeat(start_positions, group_sizes)
    rank = np.empty(n, np.int64)
    rank[order] = rank_sorted
    return rank


def rounds(keys: np.ndarray) -> list[np.ndarray]:
    """Index arrays, in order, each naming every key at most once (see :func:`occurrence_rank`)."""
    rank = occurrence_rank(keys)
    if len(rank) == 0:
        return []
    if rank.max() == 0:
        return [np.arange(len(keys))]
    order = np.argsort(rank, kind="stable")
    bounds = np.cumsum(np.bincount(rank))
    return np.split(order, bounds[:-1])


class Crossbar:
    """A word-line x bit-line array of simulated TiOx memristors (resistances in ohm).

    ``params``: nominal :class:`TiOxParams`; ``d2d_spread``, ``c2c_spread``: relative
    (lognormal sigma) device-to-device and cycle-to-cycle spreads; ``read_noise``: relative
    Gaussian read noise; ``initial_resistance_ohm``: one value or a (low, high) range drawn
    uniformly per device; ``seed``: seeds every random draw.
    """

    def __init__(
        self,
        n_wordlines: int = 32,
        n_bitlines: int = 32,
        params: TiOxParams | None = None,
        d2d_spread: float = 0.1,
        c2c_spread: float = 0.05,
        read_noise: float = 0.005,
        initial_resistance_ohm: float | tuple[float, float] = DEFAULT_INITIAL_RESISTANCE_OHM,
        seed: int = 0,
    ) -> None:
        self.shape = (CROSSBAR_PARAMS["n_wordlines"].check(n_wordlines),
                      CROSSBAR_PARAMS["n_bitlines"].check(n_bitlines))
        self.params = TiOxParams() if params is None else params
        if not isinstance(self.params, TiOxParams):
            raise ConfigError(f"params={params!r} must be a TiOxParams")
        self.d2d_spread = check_real("d2d_spread", d2d_spread, 0.0, MAX_SPREAD)
        self.c2c_spread = check_real("c2c_spread", c2c_spread, 0.0, MAX_SPREAD)
        self.read_noise = check_real("read_noise", read_noise, 0.0, MAX_READ_NOISE)
        low, high = _initial_range(initial_resistance_ohm)
        seed = check_int("seed", seed, 0)
        d2d_seq, c2c_seq, read_seq, init_seq = np.random.SeedSequence(int(seed)).spawn(4)
        self._c2c_rng = np.random.default_rng(c2c_seq)
        self._read_rng = np.random.default_rng(read_seq)
        n = self.shape[0] * self.shape[1]
        d2d_rng = np.random.default_rng(d2d_seq)
        spread = {
            name: np.exp(self.d2d_spread * d2d_rng.standard_normal(n)) for name in VARIABLE_PARAMS
        }
        self._device_params = {
            name: np.full(n, value) * spread[SPREAD_SOURCE.get(name, name)]
            for name, value in self.params.to_dict().items()
        }
        self._r_ohm = np.random.default_rng(init_seq).uniform(low, high, n)

    @property
    def n_devices(self) -> int:
        """Number of devices (word lines x bit lines)."""
        return self.shape[0] * self.shape[1]

    @property
    def resistance_ohm(self) -> np.ndarray:
        """True (noise-free) resistance of every device, ohm, shape (n_wl, n_bl); a copy."""
        return self._r_ohm.reshape(self.shape).copy()

    def device_params(self, wordline: np.ndarray, bitline: np.ndarray) -> dict[str, np.ndarray]:
        """Per-device model parameters (with device-to-device spread) at the addresses."""
        flat = self._flat(wordline, bitline)
        return {name: values[flat] for name, values in self._device_params.items()}

    def _flat(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        wl, bl = validate_addresses(wordline, bitline, self.shape)
        return wl * self.shape[1] + bl

    def _noisy(self, r_ohm: np.ndarray) -> np.ndarray:
        return r_ohm * (1.0 + self.read_noise * self._read_rng.standard_normal(r_ohm.shape))

    def read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        """Read the addressed devices: resistance in ohm with relative Gaussian read noise."""
        return self._noisy(self._r_ohm[self._flat(wordline, bitline)])

    def read_checked(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        """:meth:`read` of addresses already validated (int64 arrays in range), without checking them again."""
        return self._noisy(self._r_ohm[wordline * self.shape[1] + bitline])

    def read_all(self) -> np.ndarray:
        """Read every device: resistance in ohm with read noise, shape (n_wl, n_bl)."""
        return self._noisy(self._r_ohm).reshape(self.shape)

    def pulse(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
    ) -> np.ndarray:
        """Apply one rectangular pulse per address, in order; return each true new R (ohm).

        ``amplitude_v`` (V; + raises R, - lowers it) and ``width_s`` (s, >= 0) are scalars
        or one value per address. The crossbar applies what it is given: safety limits are
        the backend's job (:class:`~neurohybrid.memristor.limits.ProgrammingGuard`).
        """
        flat = self._flat(wordline, bitline)
        amplitude, width = _pulse_arrays(amplitude_v, width_s, len(flat))
        factor = np.exp(self.c2c_spread * self._c2c_rng.standard_normal(len(flat)))
        pulse_params = {name: values[flat] for name, values in self._device_params.items()}
        new_r = np.empty(len(flat))
        for idx in rounds(flat):
            devices = flat[idx]
            updated = pulse_response(
                self._r_ohm[devices],
                amplitude[idx],
                width[idx],
                sensitivity_factor=factor[idx],
                **{name: values[idx] for name, values in pulse_params.items()},
            )
            self._r_ohm[devices] = updated
            new_r[idx] = updated
        return new_r
