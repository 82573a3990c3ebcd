"""The hub node's parameters (from the specs the hub and memristor cores declare) and the hub they build."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.node_params import NODE_PARAMS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.hub.connectivity import load_connectivity
from neurohybrid.hub.hub import Hub
from neurohybrid.hub.session import HubSession
from neurohybrid.hub.stimulus import STIMULUS_PARAMS, StimulusMap
from neurohybrid.hub.weights import WEIGHT_PARAMS, WeightMap
from neurohybrid.memristor.arc2 import ARC2_PARAMS
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS
from neurohybrid.memristor.crossbar import CROSSBAR_PARAMS
from neurohybrid.memristor.limits import LIMIT_PARAMS, ProgrammingLimits
from neurohybrid.memristor.plasticity import PLASTICITY_RULES, PULSE_PARAMS
from neurohybrid.memristor.sim import SIM_PARAMS

STREAM_PARAMS = ParamSet("hub streams", [
    ParamSpec("state_period_s", 1.0, "synapse-state publish period", "s", Bounds(0.01, 60.0)),
    ParamSpec("changed_state_period_s", 0.1, "after plasticity, states are published within this time", "s",
              Bounds(0.01, 60.0)),
    ParamSpec("keepalive_s", 0.03, "send an empty batch to a lab idle this long", "s", Bounds(0.001, 10.0)),
    ParamSpec("gap_tolerance_s", 0.05, "time between a lab's batches counted as missing data", "s",
              Bounds(0.001, 60.0)),
    ParamSpec("learn_wait_s", 0.5, "plasticity waits this long for every lab's data; a lab still behind "
              "is missing data", "s", Bounds(0.001, 60.0)),
])


def rule_params(rule: str) -> ParamSet:
    """The parameters of plasticity rule ``rule`` as the node names them: ``<rule>.<name>``."""
    specs = PLASTICITY_RULES.factory(rule).PARAMS
    return ParamSet(f"{rule} rule", [replace(s, name=f"{rule}.{s.name}") for s in specs.values()])


ARC2_NODE_PARAMS = ParamSet("arc2 memristor backend (memristor_backend: arc2)",
                            [replace(s, name=f"arc2.{s.name}") for s in ARC2_PARAMS.values()])
"""The arc2 backend's settings as the hub node names them: ``arc2.<name>``."""


def hub_params() -> ParamSet:
    """Every parameter of the hub node, in the order it declares them."""
    choices = ParamSet("hub", [
        ParamSpec("connectivity_file", "", "connectivity: legacy text or YAML (required)"),
        ParamSpec("memristor_backend", "sim", "memristor backend", choices=tuple(MEMRISTOR_BACKENDS.names())),
        ParamSpec("rule", "rate", "plasticity rule", choices=tuple(PLASTICITY_RULES.names())),
    ])
    rules = [rule_params(name) for name in PLASTICITY_RULES.names()]
    return NODE_PARAMS.join("hub node (Southampton): hub_node", choices, CROSSBAR_PARAMS, SIM_PARAMS, ARC2_NODE_PARAMS, *rules,
                            PULSE_PARAMS, LIMIT_PARAMS, WEIGHT_PARAMS, STIMULUS_PARAMS, STREAM_PARAMS)


def hub_session(values: Mapping[str, Any]) -> HubSession:
    """The hub the node's parameter ``values`` describe: connectivity loaded, crossbar configured."""
    values = hub_params().check(values)
    if not values["connectivity_file"]:
        raise ConfigError("parameter 'connectivity_file' is empty: give a connectivity file")
    crossbar = {key: values[key] for key in CROSSBAR_PARAMS}
    conn = load_connectivity(values["connectivity_file"], **crossbar)
    limits = ProgrammingLimits(**{key: values[key] for key in LIMIT_PARAMS})
    backend = values["memristor_backend"]
    if backend == "arc2":  # one instrument is one 32x32 tile
        if conn.n_tiles != 1:
            raise ConfigError(f"memristor_backend=arc2 drives one crossbar; the connectivity uses n_tiles="
                              f"{conn.n_tiles} (allowed with arc2: 1)")
        crossbar.pop("n_tiles", None)
        own = {key: values[f"arc2.{key}"] for key in ARC2_PARAMS}
    else:
        # The connectivity's own crossbar block (YAML) may name more tiles than the parameter: the
        # hub drives the tiles its synapses live on.
        crossbar["n_tiles"] = conn.n_tiles
        own = {}
    memristor = MEMRISTOR_BACKENDS.create(backend, limits=limits, seed=values["seed"], **crossbar, **own)
    memristor.configure()
    name = values["rule"]
    own = {key: values[f"{name}.{key}"] for key in PLASTICITY_RULES.factory(name).PARAMS}
    rule = PLASTICITY_RULES.create(name, n_synapses=len(conn), **own, **{key: values[key] for key in PULSE_PARAMS})
    hub = Hub(conn, memristor, rule, WeightMap(values["r_min_ohm"], values["r_max_ohm"]),
              StimulusMap.from_params(values))
    return HubSession(hub, values["keepalive_s"], values["gap_tolerance_s"], values["learn_wait_s"])
