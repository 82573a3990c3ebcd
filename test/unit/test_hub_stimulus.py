"""Weights -> MEA stimulation commands: amplitude scales with the weight."""

from __future__ import annotations

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.hub.stimulus import StimulusMap


def test_amplitude_is_full_scale_times_weight_on_the_post_electrode():
    sm = StimulusMap(amplitude_ua_at_full_weight=40.0, phase_width_us=100.0, pulse_count=2)
    batch = sm.commands(
        post_id=np.array([3, 59]), time_ns=np.array([10, 20]), weight=np.array([0.5, 1.0]),
        synapse_id=np.array([7, 8]), pre_id=np.array([100, 200]), pre_time_ns=np.array([4, 6]),
    )
    assert batch.electrode.tolist() == [3, 59]
    assert batch.pre_time_ns.tolist() == [4, 6]
    np.testing.assert_allclose(batch.amplitude_ua, [20.0, 40.0])
    assert batch.phase_width_us.tolist() == [100.0, 100.0]
    assert batch.pulse_count.tolist() == [2, 2]
    assert batch.time_ns.tolist() == [10, 20]
    assert batch.synapse_id.tolist() == [7, 8]
    assert batch.pre_id.tolist() == [100, 200]
    np.testing.assert_allclose(batch.charge_per_phase_nc(), [2.0, 4.0])


def test_weights_at_or_below_min_weight_produce_no_command():
    sm = StimulusMap(min_weight=0.1)
    batch = sm.commands(np.arange(4), np.arange(4), np.array([0.0, 0.1, 0.1001, 0.9]), np.arange(4), np.arange(4),
                       np.arange(4))
    assert batch.electrode.tolist() == [2, 3]


def test_zero_weight_produces_no_command_by_default():
    batch = StimulusMap().commands(np.arange(2), np.arange(2), np.array([0.0, 0.2]), np.arange(2), np.arange(2),
                                     np.arange(2))
    assert batch.electrode.tolist() == [1]
    np.testing.assert_allclose(batch.amplitude_ua, [6.0], rtol=1e-6)


def test_empty_input_gives_an_empty_batch():
    empty = np.empty(0)
    assert len(StimulusMap().commands(empty, empty, empty, empty, empty, empty)) == 0


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"amplitude_ua_at_full_weight": 0.0}, "amplitude_ua_at_full_weight=0.0"),
        ({"amplitude_ua_at_full_weight": float("nan")}, "amplitude_ua_at_full_weight=nan"),
        ({"phase_width_us": -200.0}, "phase_width_us=-200.0"),
        ({"pulse_count": 0}, "pulse_count=0"),
        ({"pulse_count": 1.5}, "pulse_count=1.5"),
        ({"min_weight": 1.0}, r"min_weight=1.0 outside allowed \[0, 1\)"),
        ({"min_weight": -0.1}, "min_weight=-0.1"),
    ],
)
def test_invalid_settings_raise_config_error_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        StimulusMap(**kwargs)
