"""Decimation and rate binning of the live view: bounded, uniform, and every spike counted."""

from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.live.rate import RateBins
from neurohybrid.live.sample import UniformSample


def test_a_sample_never_exceeds_its_capacity_and_counts_what_was_offered():
    s = UniformSample(100, seed=1)
    for k in range(50):
        t = np.arange(k * 1000, (k + 1) * 1000)
        s.add(t, t % 7)
    (t, ids), offered = s.take(2)
    assert len(t) == 100 and offered == 50_000
    assert np.all(np.diff(t) >= 0), "sorted by time"
    assert np.array_equal(ids, t % 7), "columns stay aligned"
    assert len(np.unique(t)) == 100


def test_a_sample_keeps_everything_below_capacity_and_starts_again_after_take():
    s = UniformSample(10)
    s.add(np.array([3, 1, 2]), np.array([30, 10, 20]))
    (t, v), offered = s.take(2)
    assert t.tolist() == [1, 2, 3] and v.tolist() == [10, 20, 30] and offered == 3
    (t, v), offered = s.take(2)
    assert len(t) == 0 and offered == 0


def test_every_event_is_equally_likely_to_be_kept_whatever_its_batch():
    """One small batch then one large: uniform sampling keeps them in proportion (10 % vs 90 %)."""
    kept_first = 0
    for seed in range(200):
        s = UniformSample(50, seed=seed)
        s.add(np.zeros(100, np.int64))
        s.add(np.ones(900, np.int64))
        (t,), _ = s.take(1)
        kept_first += int(np.count_nonzero(t == 0))
    share = kept_first / (200 * 50)
    assert share == pytest.approx(0.1, abs=0.02)


def test_capacity_below_one_is_refused_with_the_range():
    with pytest.raises(ValueError, match=r"capacity=0 outside allowed \[1, inf\)"):
        UniformSample(0)


def test_rate_bins_count_every_event_and_read_zero_where_there_was_none():
    r = RateBins(bin_ns=10, max_bins=100)
    r.add(np.array([0, 1, 2, 35, 36]))
    start, hz = r.close(horizon_ns=50)
    assert start == 0
    assert (hz * 10 / 1e9).tolist() == [3, 0, 0, 2, 0]  # counts per bin
    assert r.late == 0


def test_the_open_bin_waits_for_the_horizon():
    r = RateBins(bin_ns=10, max_bins=100)
    r.add(np.array([1, 12, 14]))
    _, hz = r.close(horizon_ns=15)
    assert (hz * 10 / 1e9).tolist() == [1]
    r.add(np.array([18]))
    start, hz = r.close(horizon_ns=20)
    assert start == 10 and (hz * 10 / 1e9).tolist() == [3]


def test_events_for_a_closed_bin_are_counted_late_and_left_out():
    r = RateBins(bin_ns=10, max_bins=100)
    r.add(np.array([5]))
    r.close(horizon_ns=20)
    r.add(np.array([7, 25]))
    _, hz = r.close(horizon_ns=30)
    assert r.late == 1 and (hz * 10 / 1e9).tolist() == [1]


def test_a_jump_of_the_horizon_hands_out_at_most_max_bins():
    r = RateBins(bin_ns=10, max_bins=5)
    r.add(np.array([0]))
    start, hz = r.close(horizon_ns=10_000)
    assert len(hz) == 5 and start == 10_000 - 50


def test_a_jump_back_starts_the_bins_again():
    r = RateBins(bin_ns=10, max_bins=5)
    r.add(np.array([10_000]))
    r.close(horizon_ns=10_010)
    r.add(np.array([3]))
    start, hz = r.close(horizon_ns=10)
    assert start == 10 and len(hz) == 0 and r.late == 1
    r.add(np.array([12]))
    _, hz = r.close(horizon_ns=20)
    assert (hz * 10 / 1e9).tolist() == [1]
