"""Weighted presynaptic spikes -> stimulation commands for a lab that records on an MEA.

In the original experiment the lab owning the target neuron "scales its stimulus by w"
(Serb et al. 2020, hub logic step 2): Padova stimulated the culture through an electrode
with a pulse whose strength followed the weight byte. Here the amplitude of a biphasic current
pulse is ``amplitude_ua_at_full_weight * weight`` on the electrode whose id is the synapse's
postsynaptic neuron id. The paper gives no current scale for this mapping; the defaults below
are typical of biphasic current stimulation on MEA electrodes and are meant to be set per lab.
Safety limits (charge per phase, amplitude) are enforced by the MEA stimulation layer, which
refuses out-of-range commands whole; this module only maps weights to commands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurohybrid.errors import ConfigError
from neurohybrid.events import StimulusBatch

AMPLITUDE_UA_AT_FULL_WEIGHT = 30.0
"""Current per phase at weight 1, microampere (typical MEA biphasic stimulation; per-lab setting)."""

PHASE_WIDTH_US = 200.0
"""Width of each phase of the biphasic pulse, microsecond (typical MEA stimulation; per-lab setting)."""

PULSE_COUNT = 1
"""Pulses per presynaptic spike (one stimulus per routed spike)."""


@dataclass(frozen=True)
class StimulusMap:
    """Maps weights (0..1) to biphasic current pulses; weights <= ``min_weight`` give no command."""

    amplitude_ua_at_full_weight: float = AMPLITUDE_UA_AT_FULL_WEIGHT
    phase_width_us: float = PHASE_WIDTH_US
    pulse_count: int = PULSE_COUNT
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        for key in ("amplitude_ua_at_full_weight", "phase_width_us"):
            value = getattr(self, key)
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not is_number or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{key}={value!r} must be a finite number > 0")
        count = self.pulse_count
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"pulse_count={count!r} must be an integer >= 1")
        w = self.min_weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w < 1:
            raise ConfigError(f"min_weight={w!r} must lie in [0, 1)")

    def commands(
        self,
        post_id: np.ndarray,
        time_ns: np.ndarray,
        weight: np.ndarray,
        synapse_id: np.ndarray,
        pre_id: np.ndarray,
    ) -> StimulusBatch:
        """One command per weight above ``min_weight``: electrode ``post_id`` at ``time_ns`` (target clock).

        Amplitude (uA per phase) = ``amplitude_ua_at_full_weight * weight``.
        """
        weight = np.asarray(weight, dtype=np.float32)
        keep = weight > self.min_weight
        n = int(np.count_nonzero(keep))
        return StimulusBatch(
            electrode=np.asarray(post_id)[keep],
            amplitude_ua=self.amplitude_ua_at_full_weight * weight[keep].astype(np.float64),
            phase_width_us=np.full(n, self.phase_width_us),
            pulse_count=np.full(n, self.pulse_count, dtype=np.uint32),
            time_ns=np.asarray(time_ns)[keep],
            synapse_id=np.asarray(synapse_id)[keep],
            weight=weight[keep],
            pre_id=np.asarray(pre_id)[keep],
        )
