"""Link bookkeeping: watchdog, offsets, gaps."""

import math

from neurohybrid.core.link import LinkMonitor


def test_watchdog_trips_after_silence_and_clears_when_heard_again():
    link = LinkMonitor("padova", "southampton", watchdog_s=0.1)
    assert not link.is_up(0.0)
    link.heard(1.0, seq=0)
    assert link.is_up(1.05) and not link.is_up(1.2)
    link.heard(1.3, seq=5)
    assert link.is_up(1.3)
    st = link.status(1.3)
    assert st["sequence_gaps"] == 4 and st["received_batches"] == 2 and st["link_up"]


def test_status_before_any_exchange_has_infinite_uncertainty():
    st = LinkMonitor("zurich", "southampton", 0.1).status(0.0)
    assert st["clock_offset_s"] == 0.0 and math.isinf(st["clock_offset_uncertainty_s"])


def test_offset_comes_from_the_exchange():
    link = LinkMonitor("zurich", "southampton", 0.1)
    link.add_exchange(0, 2_000_000, 2_000_000, 2_000_000)
    assert link.offset_ns == 1_000_000
