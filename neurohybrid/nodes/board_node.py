"""Silicon-neuron board (Zurich): DPI neurons behind a backend chosen by name.

Takes ``weighted_events`` (WeightedEventBatch from the hub) and applies each at its delivery time,
scaled by its weight; an event arriving after its delivery time is late: counted, and delivered at
once or dropped (``late_policy``); input staler than ``stale_input_s`` is always dropped (fail-safe
after a link outage). Input outside the board (unknown neuron, weight outside [0, 1])
is refused and reported. Publishes the board's spikes on ``spikes`` (SpikeBatch, kind silicon spike).
An optional drive protocol (Poisson input phases to chosen neurons) reproduces the paper's
high-rate / low-rate presynaptic phases.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from neurohybrid.board.backend import BOARD_BACKENDS
from neurohybrid.errors import ConfigError
from neurohybrid.msg import Refusal, WeightedEventBatch
from neurohybrid.nodes.convert import MalformedMessage, weighted_from_msg
from neurohybrid.nodes.device_node import DeviceNode
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import run, stream_qos
from neurohybrid.protocol import PhaseProtocol


class BoardNode(DeviceNode):
    """Lifecycle node around a neuromorphic-board backend (``sim`` DPI twin by default)."""

    device = "board"

    def __init__(self) -> None:
        super().__init__("board", "zurich")
        import neurohybrid.board.replay  # noqa: F401  (registers the "replay" backend)

        d = lambda *a, **k: declare(self, *a, read_only=True, **k)  # noqa: E731
        self.backend_name = d("backend", "sim", "board backend", choices=tuple(BOARD_BACKENDS.names()))
        self.sim_args = dict(
            n_chips=d("n_chips", 1, "chips (sim backend)", (1, 16)),
            cores_per_chip=d("cores_per_chip", 4, "cores per chip", (1, 16)),
            neurons_per_core=d("neurons_per_core", 256, "neurons per core", (1, 1024)),
            dt_s=d("dt_s", 1e-4, "integration step, s", (1e-6, 5e-4)),
            mismatch=d("mismatch", 0.1, "relative spread of neuron parameters", (0.0, 0.5)),
            seed=d("seed", 0, "random seed", (0, 2**31 - 1)),
            background_rate_hz=d("background_rate_hz", 10.0, "background Poisson input per neuron, Hz",
                                 (0.0, 1000.0)),
            input_base_weight_a=d("input_base_weight_a", 20e-9,
                                  "synaptic current jump of a weight-1 input event, A", (1e-12, 1e-6)),
        )
        self.quiet_neurons = d("quiet_neurons", [-1], "neurons without background input ([-1]: none)")
        self.late_policy = d("late_policy", "deliver", "what to do with late events",
                             choices=("deliver", "drop"))
        self.drive = dict(
            neurons=d("drive_neurons", [-1], "neurons driven by the protocol ([-1]: none)"),
            durations_s=d("drive_phase_s", [0.0], "duration of each drive phase, s"),
            rates_hz=d("drive_rate_hz", [0.0], "Poisson input rate of each phase, Hz"),
        )
        self.stale_input_s = d("stale_input_s", 0.5, "input later than this is dropped, s", (0.0, 60.0))
        self.drive_weight = d("drive_weight", 1.0, "weight of drive input events", (0.0, 1.0))
        self.replay_args = dict(
            replay_file=d("replay_file", "", "recording to replay (replay backend: .mcap or .nwb)"),
            replay_speed=d("replay_speed", 1.0, "replay speed, x real time (replay backend)", (0.01, 100.0)),
        )
        self._protocol: PhaseProtocol | None = None
        self._drive_until_s = 0.0
        self._sub = None

    def open_backend(self) -> object:
        neurons = [n for n in self.drive["neurons"] if n >= 0]
        if self.backend_name == "replay" and neurons:
            raise ConfigError(f"drive_neurons={neurons!r}: a replayed board cannot be driven; allowed: [-1]")
        if self.backend_name == "replay":
            return BOARD_BACKENDS.create("replay", **self.replay_args)
        self._protocol = PhaseProtocol(neurons, list(self.drive["durations_s"]),
                                       list(self.drive["rates_hz"]), seed=self.sim_args["seed"] + 1)
        kwargs = self.sim_args if self.backend_name == "sim" else {}
        if self.backend_name == "sim":
            kwargs = {**kwargs, "quiet_neurons": tuple(n for n in self.quiet_neurons if n >= 0)}
        return BOARD_BACKENDS.create(self.backend_name, **kwargs)

    def create_inputs(self) -> None:
        self._sub = self.create_subscription(
            WeightedEventBatch, "weighted_events", self._on_weighted, stream_qos(self.qos_depth))

    def destroy_inputs(self) -> None:
        self.destroy_subscription(self._sub)

    def _tick(self) -> None:
        if self._protocol is not None and len(self._protocol.neurons):
            t0, t1 = self._drive_until_s, self.backend.now_ns * 1e-9 + self._pacer.lag_s
            self._drive_until_s = max(t0, t1)
            ids, t_s = self._protocol.events(t0, t1)
            if len(ids):
                self.backend.deliver(ids, (t_s * 1e9).astype(np.int64),
                                     np.full(len(ids), self.drive_weight))
        super()._tick()

    def _on_weighted(self, msg: WeightedEventBatch) -> None:
        if self._timer is not None:
            self.link.heard(time.monotonic(), msg.seq)
        try:
            events = weighted_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.report_malformed("WeightedEventBatch", exc)
            return
        if self._timer is None or not len(events):
            return
        t_dev = self.hub_to_device_ns(events.delivery_time_ns)
        now = self.backend.now_ns
        late = t_dev < now
        self.link.late_events += int(late.sum())
        drop = t_dev < now - int(self.stale_input_s * 1e9)
        if self.late_policy == "drop":
            drop |= late
        if drop.any():
            events, t_dev = events.select(~drop), t_dev[~drop]
            if not len(events):
                return
        try:
            self.backend.deliver(events.post_id, t_dev, events.weight)
        except ValueError as exc:
            self.refusals.report(Refusal.CATEGORY_INPUT, f"WeightedEventBatch seq {msg.seq}: {exc}",
                                 len(events))


def main(args: list[str] | None = None) -> None:
    sys.exit(run(BoardNode, args))


if __name__ == "__main__":
    main()
