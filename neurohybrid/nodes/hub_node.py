"""Memristor controller and hub (Southampton): routes every spike through the crossbar.

For each lab in the connectivity it subscribes ``/<lab>/spikes``; each batch is routed through a
batched read of the target devices (weight = f(R), the original 0-255 byte too), sent to board labs
as ``/<lab>/weighted_events`` and to MEA labs as ``/<lab>/stimulation``, and fed to the plasticity
rule, whose pulses pass the programming limits. The rule and the programming run after the batch
is sent, from a guard condition, so that a spike batch already waiting is routed first: programming
is never on the latency path of a spike, and a batch's pulses act on the batches routed after
they are applied (the original hub's ~10 ms serial programming delayed them far more). Publishes ``synapse_states`` (transient-local),
``plasticity`` events and ``refusals``; serves ``read_memristor``, ``program_memristor`` and
``clock_sync`` (the master clock for the labs' NTP-like exchanges). Source times are mapped into
the hub clock with each lab's offset from its ``/<lab>/link_status``. A lab's missing data (a gap
in sequence numbers or in time, e.g. a restart) is reported to the rule, which then never programs
on a window that overlaps it. When idle, the hub sends empty keepalive batches so the labs'
watchdogs can tell a quiet network from a lost hub.
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque

import numpy as np
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from neurohybrid.errors import NeurohybridError
from neurohybrid.hub.connectivity import KIND_MEA, load_connectivity
from neurohybrid.hub.hub import Hub, RoutedBatch
from neurohybrid.hub.stimulus import StimulusMap
from neurohybrid.hub.weights import WeightMap
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS
from neurohybrid.memristor.limits import ProgrammingLimits
from neurohybrid.memristor.plasticity import PLASTICITY_RULES
from neurohybrid.msg import (
    LinkStatus,
    PlasticityEvent,
    Refusal,
    SpikeBatch,
    StimulationCommand,
    SynapseStates,
    WeightedEventBatch,
)
from neurohybrid.nodes.convert import (
    MalformedMessage,
    fill_stimulation,
    fill_weighted_batch,
    spikes_from_msg,
    to_array,
)
from neurohybrid.nodes.clock_link import ClockSyncServer
from neurohybrid.nodes.params import declare
from neurohybrid.nodes.runtime import (
    RefusalReporter,
    event_qos,
    run,
    stamp_now,
    stamp_ns,
    state_qos,
    stream_qos,
)
from neurohybrid.sequence import SequenceTracker
from neurohybrid.srv import ProgramMemristor, ReadMemristor

FRAME = "southampton/hub"
MEMRISTOR_FRAME = "southampton/memristor"


class HubNode(LifecycleNode):
    """Lifecycle node: configure loads connectivity and opens the crossbar; activate routes."""

    def __init__(self) -> None:
        super().__init__("hub")
        d = lambda *a, **k: declare(self, *a, read_only=True, **k)  # noqa: E731
        declare(self, "autostart", True, "configure and activate at start")
        self.connectivity_file = d("connectivity_file", "", "connectivity: legacy text or YAML")
        self.backend_name = d("memristor_backend", "sim", "memristor backend",
                              choices=tuple(MEMRISTOR_BACKENDS.names()))
        self.crossbar = dict(n_wordlines=d("n_wordlines", 32, "crossbar word lines", (1, 1024)),
                             n_bitlines=d("n_bitlines", 32, "crossbar bit lines", (1, 1024)))
        self.seed = d("seed", 0, "random seed of the memristor twin", (0, 2**31 - 1))
        self.rule_name = d("rule", "rate", "plasticity rule", choices=tuple(PLASTICITY_RULES.names()))
        self.rule_params = {
            "rate": dict(window_s=d("rate.window_s", 1.0, "window of presynaptic count, s", (1e-3, 60.0)),
                         ltp_count=d("rate.ltp_count", 20, "LTP when count exceeds this", (0, 100000)),
                         ltd_count=d("rate.ltd_count", 5, "LTD when count is below this", (0, 100000))),
            "stdp": dict(ltp_window_s=d("stdp.ltp_window_s", 0.1, "LTP window, s", (1e-6, 10.0)),
                         ltd_window_s=d("stdp.ltd_window_s", 0.0375, "LTD window, s", (1e-6, 10.0))),
        }
        self.pulse_params = dict(
            ltp_amplitude_v=d("ltp_amplitude_v", 4.0, "LTP pulse, V", (0.1, 10.0)),
            ltd_amplitude_v=d("ltd_amplitude_v", -4.0, "LTD pulse, V", (-10.0, -0.1)),
            ltp_width_s=d("ltp_width_s", 100e-6, "LTP pulse width, s", (1e-9, 1.0)),
            ltd_width_s=d("ltd_width_s", 100e-6, "LTD pulse width, s", (1e-9, 1.0)),
        )
        self.limits = ProgrammingLimits(
            max_abs_voltage_v=d("max_abs_voltage_v", 5.0, "largest |programming voltage|, V", (0.1, 20.0)),
            max_width_s=d("max_width_s", 1e-3, "longest programming pulse, s", (1e-9, 1.0)),
            max_pulses_per_s=d("max_pulses_per_s", 50.0, "pulses per device per s", (0.1, 1e6)),
        )
        self.weight_map = WeightMap(r_min_ohm=d("r_min_ohm", 4000.0, "resistance of weight 0, ohm", (1.0, 1e9)),
                                    r_max_ohm=d("r_max_ohm", 9000.0, "resistance of weight 1, ohm", (1.0, 1e9)))
        self.stimulus_map = StimulusMap(
            amplitude_ua_at_full_weight=d("stim_amplitude_ua", 30.0, "stimulus at weight 1, uA", (0.001, 1000.0)),
            phase_width_us=d("stim_phase_width_us", 200.0, "stimulus phase width, us", (1.0, 10000.0)),
            pulse_count=d("stim_pulse_count", 1, "pulses per stimulus", (1, 1000)),
        )
        self.state_period_s = d("state_period_s", 1.0, "synapse-state publish period, s", (0.01, 60.0))
        self.changed_state_period_s = d("changed_state_period_s", 0.1,
                                        "after plasticity, states are published within this time, s",
                                        (0.01, 60.0))
        self.qos_depth = d("qos_depth", 100, "depth of the reliable streams", (1, 10000))
        self.keepalive_s = d("keepalive_s", 0.03, "send an empty batch to a lab idle this long, s", (0.001, 10.0))
        self.gap_tolerance_s = d("gap_tolerance_s", 0.05, "time between a lab's batches counted as missing data, s",
                                 (0.001, 60.0))
        self.hub: Hub | None = None
        self._entities: list = []
        self._seq: dict[str, int] = {}
        self._last_sent: dict[str, float] = {}
        self._offset_ns: dict[str, int] = {}
        self._trackers: dict[str, SequenceTracker] = {}
        self._last_slice_end: dict[str, int] = {}
        self._active = False
        self._states_dirty = False
        self._pending_learn: deque[tuple[RoutedBatch, int]] = deque()
        self._clock_server: ClockSyncServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            if not self.connectivity_file:
                raise NeurohybridError("parameter 'connectivity_file' is empty: give a connectivity file")
            conn = load_connectivity(self.connectivity_file, **self.crossbar)
            memristor = MEMRISTOR_BACKENDS.create(self.backend_name, limits=self.limits,
                                                  seed=self.seed, **self.crossbar)
            memristor.configure()
            rule = PLASTICITY_RULES.create(self.rule_name, n_synapses=len(conn),
                                           **self.rule_params[self.rule_name], **self.pulse_params)
            self.hub = Hub(conn, memristor, rule, self.weight_map, self.stimulus_map)
        except (NeurohybridError, ValueError, OSError) as exc:
            self.get_logger().error(f"configure failed: {exc}")
            return TransitionCallbackReturn.FAILURE
        qos = stream_qos(self.qos_depth)
        self._weighted_pubs, self._stim_pubs = {}, {}
        for lab, kind in conn.lab_kinds.items():
            self._entities.append(self.create_subscription(
                SpikeBatch, f"/{lab}/spikes", lambda m, lab=lab: self._on_spikes(lab, m), qos))
            if kind == KIND_MEA:
                self._stim_pubs[lab] = self.create_publisher(StimulationCommand, f"/{lab}/stimulation", qos)
            else:
                self._weighted_pubs[lab] = self.create_publisher(WeightedEventBatch, f"/{lab}/weighted_events", qos)
            self._entities.append(self.create_subscription(
                LinkStatus, f"/{lab}/link_status", lambda m, lab=lab: self._on_link_status(lab, m), state_qos()))
            self._trackers[lab] = SequenceTracker()
            self._seq[lab] = 0
            self._offset_ns[lab] = 0
        self._states_pub = self.create_publisher(SynapseStates, "synapse_states", state_qos())
        self._plasticity_pub = self.create_publisher(PlasticityEvent, "plasticity", event_qos())
        self.refusals = RefusalReporter(self, MEMRISTOR_FRAME)
        self._entities += [
            self.create_service(ReadMemristor, "read_memristor", self._on_read),
            self.create_service(ProgramMemristor, "program_memristor", self._on_program),
            self.create_timer(self.keepalive_s, self._keepalive),
            self.create_timer(self.state_period_s, self.publish_states),
            self.create_timer(self.changed_state_period_s, self._publish_changed_states),
        ]
        self._learn_guard = self.create_guard_condition(self._learn_next)
        self._entities.append(self._learn_guard)
        self.get_logger().info(f"configured: {len(conn)} synapses, labs {dict(conn.lab_kinds)}, "
                               f"rule {self.rule_name}, memristor {self.backend_name}")
        self.publish_states()
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._clock_server is None:
            self._clock_server = ClockSyncServer(f"{self.get_name()}_clock", self.get_namespace(), "southampton")
        self.hub.memristor.arm()
        # Windows reaching back before activation hold no data: the rule must not read them
        # as "fewer than 5 spikes" (LTD).
        self.hub.rule.invalidate(time.time_ns())
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._learn_all_pending()  # pulses decided while active are applied before the safe state
        self._active = False
        self.hub.memristor.safe_state()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.shutdown_device()
        return TransitionCallbackReturn.SUCCESS

    def shutdown_device(self) -> None:
        """No programming from now on; the crossbar keeps its (non-volatile) states."""
        if self._active:
            self._learn_all_pending()
        self._active = False
        if self._clock_server is not None:
            self._clock_server.close()
            self._clock_server = None
        if self.hub is not None:
            self.hub.memristor.safe_state()
            self.hub.memristor.close()
            self.hub = None

    # -- data path ---------------------------------------------------------------------------
    def _on_spikes(self, lab: str, msg: SpikeBatch) -> None:
        if not self._active or self.hub is None:  # a batch may arrive while shutting down
            return
        try:
            events = spikes_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"SpikeBatch from /{lab}: {exc}")
            return
        offset = self._offset_ns[lab]
        start, end = msg.slice_start_ns + offset, msg.slice_end_ns + offset
        missed = self._trackers[lab].observe(msg.seq)
        last_end = self._last_slice_end.get(lab)
        if last_end is not None and (missed or start - last_end > self.gap_tolerance_s * 1e9):
            self.hub.mark_gap(lab, last_end, start)
        self._last_slice_end[lab] = end
        if not len(events):
            return
        routed = self.hub.route(lab, events, hub_time_ns=events.time_ns + offset)
        out = routed.output
        pre = dict(pre_frame=msg.header.frame_id, pre_seq=msg.seq, pre_stamp_ns=stamp_ns(msg.header))
        for target, batch in out.weighted.items():
            if target in self._weighted_pubs and len(batch):
                self._send(target, fill_weighted_batch(WeightedEventBatch(**pre), batch))
        for target, batch in out.stimulation.items():
            self._send(target, fill_stimulation(StimulationCommand(**pre), batch))
        self._pending_learn.append((routed, int(end)))
        self._learn_guard.trigger()

    def _learn_next(self) -> None:
        """Plasticity of the oldest routed batch; runs when the executor has no spike batch ready first."""
        if not self._pending_learn or self.hub is None:
            return
        routed, now_ns = self._pending_learn.popleft()
        plasticity, _ = self.hub.learn(routed, now_ns=now_ns)
        self._publish_plasticity(plasticity)
        self._states_dirty |= bool(len(plasticity))
        if self._pending_learn:
            self._learn_guard.trigger()

    def _learn_all_pending(self) -> None:
        while self._pending_learn and self.hub is not None:
            self._learn_next()

    def _send(self, lab: str, msg: object) -> None:
        """Publish a batch to ``lab`` with that lab's own sequence number."""
        msg.seq = self._seq[lab]
        msg.clock_domain = "southampton"
        self._seq[lab] += 1
        stamp_now(self, msg.header, FRAME)
        (self._stim_pubs.get(lab) or self._weighted_pubs[lab]).publish(msg)
        self._last_sent[lab] = time.monotonic()

    def _keepalive(self) -> None:
        if not self._active:
            return
        now = time.monotonic()
        for lab in self._seq:
            if now - self._last_sent.get(lab, 0.0) >= self.keepalive_s:
                self._send(lab, StimulationCommand() if lab in self._stim_pubs else WeightedEventBatch())

    def _on_link_status(self, lab: str, msg: LinkStatus) -> None:
        # the lab measures hub minus lab; its times map into the hub clock by adding that
        if math.isfinite(msg.clock_offset_uncertainty_s):
            self._offset_ns[lab] = int(round(msg.clock_offset_s * 1e9))

    def _publish_plasticity(self, rec: object) -> None:
        for i in range(len(rec)):
            m = PlasticityEvent(
                rule=self.rule_name, synapse_id=int(rec.synapse_id[i]), wordline=int(rec.wordline[i]),
                bitline=int(rec.bitline[i]), direction=int(rec.direction[i]),
                pulse_amplitude_v=float(rec.amplitude_v[i]), pulse_width_s=float(rec.width_s[i]),
                resistance_before_ohm=float(rec.r_before_ohm[i]), resistance_after_ohm=float(rec.r_after_ohm[i]),
                accepted=bool(rec.accepted[i]), reason=rec.reason[i], trigger_time_ns=int(rec.time_ns[i]),
                pre_count=int(rec.pre_count[i]))
            stamp_now(self, m.header, MEMRISTOR_FRAME)
            self._plasticity_pub.publish(m)
        refused = [r for r, ok in zip(rec.reason, rec.accepted) if not ok]
        if refused:
            more = f" (+{len(refused) - 1} more in this batch)" if len(refused) > 1 else ""
            self.refusals.report(Refusal.CATEGORY_PROGRAMMING, refused[0] + more, len(refused))

    def _publish_changed_states(self) -> None:
        if self._states_dirty:
            self.publish_states()

    def publish_states(self) -> None:
        if self.hub is None:
            return
        self._states_dirty = False
        s = self.hub.synapse_states()
        m = SynapseStates(
            synapse_id=to_array(s["synapse_id"], np.uint32), wordline=to_array(s["wordline"], np.uint16),
            bitline=to_array(s["bitline"], np.uint16), resistance_ohm=to_array(s["resistance_ohm"], np.float64),
            weight=to_array(s["weight"], np.float32), weight_byte=to_array(s["weight_byte"], np.uint8),
            pre=list(s["pre"]), post=list(s["post"]))
        stamp_now(self, m.header, MEMRISTOR_FRAME)
        self._states_pub.publish(m)

    # -- services ----------------------------------------------------------------------------
    def _on_read(self, req: ReadMemristor.Request, res: ReadMemristor.Response) -> ReadMemristor.Response:
        try:
            r = float(self.hub.memristor.read(np.array([req.wordline]), np.array([req.bitline]))[0])
        except (ValueError, AttributeError) as exc:
            res.success, res.message = False, str(exc)
            return res
        w, b = self.weight_map.to_weight(np.array([r]))
        res.success, res.resistance_ohm, res.weight, res.weight_byte = True, r, float(w[0]), int(b[0])
        return res

    def _on_program(self, req: ProgramMemristor.Request,
                    res: ProgramMemristor.Response) -> ProgramMemristor.Response:
        if self.hub is None or not self._active:
            res.success, res.message = False, "refused: hub is not active (safe state)"
            return res
        n = int(req.count)
        if not 1 <= n <= int(self.limits.max_pulses_per_s):
            res.success = False
            res.message = f"refused: count={n} outside allowed [1, {int(self.limits.max_pulses_per_s)}]"
            self.refusals.report(Refusal.CATEGORY_PROGRAMMING, res.message)
            return res
        now_ns = self.get_clock().now().nanoseconds
        try:
            result = self.hub.memristor.program(np.full(n, req.wordline), np.full(n, req.bitline),
                                                req.amplitude_v, req.width_s, now_ns)
        except ValueError as exc:
            res.success, res.message = False, f"refused: {exc}"
            self.refusals.report(Refusal.CATEGORY_PROGRAMMING, res.message)
            return res
        done = np.flatnonzero(result.accepted)
        res.success = bool(result.accepted.all())
        res.message = "; ".join(result.reasons)
        if len(done):
            res.resistance_before_ohm = float(result.resistance_before_ohm[done[0]])
            res.resistance_after_ohm = float(result.resistance_after_ohm[done[-1]])
        if result.reasons:
            self.refusals.report(Refusal.CATEGORY_PROGRAMMING, "; ".join(result.reasons), len(result.reasons))
        self.publish_states()
        return res


def main(args: list[str] | None = None) -> None:
    sys.exit(run(HubNode, args))


if __name__ == "__main__":
    main()
