"""The MEA ``lsl`` backend: an acquisition system's Lab Streaming Layer stream drives the MEA node.

Two kinds of stream (``mode="auto"`` picks by the stream's format):

* ``"raw"``: a regularly sampled multi-channel voltage stream (any float format) from any
  acquisition system, streamed through the same
  :class:`~neurohybrid.mea.detector.OnlineSpikeDetector` as the twin and the replay; every
  detection is a spontaneous AP. Channels are matched to the layout by the labels in the
  stream's description (``desc/channels/channel/label``, the XDF meta-data convention), else by
  their ``location`` X/Y (micrometre, within :data:`POSITION_TOLERANCE_UM` of an electrode), else
  by order. Units from ``channel/unit`` when given (V, mV, uV), else ``raw_units``.
* ``"events"``: an irregular int32 stream of 2 channels, (electrode index, event kind) per
  sample, e.g. from an acquisition system's own spike detector; an event of an unknown
  electrode or kind is counted in ``malformed_total`` and dropped.

Clock. Device time 0 is the receiving machine's LSL ``local_clock()`` at ``arm`` (at ``configure``
for a device advanced before it is armed; the MEA node anchors its lab clock at arm); a sample
stamped ``t`` (the sender's ``local_clock``, s) is at ``(t + time_correction - origin)`` on the
device clock, ``time_correction`` being liblsl's estimate of the sender-to-receiver offset
(refreshed on every ``advance``). A raw stream's sample ``i`` is at its first sample's time plus
``i / nominal_srate`` (the sampling clock of the acquisition system, as LSL's dejitter assumes).
``advance(d)`` returns the events up to ``now_ns`` after waiting, at most ``max_wait_s``, until the
stream has covered that time (raw: a sample at or after it arrived; events: the LSL clock passed
it); events stamped later are held for the next call, events before time 0 are dropped.

Stimulation cannot reach a stream: ``accepts_input = False``, every batch is refused whole with
:data:`REFUSAL_REASON` (as the replay backend does).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError, DeviceError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds
from neurohybrid.io.lsl import pylsl_module, resolve_predicate
from neurohybrid.mea.backend import MEA_BACKENDS, MEABackend
from neurohybrid.mea.detector import OnlineSpikeDetector
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationLimits

REFUSAL_REASON = "lsl: read-only source, no stimulation possible"
"""Why the lsl backend refuses every stimulation batch."""
POSITION_TOLERANCE_UM = 1.0
"""A channel's description location matches an electrode within this distance, um."""
EVENT_KINDS = (KIND_PSP, KIND_EVOKED_AP, KIND_SPONTANEOUS_AP)
"""Kinds an event stream may carry (the MEA's)."""
MAX_CHUNK_SAMPLES = 65_536
"""Samples pulled from the inlet per call."""
_UV_PER_UNIT = {"v": 1e6, "volts": 1e6, "mv": 1e3, "millivolts": 1e3, "uv": 1.0, "microvolts": 1.0, "µv": 1.0}

LSL_PARAMS = ParamSet("MEA lsl backend (Lab Streaming Layer inlet)", [
    ParamSpec("stream_name", "", "LSL stream name to resolve ('' = any)"),
    ParamSpec("stream_type", "", "LSL stream type to resolve ('' = any)"),
    ParamSpec("source_id", "", "LSL source_id to resolve ('' = any)"),
    ParamSpec("mode", "auto", "raw voltage through the detector, or spike events",
              choices=("auto", "raw", "events")),
    ParamSpec("raw_units", "uV", "unit of raw samples when the stream's description has none",
              choices=("V", "mV", "uV")),
    ParamSpec("resolve_timeout_s", 5.0, "how long configure looks for the stream", "s", Bounds(0.0, 60.0, low_open=True)),
    ParamSpec("max_wait_s", 0.2, "how long advance waits for the stream to cover the window", "s", Bounds(0.0, 10.0)),
    ParamSpec("threshold_k", 5.0, "detector threshold (x robust noise sigma)", "", Bounds(0.0, 100.0, low_open=True)),
])


@MEA_BACKENDS.register("lsl")
class LslMEABackend(MEABackend):
    """An MEA read from a Lab Streaming Layer stream: raw voltage through the detector, or events."""

    name = "lsl"
    accepts_input = False
    input_refusal = REFUSAL_REASON

    def __init__(self, layout: ElectrodeLayout, limits: StimulationLimits, stream_name: str = "",
                 stream_type: str = "", source_id: str = "", mode: str = "auto", raw_units: str = "uV",
                 resolve_timeout_s: float = 5.0, max_wait_s: float = 0.2, threshold_k: float = 5.0,
                 detector: dict[str, Any] | None = None) -> None:
        settings = LSL_PARAMS.check({"stream_name": stream_name, "stream_type": stream_type, "source_id": source_id,
                                     "mode": mode, "raw_units": raw_units, "resolve_timeout_s": resolve_timeout_s,
                                     "max_wait_s": max_wait_s, "threshold_k": threshold_k})
        for key in ("stream_name", "stream_type", "source_id"):
            if "'" in settings[key]:
                raise ConfigError(f"{key}={settings[key]!r} must not contain a quote (')")
        if not (stream_name or stream_type or source_id):
            raise ConfigError("stream_name, stream_type and source_id are all empty: give at least one "
                              "to find the LSL stream")
        super().__init__(layout, limits, **settings, detector=dict(detector or {}))
        self._settings = settings
        self._inlet: Any = None
        self._now_ns = 0
        self.malformed_total = 0
        self.early_total = 0
        self.stale_correction_total = 0

    @property
    def now_ns(self) -> int:
        """Device clock, ns: the sum of the advanced durations (0 = LSL local_clock at configure)."""
        return self._now_ns

    @property
    def mode(self) -> str:
        """raw or events (after configure)."""
        return self._mode

    def _describe(self) -> dict[str, Any]:
        out = super()._describe()
        if self._inlet is not None:
            out.update(lsl_stream=self._stream, lsl_mode=self._mode, lsl_time_correction_s=self._correction_s,
                       lsl_channel_labels=self._channel_labels, lsl_channel_positions_um=self._channel_positions)
        return {**out, "malformed_total": self.malformed_total, "early_total": self.early_total,
                "stale_correction_total": self.stale_correction_total}

    # ----- lifecycle -------------------------------------------------------------------
    def _configure(self) -> None:
        lsl = pylsl_module()
        s = self._settings
        predicate = resolve_predicate(s["stream_name"], s["stream_type"], s["source_id"])
        found = lsl.resolve_bypred(predicate, 1, s["resolve_timeout_s"])
        if not found:
            raise DeviceError(f"lsl: no LSL stream matching {predicate} within resolve_timeout_s="
                              f"{s['resolve_timeout_s']} s")
        inlet = lsl.StreamInlet(found[0], max_buflen=360, recover=True)
        timeout = s["resolve_timeout_s"]
        opened = False
        try:
            inlet.open_stream(timeout)
            info = inlet.info(timeout)
            self._correction_s = float(inlet.time_correction(timeout))
            self._setup(info, lsl)
            opened = True
        except (lsl.util.TimeoutError, lsl.util.LostError):
            raise DeviceError(f"lsl: stream {predicate} found but did not answer within {timeout} s") from None
        finally:
            if not opened:
                inlet.close_stream()  # a refused stream is let go at once
        self._inlet = inlet
        self._origin_s = lsl.local_clock()

    def _setup(self, info: Any, lsl: Any) -> None:
        """Mode, channel map, units and detector of the stream ``info`` describes."""
        self._stream = {"name": info.name(), "type": info.type(), "source_id": info.source_id(),
                        "hostname": info.hostname(), "channel_count": info.channel_count(),
                        "nominal_srate_hz": info.nominal_srate(), "channel_format": info.channel_format()}
        self._mode = self._pick_mode(info, lsl)
        self._now_ns = 0
        self._pending = SpikeEvents.empty()
        self._channel_labels, self._channel_positions, units = self._channel_description(info)
        n = info.channel_count()
        if self._mode == "events":
            self._buf = np.empty((MAX_CHUNK_SAMPLES, n), np.int32)
            return
        self._electrodes = self._electrodes_of(self._channel_labels, self._channel_positions)
        self._scale = self._uv_per_unit(units)
        det = dict(self._kwargs["detector"])
        self._detector = OnlineSpikeDetector(n, info.nominal_srate(), threshold_k=self._settings["threshold_k"], **det)
        self._first_s: float | None = None
        self._n_samples = 0
        dtype = np.float64 if info.channel_format() == lsl.cf_double64 else np.float32
        self._buf = np.empty((MAX_CHUNK_SAMPLES, n), dtype)

    def _pick_mode(self, info: Any, lsl: Any) -> str:
        is_events = info.channel_format() == lsl.cf_int32 and info.channel_count() == 2 and info.nominal_srate() == 0
        mode = self._settings["mode"]
        if mode == "auto":
            return "events" if is_events else "raw"
        if mode == "events" and not is_events:
            raise ConfigError(f"mode='events' but stream {info.name()!r} is not an irregular int32 stream of 2 "
                              f"channels (electrode, kind): {info.channel_count()} channels at "
                              f"{info.nominal_srate()} Hz, format {info.channel_format()}")
        if mode == "raw" and (info.nominal_srate() <= 0 or info.channel_format() not in (lsl.cf_float32,
                                                                                           lsl.cf_double64)):
            raise ConfigError(f"mode='raw' but stream {info.name()!r} is not regularly sampled float data "
                              f"({info.nominal_srate()} Hz, format {info.channel_format()})")
        return mode

    def _arm(self) -> None:
        """A device not yet advanced starts its clock now (the MEA node anchors its clock at arm)."""
        if self._now_ns == 0:
            self._origin_s = pylsl_module().local_clock()

    def _shutdown(self) -> None:
        if self._inlet is not None:
            self._inlet.close_stream()
            self._inlet = None

    def _safe_state(self) -> int:
        """Nothing is ever delivered, so there is nothing to stop."""
        return 0

    # ----- stream description ----------------------------------------------------------
    @staticmethod
    def _channel_description(info: Any) -> tuple[list[str], list[list[float]] | None, list[str]]:
        """Labels ('' where absent), X/Y locations (um, None unless every channel has one), units."""
        n = info.channel_count()
        labels, positions, units = [""] * n, [], [""] * n
        channel = info.desc().child("channels").child("channel")
        for i in range(n):
            if channel.empty():
                break
            labels[i] = channel.child_value("label")
            units[i] = channel.child_value("unit")
            loc = channel.child("location")
            x, y = loc.child_value("X"), loc.child_value("Y")
            if not loc.empty() and x and y:
                positions.append([float(x), float(y)])
            channel = channel.next_sibling("channel")
        return labels, (positions if len(positions) == n else None), units

    def _electrodes_of(self, labels: list[str], positions: list[list[float]] | None) -> np.ndarray:
        """Layout index of each channel: by label, else by position, else by order."""
        layout = self.layout
        index = {label: i for i, label in enumerate(layout.labels)}
        if all(labels) and all(x in index for x in labels):
            return np.array([index[x] for x in labels], np.int64)
        if positions is not None:
            dist = np.linalg.norm(np.asarray(positions)[:, None, :] - layout.positions_um[None, :, :], axis=2)
            nearest = dist.argmin(axis=1)
            far = dist[np.arange(len(nearest)), nearest] > POSITION_TOLERANCE_UM
            if far.any():
                i = int(np.flatnonzero(far)[0])
                raise ConfigError(f"lsl stream channel {i} ({labels[i] or 'no label'}) at {positions[i]} um is no "
                                  f"electrode of the layout (within {POSITION_TOLERANCE_UM} um)")
            return nearest.astype(np.int64)
        if len(labels) > layout.n_channels:
            raise ConfigError(f"lsl stream has {len(labels)} channels, the layout {layout.n_channels} electrodes, "
                              "and its description names none of them (labels or locations)")
        return np.arange(len(labels), dtype=np.int64)

    def _uv_per_unit(self, units: list[str]) -> float:
        given = {u for u in units if u}
        if len(given) > 1:
            raise ConfigError(f"lsl stream channels have different units {sorted(given)}")
        unit = given.pop() if given else self._settings["raw_units"]
        try:
            return _UV_PER_UNIT[unit.lower()]
        except KeyError:
            raise ConfigError(f"lsl stream samples are in {unit!r}, not a voltage; allowed: V, mV, uV") from None

    # ----- streaming -------------------------------------------------------------------
    def _device_ns(self, lsl_s: np.ndarray) -> np.ndarray:
        return np.round((np.asarray(lsl_s, np.float64) + self._correction_s - self._origin_s) * NS_PER_S).astype(np.int64)

    def _advance(self, duration_s: float) -> SpikeEvents:
        lsl = pylsl_module()
        self._now_ns += int(round(duration_s * NS_PER_S))
        try:
            self._correction_s = float(self._inlet.time_correction(self._settings["max_wait_s"]))
        except lsl.util.TimeoutError:
            self.stale_correction_total += 1  # the sender is away (liblsl reconnects): keep the last estimate
        deadline = lsl.local_clock() + self._settings["max_wait_s"]
        fresh = [self._pull()]
        while (wait_s := min(deadline - lsl.local_clock(), self._uncovered_s(lsl))) > 0:
            # block until the next sample arrives (or the window is covered / the wait is over)
            sample, stamp = self._inlet.pull_sample(timeout=wait_s)
            if stamp is not None:
                fresh += [self._take(np.asarray([sample], self._buf.dtype), [stamp]), self._pull()]
        events = SpikeEvents.concat([self._pending, *fresh])
        due = events.time_ns <= self._now_ns
        self._pending = events.select(~due)
        return events.select(due)

    def _uncovered_s(self, lsl: Any) -> float:
        """How far (s) the stream still is from covering device time ``now_ns``; <= 0 when covered.

        Raw: by its last sample received (``inf`` before the first); events: by the LSL clock.
        """
        if self._mode == "events":
            return self._now_ns / NS_PER_S - (lsl.local_clock() - self._origin_s)
        if self._first_s is None:
            return float("inf")
        last_ns = self._device_ns(self._first_s)[()] + self._n_samples * NS_PER_S / self._detector.fs_hz
        return (self._now_ns - last_ns) / NS_PER_S

    def _pull(self) -> SpikeEvents:
        """Events of every sample already received (no waiting)."""
        _, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=MAX_CHUNK_SAMPLES, dest_obj=self._buf)
        if not stamps:
            return SpikeEvents.empty()
        return self._take(self._buf[: len(stamps)], stamps)

    def _take(self, samples: np.ndarray, stamps: list[float]) -> SpikeEvents:
        """Events of the samples just received (raw: through the detector), device clock."""
        if self._mode == "events":
            time_ns = self._device_ns(stamps)
            electrode, kind = samples[:, 0].astype(np.int64), samples[:, 1].astype(np.int64)
            ok = (electrode >= 0) & (electrode < self.layout.n_channels) & np.isin(kind, EVENT_KINDS)
            self.malformed_total += int((~ok).sum())
            early = ok & (time_ns < 0)
            self.early_total += int(early.sum())
            keep = ok & ~early
            return SpikeEvents(electrode[keep], time_ns[keep], kind[keep].astype(np.uint8))
        if self._first_s is None:
            self._first_s = float(stamps[0])
        t0_ns = int(self._device_ns(self._first_s)[()]) + int(round(self._n_samples * NS_PER_S / self._detector.fs_hz))
        self._n_samples += len(samples)
        channel, time_ns, _ = self._detector.process(samples * np.float32(self._scale), t0_ns)
        early = time_ns < 0
        self.early_total += int(early.sum())
        return SpikeEvents(self._electrodes[channel[~early]], time_ns[~early],
                           np.full(int((~early).sum()), KIND_SPONTANEOUS_AP, np.uint8))

