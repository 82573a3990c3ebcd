"""Sensory encoder and motor decoder: coding laws, bad readings counted, MEA limits, watchdog."""

import math

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import NO_PRE_TIME_NS, SpikeEvents, WeightedEvents
from neurohybrid.mea import StimulationGuard, StimulationLimits
from neurohybrid.robot.decoder import MotorDecoder
from neurohybrid.robot.encoder import SensoryEncoder

S = 1_000_000_000
ANGLES = np.array([-math.pi / 4, math.pi / 4])  # one ray in each of two sectors (right, left)


@pytest.mark.parametrize("coding, d, level", [("linear", 0.375, 0.5), ("linear", 0.1, 1.0), ("linear", 0.9, 0.0),
                                              ("log", math.sqrt(0.15 * 0.6), 0.5)])
def test_rate_coding_laws(coding, d, level):
    enc = SensoryEncoder(coding=coding, d_min_m=0.15, d_max_m=0.6, max_rate_hz=50.0)
    assert enc.rates_hz(np.array([d]))[0] == pytest.approx(50.0 * level)


def test_pulse_counts_follow_the_rate_per_sector():
    enc = SensoryEncoder(max_rate_hz=40.0)
    enc.encode(np.array([1.0, 0.15]), ANGLES, 0)
    n = [len(enc.encode(np.array([1.0, 0.15]), ANGLES, k * S // 100)) for k in range(1, 101)]
    assert sum(n) == 2 * 40  # 40 pulses/s on each of the left sector's two electrodes
    assert enc.pulses_per_sector.tolist() == [0, 40]
    assert set(enc.encode(np.array([1.0, 0.15]), ANGLES, 2 * S).electrode.tolist()) <= {8, 9}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -0.2])
def test_bad_ranges_are_refused_and_counted(bad):
    enc = SensoryEncoder()
    enc.encode(np.array([bad, 0.3]), ANGLES, 0)
    batch = enc.encode(np.array([bad, 0.3]), ANGLES, S)
    assert enc.refused_readings == 2
    assert set(batch.electrode.tolist()) == {8, 9}


@pytest.mark.parametrize("kwargs, key", [({"input_electrodes": [1, 2, 3]}, "n_sectors"),
                                         ({"d_min_m": 0.5}, "d_min_m"), ({"coding": "cubic"}, "coding"),
                                         ({"max_rate_hz": 0.0}, "max_rate_hz")])
def test_bad_encoder_parameters_are_refused(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        SensoryEncoder(**kwargs)


def test_commands_go_through_the_mea_guard_which_refuses_too_fast_stimulation():
    enc = SensoryEncoder(max_rate_hz=150.0)  # above the MEA's 100 pulses/s per electrode
    guard = StimulationGuard(StimulationLimits(), 60)
    enc.encode(np.array([0.1, 0.1]), ANGLES, 0)
    verdicts = [guard.check(enc.encode(np.array([0.1, 0.1]), ANGLES, k * S // 100), k * S // 100)
                for k in range(1, 201)]
    refused = sum(v.n_refused for v in verdicts)
    assert refused > 0 and all("rate" in r or "charge" in r for v in verdicts for r in v.reasons)


def test_tetanus_is_off_by_default_and_within_limits_when_on():
    assert len(SensoryEncoder().tetanus(0)) == 0
    burst = SensoryEncoder(tetanus=True).tetanus(S)
    assert len(burst) == 20 * 4 and burst.time_ns.min() == S
    assert StimulationGuard(StimulationLimits(), 60).check(burst, S).n_refused == 0


def spikes(sources, t0_ns, span_ns):
    sources = np.asarray(sources)
    return SpikeEvents(sources, t0_ns + np.linspace(0, span_ns - 1, len(sources)).astype(np.int64),
                       np.zeros(len(sources)))


def feed(dec, seconds, left_hz, right_hz, t0=0, rx0=0):
    """Batches of 10 ms with the given rates per source of each group."""
    rng = np.random.default_rng(1)
    for k in range(int(seconds * 100)):
        start = t0 + k * S // 100
        n_l = rng.poisson(left_hz * 0.01 * 2)
        n_r = rng.poisson(right_hz * 0.01 * 2)
        src = np.concatenate([rng.choice([8, 9], n_l), rng.choice([48, 49], n_r)])
        dec.add(spikes(src, start, S // 100), start, start + S // 100, rx0 + start)
    return t0 + int(seconds * S)


def test_decoder_calibrates_then_turns_away_from_the_active_side():
    dec = MotorDecoder(gain_m_s=0.1)
    t = feed(dec, 5.0, 5.0, 5.0)
    assert dec.baseline_hz == pytest.approx([5.0, 5.0], rel=0.25)
    lin, ang = dec.command(t)
    assert lin == pytest.approx(0.15, abs=0.03) and abs(ang) < 0.5
    t = feed(dec, 1.0, 15.0, 5.0, t0=t)  # left group busy: obstacle on the left
    lin, ang = dec.command(t)
    assert ang < -0.5  # turns right (clockwise)


@pytest.mark.parametrize("low", [0.0, -0.22])
def test_decoder_saturates_at_its_wheel_limits(low):
    dec = MotorDecoder(gain_m_s=1.0, min_wheel_speed_m_s=low)
    t = feed(dec, 5.0, 5.0, 5.0)
    t = feed(dec, 1.0, 50.0, 50.0, t0=t)
    lin, ang = dec.command(t)
    assert lin == pytest.approx(low)
    with pytest.raises(ConfigError, match="min_wheel_speed_m_s"):
        MotorDecoder(min_wheel_speed_m_s=0.3, max_wheel_speed_m_s=0.2)


def test_watchdog_zero_velocity_once_input_is_stale():
    dec = MotorDecoder(watchdog_s=0.05, baseline_s=0.5)
    t = feed(dec, 1.0, 5.0, 5.0)
    assert dec.command(t)[0] != 0.0
    assert dec.command(t + int(0.04 * S))[0] != 0.0
    assert dec.command(t + int(0.06 * S)) == (0.0, 0.0) and dec.watchdog_stops == 1


def test_shift_saturation_keeps_the_turn_where_clipping_stalls():
    """Both sides far above baseline, the left one more: clipped wheels both stop; shifted ones
    keep their difference and pivot away from the left (clockwise) on the stopped left wheel."""
    clipped, shifted = MotorDecoder(gain_m_s=0.05), MotorDecoder(gain_m_s=0.05, saturation="shift")
    for dec in (clipped, shifted):
        t = feed(dec, 1.0, 60.0, 40.0, t0=feed(dec, 5.0, 5.0, 5.0))
    assert clipped.wheels() == (0.0, 0.0)
    left, right = shifted.wheels()
    assert right == 0.0 and left > 0.05
    lin, ang = shifted.command(t)
    assert lin > 0 and ang < 0 and left <= shifted.p["max_wheel_speed_m_s"]
    with pytest.raises(ConfigError, match="saturation"):
        MotorDecoder(saturation="wrap")


def test_decoder_refuses_shared_sources_and_bad_slices():
    with pytest.raises(ConfigError, match="share"):
        MotorDecoder(left_group=[1, 2], right_group=[2, 3])
    with pytest.raises(ValueError, match="slice_end_ns"):
        MotorDecoder().add(SpikeEvents.empty(), 10, 5, 0)


def test_each_pulse_carries_the_time_of_the_range_reading_that_caused_it():
    enc = SensoryEncoder(max_rate_hz=100.0)
    enc.encode(np.array([0.1, 0.1]), ANGLES, 0, 5)
    batch = enc.encode(np.array([0.1, 0.1]), ANGLES, S // 10, 7 * S // 100)
    assert len(batch) == 40 and set(batch.pre_time_ns.tolist()) == {7 * S // 100}
    assert sorted(set(batch.synapse_id.tolist())) == [0, 1]  # the sector of each pulse
    unknown = SensoryEncoder()
    unknown.encode(np.array([0.1]), ANGLES[:1], 0)
    assert set(unknown.encode(np.array([0.1]), ANGLES[:1], S).pre_time_ns.tolist()) == {NO_PRE_TIME_NS}


def test_board_target_gives_weighted_events_on_the_input_neurons():
    enc = SensoryEncoder(target="board", input_neurons=[2, 3, 4, 5], event_weight=0.5, max_rate_hz=20.0)
    enc.encode(np.array([0.1, 1.0]), ANGLES, 0, 0)
    events = enc.encode(np.array([0.1, 1.0]), ANGLES, S, 3 * S // 4)
    assert isinstance(events, WeightedEvents)
    assert sorted(set(events.post_id.tolist())) == [2, 3] and len(events) == 2 * 20  # right sector only
    assert set(events.weight.tolist()) == {0.5} and set(events.weight_byte.tolist()) == {128}
    assert set(events.delivery_time_ns.tolist()) == {S} and set(events.pre_time_ns.tolist()) == {3 * S // 4}
    assert set(events.pre_id.tolist()) == {0}


def test_tetanus_reaches_every_input_of_the_target_and_no_range_caused_it():
    for target, key in (("mea", "electrode"), ("board", "post_id")):
        burst = SensoryEncoder(target=target, tetanus=True, tetanus_pulses=3, tetanus_rate_hz=10.0).tetanus(S)
        ids = getattr(burst, key)
        assert len(burst) == 3 * 4 and set(ids.tolist()) == ({48, 49, 8, 9} if target == "mea" else {2, 3, 4, 5})
        assert set(burst.pre_time_ns.tolist()) == {NO_PRE_TIME_NS}


@pytest.mark.parametrize("kwargs, key", [({"target": "arm"}, "target"),
                                         ({"target": "board", "input_neurons": [1, 2, 3]}, "input_neurons"),
                                         ({"event_weight": 1.5}, "event_weight"), ({"event_weight": 0.0}, "event_weight")])
def test_bad_board_target_parameters_are_refused(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        SensoryEncoder(**kwargs)
