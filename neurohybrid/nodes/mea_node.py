"""MEA interface (Padova): a culture on a multi-electrode array, behind a backend chosen by name.

Publishes ``spikes`` (SpikeBatch: electrode, time, kind PSP / evoked AP / spontaneous AP);
takes ``stimulation`` (StimulationCommand) through the safety guard: a command beyond any limit is
refused whole, logged and published on ``refusals``, never delivered. Deactivating the node drops every
queued stimulus (the safe state), and so does the watchdog when the hub (which sends keepalive
batches) is silent for longer than ``watchdog_s``; stimulation resumes by itself once it is heard.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from neurohybrid.mea.backend import MEA_BACKENDS
from neurohybrid.mea.layout import make_layout
from neurohybrid.mea.stimulation import StimulationLimits
from neurohybrid.msg import Refusal, StimulationCommand
from neurohybrid.nodes.convert import MalformedMessage, stimulus_from_msg
from neurohybrid.nodes.device_node import DeviceNode
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import run, stream_qos


class MEANode(DeviceNode):
    """Lifecycle node around an MEA backend (``sim`` twin by default)."""

    device = "mea"

    def __init__(self) -> None:
        super().__init__("mea", "padova")
        import neurohybrid.mea.replay  # noqa: F401  (registers the "replay" backend)

        d = lambda *a, **k: declare(self, *a, read_only=True, **k)  # noqa: E731
        self.backend_name = d("backend", "sim", "MEA backend", choices=tuple(MEA_BACKENDS.names()))
        self.layout_args = dict(
            name=d("layout", "mcs60", "electrode layout", choices=("mcs60", "grid")),
            n_channels=d("n_channels", 60, "electrodes (grid layout)", (1, 1024)),
            pitch_um=d("pitch_um", 200.0, "electrode pitch, um", (10.0, 1000.0)),
        )
        self.limits = StimulationLimits(
            max_amplitude_ua=d("max_amplitude_ua", 50.0, "largest stimulus current, uA", (0.001, 1000.0)),
            max_phase_width_us=d("max_phase_width_us", 500.0, "longest phase, us", (1.0, 10000.0)),
            max_charge_per_phase_nc=d("max_charge_per_phase_nc", 10.0, "largest charge per phase, nC",
                                      (0.001, 1000.0)),
            max_charge_per_electrode_per_s_nc=d("max_charge_per_electrode_per_s_nc", 200.0,
                                                "charge per electrode in any 1 s, nC", (0.001, 1e5)),
            max_pulse_rate_hz=d("max_pulse_rate_hz", 100.0, "pulses per electrode per s", (0.1, 10000.0)),
            max_pulse_count=d("max_pulse_count", 10, "pulses per command", (1, 1000)),
        )
        self.sim_args = dict(
            n_neurons=d("n_neurons", 1000, "cultured neurons (sim backend)", (10, 100000)),
            seed=d("seed", 0, "random seed (sim backend)", (0, 2**31 - 1)),
            threshold_k=d("threshold_k", 5.0, "detector threshold, x robust noise", (2.0, 20.0)),
            fs_hz=d("fs_hz", 25000.0, "sampling rate, Hz", (1000.0, 50000.0)),
        )
        self.replay_args = dict(
            replay_file=d("replay_file", "", "recording to replay (replay backend: .mcap, .nwb or a neo file)"),
            replay_speed=d("replay_speed", 1.0, "replay speed, x real time (replay backend)", (0.01, 100.0)),
        )
        self._stim_sub = None

    def open_backend(self) -> object:
        layout = make_layout(**self.layout_args)
        kwargs = {"sim": self.sim_args, "replay": self.replay_args}.get(self.backend_name, {})
        return MEA_BACKENDS.create(self.backend_name, layout=layout, limits=self.limits, **kwargs)

    def create_inputs(self) -> None:
        self._stim_sub = self.create_subscription(
            StimulationCommand, "stimulation", self._on_stimulation, stream_qos(self.qos_depth))

    def destroy_inputs(self) -> None:
        self.destroy_subscription(self._stim_sub)

    def on_link_lost(self) -> None:
        self.backend.safe_state()
        self.get_logger().warning(f"{self.frame_id}: stimulation stopped (hub silent)")

    def _on_stimulation(self, msg: StimulationCommand) -> None:
        if self._timer is not None:
            self.link.heard(time.monotonic(), msg.seq)
        try:
            batch = stimulus_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.report_malformed("StimulationCommand", exc)
            return
        if self._timer is None:
            self.refusals.report(Refusal.CATEGORY_STIMULATION,
                                 f"{len(batch)} command(s) while {self.frame_id} is not active", len(batch))
            return
        if not len(batch):
            return
        device_time = self.hub_to_device_ns(batch.time_ns)
        self.link.late_events += int((device_time < self.backend.now_ns).sum())
        device_batch = replace(batch, time_ns=device_time)
        verdict = self.backend.stimulate(device_batch)
        if verdict.reasons:
            more = f" (+{len(verdict.reasons) - 1} more in this batch)" if len(verdict.reasons) > 1 else ""
            self.refusals.report(Refusal.CATEGORY_STIMULATION, verdict.reasons[0] + more, len(verdict.reasons))


def main(args: list[str] | None = None) -> None:
    sys.exit(run(MEANode, args))


if __name__ == "__main__":
    main()
