"""Memristor controller and hub (Southampton): routes every spike through the crossbar.

For each lab in the connectivity it subscribes ``/<lab>/spikes``; each batch is routed through a
batched read of the target devices (weight = f(R), the original 0-255 byte too), sent to board labs
as ``/<lab>/weighted_events`` and to MEA labs as ``/<lab>/stimulation``, and fed to the plasticity
rule afterwards, from a guard condition, so that a spike batch already waiting is routed first
(:mod:`neurohybrid.hub.session`). Publishes ``synapse_states`` (transient-local), ``plasticity``
events and ``refusals``; serves ``read_memristor``, ``program_memristor`` and ``clock_sync`` (the
master clock for the labs' NTP-like exchanges). Lab times are mapped into the hub clock with each
lab's offset from its ``/<lab>/link_status``; a lab's missing data is reported to the rule; idle
labs get empty keepalive batches (:mod:`neurohybrid.hub.streams`).
"""

from __future__ import annotations

import sys
import time

from neurohybrid.hub.connectivity import KIND_MEA
from neurohybrid.hub.params import hub_params, hub_session
from neurohybrid.hub.session import HubSession, Learned
from neurohybrid.msg import (
    LinkStatus,
    PlasticityEvent,
    Refusal,
    SpikeBatch,
    StimulationCommand,
    SynapseStates,
    WeightedEventBatch,
)
from neurohybrid.nodes.clock_link import ClockSyncServer
from neurohybrid.nodes.convert import (
    MalformedMessage,
    fill_stimulation,
    fill_synapse_states,
    fill_weighted_batch,
    plasticity_messages,
    spikes_from_msg,
)
from neurohybrid.nodes.managed import ACTIVE, ManagedNode
from neurohybrid.nodes.runtime import RefusalReporter, event_qos, run, stamp_now, stamp_ns, state_qos, stream_qos
from neurohybrid.srv import ProgramMemristor, ReadMemristor

FRAME = "southampton/hub"
MEMRISTOR_FRAME = "southampton/memristor"
CLOCK_DOMAIN = "southampton"


class HubNode(ManagedNode):
    """Lifecycle node: configure loads connectivity and opens the crossbar; activate routes."""

    def __init__(self) -> None:
        super().__init__("hub", hub_params())
        self.session: HubSession | None = None
        self._pubs: dict[str, object] = {}
        self._weighted_labs: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------
    def configure_node(self) -> None:
        self.session = hub_session(self.params)
        conn, qos = self.session.hub.connectivity, stream_qos(self.params["qos_depth"])
        for lab, kind in conn.lab_kinds.items():
            self.own(self.create_subscription(SpikeBatch, f"/{lab}/spikes", lambda m, lab=lab: self._on_spikes(lab, m),
                                              qos))
            self.own(self.create_subscription(LinkStatus, f"/{lab}/link_status",
                                              lambda m, lab=lab: self._on_link_status(lab, m), state_qos()))
            if kind == KIND_MEA:
                self._pubs[lab] = self.own(self.create_publisher(StimulationCommand, f"/{lab}/stimulation", qos))
            else:
                self._pubs[lab] = self.own(self.create_publisher(WeightedEventBatch, f"/{lab}/weighted_events", qos))
                self._weighted_labs.add(lab)
        self._states_pub = self.own(self.create_publisher(SynapseStates, "synapse_states", state_qos()))
        self._plasticity_pub = self.own(self.create_publisher(PlasticityEvent, "plasticity", event_qos()))
        reporter = RefusalReporter(self, MEMRISTOR_FRAME)
        self.refusals = self.own(reporter, release=reporter.destroy)
        self.own(self.create_service(ReadMemristor, "read_memristor", self._on_read))
        self.own(self.create_service(ProgramMemristor, "program_memristor", self._on_program))
        self.own(self.create_timer(self.params["keepalive_s"], self._keepalive))
        self.own(self.create_timer(self.params["state_period_s"], self.publish_states))
        self.own(self.create_timer(self.params["changed_state_period_s"], self._publish_changed_states))
        self._learn_guard = self.own(self.create_guard_condition(self._learn_next))
        clock = ClockSyncServer(f"{self.get_name()}_clock", self.get_namespace(), self.context, CLOCK_DOMAIN)
        self.own(clock, release=clock.close)
        self.get_logger().info(f"configured: {len(conn)} synapses, labs {dict(conn.lab_kinds)}, rule "
                               f"{self.params['rule']}, memristor {self.params['memristor_backend']}")
        self.publish_states()

    def activate_node(self) -> None:
        self.session.activate(time.time_ns())

    def deactivate_node(self) -> None:
        self._publish_learned(self.session.deactivate())  # pulses decided while active, before the safe state

    def release_device(self) -> None:
        if self.session is not None:
            self._publish_learned(self.session.shutdown())
            self.session = None
            self._weighted_labs.clear()

    # -- data path ---------------------------------------------------------------------------
    def _on_spikes(self, lab: str, msg: SpikeBatch) -> None:
        if self.phase != ACTIVE:  # a batch may arrive while shutting down
            return
        try:
            events = spikes_from_msg(msg)
        except (MalformedMessage, ValueError) as exc:
            self.refusals.report(Refusal.CATEGORY_MALFORMED, f"SpikeBatch from /{lab}: {exc}")
            return
        out = self.session.route(lab, events, msg.seq, msg.slice_start_ns, msg.slice_end_ns)
        if out is None:
            if self.session.pending:  # a silent batch still moves the lab's data forward
                self._learn_guard.trigger()
            return
        pre = dict(pre_frame=msg.header.frame_id, pre_seq=msg.seq, pre_stamp_ns=stamp_ns(msg.header))
        for target, batch in out.weighted.items():
            if target in self._weighted_labs and len(batch):
                self._send(target, fill_weighted_batch(WeightedEventBatch(**pre), batch))
        for target, batch in out.stimulation.items():
            if len(batch):  # silence needs no message: keepalives keep the lab's watchdog fed
                self._send(target, fill_stimulation(StimulationCommand(**pre), batch))
        self._learn_guard.trigger()

    def _learn_next(self) -> None:
        """Plasticity of the oldest routed batch; runs when the executor has no spike batch ready first."""
        if self.session is None:
            return
        learned = self.session.learn_next(time.time_ns())
        if learned is not None:
            self._publish_learned([learned])
            if self.session.pending:
                self._learn_guard.trigger()

    def _send(self, lab: str, msg: object) -> None:
        """Publish a batch to ``lab`` with that lab's own sequence number."""
        msg.seq = self.session.streams.send(lab, time.monotonic())
        msg.clock_domain = CLOCK_DOMAIN
        stamp_now(self, msg.header, FRAME)
        self._pubs[lab].publish(msg)

    def _keepalive(self) -> None:
        if self.phase == ACTIVE:
            if self.session.pending:  # a batch waiting for a lab that went quiet: learn_wait_s may be over
                self._learn_guard.trigger()
            for lab in self.session.streams.keepalives_due(time.monotonic()):
                self._send(lab, self._pubs[lab].msg_type())

    def _on_link_status(self, lab: str, msg: LinkStatus) -> None:
        self.session.streams.set_offset(lab, msg.clock_offset_s, msg.clock_offset_uncertainty_s)

    def _publish_learned(self, learned: list[Learned]) -> None:
        if not self.context.ok():  # at shutdown the pulses are applied; there is nobody to tell
            return
        for batch in learned:
            stamp = self.get_clock().now().to_msg()
            for m in plasticity_messages(batch.records, self.params["rule"], stamp, MEMRISTOR_FRAME):
                self._plasticity_pub.publish(m)
            self.refusals.report_all(Refusal.CATEGORY_PROGRAMMING,
                                     [r for r, ok in zip(batch.records.reason, batch.records.accepted) if not ok])

    def _publish_changed_states(self) -> None:
        if self.session.states_dirty:
            self.publish_states()

    def publish_states(self) -> None:
        """The state of every synapse, on the transient-local ``synapse_states``."""
        self.session.states_dirty = False
        msg = fill_synapse_states(SynapseStates(), self.session.hub.synapse_states())
        stamp_now(self, msg.header, MEMRISTOR_FRAME)
        self._states_pub.publish(msg)

    # -- services ----------------------------------------------------------------------------
    def _on_read(self, req: ReadMemristor.Request, res: ReadMemristor.Response) -> ReadMemristor.Response:
        try:
            res.resistance_ohm, res.weight, res.weight_byte = self.session.read(req.wordline, req.bitline)
        except ValueError as exc:
            res.success, res.message = False, str(exc)
            return res
        res.success = True
        return res

    def _on_program(self, req: ProgramMemristor.Request,
                    res: ProgramMemristor.Response) -> ProgramMemristor.Response:
        reply = self.session.program(req.wordline, req.bitline, req.amplitude_v, req.width_s, int(req.count),
                                     self.get_clock().now().nanoseconds)
        res.success, res.message = reply.success, reply.message
        res.resistance_before_ohm, res.resistance_after_ohm = reply.resistance_before_ohm, reply.resistance_after_ohm
        if reply.refused:
            self.refusals.report(Refusal.CATEGORY_PROGRAMMING, reply.refusal, reply.refused)
        if reply.programmed:
            self.publish_states()
        return res


def main(args: list[str] | None = None) -> None:
    sys.exit(run(HubNode, args))


if __name__ == "__main__":
    main()
