"""Drive protocols: phases of Poisson input at set rates to chosen neurons.

The paper's experiment (Serb et al. 2020) drove the presynaptic neuron through a high-rate phase
(above 20 Hz: LTP under the rate rule) and a low-rate phase (below 5 Hz: LTD); on a DYNAP board this
is done with the FPGA spike generator feeding strong synapses, which we reproduce as input events.
"""

from __future__ import annotations

import numpy as np

from neurohybrid.errors import ConfigError


class PhaseProtocol:
    """Poisson spike trains for ``neurons``: phase ``i`` lasts ``durations_s[i]`` at ``rates_hz[i]``.

    After the last phase the drive stops. Times are seconds of the device clock from activation.
    """

    def __init__(self, neurons: list[int], durations_s: list[float], rates_hz: list[float],
                 seed: int = 0) -> None:
        if len(durations_s) != len(rates_hz):
            raise ConfigError(f"drive_phase_s has {len(durations_s)} entries but drive_rate_hz has "
                              f"{len(rates_hz)}: they must match")
        for key, values in (("drive_phase_s", durations_s), ("drive_rate_hz", rates_hz)):
            bad = [v for v in values if not np.isfinite(v) or v < 0]
            if bad:
                raise ConfigError(f"{key}={bad[0]!r} outside allowed [0, inf)")
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
