"""The board compliance suite: every registered board backend (sim, replay, any later one).

A new backend gets every check here once it is registered and has a case (construction
arguments) in :mod:`neurohybrid.testing.backends`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from neurohybrid.board import BOARD_BACKENDS, BoardBackend
from neurohybrid.core.device import SAFE_STATE_REASON, InputRefused
from neurohybrid.core.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.testing import backends

DEVICE_KIND = "board"
"""The kind this suite checks (the fixtures ``case``, ``device`` come from conftest.py)."""


def test_every_registered_backend_has_a_case() -> None:
    assert backends.missing_cases("board") == [], "add construction arguments to neurohybrid.testing.backends.CASES"
    assert {"sim", "replay"} <= set(BOARD_BACKENDS.names())


def test_registry_creates_the_backend_by_name(case) -> None:
    name, kwargs = case
    assert name in BOARD_BACKENDS.names()
    b = BOARD_BACKENDS.create(name, **kwargs)
    assert isinstance(b, BoardBackend) and b.name == name and b.kind == "board"


def test_info_keeps_construction_kwargs_for_provenance(case, device: BoardBackend) -> None:
    name, kwargs = case
    info = device.info()
    assert info["backend"] == name and info["device_kind"] == "board"
    assert {k: info["kwargs"][k] for k in kwargs} == kwargs
    assert info["class"].endswith(type(device).__qualname__)


def test_advance_returns_silicon_spikes_in_device_clock(device: BoardBackend) -> None:
    start = device.now_ns
    events = device.advance(0.05)
    assert isinstance(events, SpikeEvents)
    assert np.all(events.kind == KIND_SILICON_SPIKE)
    assert np.all(events.source_id < device.n_neurons)
    assert np.all((events.time_ns >= start) & (events.time_ns < device.now_ns))
    assert np.all(np.diff(events.time_ns) >= 0)
    assert device.now_ns - start == pytest.approx(50_000_000, abs=1_000_000)


def test_input_is_delivered_and_counted_or_refused_whole_as_declared(device: BoardBackend) -> None:
    ids, times, weights = np.array([0, 1]), np.array([device.now_ns] * 2), np.array([0.0, 1.0])
    if device.accepts_input:
        device.deliver(ids, times, weights)
        assert device.delivered_total == 2
    else:
        with pytest.raises(InputRefused, match=re.escape(device.input_refusal)) as refused:
            device.deliver(ids, times, weights)
        assert refused.value.count == 2
        assert device.refused_total == 2 and device.delivered_total == 0
    device.deliver(np.array([], np.int64), np.array([], np.int64), np.array([]))


def test_input_before_arm_is_refused_whole(case) -> None:
    b = backends.create("board", *case)
    b.configure()
    reason = SAFE_STATE_REASON if b.accepts_input else b.input_refusal
    with pytest.raises(InputRefused, match=re.escape(reason)):
        b.deliver(np.array([0]), np.array([0]), np.array([0.5]))
    assert b.refused_total == 1 and b.delivered_total == 0


def test_unknown_neuron_id_is_refused_naming_id_and_range(device: BoardBackend) -> None:
    n = device.n_neurons
    with pytest.raises(ValueError, match=rf"neuron id {n} outside allowed \[0, {n - 1}\]"):
        device.deliver(np.array([0, n]), np.array([0, 0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"neuron id -1 outside"):
        device.deliver(np.array([-1]), np.array([0]), np.array([0.5]))
    assert device.delivered_total == 0


@pytest.mark.parametrize("weight", [-0.01, 1.01, float("nan"), float("inf")])
def test_weight_outside_unit_interval_or_nan_is_refused(device: BoardBackend, weight: float) -> None:
    with pytest.raises(ValueError, match=r"weight .* outside allowed \[0, 1\]"):
        device.deliver(np.array([0, 1]), np.array([0, 0]), np.array([0.5, weight]))
    assert device.delivered_total == 0


def test_malformed_batches_are_refused(device: BoardBackend) -> None:
    with pytest.raises(ValueError, match="differ in length"):
        device.deliver(np.array([0, 1]), np.array([0]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match="integer"):
        device.deliver(np.array([0.5]), np.array([0]), np.array([0.5]))
    with pytest.raises(ValueError, match="1-D"):
        device.deliver(np.zeros((1, 1), int), np.zeros((1, 1), int), np.zeros((1, 1)))


def test_safe_state_drops_queued_input(device: BoardBackend) -> None:
    later = device.now_ns + 1_000_000_000
    if device.accepts_input:
        device.deliver(np.array([0, 1, 2]), np.array([later] * 3), np.array([1.0] * 3))
    assert device.safe_state() == (3 if device.accepts_input else 0)
    assert device.dropped_total == (3 if device.accepts_input else 0)
    assert not device.armed


def test_reconfigure_restarts_the_device_clock(device: BoardBackend) -> None:
    device.advance(0.01)
    assert device.now_ns == 10_000_000
    device.shutdown()
    device.configure()
    assert device.now_ns == 0


def test_a_backend_taking_input_implements_delivery(device: BoardBackend) -> None:
    assert (type(device)._deliver is not BoardBackend._deliver) == device.accepts_input
