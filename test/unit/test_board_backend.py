"""Board backends: the shared compliance suite, the sim backend, the template, ROS-free core.

A new backend gets every interface check by a three-line subclass of
:class:`BoardBackendCompliance` naming the backend and its kwargs.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neurohybrid.board import BOARD_BACKENDS, BoardBackend, DPISynapseParams, SimBoardBackend
from neurohybrid.board.template import TemplateBoardBackend
from neurohybrid.errors import DeviceError, UnknownBackendError
from neurohybrid.events import KIND_SILICON_SPIKE, SpikeEvents

REPO_ROOT = Path(__file__).resolve().parents[2]


class BoardBackendCompliance:
    """Interface checks every registered board backend must pass."""

    backend_name: str = ""
    kwargs: dict[str, Any] = {}

    @pytest.fixture
    def backend(self) -> BoardBackend:
        backend = BOARD_BACKENDS.create(self.backend_name, **self.kwargs)
        backend.configure()
        yield backend
        backend.close()

    def test_registry_creates_the_backend_by_name(self) -> None:
        assert self.backend_name in BOARD_BACKENDS.names()
        assert isinstance(BOARD_BACKENDS.create(self.backend_name, **self.kwargs), BoardBackend)

    def test_info_keeps_construction_kwargs_for_provenance(self, backend: BoardBackend) -> None:
        info = backend.info()
        assert info["backend"] == self.backend_name
        assert set(info["kwargs"]) == set(self.kwargs)
        assert info["device_kind"] == "board"

    def test_advance_returns_silicon_spikes_in_device_clock(self, backend: BoardBackend) -> None:
        start = backend.now_ns
        events = backend.advance(0.05)
        assert isinstance(events, SpikeEvents)
        assert np.all(events.kind == KIND_SILICON_SPIKE)
        assert np.all(events.source_id < backend.n_neurons)
        assert np.all((events.time_ns >= start) & (events.time_ns < backend.now_ns))
        assert np.all(np.diff(events.time_ns) >= 0)
        assert backend.now_ns - start == pytest.approx(50_000_000, abs=1_000_000)

    def test_deliver_counts_accepted_events(self, backend: BoardBackend) -> None:
        backend.deliver(np.array([0, 1]), np.array([backend.now_ns] * 2), np.array([0.0, 1.0]))
        backend.deliver(np.array([], np.int64), np.array([], np.int64), np.array([]))
        assert backend.delivered_total == 2

    def test_unknown_neuron_id_is_refused_naming_id_and_range(self, backend: BoardBackend) -> None:
        n = backend.n_neurons
        with pytest.raises(ValueError, match=rf"neuron id {n} outside allowed \[0, {n - 1}\]"):
            backend.deliver(np.array([0, n]), np.array([0, 0]), np.array([0.5, 0.5]))
        with pytest.raises(ValueError, match=r"neuron id -1 outside"):
            backend.deliver(np.array([-1]), np.array([0]), np.array([0.5]))
        assert backend.delivered_total == 0

    @pytest.mark.parametrize("weight", [-0.01, 1.01, float("nan"), float("inf")])
    def test_weight_outside_unit_interval_or_nan_is_refused(self, backend: BoardBackend,
                                                           weight: float) -> None:
        with pytest.raises(ValueError, match=r"weight .* outside allowed \[0, 1\]"):
            backend.deliver(np.array([0, 1]), np.array([0, 0]), np.array([0.5, weight]))
        assert backend.delivered_total == 0

    def test_malformed_batches_are_refused(self, backend: BoardBackend) -> None:
        with pytest.raises(ValueError, match="differ in length"):
            backend.deliver(np.array([0, 1]), np.array([0]), np.array([0.5, 0.5]))
        with pytest.raises(ValueError, match="integer"):
            backend.deliver(np.array([0.5]), np.array([0]), np.array([0.5]))
        with pytest.raises(ValueError, match="1-D"):
            backend.deliver(np.zeros((1, 1), int), np.zeros((1, 1), int), np.zeros((1, 1)))

    @pytest.mark.parametrize("duration", [0.0, -0.1, float("nan"), 1e6])
    def test_bad_durations_are_refused(self, backend: BoardBackend, duration: float) -> None:
        with pytest.raises(ValueError, match="duration_s"):
            backend.advance(duration)

    def test_streaming_needs_configure(self) -> None:
        backend = BOARD_BACKENDS.create(self.backend_name, **self.kwargs)
        with pytest.raises(DeviceError, match="configure"):
            backend.advance(0.01)
        with pytest.raises(DeviceError, match="configure"):
            backend.deliver(np.array([0]), np.array([0]), np.array([0.5]))
        backend.configure()
        backend.close()
        with pytest.raises(DeviceError, match="closed"):
            backend.advance(0.01)

    def test_safe_state_drops_queued_input(self, backend: BoardBackend) -> None:
        later = backend.now_ns + 1_000_000_000
        backend.deliver(np.array([0, 1, 2]), np.array([later] * 3), np.array([1.0] * 3))
        backend.safe_state()
        assert backend.dropped_total == 3


class TestSimBoardBackend(BoardBackendCompliance):
    backend_name = "sim"
    kwargs = {"cores_per_chip": 1, "neurons_per_core": 64, "seed": 3}


class TestQuietSimBoardBackend(BoardBackendCompliance):
    """The sim backend without background activity and with a strong synapse."""

    backend_name = "sim"
    kwargs = {"cores_per_chip": 1, "neurons_per_core": 8, "background_rate_hz": 0.0,
              "mismatch": 0.0, "synapse": DPISynapseParams(base_weight_a=20e-9)}

    def test_delivered_event_fires_its_neuron_at_its_time(self, backend: BoardBackend) -> None:
        backend.deliver(np.array([5]), np.array([12_000_000]), np.array([1.0]))
        first = backend.advance(0.01)
        assert len(first) == 0
        second = backend.advance(0.02)
        assert second.source_id.tolist() == [5]
        assert 12_000_000 < second.time_ns[0] < 20_000_000

    def test_safe_state_prevents_queued_stimulation(self, backend: BoardBackend) -> None:
        backend.deliver(np.array([5]), np.array([12_000_000]), np.array([1.0]))
        backend.safe_state()
        assert len(backend.advance(0.03)) == 0

    def test_info_records_dataclass_kwargs_as_plain_data(self, backend: BoardBackend) -> None:
        assert backend.info()["kwargs"]["synapse"]["base_weight_a"] == 20e-9

    def test_reconfigure_restarts_the_device_clock(self, backend: BoardBackend) -> None:
        backend.advance(0.01)
        assert backend.now_ns == 10_000_000
        backend.close()
        backend.configure()
        assert backend.now_ns == 0

    def test_past_events_are_counted_late(self, backend: SimBoardBackend) -> None:
        backend.advance(0.01)
        backend.deliver(np.array([1]), np.array([1_000_000]), np.array([1.0]))
        assert backend.late_total == 1
        events = backend.advance(0.01)
        assert events.source_id.tolist() == [1]


def test_sim_backend_rejects_bad_kwargs_at_construction() -> None:
    with pytest.raises(ValueError, match="n_chips="):
        BOARD_BACKENDS.create("sim", n_chips=0)


def test_unknown_backend_name_lists_the_available_ones() -> None:
    with pytest.raises(UnknownBackendError, match="available: .*sim"):
        BOARD_BACKENDS.create("dynapse9")


def test_template_backend_is_a_recipe_not_a_registered_backend() -> None:
    assert "template" not in BOARD_BACKENDS.names()
    backend = TemplateBoardBackend(device_index=0)
    assert backend.info()["kwargs"] == {"device_index": 0}
    with pytest.raises(NotImplementedError):
        backend.configure()
    with pytest.raises(NotImplementedError):
        _ = backend.n_neurons
    for method in ("_close", "_safe_state"):
        with pytest.raises(NotImplementedError):
            getattr(backend, method)()


def test_board_core_imports_without_rclpy() -> None:
    code = (
        "import sys; sys.modules['rclpy'] = None\n"
        "import neurohybrid.board, neurohybrid.board.template\n"
        "b = neurohybrid.board.BOARD_BACKENDS.create('sim', cores_per_chip=1)\n"
        "b.configure(); b.advance(0.001)\n"
        "assert 'rclpy' not in {m for m in sys.modules if sys.modules[m] is not None}\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
