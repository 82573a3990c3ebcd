"""Simulated TiOx crossbar: variability, read noise, ordering, address and config validation."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.memristor.crossbar import Crossbar, occurrence_rank, rounds

ALL_WL = np.repeat(np.arange(32), 32)
ALL_BL = np.tile(np.arange(32), 32)


def test_same_seed_gives_identical_states_pulses_and_reads():
    a, b = Crossbar(seed=7), Crossbar(seed=7)
    np.testing.assert_array_equal(a.resistance_ohm, b.resistance_ohm)
    np.testing.assert_array_equal(
        a.pulse(ALL_WL, ALL_BL, 4.0, 1e-4), b.pulse(ALL_WL, ALL_BL, 4.0, 1e-4)
    )
    np.testing.assert_array_equal(a.read_all(), b.read_all())


def test_different_seeds_give_different_devices():
    assert not np.array_equal(Crossbar(seed=1).resistance_ohm, Crossbar(seed=2).resistance_ohm)


def test_device_to_device_spread_varies_parameters_only_when_enabled():
    spread = Crossbar(d2d_spread=0.1).device_params(ALL_WL, ALL_BL)
    assert np.std(np.log(spread["a_p_per_ohm_s"])) == pytest.approx(0.1, rel=0.15)
    assert np.std(np.log(spread["a0_n_ohm"])) == pytest.approx(0.1, rel=0.15)
    uniform = Crossbar(d2d_spread=0.0).device_params(ALL_WL, ALL_BL)
    assert all(np.ptp(v) == 0.0 for v in uniform.values())


def test_bound_spread_scales_a0_and_a1_together():
    params = Crossbar(d2d_spread=0.1).device_params(ALL_WL, ALL_BL)
    np.testing.assert_allclose(params["a1_n_ohm_per_v"] / params["a0_n_ohm"], 2000.0 / 11000.0)


def test_cycle_to_cycle_spread_varies_identical_pulses_on_identical_devices():
    def steps(c2c: float) -> np.ndarray:
        cb = Crossbar(d2d_spread=0.0, c2c_spread=c2c, initial_resistance_ohm=6000.0)
        return cb.pulse(ALL_WL, ALL_BL, 4.0, 1e-4) - 6000.0

    assert np.std(np.log(steps(0.05))) == pytest.approx(0.05, rel=0.15)
    assert np.ptp(steps(0.0)) == 0.0


def test_read_noise_is_relative_gaussian_below_one_percent_and_does_not_change_state():
    cb = Crossbar(read_noise=0.005)
    truth = cb.resistance_ohm
    reads = np.stack([cb.read_all() for _ in range(200)])
    rel = reads / truth - 1.0
    assert rel.std() == pytest.approx(0.005, rel=0.05)
    assert np.abs(rel).max() < 0.05
    np.testing.assert_array_equal(cb.resistance_ohm, truth)


def test_reading_does_not_change_what_later_pulses_do():
    quiet, busy = Crossbar(seed=3), Crossbar(seed=3)
    for _ in range(10):
        busy.read_all()
    np.testing.assert_array_equal(
        quiet.pulse(ALL_WL, ALL_BL, 4.0, 1e-4), busy.pulse(ALL_WL, ALL_BL, 4.0, 1e-4)
    )


def test_read_returns_the_addressed_devices():
    cb = Crossbar(read_noise=0.0)
    truth = cb.resistance_ohm
    np.testing.assert_array_equal(cb.read([3, 0], [5, 31]), [truth[3, 5], truth[0, 31]])
    assert cb.read_all().shape == (32, 32)


def test_resistance_property_is_a_copy():
    cb = Crossbar()
    r = cb.resistance_ohm
    r[:] = 0.0
    assert cb.resistance_ohm.min() > 0.0


def test_repeated_addresses_in_one_batch_apply_in_order_like_separate_pulses():
    kwargs = dict(d2d_spread=0.1, c2c_spread=0.0, seed=4)
    batched, single = Crossbar(**kwargs), Crossbar(**kwargs)
    wl, bl = np.array([2, 2, 5, 2]), np.array([3, 3, 1, 3])
    amp = np.array([4.0, 4.0, -4.0, -4.0])
    out = batched.pulse(wl, bl, amp, 1e-4)
    expected = [single.pulse([w], [b], a, 1e-4)[0] for w, b, a in zip(wl, bl, amp)]
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(batched.resistance_ohm, single.resistance_ohm, rtol=1e-12)
    assert out[1] > out[0]


def test_pulse_returns_the_new_true_state():
    cb = Crossbar()
    new = cb.pulse([1], [2], 4.0, 1e-4)
    assert cb.resistance_ohm[1, 2] == new[0]


def test_rounds_name_each_key_once_and_keep_order():
    keys = np.array([5, 1, 5, 5, 2, 1])
    np.testing.assert_array_equal(occurrence_rank(keys), [0, 0, 1, 2, 0, 1])
    parts = rounds(keys)
    assert [p.tolist() for p in parts] == [[0, 1, 4], [2, 5], [3]]


@pytest.mark.parametrize(
    "wordline, bitline, match",
    [([32], [0], "wordline 32 outside allowed range 0..31"), ([0], [-1], "bitline -1 outside")],
)
def test_out_of_range_address_raises_value_error_naming_the_line_and_range(
    wordline, bitline, match
):
    cb = Crossbar()
    with pytest.raises(ValueError, match=match):
        cb.read(wordline, bitline)
    with pytest.raises(ValueError, match=match):
        cb.pulse(wordline, bitline, 4.0, 1e-4)


def test_mismatched_or_non_integer_addresses_raise():
    cb = Crossbar()
    with pytest.raises(ValueError, match="differ in length"):
        cb.read([0, 1], [0])
    with pytest.raises(ValueError, match="wordline must hold integers"):
        cb.read([0.5], [0])


def test_non_finite_amplitude_or_negative_width_raises():
    cb = Crossbar()
    with pytest.raises(ValueError, match="amplitude_v"):
        cb.pulse([0], [0], np.nan, 1e-4)
    with pytest.raises(ValueError, match="width_s"):
        cb.pulse([0], [0], 4.0, -1e-4)
    with pytest.raises(ValueError, match="amplitude_v has shape"):
        cb.pulse([0, 1], [0, 1], [4.0, 4.0, 4.0], 1e-4)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(n_wordlines=0), "n_wordlines"),
        (dict(n_bitlines=2.5), "n_bitlines"),
        (dict(d2d_spread=-0.1), "d2d_spread"),
        (dict(c2c_spread=float("nan")), "c2c_spread"),
        (dict(read_noise=0.5), "read_noise"),
        (dict(initial_resistance_ohm=(8000.0, 5000.0)), "initial_resistance_ohm"),
        (dict(initial_resistance_ohm=-1.0), "initial_resistance_ohm"),
        (dict(initial_resistance_ohm="big"), "initial_resistance_ohm"),
        (dict(seed=-1), "seed"),
        (dict(params={"t_p_v": 1.0}), "params"),
    ],
)
def test_invalid_configuration_raises_config_error_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        Crossbar(**kwargs)


def test_scalar_initial_resistance_sets_every_device():
    cb = Crossbar(2, 3, initial_resistance_ohm=6000.0)
    np.testing.assert_array_equal(cb.resistance_ohm, 6000.0)


def test_default_initial_states_lie_inside_the_hub_range():
    r = Crossbar().resistance_ohm
    assert r.min() >= 5000.0 and r.max() <= 8000.0
