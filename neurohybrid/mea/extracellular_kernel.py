"""Compiled kernel of :meth:`neurohybrid.mea.extracellular.ExtracellularModel.render`: adds each
spike's waveform to the channels that see it.

For spike s starting at sample ``start[s]`` (negative: it began in an earlier chunk) and each of
its visible (neuron, channel) pairs p, ``out[start[s] + k, channel[p]] += amp[p] * template[k]``
for the template samples k that fall at or after sample 0. One pass in float64 per addition into
the float32 buffer: the cost is the number of pairs times the template length, with no
temporaries (the vectorised form built index and weight arrays of that size for every chunk,
which at 1,024 channels cost more than the rest of the MEA twin).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def add_spikes(out: np.ndarray, start: np.ndarray, first: np.ndarray, n_pairs: np.ndarray,
               pair_channel: np.ndarray, pair_amp_uv: np.ndarray, template: np.ndarray) -> None:
    """Add every spike's waveform into ``out`` (n_rows, n_channels) float32, in place, uV."""
    n_tpl = template.shape[0]
    last_start = out.shape[0] - n_tpl
    for s in range(start.shape[0]):
        # a spike wholly before the buffer, or one that would not fit, adds nothing (no index
        # arithmetic on it at all: -start of the int64 minimum overflows)
        if start[s] <= -n_tpl or start[s] > last_start:
            continue
        k0 = -start[s] if start[s] < 0 else 0
        for p in range(first[s], first[s] + n_pairs[s]):
            ch = pair_channel[p]
            amp = np.float64(pair_amp_uv[p])
            for k in range(k0, n_tpl):
                out[start[s] + k, ch] += np.float32(amp * template[k])
