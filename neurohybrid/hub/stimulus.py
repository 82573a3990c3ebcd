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

from dataclasses import dataclass

import numpy as np

from neurohybrid.core.events import StimulusBatch
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds

AMPLITUDE_UA_AT_FULL_WEIGHT = 30.0
"""Current per phase at weight 1, microampere (typical MEA biphasic stimulation; per-lab setting)."""

PHASE_WIDTH_US = 200.0
"""Width of each phase of the biphasic pulse, microsecond (typical MEA stimulation; per-lab setting)."""

PULSE_COUNT = 1
"""Pulses per presynaptic spike (one stimulus per routed spike)."""


STIMULUS_PARAMS = ParamSet("hub -> MEA stimulation by weight", [
    ParamSpec("stim_amplitude_ua", AMPLITUDE_UA_AT_FULL_WEIGHT, "stimulus current per phase at weight 1 (x weight)",
              "uA", Bounds(0.0, 1000.0, low_open=True)),
    ParamSpec("stim_phase_width_us", PHASE_WIDTH_US, "stimulus phase width", "us",
              Bounds(0.0, 10_000.0, low_open=True)),
    ParamSpec("stim_pulse_count", PULSE_COUNT, "pulses per stimulus", "", Bounds(1, 1000, integer=True)),
])
FIELD_OF_PARAM = {"stim_amplitude_ua": "amplitude_ua_at_full_weight", "stim_phase_width_us": "phase_width_us",
                  "stim_pulse_count": "pulse_count"}
"""The :class:`StimulusMap` field each parameter sets."""
MIN_WEIGHT_BOUNDS = Bounds(0.0, 1.0, high_open=True)


@dataclass(frozen=True)
class StimulusMap:
    """Maps weights (0..1) to biphasic current pulses; weights <= ``min_weight`` give no command."""

    amplitude_ua_at_full_weight: float = AMPLITUDE_UA_AT_FULL_WEIGHT
    phase_width_us: float = PHASE_WIDTH_US
    pulse_count: int = PULSE_COUNT
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        for param, name in FIELD_OF_PARAM.items():
            object.__setattr__(self, name, STIMULUS_PARAMS[param].bounds.check(name, getattr(self, name)))
        object.__setattr__(self, "min_weight", MIN_WEIGHT_BOUNDS.check("min_weight", self.min_weight))

    @classmethod
    def from_params(cls, values: dict[str, float]) -> "StimulusMap":
        """The map of the ``stim_*`` parameters (:data:`STIMULUS_PARAMS`) in ``values``."""
        return cls(**{name: values[param] for param, name in FIELD_OF_PARAM.items()})

    def commands(
        self,
        post_id: np.ndarray,
        time_ns: np.ndarray,
        weight: np.ndarray,
        synapse_id: np.ndarray,
        pre_id: np.ndarray,
        pre_time_ns: np.ndarray,
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
            pre_time_ns=np.asarray(pre_time_ns)[keep],
        )
