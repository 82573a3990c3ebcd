"""Board backends: the sim backend's own behaviour, the registry, the template recipe.

The checks every registered backend must pass are the compliance suite
(``test_board_compliance.py``).
"""

import numpy as np
import pytest

from neurohybrid.board import BOARD_BACKENDS, BoardBackend, DPISynapseParams, SimBoardBackend
from neurohybrid.board.template import TemplateBoardBackend
from neurohybrid.core.errors import UnknownBackendError


@pytest.fixture
def backend() -> BoardBackend:
    """The sim backend without background activity and with a strong synapse."""
    b = BOARD_BACKENDS.create("sim", cores_per_chip=1, neurons_per_core=8, background_rate_hz=0.0, mismatch=0.0,
                              synapse=DPISynapseParams(base_weight_a=20e-9))
    b.configure()
    b.arm()
    yield b
    b.shutdown()


def test_delivered_event_fires_its_neuron_at_its_time(backend: BoardBackend) -> None:
    backend.deliver(np.array([5]), np.array([12_000_000]), np.array([1.0]))
    first = backend.advance(0.01)
    assert len(first) == 0
    second = backend.advance(0.02)
    assert second.source_id.tolist() == [5]
    assert 12_000_000 < second.time_ns[0] < 20_000_000


def test_safe_state_prevents_queued_stimulation(backend: BoardBackend) -> None:
    backend.deliver(np.array([5]), np.array([12_000_000]), np.array([1.0]))
    backend.safe_state()
    assert len(backend.advance(0.03)) == 0


def test_info_records_dataclass_kwargs_as_plain_data(backend: BoardBackend) -> None:
    assert backend.info()["kwargs"]["synapse"]["base_weight_a"] == 20e-9


def test_sim_info_keeps_exactly_the_construction_kwargs() -> None:
    kwargs = {"cores_per_chip": 1, "neurons_per_core": 64, "seed": 3}
    assert set(BOARD_BACKENDS.create("sim", **kwargs).info()["kwargs"]) == set(kwargs)


def test_past_events_are_counted_late(backend: SimBoardBackend) -> None:
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
    for method in ("_shutdown", "_safe_state"):
        with pytest.raises(NotImplementedError):
            getattr(backend, method)()
