"""The memristor compliance suite: every registered memristor backend (sim, any later one).

A new backend gets every check here once it is registered and has a case (construction
arguments) in :mod:`neurohybrid.testing.backends`.
"""

import re

import numpy as np
import pytest

from neurohybrid.core.device import SAFE_STATE_REASON, InputRefused
from neurohybrid.core.errors import DeviceError
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS, MemristorBackend
from neurohybrid.testing import backends

S = 1_000_000_000
DEVICE_KIND = "memristor"
"""The kind this suite checks (the fixtures ``case``, ``device`` come from conftest.py)."""


def test_every_registered_backend_has_a_case():
    assert backends.missing_cases("memristor") == [], "add construction arguments to neurohybrid.testing.backends.CASES"


def test_registry_creates_the_backend_by_name(case):
    name, kwargs = case
    b = MEMRISTOR_BACKENDS.create(name, **kwargs)
    assert isinstance(b, MemristorBackend) and b.name == name and b.kind == "memristor"


def test_reading_before_configure_raises_device_error(case):
    b = backends.create("memristor", *case)
    with pytest.raises(DeviceError, match="configure"):
        b.read([0], [0])


def test_read_returns_positive_resistances_for_the_addresses(device):
    r = device.read([0, 1], [0, 1])
    assert r.shape == (2,) and (r > 0).all()
    assert device.read_all().shape == device.shape


def test_read_rejects_out_of_range_addresses_naming_the_line(device):
    with pytest.raises(ValueError, match=f"wordline {device.shape[0]} outside allowed range"):
        device.read([device.shape[0]], [0])


def test_accepted_pulse_is_read_before_and_after(device):
    result = device.program([0], [0], 4.0, 100e-6, 0)
    assert result.accepted.all() and result.reasons == []
    assert np.isfinite(result.resistance_before_ohm).all()
    assert np.isfinite(result.resistance_after_ohm).all()
    assert device.delivered_total == 1


def test_out_of_limit_pulse_is_refused_whole_with_nan_readings(device):
    result = device.program([0, 1], [0, 1], [4.0, 12.0], 100e-6, 0)
    np.testing.assert_array_equal(result.accepted, [True, False])
    assert np.isnan(result.resistance_before_ohm[1])
    assert np.isnan(result.resistance_after_ohm[1])
    assert "max_abs_voltage_v" in result.reasons[0]
    np.testing.assert_array_equal(result.refused_index, [1])
    assert device.refused_total == 1


def test_configured_backend_refuses_programming_until_armed(case):
    b = backends.create("memristor", *case)
    b.configure()
    assert b.read([0], [0]).shape == (1,)  # reads work in the safe state
    with pytest.raises(InputRefused, match=re.escape(SAFE_STATE_REASON)):
        b.program([0], [0], 4.0, 100e-6, 0)
    assert b.refused_total == 1 and b.delivered_total == 0


def test_safe_state_refuses_every_pulse_until_armed(device):
    device.safe_state()
    with pytest.raises(InputRefused, match=re.escape(SAFE_STATE_REASON)) as refused:
        device.program([0, 1], [0, 1], 4.0, 100e-6, 0)
    assert refused.value.count == 2 and device.refused_total == 2
    device.arm()
    assert device.program([0], [0], 4.0, 100e-6, S).accepted.all()


def test_info_keeps_construction_arguments_and_counters(case, device):
    name, kwargs = case
    info = device.info()
    assert info["backend"] == name and info["device_kind"] == "memristor"
    assert "limits" in info["kwargs"] and {k: info["kwargs"][k] for k in kwargs} == kwargs
    assert info["shape"] == device.shape and "refused_total" in info


def test_closed_backend_refuses_reads(device):
    device.shutdown()
    with pytest.raises(DeviceError):
        device.read_all()
