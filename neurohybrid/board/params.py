"""The board node's parameters (from the specs the board cores declare) and what they build."""

from __future__ import annotations

from typing import Any, Mapping

from neurohybrid.board.backend import BOARD_BACKENDS, BoardBackend
from neurohybrid.board.board import SIM_PARAMS
from neurohybrid.board.delivery import DELIVERY_PARAMS, DeliveryPolicy
from neurohybrid.board.drive import DRIVE_PARAMS, NO_NEURON, Drive, PhaseProtocol
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.node_params import DEVICE_NODE_PARAMS, NODE_PARAMS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.io.replay import REPLAY_PARAMS

DEFAULT_LAB = "zurich"
QUIET_PARAMS = ParamSet("board sim backend, experiment neurons", [
    ParamSpec("quiet_neurons", [NO_NEURON], "neurons without background input ([-1]: none)", "",
              Bounds(NO_NEURON, 2**31 - 1, integer=True)),
])


def board_params() -> ParamSet:
    """Every parameter of the board node, in the order it declares them."""
    backend = ParamSet("board backend", [ParamSpec("backend", "sim", "board backend",
                                                   choices=tuple(BOARD_BACKENDS.names()))])
    return NODE_PARAMS.join("board node (Zurich): board_node", DEVICE_NODE_PARAMS.with_defaults(lab=DEFAULT_LAB),
                            backend, SIM_PARAMS, QUIET_PARAMS, DELIVERY_PARAMS, DRIVE_PARAMS, REPLAY_PARAMS)


def _neurons(ids: list[int]) -> tuple[int, ...]:
    return tuple(n for n in ids if n != NO_NEURON)


def board_backend(values: Mapping[str, Any]) -> BoardBackend:
    """The backend the node's parameter ``values`` (checked against :func:`board_params`) describe."""
    values = board_params().check(values)
    name = values["backend"]
    driven = _neurons(values["drive_neurons"])
    if name == "replay":
        if driven:
            raise ConfigError(f"drive_neurons={list(driven)!r}: a replayed board cannot be driven; allowed: [-1]")
        return BOARD_BACKENDS.create("replay", **{key: values[key] for key in REPLAY_PARAMS})
    if name == "sim":
        return BOARD_BACKENDS.create("sim", quiet_neurons=_neurons(values["quiet_neurons"]),
                                     **{key: values[key] for key in SIM_PARAMS})
    return BOARD_BACKENDS.create(name)


def board_drive(values: Mapping[str, Any]) -> Drive:
    """The drive protocol of the node's parameter ``values`` (seeded apart from the board)."""
    values = board_params().check(values)
    protocol = PhaseProtocol(list(_neurons(values["drive_neurons"])), values["drive_phase_s"],
                             values["drive_rate_hz"], seed=values["seed"] + 1)
    return Drive(protocol, values["drive_weight"])


def delivery_policy(values: Mapping[str, Any]) -> DeliveryPolicy:
    """The late/stale input policy of the node's parameter ``values``."""
    values = board_params().check(values)
    return DeliveryPolicy(values["late_policy"], values["stale_input_s"])
