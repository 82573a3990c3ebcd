"""Compiled sample-by-sample kernel of :class:`neurohybrid.mea.detector.OnlineSpikeDetector`.

One pass over a chunk (n_samples, n_channels), sample by sample; each step loops over the
channels' contiguous arrays (the test for new crossings is one vectorised count over all
channels, then ``SCAN_BLOCK`` channels at a time only where it found one; ongoing peak searches
are kept in a list and advanced directly):

1. the Butterworth cascade in ``sos`` (scipy ``butter(..., output="sos")`` rows b0 b1 b2 a0 a1 a2,
   a0 = 1), each section in transposed direct form II exactly as ``scipy.signal.sosfilt``, with the
   state ``z0``, ``z1`` (n_sections, n_channels each; sosfilt's ``zi[:, 0]`` and ``zi[:, 1]``)
   carried across calls;
2. the threshold test: a candidate starts at a downward crossing of ``threshold`` (filtered
   sample below it, previous one not; Quiroga, Nadasdy & Ben-Shaul, Neural Comput. 16:1661, 2004);
3. the peak search: the minimum of the ``peak_n`` filtered samples from the crossing on (the
   first minimum on ties) is the candidate's peak;
4. the refractory period, **counted back from the peak**: the candidate is reported (peak
   sample index and filtered value) only if its peak is strictly lower than the
   ``refractory_n`` filtered samples before it, so a shallower peak less than ``refractory_n``
   samples after a deeper one (the second negative lobe or a noisy re-crossing of a spike) is
   dropped, the backward half of SpikeInterface's ``detect_peaks`` (``by_channel``) rule that a
   peak is the minimum within ``exclude_sweep_ms`` of itself. Counting the refractory period
   from the threshold crossing instead reported those lobes as new spikes. The last
   ``refractory_n + peak_n + 1`` filtered samples are kept in ``history`` (a ring indexed by
   the absolute sample index modulo its length, +inf before the first sample); it also gives
   the previous sample of the crossing test.

Every per-channel quantity that a spike may span (filter state, recent filtered samples,
ongoing peak search) is state passed in and updated in place, so any split of the signal into
chunks gives the same spikes as the whole signal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SCAN_BLOCK = 16  # channels tested at once (vectorised) before the per-channel spike logic runs
SOS_B0, SOS_B1, SOS_B2, SOS_A1, SOS_A2 = 0, 1, 2, 4, 5  # columns of a scipy sos row (a0 = 1)


@njit(cache=True, fastmath={"contract"})
def _cascade_step(row: np.ndarray, sos: np.ndarray, z0: np.ndarray, z1: np.ndarray) -> None:
    """One sample of the sos cascade on every channel, in place on ``row`` (sosfilt's TDF-II)."""
    for s in range(sos.shape[0]):
        b0 = sos[s, SOS_B0]
        b1 = sos[s, SOS_B1]
        b2 = sos[s, SOS_B2]
        a1 = sos[s, SOS_A1]
        a2 = sos[s, SOS_A2]
        for c in range(row.shape[0]):
            xin = row[c]
            y = b0 * xin + z0[s, c]
            z0[s, c] = b1 * xin - a1 * y + z1[s, c]
            z1[s, c] = b2 * xin - a2 * y
            row[c] = y


@njit(cache=True)
def _isolated(history: np.ndarray, peak_index: int, peak_uv: float, channel: int, refractory_n: int) -> bool:
    """True if ``peak_uv`` is strictly below the ``refractory_n`` samples before ``peak_index``."""
    n_history = history.shape[0]
    for back in range(1, refractory_n + 1):
        if history[(peak_index - back) % n_history, channel] <= peak_uv:
            return False
    return True


@njit(cache=True, fastmath={"contract"})
def detect_chunk(
    x: np.ndarray,
    sos: np.ndarray,
    z0: np.ndarray,
    z1: np.ndarray,
    threshold: np.ndarray,
    search_left: np.ndarray,
    min_val: np.ndarray,
    min_pos: np.ndarray,
    history: np.ndarray,
    start_index: int,
    peak_n: int,
    refractory_n: int,
    y_out: np.ndarray,
    out_channel: np.ndarray,
    out_index: np.ndarray,
    out_amplitude: np.ndarray,
) -> int:
    """Filter and detect on ``x`` (float32, uV); returns the number of spikes written.

    ``start_index`` is the absolute sample index of ``x[0]``; spikes are written to
    ``out_channel`` / ``out_index`` (absolute sample of the peak) / ``out_amplitude`` (uV) in the
    order their peak searches end, which needs at most
    ``n_channels * (n_samples // max(peak_n, 2) + 2)`` entries. ``search_left`` (int64) counts
    the samples left in each channel's ongoing peak search (0: none). The filtered signal is
    written to ``y_out`` when it has ``n_samples`` rows (pass zero rows to skip it). A threshold
    of -inf disables detection (noise window).
    """
    n_samples, n_channels = x.shape
    store = y_out.shape[0] == n_samples
    n_history = history.shape[0]
    # ``gate``: the threshold, or -inf while the channel's peak search runs, so that the scan
    # for new crossings skips searching channels; those are listed in ``searching`` instead.
    gate = np.empty(n_channels, dtype=np.float32)
    searching = np.empty(n_channels, dtype=np.int64)
    finished = np.empty(n_channels, dtype=np.int64)
    n_search = 0
    for c in range(n_channels):
        gate[c] = -np.inf if search_left[c] > 0 else threshold[c]
        searching[n_search] = c
        n_search += search_left[c] > 0
    n_out = 0
    for t in range(n_samples):
        index = start_index + t
        row = history[index % n_history]  # filtered in place in its history slot
        for c in range(n_channels):
            row[c] = x[t, c]
        _cascade_step(row, sos, z0, z1)
        if store:
            for c in range(n_channels):
                y_out[t, c] = row[c]
        kept = 0
        n_finished = 0
        for j in range(n_search):
            c = searching[j]
            y = row[c]
            if y < min_val[c]:
                min_val[c] = y
                min_pos[c] = index
            search_left[c] -= 1
            if search_left[c] > 0:
                searching[kept] = c
                kept += 1
                continue
            finished[n_finished] = c  # no new crossing on the sample that ends a search
            n_finished += 1
            if _isolated(history, min_pos[c], min_val[c], c, refractory_n):
                out_channel[n_out] = c
                out_index[n_out] = min_pos[c]
                out_amplitude[n_out] = min_val[c]
                n_out += 1
        n_search = kept
        n_below = 0
        for c in range(n_channels):
            n_below += row[c] < gate[c]
        if n_below > 0:
            previous = history[(index - 1) % n_history]
            for first in range(0, n_channels, SCAN_BLOCK):
                last = min(first + SCAN_BLOCK, n_channels)
                n_below = 0
                for c in range(first, last):
                    n_below += row[c] < gate[c]
                if n_below == 0:
                    continue
                for c in range(first, last):
                    y = row[c]
                    if not y < gate[c] or previous[c] < threshold[c]:
                        continue
                    min_val[c] = y
                    min_pos[c] = index
                    search_left[c] = peak_n - 1
                    if search_left[c] > 0:
                        gate[c] = -np.inf
                        searching[n_search] = c
                        n_search += 1
                    elif _isolated(history, index, y, c, refractory_n):
                        out_channel[n_out] = c
                        out_index[n_out] = index
                        out_amplitude[n_out] = y
                        n_out += 1
        for j in range(n_finished):
            gate[finished[j]] = threshold[finished[j]]
    return n_out
