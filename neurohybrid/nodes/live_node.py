"""Live view: serves a web page of the running experiment and speaks the Foxglove WebSocket protocol.

Discovers every topic of this package on the graph (as the recorder does) and advertises each to
Foxglove clients as CDR with its ``ros2msg`` schema; it subscribes to those the page aggregates
(spikes, synapse states, plasticity, stimulation, refusals, links) and to the others (weighted
events) only while a Foxglove client wants them. Frames go out at ``update_hz`` (<= 20 Hz), raw
messages only to the clients subscribed to them. The page (``http://host:http_port/``) is static files of the package;
it gets its data from the same Foxglove server (``ws://host:ws_port``, channel ``/live/view``).
Malformed messages are counted, dropped and published as refusals.
"""

from __future__ import annotations

import ipaddress
import sys
import time
from typing import Callable

from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from rclpy.serialization import deserialize_message

from neurohybrid.core.errors import ConfigError
from neurohybrid.live import LiveView, ViewSettings
from neurohybrid.live.foxglove_bridge import FRAME_TOPIC, SUBPROTOCOL, FoxgloveBridge
from neurohybrid.live.links import LinkReport
from neurohybrid.live.page_server import PageServer
from neurohybrid.live.params import LIVE_PARAMS
from neurohybrid.live.view import VIEW_PARAMS
from neurohybrid import msg as nh_msg
from neurohybrid.msg import Refusal
from neurohybrid.nodes.convert import MalformedMessage, from_array, spikes_from_msg, stimulus_from_msg
from neurohybrid.nodes.params import declare_params
from neurohybrid.nodes.runtime import RefusalReporter, run, stamp_ns, state_qos, stream_qos

FRAME_ID = "live"
PACKAGE_TYPES = "neurohybrid/msg/"


def lab_of(topic: str) -> str:
    """``/padova/spikes`` -> ``padova``: the namespace a lab's topics live in."""
    return topic.rsplit("/", 1)[0].strip("/") or topic


def check_host(host: str) -> str:
    """``host`` if it is an IP address or ``localhost``; ConfigError otherwise."""
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"host={host!r} is not an IP address or 'localhost'") from None
    return host


class LiveNode(Node):
    """Discovers the graph's topics, aggregates them, and serves the page and the Foxglove server."""

    def __init__(self) -> None:
        super().__init__("live")
        params = declare_params(self, LIVE_PARAMS)
        self.settings = ViewSettings(**{key: params[key] for key in VIEW_PARAMS})
        self.window_s = params["window_s"]
        if self.window_s > self.settings.max_window_s:
            raise ConfigError(f"window_s={self.window_s} outside allowed [1.0, max_window_s={self.settings.max_window_s}]")
        host = check_host(params["host"])
        http_port, ws_port = params["http_port"], params["ws_port"]
        self.discovery_period_s = params["discovery_period_s"]
        self.qos_depth = params["qos_depth"]

        self.view = LiveView(self.settings)
        self.refusals = RefusalReporter(self, FRAME_ID)
        self._decoders: dict[str, Callable[[str, object], None]] = {
            "SpikeBatch": self._on_spikes, "SynapseStates": self._on_states,
            "PlasticityEvent": self._on_plasticity, "StimulationCommand": self._on_stimulation,
            "Refusal": self._on_refusal, "LinkStatus": self._on_link,
        }
        self.bridge = self.page = None
        self._subs: dict[str, object] = {}
        self._on_demand: dict[str, tuple[type, QoSProfile]] = {}  # topics only Foxglove clients want
        clients_changed = self.create_guard_condition(self._follow_clients)
        try:
            self.bridge = FoxgloveBridge(host, ws_port, on_subscriptions=clients_changed.trigger)
        except RuntimeError as exc:
            raise ConfigError(f"ws_port={ws_port}: cannot serve Foxglove on {host}: {exc}") from None
        try:
            self.page = PageServer(host, http_port, {
                "ws_port": self.bridge.port, "subprotocol": SUBPROTOCOL, "frame_topic": FRAME_TOPIC,
                "window_s": self.window_s, "max_window_s": self.settings.max_window_s})
        except OSError as exc:
            raise ConfigError(f"http_port={http_port}: cannot serve the page on {host}: {exc.strerror}") from None
        self.create_timer(1.0 / self.settings.update_hz, self._publish_frame)
        self.create_timer(self.discovery_period_s, self._discover)
        self._discover()
        self.get_logger().info(f"live view at http://{host}:{self.page.port}/ "
                               f"(Foxglove: ws://{host}:{self.bridge.port}, {self.settings.update_hz} Hz)")

    # -- graph -------------------------------------------------------------------------------
    def _discover(self) -> None:
        """Advertise new topics of this package; subscribe to those the view aggregates. QoS:
        transient-local where every publisher keeps its last messages for late joiners (states,
        plasticity, refusals, links), else a reliable stream."""
        for topic, types in self.get_topic_names_and_types():
            if topic in self._subs or topic in self._on_demand or not types or not types[0].startswith(PACKAGE_TYPES):
                continue
            type_name = types[0]
            durabilities = {i.qos_profile.durability for i in self.get_publishers_info_by_topic(topic)}
            qos = state_qos() if durabilities == {DurabilityPolicy.TRANSIENT_LOCAL} else stream_qos()
            qos.depth = self.qos_depth
            cls = getattr(nh_msg, type_name[len(PACKAGE_TYPES):])
            self.bridge.add_topic(topic, type_name)
            if cls.__name__ in self._decoders:
                self._subscribe(topic, cls, qos)
            else:
                self._on_demand[topic] = (cls, qos)
        self._follow_clients()

    def _subscribe(self, topic: str, cls: type, qos: QoSProfile) -> None:
        decode = self._decoders.get(cls.__name__)
        self._subs[topic] = self.create_subscription(
            cls, topic, lambda data: self._receive(topic, cls, decode, data), qos, raw=True,
            event_callbacks=SubscriptionEventCallbacks(use_default_callbacks=False))

    def _follow_clients(self) -> None:
        """Take the topics the view does not aggregate from the graph only while a client wants them."""
        wanted = self.bridge.subscribed()
        for topic, (cls, qos) in self._on_demand.items():
            if topic in wanted and topic not in self._subs:
                self._subscribe(topic, cls, qos)
            elif topic not in wanted and topic in self._subs:
                self.destroy_subscription(self._subs.pop(topic))

    def _receive(self, topic: str, cls: type, decode: Callable[[str, object], None] | None, data: bytes) -> None:
        self.bridge.forward(topic, data, time.time_ns())
        if decode is None:
            return
        msg = deserialize_message(data, cls)
        try:
            decode(topic, msg)
        except (MalformedMessage, ValueError) as exc:
            self.view.malformed += 1
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"{cls.__name__} on {topic}: {exc}")

    # -- messages -> view --------------------------------------------------------------------
    def _on_spikes(self, topic: str, msg: object) -> None:
        events = spikes_from_msg(msg)
        self.view.add_spikes(lab_of(topic), events.source_id, events.time_ns, events.kind, msg.slice_end_ns)

    def _on_states(self, topic: str, msg: object) -> None:
        self.view.set_states(from_array(msg.wordline, "u2"), from_array(msg.bitline, "u2"),
                             from_array(msg.resistance_ohm, "f8"), from_array(msg.weight, "f4"))

    def _on_plasticity(self, topic: str, msg: object) -> None:
        self.view.add_plasticity(msg.trigger_time_ns, msg.synapse_id, msg.wordline, msg.bitline, msg.direction,
                                 msg.resistance_before_ohm, msg.resistance_after_ohm, msg.accepted)

    def _on_stimulation(self, topic: str, msg: object) -> None:
        self.view.add_stimulation(len(stimulus_from_msg(msg)))

    def _on_refusal(self, topic: str, msg: object) -> None:
        self.view.add_refusal(stamp_ns(msg.header), msg.header.frame_id, msg.category, msg.reason, msg.count)

    def _on_link(self, topic: str, msg: object) -> None:
        self.view.update_link(msg.lab or lab_of(topic), LinkReport(
            peer_lab=msg.peer_lab, link_up=msg.link_up, rtt_s=msg.rtt_s, clock_offset_s=msg.clock_offset_s,
            clock_offset_uncertainty_s=msg.clock_offset_uncertainty_s, received_batches=msg.received_batches,
            sequence_gaps=msg.sequence_gaps, late_events=msg.late_events,
            malformed_messages=msg.malformed_messages, received_s=time.monotonic()))

    # -- output ------------------------------------------------------------------------------
    def _publish_frame(self) -> None:
        frame = self.view.frame(time.monotonic())
        if self.bridge.wants_frames():
            self.bridge.publish_frame(frame, time.time_ns())

    def shutdown_device(self) -> None:
        """Stop serving the page and the Foxglove clients."""
        if self.page is not None:
            self.page.close()
        if self.bridge is not None:
            self.bridge.close()


def main(args: list[str] | None = None) -> None:
    sys.exit(run(LiveNode, args))


if __name__ == "__main__":
    main()
