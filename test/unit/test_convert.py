"""numpy batches <-> messages: exact round trips and malformed messages caught (no graph)."""

import numpy as np
import pytest

from neurohybrid import msg as nh
from neurohybrid.nodes.convert import (
    MalformedMessage,
    fill_spike_batch,
    fill_stimulation,
    fill_weighted_batch,
    spikes_from_msg,
    stimulus_from_msg,
    weighted_from_msg,
)
from neurohybrid.testing.mock import mock_spikes, mock_stimulus, mock_weighted


def test_spike_batches_round_trip_exactly():
    events = mock_spikes(1000, seed=4)
    back = spikes_from_msg(fill_spike_batch(nh.SpikeBatch(), events))
    for name in ("source_id", "time_ns", "kind"):
        np.testing.assert_array_equal(getattr(back, name), getattr(events, name))


def test_weighted_and_stimulation_batches_round_trip_exactly():
    w = mock_weighted(100, seed=5)
    back = weighted_from_msg(fill_weighted_batch(nh.WeightedEventBatch(), w))
    for name in w._SPEC:
        np.testing.assert_array_equal(getattr(back, name), getattr(w, name))
    s = mock_stimulus(7, seed=6)
    back = stimulus_from_msg(fill_stimulation(nh.StimulationCommand(), s))
    for name in s._SPEC:
        np.testing.assert_array_equal(getattr(back, name), getattr(s, name))


def test_spike_batch_with_arrays_of_different_lengths_is_malformed():
    with pytest.raises(MalformedMessage, match="lengths differ"):
        spikes_from_msg(nh.SpikeBatch(source_id=[1, 2], time_ns=[0], kind=[2, 2]))


def test_spike_batch_with_unknown_kind_is_malformed():
    with pytest.raises(MalformedMessage, match="kind 9"):
        spikes_from_msg(nh.SpikeBatch(source_id=[1], time_ns=[0], kind=[9]))


def test_weighted_batch_with_weight_outside_0_1_is_malformed():
    m = fill_weighted_batch(nh.WeightedEventBatch(), mock_weighted(3))
    m.weight = [0.1, 1.5, 0.2]
    with pytest.raises(MalformedMessage, match="weight outside"):
        weighted_from_msg(m)
