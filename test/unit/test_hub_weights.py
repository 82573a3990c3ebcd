"""Resistance -> weight byte exactly as the original hub (Serb et al. 2020) computed it."""

from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.hub.weights import WeightMap


def original_byte(r_ohm: float, r_min: float = 4000.0, r_max: float = 9000.0) -> int:
    """The original control software's formula, written as it was (Python built-ins)."""
    return round(min(max(255 * (r_ohm - r_min) / (r_max - r_min), 0), 255))


def test_defaults_are_the_papers_4_and_9_kohm():
    wm = WeightMap()
    assert (wm.r_min_ohm, wm.r_max_ohm) == (4000.0, 9000.0)


def test_bytes_match_the_original_formula_on_random_resistances():
    rng = np.random.default_rng(0)
    r = rng.uniform(3000.0, 10000.0, 20000)
    _, byte = WeightMap().to_weight(r)
    assert byte.dtype == np.uint8
    assert byte.tolist() == [original_byte(float(x)) for x in r]


def test_resistances_outside_the_range_clip_to_0_and_255():
    weight, byte = WeightMap().to_weight(np.array([100.0, 3999.0, 4000.0, 9000.0, 9001.0, 1e6]))
    assert byte.tolist() == [0, 0, 0, 255, 255, 255]
    np.testing.assert_array_equal(weight, np.array([0, 0, 0, 1, 1, 1], np.float32))


def test_halves_round_to_even_like_pythons_round():
    # With Rmin = 0 and Rmax = 255 the scaled value equals R, so exact halves are reachable.
    wm = WeightMap(r_min_ohm=1.0, r_max_ohm=256.0)
    r = 1.0 + np.array([0.5, 1.5, 2.5, 3.5, 126.5, 253.5, 254.5])
    _, byte = wm.to_weight(r)
    assert byte.tolist() == [0, 2, 2, 4, 126, 254, 254]
    assert byte.tolist() == [original_byte(float(x), 1.0, 256.0) for x in r]


def test_weight_is_the_unquantised_fraction_of_the_range():
    weight, byte = WeightMap().to_weight(np.array([6500.0, 5000.0]))
    assert weight.dtype == np.float32
    np.testing.assert_allclose(weight, [0.5, 0.2], rtol=1e-6)
    assert byte.tolist() == [128, 51]  # 127.5 -> 128 (even), 51.0 -> 51


def test_scalar_input_gives_zero_dimensional_arrays():
    weight, byte = WeightMap().to_weight(9000.0)
    assert (float(weight), int(byte)) == (1.0, 255)


def test_to_resistance_inverts_to_weight_inside_the_range():
    wm = WeightMap()
    w = np.linspace(0, 1, 11)
    weight, _ = wm.to_weight(wm.to_resistance(w))
    np.testing.assert_allclose(weight, w, atol=1e-6)
    with pytest.raises(ValueError, match="0..1"):
        wm.to_resistance(np.array([1.5]))


def test_non_finite_resistance_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        WeightMap().to_weight(np.array([5000.0, np.nan]))


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"r_min_ohm": 0.0}, "r_min_ohm=0.0"),
        ({"r_min_ohm": -5.0}, "r_min_ohm=-5.0"),
        ({"r_max_ohm": float("inf")}, "r_max_ohm=inf"),
        ({"r_max_ohm": "9k"}, "r_max_ohm='9k'"),
        ({"r_min_ohm": 9000.0, "r_max_ohm": 4000.0}, "r_min_ohm=9000.0 must be below r_max_ohm=4000.0"),
        ({"r_min_ohm": 5000.0, "r_max_ohm": 5000.0}, "must be below"),
    ],
)
def test_invalid_ranges_raise_config_error_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        WeightMap(**kwargs)
