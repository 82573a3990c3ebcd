"""Spike fan-out lookup: from (lab, neuron id) events to the runs of synapses they reach.

The original hub (Serb et al. 2020, "Hub logic" step 1) looped over its connectivity list for
every incoming packet. Here one batch of events is matched at once through a per-lab offset
table (CSR over neuron ids): :meth:`FanoutIndex.runs` gives each event's run of synapses (O(E)
numpy work for E events), which the hub's compiled fan-out (:mod:`neurohybrid.hub.fanout_kernel`)
expands into pairs; :meth:`FanoutIndex.pairs` expands them with numpy (the plasticity lookups).
"""

from __future__ import annotations

import numpy as np

from neurohybrid.core.ragged import run_positions

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

    @property
    def order(self) -> np.ndarray:
        """Synapse indices sorted by key: a run of :meth:`runs` indexes into it."""
        return self._order

    def runs(self, lab_idx: int, neuron_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) per event of its synapses' run in :attr:`order` (length 0: none)."""
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
        return np.asarray(lo, np.int64), np.asarray(counts, np.int64)

    def pairs(self, lab_idx: int, neuron_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (event index, synapse index) pairs where event ``i`` has neuron ``neuron_ids[i]``.

        Pairs come ordered by event index, then by synapse index (synapse order in the file).
        """
        lo, counts = self.runs(lab_idx, neuron_ids)
        event_idx = np.repeat(np.arange(len(lo), dtype=np.intp), counts)
        return event_idx, self._order[run_positions(lo, counts)]

