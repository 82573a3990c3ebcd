"""The hub (Southampton): routes spikes through memristive synapses and applies plasticity.

Original hub logic (Serb et al. 2020, mission.md "Hub logic"):

1. A presynaptic spike arrives; for every synapse leaving that neuron the hub reads the
   memristor's resistance R, maps it to a weight (``weights.WeightMap``) and sends the weight
   with the presynaptic spike time to the lab owning the postsynaptic neuron.
2. Plasticity on each postsynaptic event: the rule (``memristor.plasticity``) decides on a
   programming pulse; the crossbar backend enforces its limits and reads the device again.
   Evoked APs (kind 1) do not trigger plasticity; PSPs and spontaneous APs do.

Here the same logic runs on batches of events, vectorised (no Python loop per event):

* Routed (presynaptic) kinds: evoked AP, spontaneous AP and silicon spike. A PSP is a
  subthreshold response, not a spike, so it is never routed onward; an evoked AP is a real
  spike of the target neuron and is routed (it carries the loop silicon -> bio -> silicon).
* Plasticity-triggering (postsynaptic) kinds: PSP, spontaneous AP and silicon spike.
* Within a batch, every routed spike sees the device state at the start of the batch; pulses
  requested by the batch are programmed after routing, so they act from the next batch on.
  The rule is told the batch's presynaptic spikes (``on_pre``) before its postsynaptic events
  (``on_post``). All pulses of a batch go to the backend in one ``program`` call at ``now_ns``.
* Times are nanoseconds of the hub's master clock (the original Southampton PC kept it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurohybrid.core.device import InputRefused
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import (
    KIND_EVOKED_AP,
    KIND_NAMES,
    KIND_PSP,
    KIND_SILICON_SPIKE,
    KIND_SPONTANEOUS_AP,
    SpikeEvents,
    StimulusBatch,
    WeightedEvents,
)
from neurohybrid.core.units import NS_PER_S
from neurohybrid.hub.connectivity import KIND_MEA, Connectivity
from neurohybrid.hub.fanout_kernel import count_pairs, fill_pairs
from neurohybrid.hub.stimulus import StimulusMap
from neurohybrid.hub.weights import WeightMap
from neurohybrid.memristor.backend import MemristorBackend, ProgramResult
from neurohybrid.memristor.plasticity import PlasticityRule, PulseRequest

ROUTED_KINDS = (KIND_EVOKED_AP, KIND_SPONTANEOUS_AP, KIND_SILICON_SPIKE)
"""Event kinds that are presynaptic spikes and are routed through the synapses."""

PLASTICITY_KINDS = (KIND_PSP, KIND_SPONTANEOUS_AP, KIND_SILICON_SPIKE)
"""Event kinds that trigger plasticity as postsynaptic events (not evoked APs: Serb et al. 2020)."""


def _kind_table(kinds: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(max(KIND_NAMES) + 1, dtype=bool)
    table[list(kinds)] = True
    return table


_IS_ROUTED = _kind_table(ROUTED_KINDS)
_IS_PLASTIC = _kind_table(PLASTICITY_KINDS)


@dataclass(frozen=True)
class PlasticityRecords:
    """One row per programming pulse the rule requested, accepted or refused by the backend.

    ``direction`` +1 LTP / -1 LTD; ``amplitude_v`` (volt) and ``width_s`` (second) as requested;
    ``r_before_ohm`` / ``r_after_ohm`` read by the backend around the pulse (NaN where refused);
    ``reason`` is "" where accepted; ``time_ns`` is the triggering event's hub time;
    ``pre_count`` the presynaptic spikes the rule counted; ``tile`` the crossbar of the device
    (0 where not given: one-tile hubs).
    """

    synapse_id: np.ndarray
    wordline: np.ndarray
    bitline: np.ndarray
    direction: np.ndarray
    amplitude_v: np.ndarray
    width_s: np.ndarray
    r_before_ohm: np.ndarray
    r_after_ohm: np.ndarray
    accepted: np.ndarray
    reason: tuple[str, ...]
    time_ns: np.ndarray
    pre_count: np.ndarray
    tile: np.ndarray | None = None

    _SPEC = {
        "synapse_id": np.uint32,
        "wordline": np.uint16,
        "bitline": np.uint16,
        "direction": np.int8,
        "amplitude_v": np.float64,
        "width_s": np.float64,
        "r_before_ohm": np.float64,
        "r_after_ohm": np.float64,
        "accepted": np.bool_,
        "time_ns": np.int64,
        "pre_count": np.uint32,
        "tile": np.uint16,
    }

    def __post_init__(self) -> None:
        n = len(self.synapse_id)
        if self.tile is None:
            object.__setattr__(self, "tile", np.zeros(n, np.uint16))
        for name, dtype in self._SPEC.items():
            arr = np.ascontiguousarray(getattr(self, name), dtype=dtype)
            if arr.shape != (n,):
                raise ValueError(f"{name} has shape {arr.shape}, expected ({n},)")
            object.__setattr__(self, name, arr)
        reason = tuple(str(r) for r in self.reason)
        if len(reason) != n:
            raise ValueError(f"reason has {len(reason)} entries, expected {n}")
        object.__setattr__(self, "reason", reason)

    def __len__(self) -> int:
        return len(self.synapse_id)

    @property
    def r_before(self) -> np.ndarray:
        """Alias of ``r_before_ohm`` (the name used in the hub's task brief)."""
        return self.r_before_ohm

    @property
    def r_after(self) -> np.ndarray:
        """Alias of ``r_after_ohm`` (the name used in the hub's task brief)."""
        return self.r_after_ohm

    @classmethod
    def empty(cls) -> "PlasticityRecords":
        """No pulses (one shared read-only instance: most batches program nothing, and building
        eleven empty columns per batch cost ~35 us, a tenth of a hub batch at 1 ms slices)."""
        return _NO_RECORDS


def _no_records() -> PlasticityRecords:
    records = PlasticityRecords(**{name: np.empty(0, dtype) for name, dtype in PlasticityRecords._SPEC.items()},
                                reason=())
    for name in PlasticityRecords._SPEC:
        getattr(records, name).flags.writeable = False
    return records


_NO_RECORDS = _no_records()


@dataclass
class HubOutput:
    """What one batch of spikes produced.

    ``weighted``: per target lab, the routed spikes with weights (hub clock);
    ``stimulation``: per target lab of kind "mea", stimulation commands at delivery time (hub clock);
    ``plasticity``: programming pulses and their outcome; ``refusals``: one message per refused
    pulse; ``n_routed``: (spike, synapse) pairs routed.
    """

    weighted: dict[str, WeightedEvents] = field(default_factory=dict)
    stimulation: dict[str, StimulusBatch] = field(default_factory=dict)
    plasticity: PlasticityRecords = field(default_factory=PlasticityRecords.empty)
    refusals: list[str] = field(default_factory=list)
    n_routed: int = 0


@dataclass
class RoutedBatch:
    """One batch after :meth:`Hub.route`: its events in time order (``ids``, ``kinds``, ``times``,
    hub clock ns), the routed (event, synapse) pairs ``ev``/``syn``, and the ``output`` so far."""

    lab: str
    ids: np.ndarray
    kinds: np.ndarray
    times: np.ndarray
    ev: np.ndarray
    syn: np.ndarray
    output: HubOutput


class Hub:
    """Routes spike batches through the memristive crossbar and drives its plasticity rule."""

    def __init__(
        self,
        connectivity: Connectivity,
        memristor: MemristorBackend,
        rule: PlasticityRule,
        weight_map: WeightMap,
        stimulus_map: StimulusMap,
    ) -> None:
        n_wordlines, n_bitlines = memristor.shape
        for key, lines, size in (
            ("tile", connectivity.tile, memristor.n_tiles),
            ("wordline", connectivity.wordline, n_wordlines),
            ("bitline", connectivity.bitline, n_bitlines),
        ):
            if len(lines) and int(lines.max()) >= size:
                raise ConfigError(
                    f"{connectivity.source}: {key}={int(lines.max())} outside the memristor backend's "
                    f"crossbar (allowed 0..{size - 1})"
                )
        if rule.n_synapses != len(connectivity):
            raise ConfigError(
                f"plasticity rule n_synapses={rule.n_synapses} differs from the connectivity's "
                f"{len(connectivity)} synapses"
            )
        self.connectivity = connectivity
        self.memristor = memristor
        self.rule = rule
        self.weight_map = weight_map
        self.stimulus_map = stimulus_map
        kinds = connectivity.lab_kinds
        self._mea_labs = frozenset(lab for lab, kind in kinds.items() if kind == KIND_MEA)
        # load (or compile) the fan-out kernels for these arrays now, never on a streamed batch
        self.route(connectivity.labs[0], SpikeEvents.empty())

    def on_spikes(
        self,
        lab: str,
        events: SpikeEvents,
        hub_time_ns: np.ndarray | None = None,
        now_ns: int | None = None,
    ) -> HubOutput:
        """Route one batch of ``lab``'s events and apply plasticity: :meth:`route`, then :meth:`learn`.

        Event times are taken to be in the hub clock; ``hub_time_ns`` (one per event), when
        given, replaces them. ``now_ns`` (hub clock) stamps the programming pulses; default:
        the latest event time of the batch.
        """
        routed = self.route(lab, events, hub_time_ns)
        out = routed.output
        out.plasticity, out.refusals = self.learn(routed, now_ns)
        return out

    def route(self, lab: str, events: SpikeEvents, hub_time_ns: np.ndarray | None = None) -> RoutedBatch:
        """Step 1 of the hub logic for one batch: weighted events and stimulation, no plasticity.

        A node sends ``output`` at once and calls :meth:`learn` afterwards, so programming
        (the slower half) is not on the latency path of the routed spikes; calling :meth:`learn`
        before the next :meth:`route` gives exactly :meth:`on_spikes`.
        """
        conn = self.connectivity
        conn.lab_index(lab)
        times = events.time_ns if hub_time_ns is None else np.asarray(hub_time_ns, dtype=np.int64)
        if times.shape != (len(events),):
            raise ValueError(f"hub_time_ns has shape {times.shape}, expected ({len(events)},)")
        ids, kinds = events.source_id, events.kind
        if len(events) > 1 and np.any(times[1:] < times[:-1]):
            order = np.argsort(times, kind="stable")
            ids, kinds, times = ids[order], kinds[order], times[order]
        routed = np.flatnonzero(_IS_ROUTED[kinds])
        ev, syn, weighted = self._fan_out(routed, *conn.pre_runs(lab, ids[routed]), ids, times)
        stimulation = {}
        for target, batch in weighted.items():
            if target in self._mea_labs:
                commands = self.stimulus_map.commands(
                    batch.post_id, batch.delivery_time_ns, batch.weight, batch.synapse_id, batch.pre_id,
                    batch.pre_time_ns)
                if len(commands):
                    stimulation[target] = commands
        return RoutedBatch(lab, ids, kinds, times, ev, syn,
                           HubOutput(weighted, stimulation, n_routed=len(syn)))

    def learn(self, routed: RoutedBatch, now_ns: int | None = None) -> tuple[PlasticityRecords, list[str]]:
        """Step 2 for a batch from :meth:`route`: the rule's pulses, programmed at ``now_ns``.

        Returns the pulse records and one message per refused pulse. ``now_ns`` (hub clock)
        defaults to the batch's latest event time.
        """
        if len(routed.times) == 0:
            return PlasticityRecords.empty(), []
        if now_ns is None:
            now_ns = int(routed.times.max())
        conn = self.connectivity
        syn, ev, times = routed.syn, routed.ev, routed.times
        requests = []
        learns = conn.plastic[syn]
        if learns.any():
            requests.append(self.rule.on_pre(conn.synapse_id[syn[learns]], times[ev[learns]]))
        plastic = np.flatnonzero(_IS_PLASTIC[routed.kinds])
        post_ev, post_syn = conn.by_post(routed.lab, routed.ids[plastic])
        learns = conn.plastic[post_syn]
        post_ev, post_syn = post_ev[learns], post_syn[learns]
        if len(post_syn):
            requests.append(self.rule.on_post(conn.synapse_id[post_syn], times[plastic[post_ev]]))
        return self._program(requests, int(now_ns))

    def _fan_out(self, routed: np.ndarray, lo: np.ndarray, counts: np.ndarray, order: np.ndarray,
                 ids: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, WeightedEvents]]:
        """(event index, synapse index) of every pair, and the weighted events per target lab.

        Each involved device is read once (one batched read); a target's events are sorted by
        delivery time (stable: event order, then synapse order, on ties). Compiled passes:
        :mod:`neurohybrid.hub.fanout_kernel`.
        """
        conn = self.connectivity
        n = len(conn)
        involved = np.zeros(n, dtype=bool)
        per_target = np.zeros(len(conn.labs), dtype=np.int64)
        total = count_pairs(lo, counts, order, conn.post_lab_idx, involved, per_target)
        weight = np.zeros(n, dtype=np.float32)
        weight_byte = np.zeros(n, dtype=np.uint8)
        devices = np.flatnonzero(involved)
        if len(devices):
            weight[devices], weight_byte[devices] = self.weight_map.to_weight(
                self.memristor.read(conn.wordline[devices], conn.bitline[devices], conn.tile[devices]))
        start = np.concatenate([np.zeros(1, np.int64), np.cumsum(per_target)[:-1]])
        pair_ev, pair_syn = np.empty(total, np.intp), np.empty(total, np.intp)
        columns = {name: np.empty(total, dtype) for name, dtype in WeightedEvents._SPEC.items()}
        in_order = np.ones(len(conn.labs), dtype=bool)
        fill_pairs(lo, counts, order, routed, ids, times, conn.post_lab_idx, conn.post_id, conn.synapse_id,
                   conn.delay_ns, weight, weight_byte, start, pair_ev, pair_syn, columns["pre_id"],
                   columns["pre_time_ns"], columns["post_id"], columns["synapse_id"], columns["weight"],
                   columns["weight_byte"], columns["delivery_time_ns"], in_order)
        weighted = {}
        for target in np.flatnonzero(per_target).tolist():
            block = slice(int(start[target]), int(start[target] + per_target[target]))
            cols = {name: col[block] for name, col in columns.items()}
            if not in_order[target]:
                by_time = np.argsort(cols["delivery_time_ns"], kind="stable")
                cols = {name: col[by_time] for name, col in cols.items()}
            weighted[conn.labs[target]] = WeightedEvents(**cols)
        return pair_ev, pair_syn, weighted

    def _program(self, requests: list[PulseRequest], now_ns: int) -> tuple[PlasticityRecords, list[str]]:
        request = PulseRequest.concat(requests)
        if len(request) == 0:
            return PlasticityRecords.empty(), []
        synapse_id = request.synapse_id.astype(np.intp)
        wordline = self.connectivity.wordline[synapse_id]
        bitline = self.connectivity.bitline[synapse_id]
        tile = self.connectivity.tile[synapse_id]
        try:
            result = self.memristor.program(wordline, bitline, request.amplitude_v, request.width_s, now_ns, tile)
        except InputRefused as exc:  # the crossbar takes no pulse now (safe state): all refused
            n = len(request)
            result = ProgramResult(np.zeros(n, bool), [exc.reason] * n, np.arange(n), np.full(n, np.nan),
                                   np.full(n, np.nan))
        reasons = [""] * len(request)
        for i, why in zip(np.asarray(result.refused_index).tolist(), result.reasons):
            reasons[i] = why
        records = PlasticityRecords(
            synapse_id=synapse_id,
            wordline=wordline,
            bitline=bitline,
            direction=request.direction,
            amplitude_v=request.amplitude_v,
            width_s=request.width_s,
            r_before_ohm=result.resistance_before_ohm,
            r_after_ohm=result.resistance_after_ohm,
            accepted=result.accepted,
            reason=reasons,
            time_ns=request.trigger_time_ns,
            pre_count=request.pre_count,
            tile=tile,
        )
        refusals = [
            f"synapse {i_syn} ({'LTP' if direction > 0 else 'LTD'}, triggered at {t} ns): {reasons[i]}"
            for i, (i_syn, direction, t) in enumerate(
                zip(synapse_id.tolist(), request.direction.tolist(), request.trigger_time_ns.tolist())
            )
            if not records.accepted[i]
        ]
        return records, refusals

    def mark_gap(self, lab: str, start_ns: int, end_ns: int) -> None:
        """Tell the rule that ``lab``'s data are missing over [start_ns, end_ns] (hub clock).

        Fail-safe: the rule must not program on windows overlapping a gap, since its spike
        counts there would be wrong.
        """
        self.connectivity.lab_index(lab)
        if int(end_ns) < int(start_ns):
            raise ValueError(f"gap end_ns={end_ns} precedes start_ns={start_ns}")
        self.rule.mark_gap(int(start_ns), int(end_ns))

    def synapse_states(self) -> dict[str, Any]:
        """Every synapse's device and current state, from one batched read of all its devices.

        Keys: ``synapse_id``, ``tile``, ``wordline``, ``bitline``, ``resistance_ohm``, ``weight`` (0..1),
        ``weight_byte``, ``pre`` and ``post`` (``"lab:id"`` strings), ``delay_s``.
        """
        conn = self.connectivity
        resistance_ohm = np.asarray(self.memristor.read(conn.wordline, conn.bitline, conn.tile), dtype=np.float64)
        weight, weight_byte = self.weight_map.to_weight(resistance_ohm)
        return {
            "synapse_id": conn.synapse_id.copy(),
            "tile": conn.tile.copy(),
            "wordline": conn.wordline.copy(),
            "bitline": conn.bitline.copy(),
            "resistance_ohm": resistance_ohm,
            "weight": weight,
            "weight_byte": weight_byte,
            "pre": conn.labels("pre"),
            "post": conn.labels("post"),
            "delay_s": conn.delay_ns / NS_PER_S,
        }
