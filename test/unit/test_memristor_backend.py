"""Memristor backends: a shared compliance suite, the "sim" twin, the template, the registry.

A new backend gets every interface check by subclassing :class:`MemristorBackendCompliance`
and naming its registry name and construction arguments.
"""

import numpy as np
import pytest

from neurohybrid.errors import ConfigError, DeviceError, UnknownBackendError
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS, SAFE_STATE_REASON
from neurohybrid.memristor.sim import SimMemristorBackend
from neurohybrid.memristor.template import TemplateMemristorBackend

S = 1_000_000_000


class MemristorBackendCompliance:
    """Interface checks every memristor backend must pass."""

    backend_name: str
    kwargs: dict = {}

    @pytest.fixture
    def backend(self):
        b = MEMRISTOR_BACKENDS.create(self.backend_name, **self.kwargs)
        b.configure()
        yield b
        b.close()

    def test_reading_before_configure_raises_device_error(self):
        b = MEMRISTOR_BACKENDS.create(self.backend_name, **self.kwargs)
        with pytest.raises(DeviceError, match="configure"):
            b.read([0], [0])

    def test_read_returns_positive_resistances_for_the_addresses(self, backend):
        r = backend.read([0, 1], [0, 1])
        assert r.shape == (2,) and (r > 0).all()
        assert backend.read_all().shape == backend.shape

    def test_read_rejects_out_of_range_addresses_naming_the_line(self, backend):
        with pytest.raises(ValueError, match=f"wordline {backend.shape[0]} outside allowed range"):
            backend.read([backend.shape[0]], [0])

    def test_accepted_pulse_is_read_before_and_after(self, backend):
        result = backend.program([0], [0], 4.0, 100e-6, 0)
        assert result.accepted.all() and result.reasons == []
        assert np.isfinite(result.resistance_before_ohm).all()
        assert np.isfinite(result.resistance_after_ohm).all()
        assert backend.programmed_total == 1

    def test_out_of_limit_pulse_is_refused_whole_with_nan_readings(self, backend):
        result = backend.program([0, 1], [0, 1], [4.0, 12.0], 100e-6, 0)
        np.testing.assert_array_equal(result.accepted, [True, False])
        assert np.isnan(result.resistance_before_ohm[1])
        assert np.isnan(result.resistance_after_ohm[1])
        assert "max_abs_voltage_v" in result.reasons[0]
        np.testing.assert_array_equal(result.refused_index, [1])
        assert backend.refused_total == 1

    def test_safe_state_refuses_every_pulse_until_armed(self, backend):
        backend.safe_state()
        result = backend.program([0], [0], 4.0, 100e-6, 0)
        assert not result.accepted.any() and SAFE_STATE_REASON in result.reasons[0]
        backend.arm()
        assert backend.program([0], [0], 4.0, 100e-6, S).accepted.all()

    def test_info_keeps_construction_arguments_and_counters(self, backend):
        info = backend.info()
        assert info["backend"] == self.backend_name
        assert "limits" in info["kwargs"]
        assert info["shape"] == backend.shape and "refused_total" in info

    def test_closed_backend_refuses_reads(self, backend):
        backend.close()
        with pytest.raises(DeviceError):
            backend.read_all()


class TestSimBackend(MemristorBackendCompliance):
    backend_name = "sim"
    kwargs = {"seed": 1}


def sim(**kwargs) -> SimMemristorBackend:
    b = SimMemristorBackend(**kwargs)
    b.configure()
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
    with pytest.raises(UnknownBackendError, match="available: sim"):
        MEMRISTOR_BACKENDS.create("arc1")
