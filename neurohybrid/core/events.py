"""Spike batches as numpy arrays: the data every core module exchanges.

Event kinds are those of the original system (Serb et al. 2020): Padova reported
0 = PSP, 1 = stimulated (evoked) action potential, 2 = spontaneous action potential;
we add 3 = silicon-neuron spike. Times are integers in nanoseconds of the source clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KIND_PSP = 0
KIND_EVOKED_AP = 1
KIND_SPONTANEOUS_AP = 2
KIND_SILICON_SPIKE = 3
KIND_NAMES = {
    KIND_PSP: "psp",
    KIND_EVOKED_AP: "evoked_ap",
    KIND_SPONTANEOUS_AP: "spontaneous_ap",
    KIND_SILICON_SPIKE: "silicon_spike",
}


@dataclass(frozen=True)
class SpikeEvents:
    """Packed spike events: ``source_id`` (uint32), ``time_ns`` (int64), ``kind`` (uint8)."""

    source_id: np.ndarray
    time_ns: np.ndarray
    kind: np.ndarray

    def __post_init__(self) -> None:
        sid = np.ascontiguousarray(self.source_id, dtype=np.uint32)
        t = np.ascontiguousarray(self.time_ns, dtype=np.int64)
        k = np.ascontiguousarray(self.kind, dtype=np.uint8)
        if not (sid.ndim == t.ndim == k.ndim == 1):
            raise ValueError("source_id, time_ns and kind must be 1-D arrays")
        if not (len(sid) == len(t) == len(k)):
            raise ValueError(
                f"source_id, time_ns and kind differ in length: {len(sid)}, {len(t)}, {len(k)}"
            )
        if len(k) and int(k.max()) > KIND_SILICON_SPIKE:
            raise ValueError(f"kind {int(k.max())} outside allowed 0..{KIND_SILICON_SPIKE}")
        object.__setattr__(self, "source_id", sid)
        object.__setattr__(self, "time_ns", t)
        object.__setattr__(self, "kind", k)

    def __len__(self) -> int:
        return len(self.source_id)

    @classmethod
    def empty(cls) -> "SpikeEvents":
        """A batch with no events."""
        return cls(np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.uint8))

    @classmethod
    def concat(cls, batches: list["SpikeEvents"]) -> "SpikeEvents":
        """Join batches and sort the result by time (stable, so ties keep their order)."""
        if not batches:
            return cls.empty()
        sid = np.concatenate([b.source_id for b in batches])
        t = np.concatenate([b.time_ns for b in batches])
        k = np.concatenate([b.kind for b in batches])
        order = np.argsort(t, kind="stable")
        return cls(sid[order], t[order], k[order])

    def select(self, mask: np.ndarray) -> "SpikeEvents":
        """Events where the boolean ``mask`` is true."""
        return SpikeEvents(self.source_id[mask], self.time_ns[mask], self.kind[mask])


def _columns(obj: object, spec: dict[str, type]) -> None:
    """Coerce the named fields of a frozen dataclass to 1-D arrays of one length."""
    length = None
    for name, dtype in spec.items():
        arr = np.ascontiguousarray(getattr(obj, name), dtype=dtype)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
        if length is None:
            length = len(arr)
        elif len(arr) != length:
            raise ValueError(f"{name} has {len(arr)} entries, expected {length}")
        object.__setattr__(obj, name, arr)


@dataclass(frozen=True)
class WeightedEvents:
    """Presynaptic spikes routed through memristive synapses to one target lab.

    ``weight`` is normalised to 0..1; ``weight_byte`` is the original 0-255 byte.
    ``pre_time_ns`` and ``delivery_time_ns`` (= pre time + synaptic delay) are in the hub clock.
    """

    pre_id: np.ndarray
    pre_time_ns: np.ndarray
    post_id: np.ndarray
    synapse_id: np.ndarray
    weight: np.ndarray
    weight_byte: np.ndarray
    delivery_time_ns: np.ndarray

    _SPEC = {
        "pre_id": np.uint32,
        "pre_time_ns": np.int64,
        "post_id": np.uint32,
        "synapse_id": np.uint32,
        "weight": np.float32,
        "weight_byte": np.uint8,
        "delivery_time_ns": np.int64,
    }

    def __post_init__(self) -> None:
        _columns(self, self._SPEC)

    def __len__(self) -> int:
        return len(self.pre_id)

    def select(self, mask: np.ndarray) -> "WeightedEvents":
        """Events where the boolean ``mask`` is true."""
        return WeightedEvents(*(getattr(self, n)[mask] for n in self._SPEC))


NO_PRE_TIME_NS = np.iinfo(np.int64).min
"""``StimulusBatch.pre_time_ns`` of a command no presynaptic spike caused."""


@dataclass(frozen=True)
class StimulusBatch:
    """Biphasic current pulses for an MEA, one row per command.

    ``amplitude_ua`` (microampere, per phase), ``phase_width_us`` (microsecond),
    ``pulse_count`` pulses at ``time_ns`` (target clock); ``synapse_id``, ``weight``, ``pre_id``
    and ``pre_time_ns`` (its time, same clock; :data:`NO_PRE_TIME_NS`: none) say which synapse and
    presynaptic spike caused it.
    Charge per phase = amplitude_ua * phase_width_us * 1e-3 nC.
    """

    electrode: np.ndarray
    amplitude_ua: np.ndarray
    phase_width_us: np.ndarray
    pulse_count: np.ndarray
    time_ns: np.ndarray
    synapse_id: np.ndarray
    weight: np.ndarray
    pre_id: np.ndarray
    pre_time_ns: np.ndarray

    _SPEC = {
        "electrode": np.uint32,
        "amplitude_ua": np.float64,
        "phase_width_us": np.float64,
        "pulse_count": np.uint32,
        "time_ns": np.int64,
        "synapse_id": np.uint32,
        "weight": np.float32,
        "pre_id": np.uint32,
        "pre_time_ns": np.int64,
    }

    def __post_init__(self) -> None:
        _columns(self, self._SPEC)

    def __len__(self) -> int:
        return len(self.electrode)

    def select(self, mask: np.ndarray) -> "StimulusBatch":
        """Commands where the boolean ``mask`` is true."""
        return StimulusBatch(*(getattr(self, n)[mask] for n in self._SPEC))

    def charge_per_phase_nc(self) -> np.ndarray:
        """Charge of one phase of each command, nanocoulomb."""
        return self.amplitude_ua * self.phase_width_us * 1e-3
