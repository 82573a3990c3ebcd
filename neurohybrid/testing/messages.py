"""One filled instance of every neurohybrid message type, for transport and recording tests."""

from __future__ import annotations

import numpy as np

from neurohybrid import msg as nh
from neurohybrid.nodes.convert import (
    fill_spike_batch,
    fill_stimulation,
    fill_weighted_batch,
    to_array,
)
from neurohybrid.testing.mock import mock_spikes, mock_stimulus, mock_weighted


def _header(m: object, frame: str, sec: int = 1_700_000_000, nanosec: int = 123) -> object:
    m.header.stamp.sec = sec
    m.header.stamp.nanosec = nanosec
    m.header.frame_id = frame
    return m


def mock_messages(seed: int = 0) -> dict[str, object]:
    """Every message type filled with non-default contents, keyed by type name."""
    spikes = fill_spike_batch(nh.SpikeBatch(seq=7, clock_domain="padova/mea",
                                            slice_start_ns=5, slice_end_ns=10_000_005),
                              mock_spikes(100, seed))
    weighted = fill_weighted_batch(
        nh.WeightedEventBatch(seq=8, clock_domain="southampton/hub", pre_frame="zurich/board",
                              pre_seq=3, pre_stamp_ns=42), mock_weighted(50, seed))
    stim = fill_stimulation(
        nh.StimulationCommand(seq=9, clock_domain="southampton/hub", pre_frame="zurich/board",
                              pre_seq=4, pre_stamp_ns=43), mock_stimulus(5, seed))
    states = nh.SynapseStates(
        synapse_id=to_array(np.arange(4), np.uint32), wordline=to_array([0, 1, 2, 31], np.uint16),
        bitline=to_array([3, 2, 1, 0], np.uint16),
        resistance_ohm=to_array([4000.0, 5500.5, 7000.25, 9000.0], np.float64),
        weight=to_array([0.0, 0.3, 0.6, 1.0], np.float32), weight_byte=to_array([0, 77, 153, 255], np.uint8),
        pre=["zurich:0", "padova:21", "zurich:63", "zurich:1023"],
        post=["padova:21", "zurich:1", "padova:0", "padova:59"],
    )
    plast = nh.PlasticityEvent(
        rule="rate", synapse_id=3, wordline=12, bitline=21, direction=nh.PlasticityEvent.LTP,
        pulse_amplitude_v=4.0, pulse_width_s=1e-4, resistance_before_ohm=5000.0,
        resistance_after_ohm=5100.0, accepted=True, reason="", trigger_time_ns=123456789, pre_count=25,
    )
    link = nh.LinkStatus(
        lab="padova", peer_lab="southampton", link_up=True, rtt_s=0.021, clock_offset_s=-0.0031,
        clock_offset_uncertainty_s=0.0105, received_batches=1000, sequence_gaps=2, late_events=5,
        malformed_messages=1, latency_lowest_edge_ms=0.01, latency_bins_per_decade=20,
        latency_counts=[0] * 60 + [3, 7] + [0] * 58, latency_p50_ms=1.12, latency_p99_ms=1.26, latency_max_ms=1.2,
    )
    refusal = nh.Refusal(category=nh.Refusal.CATEGORY_STIMULATION,
                         reason="amplitude_ua=80.0 outside allowed (0, 50.0]", count=1, total=3)
    out = {
        "SpikeBatch": _header(spikes, "padova/mea"),
        "WeightedEventBatch": _header(weighted, "southampton/hub"),
        "StimulationCommand": _header(stim, "southampton/hub"),
        "SynapseStates": _header(states, "southampton/memristor"),
        "PlasticityEvent": _header(plast, "southampton/memristor"),
        "LinkStatus": _header(link, "padova/link"),
        "Refusal": _header(refusal, "padova/mea"),
    }
    return out
