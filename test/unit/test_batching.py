"""SliceBatcher: events go out at their slice's end, silence is merged, spans stay contiguous."""

from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.core.batching import SliceBatcher

MS = 1_000_000


def test_a_slice_with_events_is_published_at_once_with_the_held_silence_in_front():
    b = SliceBatcher(0.01, 0.001)
    assert b.span(0, 0, MS) is None
    assert b.span(0, MS, 2 * MS) is None
    assert b.span(3, 2 * MS, 3 * MS) == (0, 3 * MS)
    assert b.span(1, 3 * MS, 4 * MS) == (3 * MS, 4 * MS)


def test_silence_goes_out_once_it_spans_idle_batch_s():
    b = SliceBatcher(0.005, 0.001)
    spans = [b.span(0, k * MS, (k + 1) * MS) for k in range(12)]
    assert [s for s in spans if s is not None] == [(0, 5 * MS), (5 * MS, 10 * MS)]


def test_published_spans_tile_the_stream_without_holes_whatever_the_events():
    rng = np.random.default_rng(1)
    b = SliceBatcher(0.01, 0.001)
    spans, end = [], 0
    for _ in range(2000):
        step = int(rng.integers(1, 3)) * MS
        span = b.span(int(rng.random() < 0.2), end, end + step)
        end += step
        if span is not None:
            spans.append(span)
    assert spans[0][0] == 0
    assert all(a[1] == c[0] for a, c in zip(spans, spans[1:]))
    assert max(e - s for s, e in spans) < 0.01 * 1e9 + 2 * MS


def test_a_device_whose_period_is_idle_batch_s_publishes_every_slice_even_with_jitter():
    b = SliceBatcher(0.01, 0.01)
    ends = np.cumsum([9_900_000, 4_000_000, 16_050_000, 9_980_000, 10_000_000])
    starts = np.concatenate([[0], ends[:-1]])
    assert [b.span(0, int(s), int(e)) for s, e in zip(starts, ends)] == list(zip(starts, ends))


def test_reset_forgets_held_silence_and_bad_span_is_refused():
    b = SliceBatcher(0.01, 0.001)
    b.span(0, 0, MS)
    b.reset()
    assert b.span(1, 50 * MS, 51 * MS) == (50 * MS, 51 * MS)
    with pytest.raises(ValueError, match="idle_batch_s=0"):
        SliceBatcher(0, 0.001)
