"""Drive protocol: phase rates, timing, validation."""

import numpy as np
import pytest

from neurohybrid.errors import ConfigError
from neurohybrid.protocol import PhaseProtocol


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
