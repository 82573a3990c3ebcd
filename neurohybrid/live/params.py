"""The live node's parameters: the view's (:data:`neurohybrid.live.view.VIEW_PARAMS`) and its servers'."""

from __future__ import annotations

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.live.view import VIEW_PARAMS

#: Ports: 0 lets the system choose a free one (the log says which).
PORT = Bounds(0, 65535, integer=True)

LIVE_PARAMS = VIEW_PARAMS.join("live view node: live_node", ParamSet("live servers", [
    ParamSpec("window_s", 10.0, "time window the page opens with (at most max_window_s)", "s", Bounds(1.0, 600.0)),
    ParamSpec("host", "127.0.0.1", "address the page and the Foxglove server listen on (an IP address or localhost)"),
    ParamSpec("http_port", 8080, "port of the page (0: any free port)", "", PORT),
    ParamSpec("ws_port", 8765, "port of the Foxglove WebSocket server (0: any free port)", "", PORT),
    ParamSpec("discovery_period_s", 0.5, "topic discovery period", "s", Bounds(0.05, 10.0)),
    ParamSpec("qos_depth", 1000, "subscription depth", "messages", Bounds(1, 100_000, integer=True)),
]))
