"""Motor decoder: spike rates of two output groups -> left/right wheel speeds -> body twist.

Rates: spikes of each group's sources (MEA electrodes or silicon neurons) in the trailing
``window_s`` up to the newest slice end, divided by ``window_s`` and by the group size (Hz per
source), as the firing-rate decoding of Novellino et al. 2007. Baseline: each group's mean rate
over the first ``baseline_s`` of input (calibration, robot held still), floored at
``baseline_floor_hz``; ``n_g = rate_g / baseline_g``.

Wheels, crossed inhibition (Braitenberg vehicle 3b, "explorer": it slows down near obstacles and
turns away from them, the behaviour Tessadori et al. 2012 rewarded)::

    v_left  = base_speed_m_s - gain_m_s * (n_right - 1)
    v_right = base_speed_m_s - gain_m_s * (n_left - 1)

saturated to [min_wheel_speed_m_s, max_wheel_speed_m_s] (the decoder's output range, so the
robot never gets a command beyond its limits; by default it never drives backwards, where it
cannot see). ``saturation`` "clip" clips each wheel on its own: when both sides are strongly
active (an obstacle dead ahead) both wheels stop and the vehicle stalls. "shift" first moves both
wheels by the same amount until the slower one is inside the range, keeping their difference
(the turn away from the more active side; it pivots on the slower wheel), then clips: the
vehicle turns instead of stalling. The default groups are the input electrodes themselves: in the culture twin the
evoked response (PSPs and evoked APs) is recorded at the stimulated site, then ``linear = (v_l + v_r) / 2``, ``angular = (v_r - v_l) / L``.

Watchdog: when no spike batch has arrived for ``watchdog_s`` (receive time, monotonic clock),
the decoder outputs zero velocity; a robot stops when its brain goes silent.
"""

from __future__ import annotations

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import SpikeEvents
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds

DECODER_PARAMS = ParamSet("motor decoder (spikes -> cmd_vel)", [
    ParamSpec("left_group", [8, 9],
              "sources whose rate inhibits the right wheel (default: the left sector's input electrodes)", "", Bounds(0, 2**31 - 1, integer=True)),
    ParamSpec("right_group", [48, 49],
              "sources whose rate inhibits the left wheel (default: the right sector's input electrodes)", "", Bounds(0, 2**31 - 1, integer=True)),
    ParamSpec("window_s", 0.5, "sliding window of the rates", "s", Bounds(0.01, 10.0)),
    ParamSpec("baseline_s", 5.0, "calibration time of the baseline rates (robot held still)", "s", Bounds(0.0, 600.0)),
    ParamSpec("baseline_floor_hz", 1.0, "lowest baseline rate per source", "Hz", Bounds(0.0, 1000.0, low_open=True)),
    ParamSpec("base_speed_m_s", 0.15, "wheel speed at baseline activity", "m/s", Bounds(-5.0, 5.0)),
    ParamSpec("gain_m_s", 0.01, "wheel slow-down per unit of normalised rate above baseline", "m/s", Bounds(0.0, 50.0)),
    ParamSpec("min_wheel_speed_m_s", 0.0, "lower saturation of each wheel (0: never backwards, the sensors "
              "look ahead)", "m/s", Bounds(-5.0, 5.0)),
    ParamSpec("max_wheel_speed_m_s", 0.22, "upper saturation of each wheel", "m/s", Bounds(0.0, 5.0, low_open=True)),
    ParamSpec("saturation", "clip", "wheel saturation: clip each wheel, or shift both to keep the turn "
              "(see neurohybrid.robot.decoder)", choices=("clip", "shift")),
    ParamSpec("wheel_separation_m", 0.160, "wheel separation of the driven robot", "m", Bounds(0.01, 2.0)),
    ParamSpec("watchdog_s", 0.04, "no spike batch for this long: zero velocity", "s", Bounds(0.001, 10.0)),
])


class MotorDecoder:
    """Spike batches in, (linear m/s, angular rad/s) out (see the module docstring)."""

    def __init__(self, **values: object) -> None:
        p = DECODER_PARAMS.check(values)
        if p["min_wheel_speed_m_s"] > p["max_wheel_speed_m_s"]:
            raise ConfigError(f"min_wheel_speed_m_s={p['min_wheel_speed_m_s']} above max_wheel_speed_m_s="
                              f"{p['max_wheel_speed_m_s']}")
        if set(p["left_group"]) & set(p["right_group"]):
            raise ConfigError(f"left_group and right_group share sources {sorted(set(p['left_group']) & set(p['right_group']))}")
        self.p = p
        self._groups = [np.asarray(p["left_group"], np.int64), np.asarray(p["right_group"], np.int64)]
        self._window_ns = int(p["window_s"] * NS_PER_S)
        self._times: list[np.ndarray] = [np.empty(0, np.int64), np.empty(0, np.int64)]
        self._start_ns: int | None = None
        self._end_ns: int | None = None
        self._baseline_counts = np.zeros(2)
        self.baseline_hz: np.ndarray | None = None
        self._heard_ns: int | None = None
        self.batches = 0
        self.watchdog_stops = 0
        self._stopped = True

    def add(self, spikes: SpikeEvents, slice_start_ns: int, slice_end_ns: int, received_ns: int) -> None:
        """One batch covering [slice_start, slice_end) of the source clock, received at ``received_ns`` (monotonic)."""
        if slice_end_ns < slice_start_ns:
            raise ValueError(f"slice_end_ns={slice_end_ns} before slice_start_ns={slice_start_ns}")
        self.batches += 1
        self._heard_ns = received_ns
        if self._start_ns is None:
            self._start_ns = slice_start_ns
        self._end_ns = max(slice_end_ns, self._end_ns or slice_end_ns)
        calibrating = self.baseline_hz is None
        for g, members in enumerate(self._groups):
            t = spikes.time_ns[np.isin(spikes.source_id, members)]
            if calibrating:
                self._baseline_counts[g] += len(t)
            self._times[g] = np.concatenate([self._times[g][self._times[g] >= self._end_ns - self._window_ns], t])
        elapsed_s = (self._end_ns - self._start_ns) / NS_PER_S
        if calibrating and elapsed_s >= self.p["baseline_s"]:
            sizes = np.array([len(m) for m in self._groups])
            rate = self._baseline_counts / max(elapsed_s, 1e-9) / sizes
            self.baseline_hz = np.maximum(rate, self.p["baseline_floor_hz"])

    def rates_hz(self) -> np.ndarray:
        """Rate per source of each group in the trailing window, Hz."""
        if self._end_ns is None:
            return np.zeros(2)
        lo = self._end_ns - self._window_ns
        return np.array([(t >= lo).sum() / self.p["window_s"] / len(m) for t, m in zip(self._times, self._groups)])

    def wheels(self) -> tuple[float, float]:
        """(left, right) wheel speeds, m/s, from the current rates (0, 0 while calibrating)."""
        if self.baseline_hz is None:
            return 0.0, 0.0
        n_left, n_right = self.rates_hz() / self.baseline_hz
        p = self.p
        lo, hi = p["min_wheel_speed_m_s"], p["max_wheel_speed_m_s"]
        left = p["base_speed_m_s"] - p["gain_m_s"] * (n_right - 1)
        right = p["base_speed_m_s"] - p["gain_m_s"] * (n_left - 1)
        if p["saturation"] == "shift":
            lift = max(0.0, lo - min(left, right))
            left, right = left + lift, right + lift
        return float(np.clip(left, lo, hi)), float(np.clip(right, lo, hi))

    def silent_s(self, now_ns: int) -> float:
        """Time since the last batch arrived (monotonic), s; inf before the first."""
        return float("inf") if self._heard_ns is None else (now_ns - self._heard_ns) / NS_PER_S

    def stale(self, now_ns: int) -> bool:
        """Whether no batch arrived within ``watchdog_s`` before ``now_ns`` (monotonic)."""
        return self._heard_ns is None or now_ns - self._heard_ns > self.p["watchdog_s"] * NS_PER_S

    def command(self, now_ns: int) -> tuple[float, float]:
        """The twist to send now: (linear m/s, angular rad/s); zero when the input is stale."""
        if self.stale(now_ns):
            if not self._stopped:
                self.watchdog_stops += 1
            self._stopped = True
            return 0.0, 0.0
        self._stopped = False
        left, right = self.wheels()
        return (left + right) / 2, (right - left) / self.p["wheel_separation_m"]
