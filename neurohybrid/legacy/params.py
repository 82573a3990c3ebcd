"""The legacy gateway node's parameters and the gateway they build."""

from __future__ import annotations

from typing import Any, Mapping

from neurohybrid.core.node_params import NODE_PARAMS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.legacy.gateway import SENDER_CODES, LegacyGateway
from neurohybrid.legacy.protocol import DEFAULT_PORT, SESSION_TIMEOUT_S

CLOCK_ANCHORS = ("lab", "session")
PORT_BOUNDS = Bounds(1, 65535, integer=True)

GATEWAY_PARAMS = ParamSet("legacy gateway", [
    ParamSpec("lab", "padova", "lab the legacy peer plays: topics `/<lab>/spikes`, `/<lab>/weighted_events`, ..."),
    ParamSpec("sender_code", "D", "sender code of the peer: 'D' (MEA lab, timestamps) or 'A' (board lab, "
              "inter-event intervals)", choices=tuple(SENDER_CODES)),
    ParamSpec("bind_address", "127.0.0.1", "IPv4 address to listen on (0.0.0.0: all)"),
    ParamSpec("port", DEFAULT_PORT, "UDP port to listen on (5005 at the original hub)", "", PORT_BOUNDS),
    ParamSpec("peer_address", "127.0.0.1", "IPv4 address of the peer for 'S' packets (used when peer_port is set)"),
    ParamSpec("peer_port", 0, "UDP port of the peer for 'S' packets (0: reply to the address and port its latest "
              "packet came from)", "", Bounds(0, 65535, integer=True)),
    ParamSpec("period_s", 0.01, "socket poll and SpikeBatch publish period", "s", Bounds(0.001, 1.0)),
    ParamSpec("session_timeout_s", SESSION_TIMEOUT_S, "silence after which the next packet starts a new session "
              "(legacy clock restarts)", "s", Bounds(0.01, 3600.0)),
    ParamSpec("clock_anchor", "lab", "published times: 'lab' (wall clock of this machine, session zero placed at "
              "the first packets) or 'session' (ns since the session's zero)", choices=CLOCK_ANCHORS),
    ParamSpec("max_packets_per_tick", 10_000, "datagrams read per tick at most", "",
              Bounds(1, 1_000_000, integer=True)),
])


def gateway_params() -> ParamSet:
    """Every parameter of the legacy gateway node."""
    return NODE_PARAMS.join("legacy gateway node: legacy_gateway_node", GATEWAY_PARAMS)


def legacy_gateway(values: Mapping[str, Any]) -> LegacyGateway:
    """The gateway of the node's parameter ``values`` (socket not yet bound)."""
    v = gateway_params().check(values)
    return LegacyGateway(v["sender_code"], v["bind_address"], v["port"], v["peer_address"], v["peer_port"],
                         v["session_timeout_s"], v["clock_anchor"] == "lab", v["max_packets_per_tick"])
