"""Drive protocol: phase rates, timing, validation; the drive handing its events to a board."""

import numpy as np
import pytest

from neurohybrid.board.drive import Drive, PhaseProtocol
from neurohybrid.core.errors import ConfigError


def test_phase_rates_are_met_on_average_and_drive_stops_after_the_protocol():
    p = PhaseProtocol([0, 1], [10.0, 10.0], [40.0, 2.0], seed=1)
    ids, t = p.events(0.0, 25.0)
    high = np.sum(t < 10.0) / (2 * 10.0)
    low = np.sum((t >= 10.0) & (t < 20.0)) / (2 * 10.0)
    assert 32 < high < 48 and 0.5 < low < 4
    assert not np.any(t >= 20.0)
    assert np.all(np.diff(t) >= 0) and set(ids.tolist()) == {0, 1}
    assert p.rate_at(5.0) == 40.0 and p.rate_at(15.0) == 2.0 and p.rate_at(21.0) == 0.0


def test_events_in_consecutive_windows_stay_inside_them():
    p = PhaseProtocol([3], [1.0], [100.0])
    _, t = p.events(0.25, 0.5)
    assert np.all((t >= 0.25) & (t < 0.5))


@pytest.mark.parametrize("durations, rates, key", [
    ([1.0], [1.0, 2.0], "drive_phase_s"), ([-1.0], [1.0], "drive_phase_s"), ([1.0], [float("nan")], "drive_rate_hz")])
def test_bad_protocols_name_the_key(durations, rates, key):
    with pytest.raises(ConfigError, match=key):
        PhaseProtocol([0], durations, rates)


def test_the_drive_hands_out_each_protocol_event_once_as_the_clock_advances():
    drive = Drive(PhaseProtocol([0], [1.0], [200.0], seed=2), weight=0.5)
    parts = [drive.due(t) for t in (0.25, 0.25, 0.6, 1.5)]
    ids = np.concatenate([p[0] for p in parts])
    times = np.concatenate([p[1] for p in parts])
    assert len(parts[1][0]) == 0 and np.all(np.diff(times) >= 0) and np.all(times < 10**9)
    assert 120 < len(ids) < 280 and np.all(ids == 0)
    assert all(np.all(p[2] == 0.5) for p in parts)
