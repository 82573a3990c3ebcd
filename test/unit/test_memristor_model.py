"""Data-driven TiOx model (Messaris et al. 2018): closed form, polarity, saturation, thresholds."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurohybrid.core.errors import ConfigError
from neurohybrid.memristor.model import (
    TiOxParams,
    bound_ohm,
    pulse_response,
    switching_rate_ohm_per_s,
)

P = TiOxParams().to_dict()
RMIN_OHM, RMAX_OHM = 4000.0, 9000.0
LTP_V, LTD_V, WIDTH_S = 4.0, -4.0, 100e-6


@pytest.mark.parametrize(
    "r0_ohm, amplitude_v, width_s",
    [
        (4000.0, 4.0, 100e-6),
        (6500.0, 4.0, 1e-3),
        (7000.0, 3.0, 5e-3),
        (9000.0, -4.0, 100e-6),
        (6500.0, -4.0, 1e-3),
        (5000.0, -4.5, 5e-3),
    ],
)
def test_closed_form_matches_numerical_integration_within_0p1_percent(r0_ohm, amplitude_v, width_s):
    def rhs(_t, r):
        return switching_rate_ohm_per_s(r, amplitude_v, **P)

    sol = solve_ivp(rhs, (0.0, width_s), [r0_ohm], method="LSODA", rtol=1e-10, atol=1e-8)
    numeric = sol.y[0, -1]
    closed = pulse_response(r0_ohm, amplitude_v, width_s, **P)
    assert abs(numeric - r0_ohm) > 1.0  # the pulse really switched the device
    assert closed == pytest.approx(numeric, rel=1e-3)


def test_positive_pulse_raises_resistance_and_negative_pulse_lowers_it():
    r0 = np.array([4500.0, 6500.0, 8500.0])
    assert (pulse_response(r0, LTP_V, WIDTH_S, **P) > r0).all()
    assert (pulse_response(r0, LTD_V, WIDTH_S, **P) < r0).all()


def test_one_default_pulse_moves_r_by_about_half_to_three_percent_of_the_range():
    span = RMAX_OHM - RMIN_OHM
    mid = 6500.0
    step_up = (pulse_response(mid, LTP_V, WIDTH_S, **P) - mid) / span
    step_down = (mid - pulse_response(mid, LTD_V, WIDTH_S, **P)) / span
    assert 0.005 <= step_up <= 0.03
    assert 0.005 <= step_down <= 0.03
    far_up = (pulse_response(RMIN_OHM, LTP_V, WIDTH_S, **P) - RMIN_OHM) / span
    assert far_up <= 0.035


def test_repeated_pulses_saturate_below_the_bound_and_stay_in_3_to_10_kohm():
    r = np.array([RMIN_OHM])
    steps = []
    for _ in range(3000):
        new = pulse_response(r, LTP_V, WIDTH_S, **P)
        steps.append(float(new[0] - r[0]))
        r = new
    upper = bound_ohm(LTP_V, P["a0_p_ohm"], P["a1_p_ohm_per_v"], P["a0_n_ohm"], P["a1_n_ohm_per_v"])
    assert r[0] < upper <= 10_000.0
    assert steps[-1] < steps[0] / 100  # saturation: the steps shrink
    for _ in range(3000):
        r = pulse_response(r, LTD_V, WIDTH_S, **P)
    assert 3000.0 <= r[0] < 3100.0


def test_subthreshold_pulses_and_zero_bias_leave_r_unchanged():
    r0 = np.array([5000.0, 7000.0])
    np.testing.assert_array_equal(pulse_response(r0, 0.5, 1e-3, **P), r0)
    np.testing.assert_array_equal(pulse_response(r0, -0.5, 1e-3, **P), r0)
    np.testing.assert_array_equal(pulse_response(r0, 0.0, 1e-3, **P), r0)
    np.testing.assert_array_equal(pulse_response(r0, LTP_V, 0.0, **P), r0)


def test_device_beyond_the_active_bound_does_not_switch():
    above = np.array([10_500.0])
    below = np.array([2_500.0])
    np.testing.assert_array_equal(pulse_response(above, LTP_V, WIDTH_S, **P), above)
    np.testing.assert_array_equal(pulse_response(below, LTD_V, WIDTH_S, **P), below)


def test_huge_pulse_saturates_at_the_bound_without_overflow():
    with np.errstate(all="raise"):
        r = pulse_response(np.array([5000.0]), 1000.0, 1.0, **P)
    assert r[0] == pytest.approx(P["a0_p_ohm"] + P["a1_p_ohm_per_v"] * 1000.0)


def test_sensitivity_factor_scales_the_switching_speed():
    slow = pulse_response(6500.0, LTP_V, WIDTH_S, sensitivity_factor=0.5, **P)
    fast = pulse_response(6500.0, LTP_V, WIDTH_S, sensitivity_factor=2.0, **P)
    assert 6500.0 < slow < fast


@pytest.mark.parametrize(
    "key, value",
    [
        ("a_p_per_ohm_s", -1e-4),
        ("t_n_v", 0.0),
        ("a0_n_ohm", float("nan")),
        ("a1_p_ohm_per_v", -1.0),
    ],
)
def test_invalid_parameter_raises_config_error_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        TiOxParams(**{key: value})


def test_from_mapping_rejects_unknown_keys_and_lists_the_known_ones():
    with pytest.raises(ConfigError, match="a0_p_ohm"):
        TiOxParams.from_mapping({"a0p": 1.0})
    assert TiOxParams.from_mapping({"t_p_v": 2.0}).t_p_v == 2.0
