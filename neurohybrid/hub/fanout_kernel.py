"""Compiled fan-out of the hub's routing step: events -> (event, synapse) pairs -> weighted
events grouped by target lab, in two passes over the pairs and no temporaries of pair size.

The vectorised form (``np.repeat`` of the event index, the runs of the CSR table, then one gather
per output field and one boolean selection per target) walked the pair arrays about a dozen
times; at full hardware scale (12,000 synapses, ~6 pairs per event) that memory traffic was the
hub's whole cost (~70 ns per pair). Here:

1. :func:`count_pairs`: per event, its run ``[lo, lo + count)`` of the CSR order; marks every
   synapse involved (so only their devices are read) and counts the pairs of each target lab.
2. :func:`fill_pairs`: writes each pair once, in event order then synapse order (the order of
   the synapse file), into the (event, synapse) arrays the plasticity step uses and into its
   target lab's contiguous block of the output columns, in their final dtypes; reports per
   target whether delivery times came out non-decreasing (then no sort is needed).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_pairs(lo: np.ndarray, counts: np.ndarray, order: np.ndarray, post_lab_idx: np.ndarray,
                involved: np.ndarray, per_target: np.ndarray) -> int:
    """Mark ``involved[synapse]`` and add each pair to ``per_target[lab]``; the number of pairs."""
    total = 0
    for e in range(lo.shape[0]):
        for k in range(lo[e], lo[e] + counts[e]):
            s = order[k]
            involved[s] = True
            per_target[post_lab_idx[s]] += 1
        total += counts[e]
    return total


@njit(cache=True)
def fill_pairs(lo: np.ndarray, counts: np.ndarray, order: np.ndarray, event_index: np.ndarray,
               pre_id: np.ndarray, pre_time_ns: np.ndarray, post_lab_idx: np.ndarray, post_id: np.ndarray,
               synapse_id: np.ndarray, delay_ns: np.ndarray, weight: np.ndarray, weight_byte: np.ndarray,
               target_start: np.ndarray, pair_ev: np.ndarray, pair_syn: np.ndarray,
               out_pre_id: np.ndarray, out_pre_time_ns: np.ndarray, out_post_id: np.ndarray,
               out_synapse_id: np.ndarray, out_weight: np.ndarray, out_weight_byte: np.ndarray,
               out_delivery_ns: np.ndarray, in_order: np.ndarray) -> None:
    """Write every pair (see the module docstring); ``event_index[e]`` is event e's index in the batch."""
    cursor = target_start.copy()
    last = np.full(target_start.shape[0], np.iinfo(np.int64).min, np.int64)
    p = 0
    for e in range(lo.shape[0]):
        ev = event_index[e]
        t = pre_time_ns[ev]
        for k in range(lo[e], lo[e] + counts[e]):
            s = order[k]
            pair_ev[p] = ev
            pair_syn[p] = s
            p += 1
            lab = post_lab_idx[s]
            i = cursor[lab]
            cursor[lab] = i + 1
            delivery = t + delay_ns[s]
            if delivery < last[lab]:
                in_order[lab] = False
            last[lab] = delivery
            out_pre_id[i] = pre_id[ev]
            out_pre_time_ns[i] = t
            out_post_id[i] = post_id[s]
            out_synapse_id[i] = synapse_id[s]
            out_weight[i] = weight[s]
            out_weight_byte[i] = weight_byte[s]
            out_delivery_ns[i] = delivery
