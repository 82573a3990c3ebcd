"""Vectorised spike fan-out: from (lab, neuron id) events to (event, synapse) pairs and deliveries.

The original hub (Serb et al. 2020, "Hub logic" step 1) looped over its connectivity list for
every incoming packet. Here one batch of events is matched at once through a per-lab offset table (CSR over neuron ids), so the cost is O(E + P) numpy work for E events
and P resulting pairs, with no Python loop per event.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurohybrid.events import WeightedEvents

_LAB_SHIFT_BITS = 32
"""A lookup key is ``lab_index << 32 | neuron_id``: neuron ids are uint32 (see events.py)."""
DENSE_MAX_ID = 1 << 20
"""Labs with neuron ids below this get a direct offset table (8 bytes per id)."""


class FanoutIndex:
    """Maps (lab index, neuron id) keys to the synapses holding that neuron, for batch lookups.

    For a lab whose largest neuron id is below ``DENSE_MAX_ID`` the lookup is a direct index
    into a per-lab offset table (CSR ``indptr`` over neuron ids, one gather per event); labs
    with larger ids fall back to binary search in the sorted keys.
    """

    def __init__(self, lab_idx: np.ndarray, neuron_id: np.ndarray) -> None:
        lab_idx = np.asarray(lab_idx, np.int64)
        neuron_id = np.asarray(neuron_id, np.int64)
        keys = self._keys(lab_idx, neuron_id)
        self._order = np.argsort(keys, kind="stable").astype(np.intp)
        self._sorted_keys = keys[self._order]
        self._indptr: dict[int, np.ndarray] = {}
        for lab in np.unique(lab_idx).tolist():
            top = int(neuron_id[lab_idx == lab].max()) + 1
            if top <= DENSE_MAX_ID:
                bounds = self._keys(np.int64(lab), np.arange(top + 1, dtype=np.int64))
                self._indptr[lab] = np.searchsorted(self._sorted_keys, bounds).astype(np.intp)

    @staticmethod
    def _keys(lab_idx: np.ndarray, neuron_id: np.ndarray) -> np.ndarray:
        return (lab_idx << _LAB_SHIFT_BITS) | neuron_id

    def pairs(self, lab_idx: int, neuron_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (event index, synapse index) pairs where event ``i`` has neuron ``neuron_ids[i]``.

        Pairs come ordered by event index, then by synapse index (synapse order in the file).
        """
        ids = np.asarray(neuron_ids, np.int64)
        indptr = self._indptr.get(int(lab_idx))
        if indptr is not None:
            n_table = len(indptr) - 1
            row = np.minimum(ids, n_table - 1)
            lo = indptr[row]
            counts = np.where(ids < n_table, indptr[row + 1] - lo, 0)
        else:
            query = self._keys(np.int64(lab_idx), ids)
            lo = np.searchsorted(self._sorted_keys, query, side="left")
            counts = np.searchsorted(self._sorted_keys, query, side="right") - lo
        event_idx = np.repeat(np.arange(len(ids), dtype=np.intp), counts)
        first_pair = np.cumsum(counts) - counts
        sorted_pos = np.arange(len(event_idx), dtype=np.intp) + np.repeat(lo - first_pair, counts)
        return event_idx, self._order[sorted_pos]


def split_by_target(
    labs: Sequence[str],
    post_lab_idx: np.ndarray,
    *,
    pre_id: np.ndarray,
    pre_time_ns: np.ndarray,
    post_id: np.ndarray,
    synapse_id: np.ndarray,
    weight: np.ndarray,
    weight_byte: np.ndarray,
    delay_ns: np.ndarray,
) -> dict[str, WeightedEvents]:
    """Group routed pairs by the lab owning the postsynaptic neuron.

    Every argument after ``post_lab_idx`` holds one entry per routed pair. Delivery time is the
    presynaptic spike time plus the synaptic delay (hub clock, ns); each lab's batch is sorted
    by delivery time (stable). Labs that receive nothing are absent from the result.
    """
    delivery_ns = pre_time_ns + delay_ns
    out: dict[str, WeightedEvents] = {}
    for lab_index in np.unique(post_lab_idx):
        sel = np.flatnonzero(post_lab_idx == lab_index)
        sel = sel[np.argsort(delivery_ns[sel], kind="stable")]
        out[labs[int(lab_index)]] = WeightedEvents(
            pre_id=pre_id[sel],
            pre_time_ns=pre_time_ns[sel],
            post_id=post_id[sel],
            synapse_id=synapse_id[sel],
            weight=weight[sel],
            weight_byte=weight_byte[sel],
            delivery_time_ns=delivery_ns[sel],
        )
    return out
