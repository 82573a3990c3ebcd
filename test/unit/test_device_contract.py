"""The device contract, the same for every kind and every backend (registered ones and templates).

Lifecycle words and states, provenance ``info()`` with one shape, input refused whole in one
declared way. The kind-specific checks are the compliance suites (``test_<kind>_compliance.py``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from neurohybrid.board.template import TemplateBoardBackend
from neurohybrid.core.device import (
    ARMED,
    SAFE,
    SAFE_STATE_REASON,
    SHUT_DOWN,
    UNCONFIGURED,
    DeviceBackend,
    InputRefused,
    StreamingBackend,
)
from neurohybrid.core.errors import DeviceError
from neurohybrid.mea import StimulationLimits, mcs60_layout
from neurohybrid.mea.template import TemplateMEABackend
from neurohybrid.memristor.template import TemplateMemristorBackend
from neurohybrid.testing import backends
from neurohybrid.testing.mock import mock_stimulus

ALL_CASES = [(kind, *case) for kind in backends.REGISTRIES for case in backends.cases(kind)]
STREAMING = [case for case in ALL_CASES if case[0] in ("mea", "board")]
COMMON_INFO = {"device_kind", "backend", "class", "kwargs", "state", "accepts_input", "delivered_total",
               "refused_total", "dropped_total"}
TEMPLATES = {
    "mea": lambda: TemplateMEABackend(mcs60_layout(), StimulationLimits(), device_id="MEA2100-1"),
    "board": lambda: TemplateBoardBackend(device_index=0),
    "memristor": lambda: TemplateMemristorBackend(instrument=0),
}


def feed(b: DeviceBackend) -> int:
    """Give ``b`` one small valid input through its kind's input call; returns the items given."""
    if b.kind == "mea":
        b.stimulate(mock_stimulus(2))
        return 2
    if b.kind == "board":
        b.deliver(np.array([0, 1]), np.array([0, 0]), np.array([0.5, 0.5]))
        return 2
    if b.kind == "robot":
        b.command(0.1, 0.0)
        return 1
    b.program([0], [0], 4.0, 100e-6, 0)
    return 1


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("device_cases")


@pytest.fixture(params=ALL_CASES, ids=[f"{c[0]}-{c[1]}" for c in ALL_CASES])
def make(request, folder):
    kind, _, name, arguments = request.param
    kwargs = arguments(folder)
    return lambda: backends.create(kind, name, kwargs)


def test_a_backend_is_a_device_of_its_registry_kind_and_name(make) -> None:
    b = make()
    assert isinstance(b, DeviceBackend)
    assert b.name in backends.REGISTRIES[b.kind].names()


def test_info_has_the_same_shape_for_every_backend(make) -> None:
    info = make().info()
    assert COMMON_INFO <= set(info)
    assert info["state"] == UNCONFIGURED and info["delivered_total"] == info["refused_total"] == 0


def test_lifecycle_walks_configure_arm_safe_state_shutdown_and_configures_again(make) -> None:
    b = make()
    seen = [b.state]
    b.configure()
    seen.append(b.state)
    b.arm()
    seen.append(b.state)
    b.safe_state()
    seen.append(b.state)
    b.arm()
    b.shutdown()
    seen.append(b.state)
    b.configure()
    seen.append(b.state)
    assert seen == [UNCONFIGURED, SAFE, ARMED, SAFE, SHUT_DOWN, SAFE]
    assert b.info()["state"] == SAFE
    b.shutdown()


@pytest.mark.parametrize("reach", ["unconfigured", "safe", "armed", "shut down"])
def test_shutdown_works_from_every_state(make, reach: str) -> None:
    b = make()
    steps = {"unconfigured": [], "safe": ["configure"], "armed": ["configure", "arm"],
             "shut down": ["configure", "shutdown"]}[reach]
    for step in steps:
        getattr(b, step)()
    b.shutdown()
    assert b.state == (UNCONFIGURED if reach == "unconfigured" else SHUT_DOWN)
    assert not b.configured and not b.armed


def test_input_is_refused_whole_unless_armed_with_the_declared_reason(make) -> None:
    b = make()
    b.configure()
    reason = SAFE_STATE_REASON if b.accepts_input else b.input_refusal
    with pytest.raises(InputRefused, match=re.escape(reason)) as refused:
        feed(b)
    assert refused.value.count == b.refused_total > 0
    b.arm()
    if b.accepts_input:
        assert feed(b) == b.delivered_total
    else:
        assert b.input_refusal
        with pytest.raises(InputRefused, match=re.escape(b.input_refusal)):
            feed(b)
        assert b.delivered_total == 0
    b.shutdown()


@pytest.fixture(params=STREAMING, ids=[f"{c[0]}-{c[1]}" for c in STREAMING])
def make_streaming(request, folder):
    kind, _, name, arguments = request.param
    kwargs = arguments(folder)
    return lambda: backends.create(kind, name, kwargs)


@pytest.mark.parametrize("duration", [0.0, -0.1, float("nan"), 1e6])
def test_a_streaming_device_refuses_durations_outside_0_to_120_s(make_streaming, duration: float) -> None:
    b = make_streaming()
    b.configure()
    with pytest.raises(ValueError, match=r"duration_s=.* outside allowed \(0, 120\]"):
        b.advance(duration)


def test_a_device_needs_configure_to_stream_or_take_input(make) -> None:
    b = make()
    with pytest.raises(DeviceError, match="state is 'unconfigured', call configure"):
        feed(b)
    if isinstance(b, StreamingBackend):
        with pytest.raises(DeviceError, match="configure"):
            b.advance(0.01)
    b.configure()
    b.shutdown()
    with pytest.raises(DeviceError, match="state is 'shut down'"):
        feed(b)


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_template_is_a_complete_unregistered_recipe(kind: str) -> None:
    b = TEMPLATES[kind]()
    assert b.kind == kind and b.name == "template"
    assert "template" not in backends.REGISTRIES[kind].names()
    info = b.info()
    assert COMMON_INFO <= set(info) and info["backend"] == "template" and info["state"] == UNCONFIGURED
    assert set(info["kwargs"]) >= ({"device_id"} if kind == "mea" else {"device_index"} if kind == "board"
                                   else {"instrument"})
    with pytest.raises(NotImplementedError):
        b.configure()
    assert b.state == UNCONFIGURED
    b.shutdown()
    assert b.state == UNCONFIGURED
