"""numpy batches <-> neurohybrid messages, in one place (the ros2_numpy pattern).

rosidl maps numeric sequences to ``array.array``; filling them from bytes and reading them
with ``np.frombuffer`` keeps conversion O(bytes) with no per-event Python work.
"""

from __future__ import annotations

from array import array

import numpy as np
from std_msgs.msg import Header

from neurohybrid.core.errors import NeurohybridError
from neurohybrid.core.events import NO_PRE_TIME_NS, SpikeEvents, StimulusBatch, WeightedEvents
from neurohybrid.hub.hub import PlasticityRecords
from neurohybrid.msg import PlasticityEvent

_TYPECODES = {
    np.dtype(np.uint8): "B",
    np.dtype(np.int8): "b",
    np.dtype(np.uint16): "H",
    np.dtype(np.uint32): "I",
    np.dtype(np.int64): "q",
    np.dtype(np.uint64): "Q",
    np.dtype(np.float32): "f",
    np.dtype(np.float64): "d",
}


SYNAPSE_STATE_COLUMNS = {"synapse_id": np.uint32, "wordline": np.uint16, "bitline": np.uint16,
                         "resistance_ohm": np.float64, "weight": np.float32, "weight_byte": np.uint8}
"""The array fields of ``SynapseStates`` and their types."""


class MalformedMessage(NeurohybridError):
    """A message's arrays are inconsistent (lengths, values); it is counted and dropped."""


def to_array(values: np.ndarray, dtype: type) -> array:
    """A numpy vector as the ``array.array`` rosidl expects for a sequence of ``dtype``."""
    vec = np.ascontiguousarray(values, dtype=dtype)
    out = array(_TYPECODES[vec.dtype])
    out.frombytes(vec.tobytes())
    return out


def from_array(values: object, dtype: type) -> np.ndarray:
    """A rosidl sequence as a read-only numpy vector (no copy for ``array.array``)."""
    if isinstance(values, array):
        return np.frombuffer(values, dtype=dtype) if len(values) else np.empty(0, dtype)
    return np.asarray(values, dtype=dtype)


def _check_lengths(kind: str, columns: dict[str, np.ndarray]) -> None:
    lengths = {name: len(col) for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise MalformedMessage(f"{kind}: array lengths differ: {lengths}")


def fill_spike_batch(msg: object, events: SpikeEvents) -> object:
    """Write ``events`` into the arrays of a ``SpikeBatch`` message and return it."""
    msg.source_id = to_array(events.source_id, np.uint32)
    msg.time_ns = to_array(events.time_ns, np.int64)
    msg.kind = to_array(events.kind, np.uint8)
    return msg


def spikes_from_msg(msg: object) -> SpikeEvents:
    """The events of a ``SpikeBatch``; raises MalformedMessage if its arrays disagree."""
    cols = {
        "source_id": from_array(msg.source_id, np.uint32),
        "time_ns": from_array(msg.time_ns, np.int64),
        "kind": from_array(msg.kind, np.uint8),
    }
    _check_lengths("SpikeBatch", cols)
    try:
        return SpikeEvents(**cols)
    except ValueError as exc:
        raise MalformedMessage(f"SpikeBatch: {exc}") from None


def fill_weighted_batch(msg: object, events: WeightedEvents) -> object:
    """Write ``events`` into a ``WeightedEventBatch`` message and return it."""
    for name, dtype in WeightedEvents._SPEC.items():
        setattr(msg, name, to_array(getattr(events, name), dtype))
    return msg


def weighted_from_msg(msg: object) -> WeightedEvents:
    """The events of a ``WeightedEventBatch``; raises MalformedMessage if inconsistent."""
    cols = {n: from_array(getattr(msg, n), d) for n, d in WeightedEvents._SPEC.items()}
    _check_lengths("WeightedEventBatch", cols)
    weight = cols["weight"]
    if len(weight) and (not np.all(np.isfinite(weight)) or weight.min() < 0 or weight.max() > 1):
        raise MalformedMessage("WeightedEventBatch: weight outside allowed [0, 1]")
    return WeightedEvents(**cols)


def fill_stimulation(msg: object, batch: StimulusBatch) -> object:
    """Write ``batch`` into a ``StimulationCommand`` message and return it."""
    for name, dtype in StimulusBatch._SPEC.items():
        setattr(msg, name, to_array(getattr(batch, name), dtype))
    return msg


def stimulus_from_msg(msg: object) -> StimulusBatch:
    """The commands of a ``StimulationCommand``; raises MalformedMessage if inconsistent.

    Values are not range-checked here: the MEA's safety guard refuses and reports them.
    """
    cols = {n: from_array(getattr(msg, n), d) for n, d in StimulusBatch._SPEC.items()}
    if not len(cols["pre_time_ns"]):  # commands no spike caused (a controller's, a probe's)
        cols["pre_time_ns"] = np.full(len(cols["electrode"]), NO_PRE_TIME_NS, np.int64)
    _check_lengths("StimulationCommand", cols)
    return StimulusBatch(**cols)


def plasticity_messages(records: PlasticityRecords, rule: str, stamp: object, frame_id: str) -> list[PlasticityEvent]:
    """One ``PlasticityEvent`` per programming pulse of ``records``, all stamped ``stamp`` in ``frame_id``.

    Columns are turned into Python lists once (no per-field numpy access per pulse).
    """
    columns = zip(records.synapse_id.tolist(), records.wordline.tolist(), records.bitline.tolist(),
                  records.direction.tolist(), records.amplitude_v.tolist(), records.width_s.tolist(),
                  records.r_before_ohm.tolist(), records.r_after_ohm.tolist(), records.accepted.tolist(),
                  records.reason, records.time_ns.tolist(), records.pre_count.tolist())
    return [
        PlasticityEvent(header=Header(stamp=stamp, frame_id=frame_id), rule=rule, synapse_id=syn, wordline=wl,
                        bitline=bl, direction=d, pulse_amplitude_v=v, pulse_width_s=w, resistance_before_ohm=r0,
                        resistance_after_ohm=r1, accepted=ok, reason=why, trigger_time_ns=t, pre_count=n)
        for syn, wl, bl, d, v, w, r0, r1, ok, why, t, n in columns
    ]


def fill_synapse_states(msg: object, states: dict) -> object:
    """Write :meth:`neurohybrid.hub.hub.Hub.synapse_states` into a ``SynapseStates`` message and return it."""
    for name, dtype in SYNAPSE_STATE_COLUMNS.items():
        setattr(msg, name, to_array(states[name], dtype))
    msg.pre, msg.post = list(states["pre"]), list(states["post"])
    return msg
