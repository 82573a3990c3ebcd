"""Programming guard: whole-pulse refusal naming the limit, per-device rate over 1 s."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.memristor.limits import ProgrammingGuard, ProgrammingLimits

S = 1_000_000_000


def test_serb_2020_pulses_are_accepted_by_default():
    verdict = ProgrammingGuard().check([0, 1], [0, 1], [4.0, -4.0], 100e-6, 0)
    assert verdict.accepted.all()
    assert verdict.reasons == []
    assert len(verdict.refused_index) == 0


@pytest.mark.parametrize(
    "amplitude_v, width_s, limit, text",
    [
        (5.5, 1e-4, "max_abs_voltage_v", "amplitude_v=5.5 outside allowed [-5.0, 5.0]"),
        (-6.0, 1e-4, "max_abs_voltage_v", "amplitude_v=-6.0"),
        (np.nan, 1e-4, "max_abs_voltage_v", "amplitude_v=nan"),
        (4.0, 2e-3, "max_width_s", "width_s=0.002 outside allowed (0, 0.001]"),
        (4.0, 0.0, "max_width_s", "width_s=0.0"),
        (4.0, -1e-4, "max_width_s", "width_s=-0.0001"),
        (4.0, np.nan, "max_width_s", "width_s=nan"),
    ],
)
def test_out_of_limit_pulse_is_refused_with_limit_value_and_range(
    amplitude_v, width_s, limit, text
):
    verdict = ProgrammingGuard().check([0, 3], [0, 7], [4.0, amplitude_v], [1e-4, width_s], 0)
    np.testing.assert_array_equal(verdict.accepted, [True, False])
    np.testing.assert_array_equal(verdict.refused_index, [1])
    (reason,) = verdict.reasons
    assert limit in reason and text in reason
    assert "pulse 1 (wordline 3, bitline 7)" in reason


def test_rate_limit_refuses_the_51st_pulse_within_one_second():
    guard = ProgrammingGuard()
    times = np.arange(50) * (S // 100)
    assert guard.check(np.zeros(50, int), np.zeros(50, int), 4.0, 1e-4, times).accepted.all()
    verdict = guard.check([0], [0], 4.0, 1e-4, S // 2)
    assert not verdict.accepted[0]
    assert "max_pulses_per_s" in verdict.reasons[0] and "at most 50" in verdict.reasons[0]


def test_rate_limit_frees_a_slot_once_the_oldest_pulse_is_one_second_old():
    guard = ProgrammingGuard(ProgrammingLimits(max_pulses_per_s=2))
    assert guard.check([0, 0], [0, 0], 4.0, 1e-4, [0, 10]).accepted.all()
    assert not guard.check([0], [0], 4.0, 1e-4, S - 1).accepted[0]
    assert guard.check([0], [0], 4.0, 1e-4, S).accepted[0]


def test_refused_pulses_do_not_count_toward_the_rate():
    guard = ProgrammingGuard(ProgrammingLimits(max_pulses_per_s=2))
    guard.check(np.zeros(10, int), np.zeros(10, int), 9.0, 1e-4, 0)
    assert guard.check([0, 0], [0, 0], 4.0, 1e-4, 1).accepted.all()


def test_rate_is_counted_per_device_and_in_order_within_a_batch():
    guard = ProgrammingGuard(ProgrammingLimits(max_pulses_per_s=3))
    wl = np.array([0, 0, 1, 0, 0, 1])
    verdict = guard.check(wl, np.zeros(6, int), 4.0, 1e-4, 0)
    np.testing.assert_array_equal(verdict.accepted, [True, True, True, True, False, True])
    np.testing.assert_array_equal(verdict.refused_index, [4])


def test_out_of_range_address_raises_value_error():
    with pytest.raises(ValueError, match="bitline 40 outside allowed range 0..31"):
        ProgrammingGuard().check([0], [40], 4.0, 1e-4, 0)


def test_wrong_length_argument_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="width_s has shape"):
        ProgrammingGuard().check([0, 1], [0, 1], 4.0, [1e-4, 1e-4, 1e-4], 0)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(max_abs_voltage_v=0.0), "max_abs_voltage_v"),
        (dict(max_abs_voltage_v=20.0), "max_abs_voltage_v"),
        (dict(max_width_s=float("nan")), "max_width_s"),
        (dict(max_width_s="1ms"), "max_width_s"),
        (dict(max_pulses_per_s=0.5), "max_pulses_per_s"),
        (dict(max_pulses_per_s=1e6), "max_pulses_per_s"),
    ],
)
def test_invalid_limits_raise_config_error_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        ProgrammingLimits(**kwargs)


def test_limits_from_mapping_rejects_unknown_keys():
    with pytest.raises(ConfigError, match="max_abs_voltage_v"):
        ProgrammingLimits.from_mapping({"max_voltage": 5.0})
    assert ProgrammingLimits.from_mapping({"max_width_s": 5e-4}).max_width_s == 5e-4
