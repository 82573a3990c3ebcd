"""The board's late/stale input policy, and the board built from its parameters, without ROS."""

import numpy as np
import pytest

from neurohybrid.board.delivery import DeliveryPolicy
from neurohybrid.board.params import board_backend, board_drive
from neurohybrid.core.errors import ConfigError

MS = 1_000_000


def test_late_events_are_counted_and_delivered_or_dropped_by_policy():
    times = np.array([100, 95, 40, 0]) * MS
    keep, late = DeliveryPolicy("deliver", 0.05).admit(times, 100 * MS)
    assert keep.tolist() == [True, True, False, False] and late == 3  # 60 and 100 ms late: stale
    keep, late = DeliveryPolicy("drop", 0.05).admit(times, 100 * MS)
    assert keep.tolist() == [True, False, False, False] and late == 3


def test_a_policy_outside_its_specs_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match="late_policy='queue' unknown; allowed: deliver, drop"):
        DeliveryPolicy("queue", 0.5)
    with pytest.raises(ConfigError, match=r"stale_input_s=90.0 outside allowed \[0, 60\]"):
        DeliveryPolicy("drop", 90.0)


def test_a_replayed_board_cannot_be_driven_and_the_drive_is_seeded_apart(tmp_path):
    from neurohybrid.testing.backends import silicon_units_file

    replay = {"backend": "replay", "replay_file": str(silicon_units_file(tmp_path))}
    assert board_backend(replay).name == "replay"
    with pytest.raises(ConfigError, match="a replayed board cannot be driven"):
        board_backend({**replay, "drive_neurons": [0]})
    drive = board_drive({"drive_neurons": [0, 1], "drive_phase_s": [1.0], "drive_rate_hz": [50.0], "seed": 4})
    assert drive.protocol.neurons.tolist() == [0, 1] and drive.active
    assert not board_drive({}).active
