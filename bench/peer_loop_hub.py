"""The peer of the closed-loop benchmark: a bare rclpy hub that forwards without any hub logic.

What a user would write with nothing but rclpy to close the same loop: spikes of ``/padova/spikes``
are forwarded to neuron 1 of ``/zurich/weighted_events`` (weight 1, delivery at the spike time
plus ``--delay-ns``), and spikes of ``/zurich/spikes`` become one stimulation command each on
``/padova/stimulation`` (electrode 24, delivery at the spike time plus ``--delay-ns``). No
lifecycle, parameters, memristor reads, weight mapping, plasticity, sequence tracking or clock
offsets: run in place of ``hub_node`` it gives the loop time of the transport and rclpy alone.
Same messages and QoS as ``hub_node``; SingleThreadedExecutor.

Usage: ``python bench/peer_loop_hub.py [--delay-ns 1000000]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import rclpy

from measure import spin_bare
from neurohybrid.msg import SpikeBatch, StimulationCommand, WeightedEventBatch
from neurohybrid.nodes.runtime import stream_qos

TARGET_NEURON = 1
TARGET_ELECTRODE = 24
STIM_UA, STIM_US = 40.0, 100.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ns", type=int, default=1_000_000)
    args, ros_args = parser.parse_known_args()
    rclpy.init(args=ros_args)
    node = rclpy.create_node("peer_loop_hub")
    to_board = node.create_publisher(WeightedEventBatch, "/zurich/weighted_events", stream_qos())
    to_mea = node.create_publisher(StimulationCommand, "/padova/stimulation", stream_qos())

    def from_mea(msg: SpikeBatch) -> None:
        t = np.frombuffer(msg.time_ns, np.int64)
        n = len(t)
        out = WeightedEventBatch(seq=msg.seq, clock_domain="southampton")
        out.pre_id = np.frombuffer(msg.source_id, np.uint32)
        out.pre_time_ns = t
        out.post_id = np.full(n, TARGET_NEURON, np.uint32)
        out.synapse_id = np.zeros(n, np.uint32)
        out.weight = np.ones(n, np.float32)
        out.weight_byte = np.full(n, 255, np.uint8)
        out.delivery_time_ns = t + args.delay_ns
        to_board.publish(out)

    def from_board(msg: SpikeBatch) -> None:
        t = np.frombuffer(msg.time_ns, np.int64)
        n = len(t)
        out = StimulationCommand(seq=msg.seq, clock_domain="southampton")
        out.electrode = np.full(n, TARGET_ELECTRODE, np.uint32)
        out.amplitude_ua = np.full(n, STIM_UA)
        out.phase_width_us = np.full(n, STIM_US)
        out.pulse_count = np.ones(n, np.uint32)
        out.time_ns = t + args.delay_ns
        out.synapse_id = np.zeros(n, np.uint32)
        out.weight = np.ones(n, np.float32)
        out.pre_id = np.frombuffer(msg.source_id, np.uint32)
        to_mea.publish(out)

    node.create_subscription(SpikeBatch, "/padova/spikes", from_mea, stream_qos())
    node.create_subscription(SpikeBatch, "/zurich/spikes", from_board, stream_qos())
    spin_bare(node)


if __name__ == "__main__":
    main()
