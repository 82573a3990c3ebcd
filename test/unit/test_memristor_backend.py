"""Memristor backends: the "sim" twin's own behaviour, the template, the registry.

The checks every registered backend must pass are the compliance suite
(``test_memristor_compliance.py``).
"""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError, UnknownBackendError
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS
from neurohybrid.memristor.sim import SimMemristorBackend
from neurohybrid.memristor.template import TemplateMemristorBackend

S = 1_000_000_000


def sim(**kwargs) -> SimMemristorBackend:
    b = SimMemristorBackend(**kwargs)
    b.configure()
    b.arm()
    return b


@pytest.mark.parametrize(
    "amplitude_v, width_s, limit",
    [
        (6.0, 100e-6, "max_abs_voltage_v"),
        (4.0, 5e-3, "max_width_s"),
        (np.nan, 100e-6, "max_abs_voltage_v"),
        (4.0, np.nan, "max_width_s"),
    ],
)
def test_refused_programming_leaves_the_device_untouched(amplitude_v, width_s, limit):
    b = sim()
    before = b.resistance_ohm
    result = b.program([3], [4], amplitude_v, width_s, 0)
    assert not result.accepted[0] and limit in result.reasons[0]
    np.testing.assert_array_equal(b.resistance_ohm, before)


def test_rate_limited_pulses_leave_the_device_untouched():
    b = sim(limits={"max_pulses_per_s": 2})
    b.program([0, 0], [0, 0], 4.0, 100e-6, 0)
    before = b.resistance_ohm
    result = b.program([0], [0], 4.0, 100e-6, S // 2)
    assert "max_pulses_per_s" in result.reasons[0]
    np.testing.assert_array_equal(b.resistance_ohm, before)


def test_ltp_pulse_raises_and_ltd_pulse_lowers_the_read_back_resistance():
    b = sim(read_noise=0.0)
    up = b.program([0], [0], 4.0, 100e-6, 0)
    down = b.program([1], [1], -4.0, 100e-6, 0)
    assert up.resistance_after_ohm[0] > up.resistance_before_ohm[0]
    assert down.resistance_after_ohm[0] < down.resistance_before_ohm[0]
    assert up.resistance_after_ohm[0] == b.resistance_ohm[0, 0]


def test_pulses_on_one_device_in_one_call_are_read_in_sequence():
    b = sim(read_noise=0.0)
    result = b.program([2, 2, 2], [2, 2, 2], 4.0, 100e-6, 0)
    before, after = result.resistance_before_ohm, result.resistance_after_ohm
    np.testing.assert_array_equal(before[1:], after[:-1])
    assert np.all(np.diff(result.resistance_after_ohm) > 0)


def test_sim_accepts_params_and_limits_as_mappings_and_validates_them():
    b = SimMemristorBackend(params={"t_p_v": 1.2}, limits={"max_abs_voltage_v": 4.5})
    assert b.info()["kwargs"]["params"]["t_p_v"] == 1.2
    assert b.limits.max_abs_voltage_v == 4.5
    with pytest.raises(ConfigError, match="a0_p_ohm"):
        SimMemristorBackend(params={"bogus": 1.0})
    with pytest.raises(ConfigError, match="max_width_s"):
        SimMemristorBackend(limits={"max_width_s": -1.0})
    with pytest.raises(ConfigError, match="read_noise"):
        SimMemristorBackend(read_noise=2.0)


def test_sim_backend_is_seeded():
    a, b = sim(seed=9), sim(seed=9)
    np.testing.assert_array_equal(a.read_all(), b.read_all())


def test_template_backend_is_not_registered_and_its_primitives_are_unimplemented():
    assert "template" not in MEMRISTOR_BACKENDS.names()
    t = TemplateMemristorBackend()
    assert t.shape == (32, 32)
    with pytest.raises(NotImplementedError, match="pyarc2"):
        t.configure()


def test_unknown_backend_name_lists_the_registered_ones():
    with pytest.raises(UnknownBackendError, match="available: arc2, sim"):
        MEMRISTOR_BACKENDS.create("arc1")
