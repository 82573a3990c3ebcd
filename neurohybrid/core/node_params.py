"""Parameters every node shares, and those every device node adds (its stream and its link).

The kinds' own parameters are declared next to the core objects they configure; each node's
full table is assembled in its kind's ``params`` module.
"""

from __future__ import annotations

from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds

SEED_BOUNDS = Bounds(0, 2**31 - 1, integer=True)
"""Random seeds of the twins, as node parameters."""

NODE_PARAMS = ParamSet("every node", [
    ParamSpec("autostart", True, "configure and activate at start (no lifecycle manager needed)", read_only=False),
    ParamSpec("qos_depth", 100, "depth of the reliable streams", "messages", Bounds(1, 10_000, integer=True)),
])

DEVICE_NODE_PARAMS = ParamSet("every device node", [
    ParamSpec("lab", "lab", "lab owning this device; frame_id is `<lab>/<device>`"),
    ParamSpec("period_s", 0.01, "device step and publish period", "s", Bounds(0.001, 0.1)),
    ParamSpec("idle_batch_s", 0.01, "slices without events are merged into one SpikeBatch up to this span "
              "(a slice with events is always published at its end)", "s", Bounds(0.001, 1.0)),
    ParamSpec("max_step_s", 0.1, "largest catch-up step after a stall", "s", Bounds(0.001, 1.0)),
    ParamSpec("hub_namespace", "/southampton", "namespace of the hub node"),
    ParamSpec("sync_period_s", 0.25, "period of clock exchanges with the hub", "s", Bounds(0.01, 60.0)),
    ParamSpec("watchdog_s", 0.1, "hub silent longer than this: link down (MEA: stimulation stops)", "s",
              Bounds(0.001, 60.0)),
])
