"""The MEA node's parameters (from the specs the MEA cores declare) and the backend they build."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from neurohybrid.core.node_params import DEVICE_NODE_PARAMS, NODE_PARAMS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.io.replay import REPLAY_PARAMS
from neurohybrid.mea.backend import MEA_BACKENDS, MEABackend
from neurohybrid.mea.layout import LAYOUT_PARAMS, make_layout
from neurohybrid.mea.lsl import LSL_PARAMS
from neurohybrid.mea.sim import SIM_PARAMS
from neurohybrid.mea.stimulation import LIMIT_PARAMS, StimulationLimits

DEFAULT_LAB = "padova"
LSL_NODE_PARAMS = ParamSet("MEA lsl backend (backend: lsl)", [replace(s, name=f"lsl.{s.name}") for s in LSL_PARAMS.values()])
"""The lsl backend's settings as the MEA node names them: ``lsl.<name>``."""


def mea_params() -> ParamSet:
    """Every parameter of the MEA node, in the order it declares them."""
    backend = ParamSet("MEA backend", [ParamSpec("backend", "sim", "MEA backend", choices=tuple(MEA_BACKENDS.names()))])
    return NODE_PARAMS.join("MEA node (Padova): mea_node", DEVICE_NODE_PARAMS.with_defaults(lab=DEFAULT_LAB), backend,
                            LAYOUT_PARAMS, LIMIT_PARAMS, SIM_PARAMS, REPLAY_PARAMS, LSL_NODE_PARAMS)


def mea_backend(values: Mapping[str, Any]) -> MEABackend:
    """The backend the node's parameter ``values`` (checked against :func:`mea_params`) describe.

    The layout and the limits go to every backend; the ``sim``, ``replay`` and ``lsl.*`` parameters
    only to their backend.
    """
    values = mea_params().check(values)
    layout = make_layout(values["layout"], n_channels=values["n_channels"], pitch_um=values["pitch_um"])
    limits = StimulationLimits(**{key: values[key] for key in LIMIT_PARAMS})
    if values["backend"] == "lsl":
        own = {key: values[f"lsl.{key}"] for key in LSL_PARAMS}
    else:
        own = {key: values[key] for key in {"sim": SIM_PARAMS, "replay": REPLAY_PARAMS}.get(values["backend"], {})}
    return MEA_BACKENDS.create(values["backend"], layout=layout, limits=limits, **own)
