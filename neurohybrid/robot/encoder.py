"""Sensory encoder: range sectors -> pulse rates -> MEA stimulation (a StimulusBatch) or weighted
input events for silicon neurons (WeightedEvents), by ``target``.

As in Novellino et al. 2007 (doi:10.1155/2007/12725) and Tessadori et al. 2012, each proximity
sector drives its input electrodes with a pulse rate that grows as the nearest obstacle in the
sector comes closer. With d the sector's nearest range (m), d_min / d_max the coding range:

* linear: ``rate = max_rate_hz * (d_max - d) / (d_max - d_min)``
* log:    ``rate = max_rate_hz * ln(d_max / d) / ln(d_max / d_min)``

both clipped to [0, max_rate_hz] (d <= d_min: max rate; d >= d_max: none). Pulses are emitted
by an integrate-and-fire accumulator per sector (phase += rate * dt; one pulse per unit), so the
mean pulse rate equals the coded rate. Every command goes to its device, which refuses what breaks
its limits (the MEA's guard; the board's input check: unknown neuron); the encoder never clips a
command to fit.

Targets: ``mea`` - one biphasic pulse (``amplitude_ua``, ``phase_width_us``) per pulse on the
sector's ``input_electrodes``; ``board`` - one input event of ``event_weight`` (0..1, the board
scales it by its ``input_base_weight_a``) per pulse on the sector's ``input_neurons``, as the
hub's weighted events. In both, ``pre_id`` and ``synapse_id`` name the sector (no memristor is on
this path).
Each pulse carries ``pre_time_ns``, the time of the range reading that caused it (the scan's
header stamp), so the latency range -> stimulation -> spike can be measured downstream.

Optional reinforcement (Tessadori et al. 2012): after each collision a tetanic burst of
``tetanus_pulses`` single pulses at ``tetanus_rate_hz`` on every input electrode.

Sectors split the field of view ``fov_deg`` centred on the robot's heading, ordered
counter-clockwise (sector 0 is the rightmost); ``input_electrodes`` is split into ``n_sectors``
equal groups in that order (``input_neurons`` likewise for the board). A range reading that is NaN, infinite or negative is refused
(counted in ``refused_readings``) and ignored.
"""

from __future__ import annotations

import math

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import NO_PRE_TIME_NS, StimulusBatch, WeightedEvents
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds

TARGETS = ("mea", "board")
"""What the encoder stimulates: MEA electrodes or silicon input neurons."""

ENCODER_PARAMS = ParamSet("sensory encoder (ranges -> stimulation)", [
    ParamSpec("target", "mea", "what the pulses stimulate: MEA electrodes (stimulation) or silicon "
              "input neurons (weighted_events)", choices=TARGETS),
    ParamSpec("n_sectors", 2, "range sectors across the field of view", "", Bounds(1, 64, integer=True)),
    ParamSpec("fov_deg", 180.0, "field of view of the sectors, centred on the heading", "deg",
              Bounds(0.0, 360.0, low_open=True)),
    ParamSpec("input_electrodes", [48, 49, 8, 9], "MEA electrodes (source_id), split evenly over the sectors "
              "from right to left (defaults: MCS 60MEA columns 7 and 2)", "", Bounds(0, 4095, integer=True)),
    ParamSpec("input_neurons", [2, 3, 4, 5], "silicon input neurons (target board), split evenly over the "
              "sectors from right to left; the board refuses an id it does not have", "",
              Bounds(0, 2**31 - 1, integer=True)),
    ParamSpec("event_weight", 1.0, "weight of each input event (target board)", "", Bounds(0.0, 1.0, low_open=True)),
    ParamSpec("coding", "linear", "rate coding of the nearest range", choices=("linear", "log")),
    ParamSpec("d_min_m", 0.15, "range at and below which the rate is max_rate_hz", "m", Bounds(0.0, 10.0, low_open=True)),
    ParamSpec("d_max_m", 0.45, "range at and above which no pulse is given", "m", Bounds(0.0, 100.0, low_open=True)),
    ParamSpec("max_rate_hz", 20.0, "pulse rate of a sector at d_min_m", "Hz", Bounds(0.0, 1000.0, low_open=True)),
    ParamSpec("amplitude_ua", 30.0, "pulse current per phase", "uA", Bounds(0.0, 1000.0, low_open=True)),
    ParamSpec("phase_width_us", 100.0, "pulse phase width", "us", Bounds(0.0, 10_000.0, low_open=True)),
    ParamSpec("tetanus", False, "tetanic burst on every input electrode after a collision (Tessadori 2012)"),
    ParamSpec("tetanus_pulses", 20, "pulses of the tetanic burst", "", Bounds(1, 1000, integer=True)),
    ParamSpec("tetanus_rate_hz", 20.0, "pulse rate of the tetanic burst", "Hz", Bounds(0.0, 1000.0, low_open=True)),
])


class SensoryEncoder:
    """Ranges -> StimulusBatch on the input electrodes (see the module docstring)."""

    def __init__(self, **values: object) -> None:
        p = ENCODER_PARAMS.check(values)
        key = "input_electrodes" if p["target"] == "mea" else "input_neurons"
        if len(p[key]) % p["n_sectors"]:
            raise ConfigError(f"{key} has {len(p[key])} entries, not a multiple of n_sectors={p['n_sectors']}")
        if not p["d_min_m"] < p["d_max_m"]:
            raise ConfigError(f"d_min_m={p['d_min_m']} must be below d_max_m={p['d_max_m']}")
        self.p = p
        self.groups = np.asarray(p[key], np.uint32).reshape(p["n_sectors"], -1)
        self.edges_rad = math.radians(p["fov_deg"]) * (np.arange(p["n_sectors"] + 1) / p["n_sectors"] - 0.5)
        self._phase = np.zeros(p["n_sectors"])
        self._last_ns: int | None = None
        self.refused_readings = 0
        self.pulses_per_sector = np.zeros(p["n_sectors"], np.int64)

    def sector_ranges(self, ranges_m: np.ndarray, angles_rad: np.ndarray) -> np.ndarray:
        """Nearest valid range per sector, m (inf: no valid reading in it); bad readings counted."""
        ranges_m = np.asarray(ranges_m, float)
        bad = ~np.isfinite(ranges_m) | (ranges_m < 0)
        self.refused_readings += int(bad.sum())
        wrapped = np.angle(np.exp(1j * np.asarray(angles_rad, float)))
        sector = np.searchsorted(self.edges_rad, wrapped, side="right") - 1
        inside = ~bad & (sector >= 0) & (sector < len(self._phase))
        nearest = np.full(len(self._phase), np.inf)
        np.minimum.at(nearest, sector[inside], ranges_m[inside])
        return nearest

    def rates_hz(self, nearest_m: np.ndarray) -> np.ndarray:
        """Coded pulse rate of each sector from its nearest range (see the module docstring)."""
        p = self.p
        d = np.clip(nearest_m, p["d_min_m"], p["d_max_m"])
        if p["coding"] == "linear":
            level = (p["d_max_m"] - d) / (p["d_max_m"] - p["d_min_m"])
        else:
            level = np.log(p["d_max_m"] / d) / math.log(p["d_max_m"] / p["d_min_m"])
        return p["max_rate_hz"] * level

    def encode(self, ranges_m: np.ndarray, angles_rad: np.ndarray, time_ns: int,
               pre_time_ns: int = NO_PRE_TIME_NS) -> StimulusBatch | WeightedEvents:
        """Pulses for the time since the previous call, at ``time_ns`` (target clock), caused by the
        range reading of ``pre_time_ns`` (same clock; NO_PRE_TIME_NS: unknown)."""
        rates = self.rates_hz(self.sector_ranges(ranges_m, angles_rad))
        dt = 0.0 if self._last_ns is None else max(0, time_ns - self._last_ns) / NS_PER_S
        self._last_ns = time_ns
        self._phase += rates * dt
        counts = np.floor(self._phase).astype(np.int64)
        self._phase -= counts
        self.pulses_per_sector += counts
        sectors = np.repeat(np.arange(len(counts)), counts * self.groups.shape[1])
        ids = np.concatenate([np.repeat(g, c) for g, c in zip(self.groups, counts)]) if counts.any() \
            else np.empty(0, np.uint32)
        return self._batch(ids, sectors, np.full(len(ids), time_ns, np.int64), pre_time_ns)

    def tetanus(self, time_ns: int) -> StimulusBatch | WeightedEvents:
        """The tetanic burst after a collision at ``time_ns`` (empty unless ``tetanus`` is on); no
        range reading caused it (pre time NO_PRE_TIME_NS)."""
        if not self.p["tetanus"]:
            return self._batch(np.empty(0, np.uint32), np.empty(0, np.int64), np.empty(0, np.int64), NO_PRE_TIME_NS)
        step = int(round(NS_PER_S / self.p["tetanus_rate_hz"]))
        times = time_ns + step * np.arange(self.p["tetanus_pulses"], dtype=np.int64)
        ids = self.groups.ravel()
        sectors = np.repeat(np.arange(len(self.groups)), self.groups.shape[1])
        return self._batch(np.tile(ids, len(times)), np.tile(sectors, len(times)), np.repeat(times, len(ids)),
                           NO_PRE_TIME_NS)

    def _batch(self, ids: np.ndarray, sectors: np.ndarray, times_ns: np.ndarray,
               pre_time_ns: int) -> StimulusBatch | WeightedEvents:
        n = len(ids)
        pre = np.full(n, pre_time_ns, np.int64)
        if self.p["target"] == "board":
            w = self.p["event_weight"]
            return WeightedEvents(sectors, pre, ids, sectors, np.full(n, w), np.full(n, round(255 * w)), times_ns)
        return StimulusBatch(ids, np.full(n, self.p["amplitude_ua"]), np.full(n, self.p["phase_width_us"]),
                             np.ones(n), times_ns, sectors, np.ones(n), sectors, pre)
