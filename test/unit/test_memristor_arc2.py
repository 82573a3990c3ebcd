"""The ArC TWO backend (arc2) against a recording double of pyarc2, checked against the real pyarc2.

The double (:mod:`neurohybrid.testing.arc2_double`) must have the parameters of the installed
``pyarc2`` for every call the backend makes, so an API change of pyarc2 fails here; the
compliance suite (test_memristor_compliance.py) runs on the same case.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import pyarc2
from neurohybrid.core.errors import ConfigError, DeviceError
from neurohybrid.memristor import MEMRISTOR_BACKENDS
from neurohybrid.memristor.arc2 import bitline_channel, wordline_channel
from neurohybrid.testing import arc2_double

S = 1_000_000_000
METHODS = ("read_one", "read_slice", "read_all", "pulse_one", "ground_all", "float_all", "execute", "wait")


def _params(fn) -> list[str]:
    return [p.name for p in inspect.signature(fn).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("method", METHODS + ("__init__",))
def test_double_has_the_parameters_of_the_installed_pyarc2(method):
    assert _params(getattr(arc2_double.Instrument, method)) == _params(getattr(pyarc2.Instrument, method))


def test_double_find_ids_and_bias_order_match_pyarc2():
    assert _params(arc2_double.find_ids) == _params(pyarc2.find_ids) == []
    assert hasattr(pyarc2.BiasOrder, "Rows") and hasattr(pyarc2.BiasOrder, "Cols")


@pytest.fixture
def fw(tmp_path):
    path = tmp_path / "fw.bin"
    path.write_bytes(b"")
    return str(path)


@pytest.fixture
def arc(fw):
    b = MEMRISTOR_BACKENDS.create("arc2", driver="neurohybrid.testing.arc2_double", firmware=fw)
    b.configure()
    b.arm()
    yield b, arc2_double.INSTANCES[-1]
    b.shutdown()


def test_configure_with_the_real_pyarc2_and_no_instrument_names_what_it_looked_for(fw):
    assert pyarc2.find_ids() == []
    b = MEMRISTOR_BACKENDS.create("arc2", firmware=fw)
    with pytest.raises(DeviceError, match=r"no ArC TWO found: pyarc2\.find_ids\(\) returned no instrument"):
        b.configure()
    assert not b.configured


def test_instrument_index_beyond_the_found_ids_is_refused(fw, monkeypatch):
    monkeypatch.setattr(arc2_double, "IDS", [7])
    b = MEMRISTOR_BACKENDS.create("arc2", driver="neurohybrid.testing.arc2_double", firmware=fw,
                                  instrument_index=1)
    with pytest.raises(DeviceError, match=r"instrument_index=1 outside allowed \[0, 0\]"):
        b.configure()


def test_configure_opens_the_found_instrument_with_the_firmware_and_grounds_everything(arc, fw):
    _, inst = arc
    assert inst.calls[:4] == [("__init__", (0, fw, True)), ("ground_all", ()), ("execute", ()), ("wait", ())]


def test_missing_firmware_is_a_config_error_naming_the_key(tmp_path):
    b = MEMRISTOR_BACKENDS.create("arc2", driver="neurohybrid.testing.arc2_double",
                                  firmware=str(tmp_path / "none.bin"))
    with pytest.raises(ConfigError, match="firmware="):
        b.configure()


@pytest.mark.parametrize("key, value, match", [
    ("read_voltage_v", 1.5, "read_voltage_v"), ("read_voltage_v", 0.0, "read_voltage_v"),
    ("idle", "open", "idle"), ("polarity", "up", "polarity"), ("instrument_index", -1, "instrument_index"),
])
def test_bad_settings_are_refused_at_construction(key, value, match):
    with pytest.raises(ConfigError, match=match):
        MEMRISTOR_BACKENDS.create("arc2", **{key: value})


def test_a_non_standard_array_shape_is_refused():
    with pytest.raises(ConfigError, match="n_wordlines, n_bitlines = 16, 32"):
        MEMRISTOR_BACKENDS.create("arc2", n_wordlines=16)


def test_single_reads_use_read_one_on_the_standard_channels(arc):
    b, inst = arc
    inst.calls.clear()
    r = b.read([0, 20], [3, 17])
    np.testing.assert_allclose(r, arc2_double.RESISTANCE_OHM[[0, 20], [3, 17]], rtol=1e-6)
    assert inst.calls == [("read_one", (19, 0, 0.2)), ("read_one", (49, 36, 0.2))]


def test_reads_along_one_word_line_use_read_slice(arc):
    b, inst = arc
    inst.calls.clear()
    r = b.read([5, 5, 5], [0, 16, 31])
    np.testing.assert_allclose(r, arc2_double.RESISTANCE_OHM[5, [0, 16, 31]], rtol=1e-6)
    assert inst.calls == [("read_slice", (5, 0.2))]


def test_whole_array_read_uses_read_all_by_rows(arc):
    b, inst = arc
    inst.calls.clear()
    np.testing.assert_allclose(b.read_all(), arc2_double.RESISTANCE_OHM, rtol=1e-6)
    assert inst.calls == [("read_all", (0.2, arc2_double.BiasOrder.Rows))]


def test_channel_map_covers_the_64_channels_once():
    channels = np.concatenate([wordline_channel(np.arange(32)), bitline_channel(np.arange(32))])
    assert sorted(channels.tolist()) == list(range(64))


def test_pulse_is_pulse_one_in_nanoseconds_between_grounded_channels(arc):
    b, inst = arc
    inst.calls.clear()
    result = b.program([2], [18], -3.5, 100e-6, 0)
    assert result.accepted.all()
    pulses = [c for c in inst.calls if c[0] != "read_one"]
    assert pulses == [("ground_all", ()), ("pulse_one", (50, 2, -3.5, 100_000)), ("ground_all", ()),
                      ("execute", ()), ("wait", ())]


def test_float_idle_and_swapped_polarity(fw):
    b = MEMRISTOR_BACKENDS.create("arc2", driver="neurohybrid.testing.arc2_double", firmware=fw,
                                  idle="float", polarity="bitline_high")
    b.configure()
    b.arm()
    inst = arc2_double.INSTANCES[-1]
    inst.calls.clear()
    b.program([2], [18], 2.0, 1e-6, 0)
    assert [c for c in inst.calls if c[0] in ("float_all", "ground_all", "pulse_one")] == [
        ("float_all", ()), ("pulse_one", (2, 50, 2.0, 1000)), ("float_all", ())]
    b.shutdown()


def test_out_of_limit_pulses_never_reach_the_instrument(arc):
    b, inst = arc
    inst.calls.clear()
    result = b.program([0, 1, 2], [0, 1, 2], [6.0, 1.0, 1.0], [1e-4, 5e-3, 1e-4], 0)
    np.testing.assert_array_equal(result.accepted, [False, False, True])
    assert [c[1][:2] for c in inst.calls if c[0] == "pulse_one"] == [(18, 2)]
    assert "max_abs_voltage_v" in result.reasons[0] and "max_width_s" in result.reasons[1]


def test_programming_while_safe_touches_no_channel_and_deactivate_grounds(arc):
    b, inst = arc
    inst.calls.clear()
    b.safe_state()
    assert inst.calls == [("ground_all", ()), ("execute", ()), ("wait", ())]
    with pytest.raises(Exception, match="safe_state"):
        b.program([0], [0], 1.0, 1e-4, S)
    assert not any(c[0] == "pulse_one" for c in inst.calls)


def test_an_open_device_is_a_device_error(arc, monkeypatch):
    b, _ = arc
    monkeypatch.setattr(arc2_double, "RESISTANCE_OHM", np.full((32, 32), np.inf))
    with pytest.raises(DeviceError, match="zero or non-finite current"):
        b.read([0], [0])


def test_hub_builds_the_arc2_backend_from_its_node_parameters(tmp_path, fw):
    from neurohybrid.hub.params import hub_session

    conn = tmp_path / "c.yaml"
    conn.write_text("labs: {padova: mea, zurich: board}\nsynapses:\n  - 'zurich:0 -> padova:24 @ (0, 0)'\n")
    values = {"connectivity_file": str(conn), "memristor_backend": "arc2", "arc2.firmware": fw}
    with pytest.raises(DeviceError, match="no ArC TWO found"):
        hub_session(values)
    session = hub_session({**values, "arc2.driver": "neurohybrid.testing.arc2_double", "arc2.idle": "float"})
    assert session.hub.memristor.info()["kwargs"]["idle"] == "float"
