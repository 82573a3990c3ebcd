"""Neurorobot interface: the robot's senses stimulate the brain (culture or silicon neurons), its
spikes drive the robot.

Every ``period_s``: the newest ``scan`` (sensor_msgs/LaserScan) goes through the sensory encoder
and is published, by the encoder's ``target``, on ``stimulation`` (StimulationCommand for the MEA)
or on ``weighted_events`` (WeightedEventBatch for the silicon board); either is sent every period,
empty or not (the device takes it as its keepalive) and the device refuses what breaks its limits.
Each command's ``pre_time_ns`` and the message's ``pre_stamp_ns`` are the causing scan's header
stamp (``pre_frame`` "scan", ``pre_seq`` the number of scans received: LaserScan has no sequence
number; ``pre_stamp_ns`` 0 before the first scan), so range -> stimulation -> spike -> Twist can be
timed from stamps. The motor decoder's twist is published on ``cmd_vel`` (geometry_msgs/Twist). ``spikes``
(SpikeBatch) feed the decoder; no batch for ``watchdog_s``: zero velocity. A collision
(``collisions``, PointStamped) triggers the tetanic burst when ``tetanus`` is on (``pre_frame``
"collisions", ``pre_stamp_ns`` the collision's stamp, pre times NO_PRE_TIME_NS: no range reading
caused it). Malformed messages are counted and published on ``refusals``; the node stays up.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from geometry_msgs.msg import PointStamped, Twist
from sensor_msgs.msg import LaserScan

from neurohybrid.core.events import NO_PRE_TIME_NS, StimulusBatch, WeightedEvents
from neurohybrid.msg import Refusal, SpikeBatch, StimulationCommand, WeightedEventBatch
from neurohybrid.nodes.convert import MalformedMessage, fill_stimulation, fill_weighted_batch, spikes_from_msg
from neurohybrid.nodes.managed import ACTIVE, ManagedNode
from neurohybrid.nodes.runtime import RefusalReporter, event_qos, run, stamp_now, stamp_ns, stream_qos
from neurohybrid.robot.decoder import DECODER_PARAMS, MotorDecoder
from neurohybrid.robot.encoder import ENCODER_PARAMS, SensoryEncoder
from neurohybrid.robot.params import brain_params

FRAME = "neurorobot"
SCAN_FRAME = "scan"
"""``pre_frame`` of the pulses a range reading caused."""
COLLISION_FRAME = "collisions"
"""``pre_frame`` of a tetanic burst (caused by a collision, not by a range reading)."""


class NeuroRobotNode(ManagedNode):
    """Sensory encoder and motor decoder between a robot and an MEA or a board (or any spike source)."""

    def __init__(self) -> None:
        super().__init__("neurorobot", brain_params())
        self._scan: tuple[np.ndarray, np.ndarray] | None = None
        self._scan_stamp_ns = NO_PRE_TIME_NS
        self._scans = 0
        self._seq = 0

    def configure_node(self) -> None:
        self.encoder = SensoryEncoder(**{k: self.params[k] for k in ENCODER_PARAMS})
        self.decoder = MotorDecoder(**{k: self.params[k] for k in DECODER_PARAMS})
        depth = self.params["qos_depth"]
        msg_type, topic = (StimulationCommand, "stimulation") if self.params["target"] == "mea" \
            else (WeightedEventBatch, "weighted_events")
        self._stim_pub = self.own(self.create_lifecycle_publisher(msg_type, topic, stream_qos(depth)))
        self._cmd_pub = self.own(self.create_lifecycle_publisher(Twist, "cmd_vel", stream_qos(10)))
        reporter = RefusalReporter(self, FRAME)
        self.refusals = self.own(reporter, release=reporter.destroy)
        self.own(self.create_subscription(LaserScan, "scan", self._on_scan, stream_qos(10, reliable=False)))
        self.own(self.create_subscription(SpikeBatch, "spikes", self._on_spikes, stream_qos(depth)))
        self.own(self.create_subscription(PointStamped, "collisions", self._on_collision, event_qos()))

    def activate_node(self) -> None:
        self.own(self.create_timer(self.params["period_s"], self._tick), ACTIVE)

    def deactivate_node(self) -> None:
        self._cmd_pub.publish(Twist())

    # --- input ---------------------------------------------------------------------------
    def _on_scan(self, msg: LaserScan) -> None:
        n = len(msg.ranges)
        if not (math.isfinite(msg.angle_min) and math.isfinite(msg.angle_increment) and n):
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"LaserScan: angle_min={msg.angle_min}, "
                                 f"angle_increment={msg.angle_increment}, {n} ranges")
            return
        ranges = np.asarray(msg.ranges, float)
        angles = msg.angle_min + msg.angle_increment * np.arange(n)
        good = np.isfinite(ranges) & (ranges >= 0)
        bad = n - int(good.sum())
        if bad:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"LaserScan: {bad} range(s) NaN, infinite or negative "
                                 f"(allowed: finite >= 0), ignored", bad)
        self._scan = (ranges[good], angles[good])
        self._scan_stamp_ns = stamp_ns(msg.header)
        self._scans += 1

    def _on_spikes(self, msg: SpikeBatch) -> None:
        try:
            self.decoder.add(spikes_from_msg(msg), msg.slice_start_ns, msg.slice_end_ns, time.monotonic_ns())
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"SpikeBatch: {exc}")

    def _on_collision(self, msg: PointStamped) -> None:
        if self.phase == ACTIVE:
            self._publish_stimulation(self.encoder.tetanus(time.time_ns()), COLLISION_FRAME, 0, stamp_ns(msg.header))

    # --- output --------------------------------------------------------------------------
    def _tick(self) -> None:
        ranges, angles = self._scan if self._scan is not None else (np.empty(0), np.empty(0))
        batch = self.encoder.encode(ranges, angles, time.time_ns(), self._scan_stamp_ns)
        self._publish_stimulation(batch, SCAN_FRAME, self._scans, self._scan_stamp_ns)
        now_ns = time.monotonic_ns()
        stops = self.decoder.watchdog_stops
        linear, angular = self.decoder.command(now_ns)
        if self.decoder.watchdog_stops != stops:
            self.get_logger().warning(f"no spikes for {self.decoder.silent_s(now_ns):.3f} s: zero velocity")
        cmd = Twist()
        cmd.linear.x, cmd.angular.z = linear, angular
        self._cmd_pub.publish(cmd)

    def _publish_stimulation(self, batch: StimulusBatch | WeightedEvents, pre_frame: str, pre_seq: int,
                             pre_stamp_ns: int) -> None:
        """One stimulation message (the target's type), ``pre_*`` naming what caused it."""
        pre = dict(seq=self._seq, clock_domain=FRAME, pre_frame=pre_frame, pre_seq=pre_seq,
                   pre_stamp_ns=max(pre_stamp_ns, 0))
        msg = fill_stimulation(StimulationCommand(**pre), batch) if isinstance(batch, StimulusBatch) \
            else fill_weighted_batch(WeightedEventBatch(**pre), batch)
        stamp_now(self, msg.header, FRAME)
        self._stim_pub.publish(msg)
        self._seq += 1


def main(args: list[str] | None = None) -> None:
    sys.exit(run(NeuroRobotNode, args))


if __name__ == "__main__":
    main()
