"""Drive protocols: phases of Poisson input at set rates to chosen neurons.

The paper's experiment (Serb et al. 2020) drove the presynaptic neuron through a high-rate phase
(above 20 Hz: LTP under the rate rule) and a low-rate phase (below 5 Hz: LTD); on a DYNAP board this
is done with the FPGA spike generator feeding strong synapses, which we reproduce as input events.
:class:`Drive` hands a board the protocol's events as its clock advances.
"""

from __future__ import annotations

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import Bounds

NO_NEURON = -1
"""The placeholder of an empty neuron list in a ROS parameter (an array parameter cannot be empty)."""

DRIVE_PARAMS = ParamSet("board drive protocol", [
    ParamSpec("drive_neurons", [NO_NEURON], "neurons driven by the protocol ([-1]: none)", "",
              Bounds(NO_NEURON, 2**31 - 1, integer=True)),
    ParamSpec("drive_phase_s", [0.0], "duration of each drive phase", "s", Bounds(0.0, 86_400.0)),
    ParamSpec("drive_rate_hz", [0.0], "Poisson input rate of each phase", "Hz", Bounds(0.0, 10_000.0)),
    ParamSpec("drive_weight", 1.0, "weight of drive input events", "", Bounds(0.0, 1.0)),
])


class PhaseProtocol:
    """Poisson spike trains for ``neurons``: phase ``i`` lasts ``durations_s[i]`` at ``rates_hz[i]``.

    After the last phase the drive stops. Times are seconds of the device clock from activation.
    """

    def __init__(self, neurons: list[int], durations_s: list[float], rates_hz: list[float],
                 seed: int = 0) -> None:
        if len(durations_s) != len(rates_hz):
            raise ConfigError(f"drive_phase_s has {len(durations_s)} entries but drive_rate_hz has "
                              f"{len(rates_hz)}: they must match")
        DRIVE_PARAMS["drive_phase_s"].check(list(durations_s))
        DRIVE_PARAMS["drive_rate_hz"].check(list(rates_hz))
        self.neurons = np.asarray(neurons, dtype=np.uint32)
        self.edges_s = np.concatenate([[0.0], np.cumsum(durations_s)])
        self.rates_hz = np.asarray(rates_hz, dtype=float)
        self._rng = np.random.default_rng(seed)

    @property
    def total_s(self) -> float:
        return float(self.edges_s[-1])

    def rate_at(self, t_s: float) -> float:
        """Drive rate at time ``t_s``, Hz (0 outside the protocol)."""
        idx = np.searchsorted(self.edges_s, t_s, side="right") - 1
        return float(self.rates_hz[idx]) if 0 <= idx < len(self.rates_hz) else 0.0

    def events(self, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Poisson events in [t0, t1) for every driven neuron: (neuron ids, times in s)."""
        ids, times = [], []
        for i, rate in enumerate(self.rates_hz):
            lo, hi = max(t0_s, self.edges_s[i]), min(t1_s, self.edges_s[i + 1])
            if hi <= lo or rate <= 0 or not len(self.neurons):
                continue
            n = self._rng.poisson(rate * (hi - lo), size=len(self.neurons))
            ids.append(np.repeat(self.neurons, n))
            times.append(self._rng.uniform(lo, hi, int(n.sum())))
        if not ids:
            return np.empty(0, np.uint32), np.empty(0)
        ids_arr, t_arr = np.concatenate(ids), np.concatenate(times)
        order = np.argsort(t_arr)
        return ids_arr[order], t_arr[order]


class Drive:
    """A protocol applied to a board: the input events due up to a time of the device clock."""

    def __init__(self, protocol: PhaseProtocol, weight: float) -> None:
        self.protocol = protocol
        self.weight = DRIVE_PARAMS["drive_weight"].check(weight)
        self._until_s = 0.0

    @property
    def active(self) -> bool:
        """Whether the protocol drives any neuron."""
        return len(self.protocol.neurons) > 0

    def due(self, until_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events not handed out yet, up to ``until_s`` (device clock, s): ids, times (ns), weights."""
        start_s, self._until_s = self._until_s, max(self._until_s, until_s)
        ids, t_s = self.protocol.events(start_s, until_s)
        return ids, (t_s * NS_PER_S).astype(np.int64), np.full(len(ids), self.weight)
