"""The 2017 UDP wire format of the original three-site experiment, byte for byte (pure codec, no ROS).

Serb et al., Sci. Rep. 10, 2590 (2020), control software; mission.md "Hub logic", step 4:

* one UDP datagram = one 8-byte packet = two big-endian uint32 words (``struct '!II'``);
* word 1: bits 31-24 sender code (65 ``'A'`` axon / Zurich, 68 ``'D'`` dendrite / Padova,
  83 ``'S'`` synapse / Southampton, the hub), bits 23-0 neuron id;
* word 2: bits 31-24 the event kind (incoming: 0 PSP, 1 evoked AP, 2 spontaneous AP) or the
  weight byte (outgoing ``'S'`` packets), bits 23-0 a time in ticks of 50 us;
* ``'A'`` senders send inter-event intervals, which the hub accumulates into its clock;
  ``'D'`` (and ``'S'``) packets carry timestamps, which wrap every 2**24 ticks (838.9 s);
* the hub listens on UDP port 5005; a session ended after 20 s without packets.

Everything here works on arrays of many packets at once (no Python loop per packet), except
the split of an encoded buffer into one ``bytes`` per datagram, which sending needs anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from typing import Sequence

import numpy as np

from neurohybrid.core.events import (
    KIND_EVOKED_AP,
    KIND_PSP,
    KIND_SILICON_SPIKE,
    KIND_SPONTANEOUS_AP,
)

PACKET_BYTES = 8
"""Bytes per packet (= per UDP datagram): two uint32 words (Serb et al. 2020 control software)."""

WORD_DTYPE = np.dtype(">u4")
"""Both words are big-endian (network order) unsigned 32-bit integers (``struct '!II'``)."""

FIELD_BITS = 24
"""Width of the neuron-id field (word 1) and of the time field (word 2), bits."""

FIELD_MAX = (1 << FIELD_BITS) - 1
"""Largest neuron id and largest tick count a packet can carry (2**24 - 1)."""

TAG_MAX = 0xFF
"""Largest value of the top byte (sender code in word 1; kind or weight byte in word 2)."""

WRAP_TICKS = 1 << FIELD_BITS
"""Timestamps wrap modulo 2**24 ticks (838.8608 s at 50 us per tick)."""

HALF_WRAP_TICKS = WRAP_TICKS // 2
"""Unwrapping takes a step between consecutive timestamps to be the one in [-2**23, 2**23) ticks."""

TICK_NS = 50_000
"""One tick of the time field: 50 us, in nanoseconds."""

SENDER_AXON = ord("A")
"""65: axon side, the silicon neurons (Zurich); sends inter-event intervals."""

SENDER_DENDRITE = ord("D")
"""68: dendrite side, the biological neurons on the MEA (Padova); sends timestamps."""

SENDER_SYNAPSE = ord("S")
"""83: synapse side, the hub (Southampton); sends weight bytes with presynaptic spike times."""

SENDER_CODES = (SENDER_AXON, SENDER_DENDRITE, SENDER_SYNAPSE)

LEGACY_MAX_KIND = KIND_SPONTANEOUS_AP
"""Largest event kind a ``'D'`` sender may report (0 PSP, 1 evoked AP, 2 spontaneous AP)."""

DEFAULT_PORT = 5005
"""UDP port the hub listened on (Serb et al. 2020 control software)."""

SESSION_TIMEOUT_S = 20.0
"""The original hub ended a session after this long without packets, second."""

_KIND_OF_DENDRITE_TAG = np.array([KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP], dtype=np.uint8)
"""Event kind of a ``'D'`` packet by its kind byte (the original numbering is ours too)."""


@dataclass(frozen=True)
class LegacyPackets:
    """Decoded packets as columns: ``sender`` (uint8 code), ``neuron_id`` (uint32, 24 bits),
    ``tag`` (uint8: bits 31-24 of word 2, the event kind or the weight byte) and ``ticks``
    (uint32, 24 bits: an interval for ``'A'`` senders, a timestamp otherwise, 50 us per tick)."""

    sender: np.ndarray
    neuron_id: np.ndarray
    tag: np.ndarray
    ticks: np.ndarray

    def __len__(self) -> int:
        return len(self.sender)

    @property
    def kind(self) -> np.ndarray:
        """The event kind byte of incoming packets (same bits as ``tag``)."""
        return self.tag

    @property
    def weight_byte(self) -> np.ndarray:
        """The weight byte of outgoing ``'S'`` packets (same bits as ``tag``)."""
        return self.tag

    def select(self, mask: np.ndarray) -> "LegacyPackets":
        """Packets where the boolean ``mask`` is true."""
        return LegacyPackets(self.sender[mask], self.neuron_id[mask], self.tag[mask], self.ticks[mask])


@dataclass(frozen=True)
class DecodeResult:
    """Well-formed packets in arrival order, ``index`` (int64) of each in the input, and the
    malformed datagrams dropped: reason -> count."""

    packets: LegacyPackets
    index: np.ndarray
    rejected: dict[str, int] = field(default_factory=dict)

    @property
    def n_malformed(self) -> int:
        return sum(self.rejected.values())


def _values(values: np.ndarray) -> str:
    """A short list of the distinct offending values, for error messages."""
    distinct = np.unique(values)
    shown = ", ".join(str(int(v)) for v in distinct[:5])
    return shown + (", ..." if len(distinct) > 5 else "")


def _code_names(codes: np.ndarray) -> str:
    return ", ".join(f"{int(c)} ({chr(int(c))!r})" if 32 <= c < 127 else str(int(c))
                     for c in np.unique(codes)[:5])


def decode(datagrams: bytes | bytearray | memoryview | Sequence[bytes]) -> DecodeResult:
    """Decode UDP datagrams (one ``bytes`` = one datagram, or a sequence of them) into columns.

    Malformed datagrams are dropped and counted, never raised: a length other than 8 bytes,
    a sender code other than ``'A'``, ``'D'``, ``'S'``, or an event kind above 2 from a ``'D'``
    sender. The others keep their order.
    """
    if isinstance(datagrams, (bytes, bytearray, memoryview)):
        datagrams = [bytes(datagrams)]
    else:
        datagrams = list(datagrams)
    lengths = np.fromiter(map(len, datagrams), dtype=np.int64, count=len(datagrams))
    ok_length = lengths == PACKET_BYTES
    rejected: dict[str, int] = {}
    n_bad_length = int(len(lengths) - np.count_nonzero(ok_length))
    if n_bad_length:
        rejected[f"datagram length {_values(lengths[~ok_length])} bytes, allowed {PACKET_BYTES}"] = n_bad_length
    words = np.frombuffer(b"".join(compress(datagrams, ok_length.tolist())), dtype=WORD_DTYPE).reshape(-1, 2)
    sender = (words[:, 0] >> FIELD_BITS).astype(np.uint8)
    tag = (words[:, 1] >> FIELD_BITS).astype(np.uint8)
    known = np.isin(sender, SENDER_CODES)
    if not known.all():
        rejected[f"sender code {_code_names(sender[~known])}, allowed 65 ('A'), 68 ('D'), 83 ('S')"] = int(
            np.count_nonzero(~known))
    bad_kind = (sender == SENDER_DENDRITE) & (tag > LEGACY_MAX_KIND)
    if bad_kind.any():
        rejected[f"event kind {_values(tag[bad_kind])} from a 'D' sender, allowed 0..{LEGACY_MAX_KIND}"] = int(
            np.count_nonzero(bad_kind))
    keep = known & ~bad_kind
    index = np.flatnonzero(ok_length)[keep]
    packets = LegacyPackets(
        sender=sender[keep],
        neuron_id=(words[keep, 0] & FIELD_MAX).astype(np.uint32),
        tag=tag[keep],
        ticks=(words[keep, 1] & FIELD_MAX).astype(np.uint32),
    )
    return DecodeResult(packets, index, rejected)


def _field(name: str, values: object, hi: int) -> np.ndarray:
    """``values`` as int64 after checking they are integers in [0, hi]; ValueError naming ``name``."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    wide = arr.astype(np.int64)
    bad = (wide < 0) | (wide > hi)
    if np.any(bad):
        raise ValueError(f"{name}={_values(arr[bad])} outside allowed [0, {hi}]")
    return wide


def encode(sender: int | np.ndarray, neuron_id: int | np.ndarray, tag: int | np.ndarray,
           ticks: int | np.ndarray) -> list[bytes]:
    """Encode packets, one 8-byte ``bytes`` per packet (one per datagram); arguments broadcast.

    ``sender`` is a code (``SENDER_AXON``, ``SENDER_DENDRITE``, ``SENDER_SYNAPSE``), ``neuron_id``
    and ``ticks`` lie in [0, 2**24 - 1] (reduce times with ``LegacyClock.to_ticks`` first) and
    ``tag`` (event kind or weight byte) in [0, 255]. Out-of-range values raise ValueError whole:
    nothing is truncated into a neighbouring field.
    """
    s = _field("sender", sender, TAG_MAX)
    if not np.all(np.isin(s, SENDER_CODES)):
        raise ValueError(f"sender={_code_names(s[~np.isin(s, SENDER_CODES)])} not one of "
                         "65 ('A'), 68 ('D'), 83 ('S')")
    cols = np.broadcast_arrays(s, _field("neuron_id", neuron_id, FIELD_MAX), _field("tag", tag, TAG_MAX),
                               _field("ticks", ticks, FIELD_MAX))
    s, nid, t, k = (np.atleast_1d(c) for c in cols)
    words = np.empty((len(s), 2), dtype=WORD_DTYPE)
    words[:, 0] = (s << FIELD_BITS) | nid
    words[:, 1] = (t << FIELD_BITS) | k
    buf = words.tobytes()
    return [buf[i:i + PACKET_BYTES] for i in range(0, len(buf), PACKET_BYTES)]


def encode_synapse(post_id: int | np.ndarray, weight_byte: int | np.ndarray,
                   ticks: int | np.ndarray) -> list[bytes]:
    """The hub's outgoing ``'S'`` packets: target neuron, weight byte (0-255), presynaptic time ticks."""
    return encode(SENDER_SYNAPSE, post_id, weight_byte, ticks)


def weight_to_byte(weight: np.ndarray) -> np.ndarray:
    """Weights in [0, 1] -> the original 0-255 byte, ``rint(255 w)`` as the hub's ``WeightMap``.

    A weight outside [0, 1] (or NaN) raises ValueError: it is refused, never clipped.
    """
    w = np.asarray(weight, dtype=np.float64)
    bad = ~(np.isfinite(w) & (w >= 0.0) & (w <= 1.0))
    if np.any(bad):
        raise ValueError(f"weight={w[bad][0]!r} outside allowed [0, 1]")
    return np.rint(w * TAG_MAX).astype(np.uint8)


def spike_kinds(packets: LegacyPackets) -> np.ndarray:
    """Event kinds (``neurohybrid.core.events``) of incoming packets: ``'D'`` by their kind byte,
    ``'A'`` as silicon spikes (their kind byte is not used). ``'S'`` packets are not spikes."""
    kinds = np.full(len(packets), KIND_SILICON_SPIKE, dtype=np.uint8)
    dendrite = packets.sender == SENDER_DENDRITE
    if np.any(packets.sender == SENDER_SYNAPSE):
        raise ValueError("'S' packets carry weights, not spikes")
    if np.any(packets.tag[dendrite] > LEGACY_MAX_KIND):
        raise ValueError(f"event kind {_values(packets.tag[dendrite])} from a 'D' sender, "
                         f"allowed 0..{LEGACY_MAX_KIND}")
    kinds[dendrite] = _KIND_OF_DENDRITE_TAG[packets.tag[dendrite]]
    return kinds


def _signed_steps(steps: np.ndarray) -> np.ndarray:
    """Steps between 24-bit timestamps taken modulo 2**24 into [-2**23, 2**23) ticks."""
    return (steps + HALF_WRAP_TICKS) % WRAP_TICKS - HALF_WRAP_TICKS


class LegacyClock:
    """Turns the time fields of one session's packets into nanoseconds.

    * ``'A'`` packets carry the interval since the previous ``'A'`` event (of any neuron): the
      time is their running sum, starting at 0 when the session starts, as the original hub
      accumulated them into its clock.
    * ``'D'`` and ``'S'`` packets carry timestamps modulo 2**24 ticks: each is unwrapped against
      the previous one of the same sender code (the step taken in [-2**23, 2**23) ticks, i.e.
      +-419 s), so a wrap adds 2**24 ticks and a slightly late packet stays slightly earlier.

    Session time ``s`` (ns since the legacy clock's zero) maps to ``s + epoch_ns``. The session's
    zero is placed on the lab's wall clock at ``zero_lab_ns``: first provisionally (``reset``),
    then, at the first packets of the session, so that the latest of them happened at their
    arrival. ``anchored`` chooses the published times: lab wall-clock ns (``epoch_ns`` =
    ``zero_lab_ns``), comparable with the other labs' times, or raw session ns (``epoch_ns`` 0).

    With ``session_timeout_ns``, packets arriving that long after the previous ones start a new
    session (as the original hub ended a session after 20 s without packets); ``sessions``
    counts the sessions started.
    """

    def __init__(self, anchored: bool = True, zero_lab_ns: int = 0,
                 session_timeout_ns: int | None = None) -> None:
        if session_timeout_ns is not None and session_timeout_ns <= 0:
            raise ValueError(f"session_timeout_ns={session_timeout_ns} outside allowed > 0")
        self.anchored = anchored
        self.session_timeout_ns = session_timeout_ns
        self.sessions = 0
        self._last_arrival_ns: int | None = None
        self.reset(zero_lab_ns)

    def reset(self, zero_lab_ns: int) -> None:
        """Start a new session whose zero is, until its first packets, at ``zero_lab_ns``."""
        self.zero_lab_ns = int(zero_lab_ns)
        self.started = False
        self._interval_sum_ticks = 0
        self._last_raw: dict[int, int] = {}
        self._last_unwrapped: dict[int, int] = {}

    @property
    def epoch_ns(self) -> int:
        """What is added to session time to give published time, ns."""
        return self.zero_lab_ns if self.anchored else 0

    def session_ticks(self, sender: np.ndarray, ticks: np.ndarray) -> np.ndarray:
        """Ticks since the session's zero (int64) of packets in arrival order; updates the state."""
        sender = np.asarray(sender, dtype=np.uint8)
        raw = np.asarray(ticks, dtype=np.int64)
        if np.any(raw < 0) or np.any(raw > FIELD_MAX):
            raise ValueError(f"ticks={_values(raw[(raw < 0) | (raw > FIELD_MAX)])} outside allowed "
                             f"[0, {FIELD_MAX}]")
        unknown = ~np.isin(sender, SENDER_CODES)
        if np.any(unknown):
            raise ValueError(f"sender={_code_names(sender[unknown])} not one of 65 ('A'), 68 ('D'), 83 ('S')")
        out = np.empty(len(raw), dtype=np.int64)
        axon = sender == SENDER_AXON
        if np.any(axon):
            out[axon] = self._interval_sum_ticks + np.cumsum(raw[axon])
            self._interval_sum_ticks = int(out[axon][-1])
        for code in (SENDER_DENDRITE, SENDER_SYNAPSE):
            mask = sender == code
            if np.any(mask):
                out[mask] = self._unwrap(code, raw[mask])
        return out

    def _unwrap(self, code: int, raw: np.ndarray) -> np.ndarray:
        if code in self._last_raw:
            steps = _signed_steps(np.diff(raw, prepend=self._last_raw[code]))
            out = self._last_unwrapped[code] + np.cumsum(steps)
        else:
            out = raw[0] + np.concatenate(([0], np.cumsum(_signed_steps(np.diff(raw)))))
        self._last_raw[code], self._last_unwrapped[code] = int(raw[-1]), int(out[-1])
        return out

    def to_ns(self, sender: np.ndarray, ticks: np.ndarray, arrival_lab_ns: int | None = None) -> np.ndarray:
        """Published times (int64 ns) of packets in arrival order.

        ``arrival_lab_ns`` (lab wall clock, ns) places the session's zero at its first packets:
        ``zero_lab_ns = arrival_lab_ns - latest session time among them``; it also ends a
        session after ``session_timeout_ns`` of silence.
        """
        if len(ticks) and arrival_lab_ns is not None:
            last, self._last_arrival_ns = self._last_arrival_ns, int(arrival_lab_ns)
            if (self.session_timeout_ns is not None and last is not None
                    and arrival_lab_ns - last > self.session_timeout_ns):
                self.reset(arrival_lab_ns)
        session_ns = self.session_ticks(sender, ticks) * TICK_NS
        if len(session_ns) and not self.started:
            self.started = True
            self.sessions += 1
            if arrival_lab_ns is not None:
                self.zero_lab_ns = int(arrival_lab_ns) - int(session_ns.max())
        return session_ns + self.epoch_ns

    def now_ns(self, lab_ns: int) -> int:
        """The legacy clock's current reading in published time, from the lab wall clock, ns."""
        return int(lab_ns) - self.zero_lab_ns + self.epoch_ns

    def to_ticks(self, time_ns: np.ndarray | int) -> np.ndarray:
        """Published times (e.g. the hub's presynaptic times, ns) -> 24-bit ticks for the wire.

        ``floor((t - epoch_ns) / 50 us) mod 2**24``: the inverse of ``to_ns`` for timestamps,
        exact for every time on a tick boundary; times between ticks go to the tick before.
        """
        t = np.asarray(time_ns, dtype=np.int64) - self.epoch_ns
        return (np.floor_divide(t, TICK_NS) % WRAP_TICKS).astype(np.uint32)
