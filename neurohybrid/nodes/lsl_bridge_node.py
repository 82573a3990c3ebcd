"""LSL bridge: every spike, stimulation and plasticity topic on the graph as a Lab Streaming Layer outlet.

Topics of those three types are discovered as the recorder does and each gets an LSL outlet
(:class:`~neurohybrid.io.lsl_bridge.EventOutlets`: one sample per event, stamped with the event's
time mapped into LSL's clock). Malformed messages are counted, dropped and published as refusals.
"""

from __future__ import annotations

import sys

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy

from neurohybrid import msg as nh_msg
from neurohybrid.io.lsl_bridge import BRIDGE_PARAMS, STIM_CHANNELS, EventOutlets
from neurohybrid.msg import Refusal
from neurohybrid.nodes.convert import MalformedMessage, spikes_from_msg, stimulus_from_msg
from neurohybrid.nodes.params import declare_params
from neurohybrid.nodes.runtime import RefusalReporter, run, state_qos, stream_qos

FRAME_ID = "lsl_bridge"
BRIDGED = ("SpikeBatch", "StimulationCommand", "PlasticityEvent")
"""Message types the bridge sends to LSL."""


class LslBridgeNode(Node):
    """Subscribes to the bridged topics and pushes their events to LSL outlets."""

    def __init__(self) -> None:
        super().__init__("lsl_bridge")
        params = declare_params(self, BRIDGE_PARAMS)
        self.qos_depth = params["qos_depth"]
        self.outlets = EventOutlets()
        self.refusals = RefusalReporter(self, FRAME_ID)
        self.malformed = 0
        self._subs: dict[str, object] = {}
        self._push = {"SpikeBatch": self._spikes, "StimulationCommand": self._stimulation,
                      "PlasticityEvent": self._plasticity}
        self.create_timer(params["discovery_period_s"], self._discover)
        self.create_timer(params["resync_s"], self.outlets.clock.resync)
        self._discover()
        self.get_logger().info(f"lsl bridge up (wall -> LSL clock offset {self.outlets.clock.offset_s:.6f} s, "
                               f"read within {self.outlets.clock.bracket_s * 1e6:.1f} us)")

    def _discover(self) -> None:
        for topic, types in self.get_topic_names_and_types():
            name = types[0].rsplit("/", 1)[-1] if types else ""
            if topic in self._subs or not types[0].startswith("neurohybrid/msg/") or name not in BRIDGED:
                continue
            durabilities = {i.qos_profile.durability for i in self.get_publishers_info_by_topic(topic)}
            qos = state_qos() if durabilities == {DurabilityPolicy.TRANSIENT_LOCAL} else stream_qos()
            qos.depth = self.qos_depth
            self.outlets.open(topic, name)
            push = self._push[name]
            self._subs[topic] = self.create_subscription(
                getattr(nh_msg, name), topic, lambda msg, t=topic, p=push: self._receive(t, p, msg), qos,
                event_callbacks=SubscriptionEventCallbacks(use_default_callbacks=False))
            self.get_logger().info(f"bridging {topic} ({name}) to LSL")

    def _receive(self, topic: str, push: object, msg: object) -> None:
        try:
            push(topic, msg)
        except (MalformedMessage, ValueError) as exc:
            self.malformed += 1
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"{type(msg).__name__} on {topic}: {exc}")

    def _spikes(self, topic: str, msg: object) -> None:
        events = spikes_from_msg(msg)
        self.outlets.push_spikes(topic, events.source_id, events.kind, events.time_ns)

    def _stimulation(self, topic: str, msg: object) -> None:
        batch = stimulus_from_msg(msg)
        self.outlets.push_stimulation(topic, {c: getattr(batch, c) for c in STIM_CHANNELS}, batch.time_ns)

    def _plasticity(self, topic: str, msg: object) -> None:
        values = {"synapse_id": msg.synapse_id, "wordline": msg.wordline, "bitline": msg.bitline,
                  "direction": msg.direction, "pulse_amplitude_v": msg.pulse_amplitude_v,
                  "pulse_width_s": msg.pulse_width_s, "resistance_before_ohm": msg.resistance_before_ohm,
                  "resistance_after_ohm": msg.resistance_after_ohm, "accepted": msg.accepted}
        self.outlets.push_plasticity(topic, values, msg.trigger_time_ns)

    def shutdown_device(self) -> None:
        """Close the outlets."""
        self.outlets.close()


def main(args: list[str] | None = None) -> None:
    sys.exit(run(LslBridgeNode, args))


if __name__ == "__main__":
    main()
