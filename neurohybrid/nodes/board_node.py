"""Silicon-neuron board (Zurich): DPI neurons behind a backend chosen by name.

Takes ``weighted_events`` (WeightedEventBatch from the hub) and applies each at its delivery time,
scaled by its weight; late and stale input follow the board's delivery policy
(:mod:`neurohybrid.board.delivery`). Input outside the board (unknown neuron, weight outside
[0, 1]) is refused and reported. Publishes the board's spikes on ``spikes`` (SpikeBatch, kind
silicon spike). An optional drive protocol (:mod:`neurohybrid.board.drive`) reproduces the
paper's high-rate / low-rate presynaptic phases.
"""

from __future__ import annotations

import sys

from neurohybrid.board.params import board_backend, board_drive, board_params, delivery_policy
from neurohybrid.core.units import NS_PER_S
from neurohybrid.msg import Refusal, WeightedEventBatch
from neurohybrid.nodes.convert import MalformedMessage, weighted_from_msg
from neurohybrid.nodes.device_node import DeviceNode
from neurohybrid.nodes.managed import ACTIVE
from neurohybrid.nodes.runtime import run, stream_qos


class BoardNode(DeviceNode):
    """Lifecycle node around a neuromorphic-board backend (``sim`` DPI twin by default)."""

    device = "board"

    def __init__(self) -> None:
        super().__init__("board", board_params())
        self.delivery = delivery_policy(self.params)

    def open_backend(self) -> object:
        backend = board_backend(self.params)
        self._drive = board_drive(self.params)
        return backend

    def create_inputs(self) -> None:
        self.own(self.create_subscription(WeightedEventBatch, "weighted_events", self._on_weighted,
                                          stream_qos(self.params["qos_depth"])))

    def _tick(self) -> None:
        if self._drive.active:
            ids, time_ns, weight = self._drive.due(self.backend.now_ns / NS_PER_S + self._pacer.lag_s)
            if len(ids):
                self.backend.deliver(ids, time_ns, weight)
        super()._tick()

    def _on_weighted(self, msg: WeightedEventBatch) -> None:
        if self.phase == ACTIVE:
            self.hub_heard(msg.seq)
        try:
            events = weighted_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.report_malformed("WeightedEventBatch", exc)
            return
        if self.phase != ACTIVE or not len(events):
            return
        self.note_arrival(events.pre_time_ns)
        t_dev = self.hub_to_device_ns(events.delivery_time_ns)
        keep, late = self.delivery.admit(t_dev, self.backend.now_ns)
        self.link.late_events += late
        if not keep.all():
            events, t_dev = events.select(keep), t_dev[keep]
            if not len(events):
                return
        try:
            self.backend.deliver(events.post_id, t_dev, events.weight)
        except ValueError as exc:
            self.refusals.report(Refusal.CATEGORY_INPUT, f"WeightedEventBatch seq {msg.seq}: {exc}", len(events))


def main(args: list[str] | None = None) -> None:
    sys.exit(run(BoardNode, args))


if __name__ == "__main__":
    main()
