"""Vectorised spike fan-out: from (lab, neuron id) events to (event, synapse) pairs and deliveries.

The original hub (Serb et al. 2020, "Hub logic" step 1) looped over its connectivity list for
every incoming packet. Here one batch of events is matched against a sorted key array with
``np.searchsorted`` (a CSR-like index), so the cost is O((E + P) log S) numpy work for E events,
P resulting pairs and S synapses, with no Python loop per event.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurohybrid.events import WeightedEvents

_LAB_SHIFT_BITS = 32
"""A lookup key is ``lab_index << 32 | neuron_id``: neuron ids are uint32 (see events.py)."""


class FanoutIndex:
    """Maps (lab index, neuron id) keys to the synapses holding that neuron, for batch lookups."""

    def __init__(self, lab_idx: np.ndarray, neuron_id: np.ndarray) -> None:
        keys = self._keys(np.asarray(lab_idx, np.int64), np.asarray(neuron_id, np.int64))
        self._order = np.argsort(keys, kind="stable").astype(np.intp)
        self._sorted_keys = keys[self._order]

    @staticmethod
    def _keys(lab_idx: np.ndarray, neuron_id: np.ndarray) -> np.ndarray:
        return (lab_idx << _LAB_SHIFT_BITS) | neuron_id

    def pairs(self, lab_idx: int, neuron_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (event index, synapse index) pairs where event ``i`` has neuron ``neuron_ids[i]``.

        Pairs come ordered by event index, then by synapse index (synapse order in the file).
        """
        ids = np.asarray(neuron_ids, np.int64)
        query = self._keys(np.int64(lab_idx), ids)
        lo = np.searchsorted(self._sorted_keys, query, side="left")
        hi = np.searchsorted(self._sorted_keys, query, side="right")
        counts = hi - lo
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
