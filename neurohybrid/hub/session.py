"""The hub as a node runs it: batches in from each lab, routed at once, plasticity afterwards.

:class:`HubSession` holds everything the hub node decides, without ROS: the per-lab streams
(:class:`~neurohybrid.hub.streams.HubStreams`), the route-then-learn queue, the crossbar's
arm/safe state, and the ``read_memristor`` / ``program_memristor`` services.

Route, then learn: each batch is routed at once (its output is sent before anything else) and
queued; its plasticity runs afterwards, one queued batch at a time when nothing more urgent is
waiting, so programming is never on the latency path of a spike and a batch's pulses act on the
batches routed after they are applied (the original hub's ~10 ms serial programming delayed
them far more). Times are ns of the hub clock unless named ``_s`` (monotonic seconds).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from neurohybrid.core.device import InputRefused
from neurohybrid.core.events import SpikeEvents
from neurohybrid.hub.hub import Hub, HubOutput, PlasticityRecords, RoutedBatch
from neurohybrid.core.units import s_to_ns
from neurohybrid.hub.streams import HubStreams

NOT_ACTIVE_REASON = "refused: hub is not active (safe state)"


@dataclass
class Learned:
    """The plasticity of one routed batch: pulse records and one message per refused pulse."""

    records: PlasticityRecords
    refusals: list[str]


@dataclass
class ProgramReply:
    """Outcome of a ``program_memristor`` request: the service's answer, and ``refused`` pulses
    (``refusal`` says why) to report. ``programmed``: the crossbar was asked (states may have moved)."""

    success: bool
    message: str
    resistance_before_ohm: float = 0.0
    resistance_after_ohm: float = 0.0
    refused: int = 0
    refusal: str = ""
    programmed: bool = False


class HubSession:
    """A configured hub with its lab streams; ``activate`` arms the crossbar, ``deactivate`` disarms it."""

    def __init__(self, hub: Hub, keepalive_s: float, gap_tolerance_s: float, learn_wait_s: float = 0.5) -> None:
        self.hub = hub
        self.streams = HubStreams(hub.connectivity.lab_kinds, keepalive_s, gap_tolerance_s)
        self._learn_wait_ns = s_to_ns(learn_wait_s)
        self.active = False
        self.states_dirty = False
        self._pending: deque[tuple[RoutedBatch, int]] = deque()

    # --- lifecycle -----------------------------------------------------------------------
    def activate(self, now_ns: int) -> None:
        """Arm the crossbar; windows reaching back before ``now_ns`` hold no data for the rule."""
        self.hub.memristor.arm()
        # Windows reaching back before activation hold no data: the rule must not read them
        # as "fewer than 5 spikes" (LTD).
        self.hub.rule.invalidate(now_ns)
        self.active = True

    def deactivate(self) -> list[Learned]:
        """Apply the pulses decided while active, then put the crossbar in its safe state."""
        learned = self.learn_all()
        self.active = False
        self.hub.memristor.safe_state()
        return learned

    def shutdown(self) -> list[Learned]:
        """No programming from now on; the crossbar keeps its (non-volatile) states."""
        learned = self.learn_all() if self.active else []
        self.active = False
        self.hub.memristor.shutdown()
        return learned

    # --- data path -----------------------------------------------------------------------
    def route(self, lab: str, events: SpikeEvents, seq: int, slice_start_ns: int,
              slice_end_ns: int) -> HubOutput | None:
        """One batch of ``lab`` (times in its clock): its missing data marked, its spikes routed.

        Returns the output to send (None for a batch without events); its plasticity waits in
        the queue for :meth:`learn_next`.
        """
        offset = self.streams.offset_ns(lab)
        gap = self.streams.receive(lab, seq, slice_start_ns, slice_end_ns)
        if gap is not None:
            self.hub.mark_gap(lab, *gap)
        if not len(events):
            return None
        routed = self.hub.route(lab, events, hub_time_ns=events.time_ns + offset)
        self._pending.append((routed, int(slice_end_ns + offset)))
        return routed.output

    @property
    def pending(self) -> int:
        """Routed batches whose plasticity is still to run."""
        return len(self._pending)

    def learn_next(self, now_ns: int | None = None) -> Learned | None:
        """Plasticity of the oldest routed batch, programmed at its slice end; None if none is ready.

        A batch is ready once every lab's batches cover its slice end (a rule must not read a
        lab's silence into data that has not arrived: a dead or cut-off lab would look like a lab
        that fired nothing, i.e. LTD). A lab still behind ``learn_wait_s`` after it (hub clock
        ``now_ns``) is missing: its span up to the slice end is marked as a gap, so no decision
        window over it programs anything, and the batch is learned. Without ``now_ns`` (draining
        at deactivation) the batch is learned from what arrived.
        """
        if not self._pending:
            return None
        routed, end_ns = self._pending[0]
        covered = {lab: self.streams.covered_ns(lab) for lab in self.streams.labs}
        behind = [lab for lab, t in covered.items() if t is None or t < end_ns]
        if behind and now_ns is not None:
            if now_ns - end_ns < self._learn_wait_ns:
                return None
            for lab in behind:
                since = covered[lab]
                self.hub.mark_gap(lab, min(end_ns - self._learn_wait_ns if since is None else since, end_ns), end_ns)
        self._pending.popleft()
        records, refusals = self.hub.learn(routed, now_ns=end_ns)
        self.states_dirty |= bool(len(records))
        return Learned(records, refusals)

    def learn_all(self) -> list[Learned]:
        """Plasticity of every queued batch, in order."""
        learned = []
        while self._pending:
            learned.append(self.learn_next())
        return learned

    # --- services ------------------------------------------------------------------------
    def read(self, wordline: int, bitline: int) -> tuple[float, float, int]:
        """Resistance (ohm), weight and weight byte of one device."""
        r = float(self.hub.memristor.read(np.array([wordline]), np.array([bitline]))[0])
        weight, byte = self.hub.weight_map.to_weight(np.array([r]))
        return r, float(weight[0]), int(byte[0])

    def program(self, wordline: int, bitline: int, amplitude_v: float, width_s: float, count: int,
                now_ns: int) -> ProgramReply:
        """``count`` pulses on one device (the service); refused whole unless active and within limits."""
        if not self.active:
            return ProgramReply(False, NOT_ACTIVE_REASON)
        most = int(self.hub.memristor.limits.max_pulses_per_s)
        if not 1 <= count <= most:
            reason = f"refused: count={count} outside allowed [1, {most}]"
            return ProgramReply(False, reason, refused=1, refusal=reason)
        try:
            result = self.hub.memristor.program(np.full(count, wordline), np.full(count, bitline),
                                                amplitude_v, width_s, now_ns)
        except (InputRefused, ValueError) as exc:
            reason = f"refused: {exc}"
            return ProgramReply(False, reason, refused=1, refusal=reason)
        done = np.flatnonzero(result.accepted)
        message = "; ".join(result.reasons)
        reply = ProgramReply(bool(result.accepted.all()), message, refused=len(result.reasons), refusal=message,
                             programmed=True)
        if len(done):
            reply.resistance_before_ohm = float(result.resistance_before_ohm[done[0]])
            reply.resistance_after_ohm = float(result.resistance_after_ohm[done[-1]])
        return reply
