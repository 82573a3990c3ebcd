"""Small, valid batches for tests and examples (the pynwb ``testing.mock`` pattern)."""

from __future__ import annotations

import numpy as np

from neurohybrid.core.events import (
    KIND_SPONTANEOUS_AP,
    SpikeEvents,
    StimulusBatch,
    WeightedEvents,
)


def mock_spikes(n: int = 10, seed: int = 0, n_sources: int = 60, t0_ns: int = 0,
                span_ns: int = 10_000_000, kind: int = KIND_SPONTANEOUS_AP) -> SpikeEvents:
    """``n`` spikes on ``n_sources`` sources, sorted in time over ``span_ns`` from ``t0_ns``."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(t0_ns, t0_ns + span_ns, n))
    return SpikeEvents(rng.integers(0, n_sources, n), t, np.full(n, kind))


def mock_weighted(n: int = 10, seed: int = 0, delay_ns: int = 1_000_000) -> WeightedEvents:
    """``n`` weighted events with weights in [0, 1] and bytes matching them."""
    rng = np.random.default_rng(seed)
    w = rng.random(n).astype(np.float32)
    t = np.sort(rng.integers(0, 10_000_000, n))
    return WeightedEvents(
        pre_id=rng.integers(0, 1024, n), pre_time_ns=t, post_id=rng.integers(0, 60, n),
        synapse_id=rng.integers(0, 256, n), weight=w,
        weight_byte=np.round(255 * w).astype(np.uint8), delivery_time_ns=t + delay_ns,
    )


def mock_stimulus(n: int = 3, seed: int = 0, amplitude_ua: float = 10.0) -> StimulusBatch:
    """``n`` stimulation commands of ``amplitude_ua`` at 200 us per phase."""
    rng = np.random.default_rng(seed)
    return StimulusBatch(
        electrode=rng.integers(0, 60, n), amplitude_ua=np.full(n, amplitude_ua),
        phase_width_us=np.full(n, 200.0), pulse_count=np.ones(n),
        time_ns=np.sort(rng.integers(0, 10_000_000, n)), synapse_id=np.arange(n),
        weight=np.full(n, 0.5), pre_id=rng.integers(0, 1024, n), pre_time_ns=np.zeros(n, np.int64),
    )
