"""Stand-in board for the closed-loop benchmark: each weighted event makes its target neuron spike.

A bare rclpy node (SingleThreadedExecutor): every non-empty ``WeightedEventBatch`` on
``/<lab>/weighted_events`` is answered at once by a ``SpikeBatch`` on ``/<lab>/spikes`` whose
spikes are the batch's ``post_id`` (kind silicon spike) stamped with the events'
``pre_time_ns``, so the benchmark can tell which of its spikes came back. It stands for a
board whose neuron fires on its input with zero delay: the loop time measured is the graph's.

Usage: ``python bench/board_echo.py [--lab zurich]``.
"""

from __future__ import annotations

import argparse

import numpy as np
import rclpy

from measure import spin_bare
from neurohybrid.core.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.msg import SpikeBatch, WeightedEventBatch
from neurohybrid.nodes.convert import fill_spike_batch, weighted_from_msg
from neurohybrid.nodes.runtime import stream_qos


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", default="zurich")
    args, ros_args = parser.parse_known_args()
    rclpy.init(args=ros_args)
    node = rclpy.create_node("board_echo")
    pub = node.create_publisher(SpikeBatch, f"/{args.lab}/spikes", stream_qos())
    seq = [0]

    def on_weighted(msg: WeightedEventBatch) -> None:
        events = weighted_from_msg(msg)
        if not len(events):
            return
        t = events.pre_time_ns
        out = SpikeBatch(seq=seq[0], clock_domain=args.lab, slice_start_ns=int(t.min()),
                         slice_end_ns=int(t.max()) + 1)
        seq[0] += 1
        pub.publish(fill_spike_batch(out, SpikeEvents(events.post_id, t,
                                                      np.full(len(events), KIND_SILICON_SPIKE))))

    node.create_subscription(WeightedEventBatch, f"/{args.lab}/weighted_events", on_weighted, stream_qos())
    spin_bare(node)


if __name__ == "__main__":
    main()
