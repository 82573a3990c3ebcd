"""The sorted-key fan-out index and the per-target-lab split of routed spikes."""

from __future__ import annotations

import numpy as np

from neurohybrid.hub.router import DENSE_MAX_ID, FanoutIndex


def test_fanout_index_returns_pairs_by_event_then_synapse_order():
    index = FanoutIndex(np.array([0, 1, 0, 0, 1]), np.array([5, 5, 7, 5, 9]))
    event_idx, synapse_idx = index.pairs(0, np.array([7, 5, 9, 5]))
    assert list(zip(event_idx.tolist(), synapse_idx.tolist())) == [(0, 2), (1, 0), (1, 3), (3, 0), (3, 3)]


def test_fanout_index_separates_labs_with_equal_neuron_ids():
    index = FanoutIndex(np.array([0, 1]), np.array([2**32 - 1, 2**32 - 1]))
    assert index.pairs(1, np.array([2**32 - 1], np.uint32))[1].tolist() == [1]
    assert index.pairs(0, np.array([0], np.uint32))[1].tolist() == []


def test_dense_table_and_binary_search_give_the_same_pairs():
    rng = np.random.default_rng(3)
    lab_idx = rng.integers(0, 3, 300)
    neuron_id = rng.integers(0, 50, 300)
    big = neuron_id + np.where(lab_idx == 2, DENSE_MAX_ID, 0)  # lab 2 beyond the dense limit
    index = FanoutIndex(lab_idx, big)
    for lab in (0, 1, 2, 3):
        query = rng.integers(0, 60, 1000) + (DENSE_MAX_ID if lab == 2 else 0)
        event_idx, synapse_idx = index.pairs(lab, query)
        expected = [(e, s) for e, q in enumerate(query.tolist()) for s in range(300)
                    if lab_idx[s] == lab and big[s] == q]
        assert list(zip(event_idx.tolist(), synapse_idx.tolist())) == expected


def test_ids_beyond_the_largest_known_id_have_no_synapses():
    index = FanoutIndex(np.array([0, 0]), np.array([3, 4]))
    event_idx, synapse_idx = index.pairs(0, np.array([4, 5, 2**32 - 1, 0], np.uint32))
    assert event_idx.tolist() == [0] and synapse_idx.tolist() == [1]

