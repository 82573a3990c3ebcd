"""numpy batches <-> messages: exact round trips and malformed messages caught (no graph)."""

import numpy as np
import pytest

from neurohybrid import msg as nh
from neurohybrid.nodes.convert import (
    MalformedMessage,
    fill_spike_batch,
    fill_stimulation,
    fill_synapse_states,
    fill_weighted_batch,
    plasticity_messages,
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


def test_plasticity_records_become_one_message_per_pulse_field_by_field():
    from builtin_interfaces.msg import Time

    from neurohybrid.hub.hub import PlasticityRecords

    rec = PlasticityRecords(
        synapse_id=[3, 4], wordline=[0, 1], bitline=[2, 3], direction=[1, -1], amplitude_v=[4.0, -4.0],
        width_s=[1e-4, 1e-4], r_before_ohm=[5000.0, np.nan], r_after_ohm=[5100.0, np.nan], accepted=[True, False],
        reason=["", "max_abs_voltage_v: too high"], time_ns=[123, 456], pre_count=[25, 2])
    msgs = plasticity_messages(rec, "rate", Time(sec=7, nanosec=8), "southampton/memristor")
    assert [(m.synapse_id, m.wordline, m.bitline, m.direction, m.accepted, m.trigger_time_ns, m.pre_count)
            for m in msgs] == [(3, 0, 2, 1, True, 123, 25), (4, 1, 3, -1, False, 456, 2)]
    assert msgs[1].reason == "max_abs_voltage_v: too high" and np.isnan(msgs[1].resistance_after_ohm)
    assert msgs[0].resistance_after_ohm == 5100.0 and msgs[0].pulse_amplitude_v == 4.0 and msgs[0].rule == "rate"
    assert all(m.header.frame_id == "southampton/memristor" and m.header.stamp.sec == 7 for m in msgs)
    assert plasticity_messages(PlasticityRecords.empty(), "rate", Time(), "x") == []


def test_synapse_states_fill_every_column():
    states = {"synapse_id": np.arange(2), "wordline": [0, 31], "bitline": [1, 2], "resistance_ohm": [4000.0, 9000.0],
              "weight": [0.0, 1.0], "weight_byte": [0, 255], "pre": np.array(["zurich:0", "padova:1"]),
              "post": np.array(["padova:24", "zurich:1"])}
    m = fill_synapse_states(nh.SynapseStates(), states)
    assert list(m.wordline) == [0, 31] and list(m.weight_byte) == [0, 255]
    assert list(m.resistance_ohm) == [4000.0, 9000.0]
    assert m.pre == ["zurich:0", "padova:1"] and m.post == ["padova:24", "zurich:1"]
