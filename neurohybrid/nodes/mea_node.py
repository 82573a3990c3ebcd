"""MEA interface (Padova): a culture on a multi-electrode array, behind a backend chosen by name.

Publishes ``spikes`` (SpikeBatch: electrode, time, kind PSP / evoked AP / spontaneous AP);
takes ``stimulation`` (StimulationCommand) through the safety guard: a command beyond any limit is
refused whole, logged and published on ``refusals``, never delivered. Deactivating the node drops every
queued stimulus (the safe state), and so does the watchdog when the hub (which sends keepalive
batches) is silent for longer than ``watchdog_s``; stimulation resumes by itself once it is heard.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from neurohybrid.core.device import InputRefused
from neurohybrid.mea.params import mea_backend, mea_params
from neurohybrid.msg import Refusal, StimulationCommand
from neurohybrid.nodes.convert import MalformedMessage, stimulus_from_msg
from neurohybrid.nodes.device_node import DeviceNode
from neurohybrid.nodes.managed import ACTIVE
from neurohybrid.nodes.runtime import run, stream_qos


class MEANode(DeviceNode):
    """Lifecycle node around an MEA backend (``sim`` twin by default)."""

    device = "mea"

    def __init__(self) -> None:
        super().__init__("mea", mea_params())

    def open_backend(self) -> object:
        return mea_backend(self.params)

    def create_inputs(self) -> None:
        self.own(self.create_subscription(StimulationCommand, "stimulation", self._on_stimulation,
                                          stream_qos(self.params["qos_depth"])))

    def on_link_lost(self) -> None:
        self.backend.safe_state()
        self.get_logger().warning(f"{self.frame_id}: stimulation stopped (hub silent)")

    def on_link_restored(self) -> None:
        if self.phase == ACTIVE:
            self.backend.arm()

    def _on_stimulation(self, msg: StimulationCommand) -> None:
        if self.phase == ACTIVE:
            self.hub_heard(msg.seq)
        try:
            batch = stimulus_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.report_malformed("StimulationCommand", exc)
            return
        if self.phase != ACTIVE:
            self.refusals.report(Refusal.CATEGORY_STIMULATION,
                                 f"{len(batch)} command(s) while {self.frame_id} is not active", len(batch))
            return
        if not len(batch):
            return
        self.note_arrival(batch.pre_time_ns)
        device_time = self.hub_to_device_ns(batch.time_ns)
        self.link.late_events += int((device_time < self.backend.now_ns).sum())
        try:
            verdict = self.backend.stimulate(replace(batch, time_ns=device_time))
        except InputRefused as exc:
            self.refusals.report(Refusal.CATEGORY_STIMULATION, f"StimulationCommand seq {msg.seq}: {exc}", exc.count)
            return
        self.refusals.report_all(Refusal.CATEGORY_STIMULATION, verdict.reasons)


def main(args: list[str] | None = None) -> None:
    sys.exit(run(MEANode, args))


if __name__ == "__main__":
    main()
