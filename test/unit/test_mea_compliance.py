"""The MEA compliance suite: every registered MEA backend (sim, replay, any later one).

A new backend gets every check here once it is registered and has a case (construction
arguments) in :mod:`neurohybrid.testing.backends`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from neurohybrid.core.device import SAFE_STATE_REASON, InputRefused
from neurohybrid.core.events import SpikeEvents
from neurohybrid.mea import MEA_BACKENDS, MEABackend
from neurohybrid.testing import backends
from neurohybrid.testing.mock import mock_stimulus

DEVICE_KIND = "mea"
"""The kind this suite checks (the fixtures ``case``, ``device`` come from conftest.py)."""


def _play(b: MEABackend, seconds: float, step_s: float = 0.01) -> SpikeEvents:
    return SpikeEvents.concat([b.advance(step_s) for _ in range(int(round(seconds / step_s)))])


def test_every_registered_backend_has_a_case() -> None:
    assert backends.missing_cases("mea") == [], "add construction arguments to neurohybrid.testing.backends.CASES"
    assert {"sim", "replay"} <= set(MEA_BACKENDS.names())


def test_registry_creates_the_backend_by_name(case) -> None:
    b = backends.create("mea", *case)
    assert isinstance(b, MEABackend) and b.name == case[0] and b.kind == "mea" and b.state == "unconfigured"


def test_info_keeps_construction_kwargs_layout_and_limits(case, device: MEABackend) -> None:
    name, kwargs = case
    info = device.info()
    assert info["backend"] == name and info["device_kind"] == "mea"
    assert {k: info["kwargs"][k] for k in kwargs} == kwargs
    assert info["n_channels"] == device.layout.n_channels == len(info["labels"])
    assert info["limits"] == device.limits.to_dict()


def test_advance_returns_electrode_events_in_the_device_clock(device: MEABackend) -> None:
    events = _play(device, backends.EVENTS_WITHIN_S)
    assert isinstance(events, SpikeEvents) and len(events) > 0
    assert np.all(events.source_id < device.layout.n_channels)
    assert np.all(np.isin(events.kind, backends.MEA_EVENT_KINDS))
    assert np.all((events.time_ns >= 0) & (events.time_ns <= device.now_ns))
    assert device.now_ns == pytest.approx(backends.EVENTS_WITHIN_S * 1e9, abs=1_000_000)


def test_stimulation_is_delivered_and_guarded_or_refused_whole_as_declared(device: MEABackend) -> None:
    if device.accepts_input:
        verdict = device.stimulate(mock_stimulus(2, amplitude_ua=10.0))
        assert verdict.n_accepted == 2 and device.delivered_total == 2
        verdict = device.stimulate(mock_stimulus(1, amplitude_ua=80.0))
        assert verdict.n_refused == 1 and "amplitude_ua=80.0" in verdict.reasons[0]
        assert device.refused_total == 1
    else:
        with pytest.raises(InputRefused, match=re.escape(device.input_refusal)) as refused:
            device.stimulate(mock_stimulus(3))
        assert refused.value.count == 3
        assert device.refused_total == 3 and device.delivered_total == 0


def test_stimulation_before_arm_is_refused_whole(case) -> None:
    b = backends.create("mea", *case)
    b.configure()
    reason = SAFE_STATE_REASON if b.accepts_input else b.input_refusal
    with pytest.raises(InputRefused, match=re.escape(reason)):
        b.stimulate(mock_stimulus(2))
    assert b.refused_total == 2 and b.delivered_total == 0


def test_safe_state_drops_queued_stimuli_and_disarms(device: MEABackend) -> None:
    if device.accepts_input:
        later = mock_stimulus(2)
        device.stimulate(type(later)(**{**later.__dict__, "time_ns": later.time_ns + device.now_ns + 10**9}))
    assert device.safe_state() == (2 if device.accepts_input else 0)
    assert not device.armed
    with pytest.raises(InputRefused):
        device.stimulate(mock_stimulus(1))


def test_reconfigure_restarts_the_device_clock(device: MEABackend) -> None:
    device.advance(0.05)
    device.shutdown()
    device.configure()
    assert device.now_ns == 0 and device.state == "safe"


def test_a_backend_taking_stimulation_implements_delivery(device: MEABackend) -> None:
    assert (type(device)._stimulate is not MEABackend._stimulate) == device.accepts_input
