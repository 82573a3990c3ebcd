"""Experiment latency histogram: bins, quantiles against numpy's, LinkStatus fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neurohybrid.core.latency import BINS_PER_DECADE, LatencyHistogram, bin_edges_ms, quantile_ms


def test_each_latency_lands_in_the_bin_whose_edges_hold_it():
    hist = LatencyHistogram()
    edges = bin_edges_ms()
    for ms in (0.0105, 0.5, 1.0, 3.7, 999.0):
        hist.counts[:] = 0
        hist.add_ns(np.array([ms * 1e6]))
        k = int(np.flatnonzero(hist.counts)[0])
        assert edges[k] <= ms * (1 + 1e-12) and ms < edges[k + 1] * (1 + 1e-12)


def test_out_of_range_latencies_fall_in_the_end_bins():
    hist = LatencyHistogram()
    hist.add_ns(np.array([-2e5, 0, 1e12]))  # negative (within the offset's uncertainty), zero, 1000 s
    assert hist.counts[0] == 2 and hist.counts[-1] == 1 and hist.total == 3
    assert hist.max_ms == pytest.approx(1e6)


def test_quantiles_bound_numpys_from_above_within_one_bin():
    rng = np.random.default_rng(3)
    ms = rng.lognormal(np.log(1.5), 0.6, 20_000)
    hist = LatencyHistogram()
    hist.add_ns(ms * 1e6)
    for q in (0.5, 0.9, 0.99):
        exact = float(np.quantile(ms, q))
        got = hist.quantile_ms(q)
        assert exact <= got <= exact * 10 ** (1 / BINS_PER_DECADE) * (1 + 1e-9), q
    assert hist.quantile_ms(1.0) == pytest.approx(ms.max())


def test_empty_histogram_has_no_quantile_and_bad_q_is_refused():
    assert math.isnan(LatencyHistogram().quantile_ms(0.5))
    with pytest.raises(ValueError, match="q=1.5 outside allowed"):
        quantile_ms(np.ones(3), 1.5, 0.01, 20)
    with pytest.raises(ValueError, match="lowest_ms=0"):
        LatencyHistogram(lowest_ms=0)


def test_fields_describe_the_bins_so_a_reader_can_rebuild_the_quantiles():
    hist = LatencyHistogram()
    hist.add_ns(np.array([1e6, 2e6, 4e6]))
    f = hist.fields()
    assert quantile_ms(np.array(f["latency_counts"]), 0.5, f["latency_lowest_edge_ms"],
                       f["latency_bins_per_decade"], f["latency_max_ms"]) == f["latency_p50_ms"]
    assert f["latency_max_ms"] == pytest.approx(4.0)
