"""Clock anchoring, NTP-like offset estimation and sequence-gap counting."""

import pytest

from neurohybrid.core.clock import DeviceClock, OffsetEstimator, OffsetSample
from neurohybrid.core.sequence import SequenceTracker


def test_device_clock_round_trips_between_device_and_lab_time():
    clock = DeviceClock("padova/mea", epoch_ns=1_000)
    assert clock.to_lab(5) == 1_005
    assert clock.to_device(clock.to_lab(123)) == 123


def test_offset_estimate_keeps_the_minimum_rtt_exchange():
    est = OffsetEstimator(window=4)
    # server clock is 1 ms ahead; symmetric path 2 ms each way, then a slow asymmetric one
    est.add(OffsetSample(0, 3_000_000, 3_000_000, 4_000_000))
    est.add(OffsetSample(10_000_000, 20_000_000, 20_000_000, 21_000_000))
    assert est.rtt_s == pytest.approx(4e-3)
    assert est.offset_s == pytest.approx(1e-3)
    assert est.uncertainty_s == pytest.approx(2e-3)


def test_offset_estimator_refuses_negative_round_trips():
    with pytest.raises(ValueError, match="negative round trip"):
        OffsetEstimator().add(OffsetSample(10, 0, 100, 20))


def test_sequence_gaps_and_restarts_are_counted_apart():
    seq = SequenceTracker()
    assert [seq.observe(s) for s in (0, 1, 2, 5, 6)] == [0, 0, 0, 2, 0]
    seq.observe(0)
    assert (seq.missing, seq.restarts, seq.received) == (2, 1, 6)
