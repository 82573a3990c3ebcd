"""Stimulation limits and guard: whole-command refusal, reasons, rolling per-electrode budgets."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import StimulusBatch
from neurohybrid.mea.stimulation import StimulationGuard, StimulationLimits

S = 1_000_000_000


def batch(electrode, amplitude_ua, phase_width_us=100.0, pulse_count=1, time_ns=0):
    n = len(np.atleast_1d(electrode))
    full = lambda v: np.broadcast_to(np.asarray(v), (n,))  # noqa: E731
    return StimulusBatch(
        full(electrode), full(amplitude_ua), full(phase_width_us), full(pulse_count), full(time_ns),
        np.zeros(n), np.ones(n), np.zeros(n), np.zeros(n),
    )


def test_commands_within_limits_are_all_accepted():
    verdict = StimulationGuard(StimulationLimits(), 60).check(batch([0, 1, 59], 20.0), 0)
    assert verdict.accepted.tolist() == [True, True, True] and verdict.reasons == []


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"amplitude_ua": 80.0}, "amplitude_ua=80.0 outside allowed (0, 50.0]"),
        ({"amplitude_ua": -5.0}, "amplitude_ua=-5.0 outside allowed (0, 50.0]"),
        ({"amplitude_ua": float("nan")}, "amplitude_ua=nan"),
        ({"amplitude_ua": 10.0, "phase_width_us": 600.0}, "phase_width_us=600.0 outside allowed (0, 500.0]"),
        ({"amplitude_ua": 10.0, "phase_width_us": float("nan")}, "phase_width_us=nan"),
        ({"amplitude_ua": 10.0, "phase_width_us": -1.0}, "phase_width_us=-1.0"),
        ({"amplitude_ua": 10.0, "pulse_count": 11}, "pulse_count=11 outside allowed [1, 10]"),
        ({"amplitude_ua": 10.0, "pulse_count": 0}, "pulse_count=0"),
        ({"amplitude_ua": 40.0, "phase_width_us": 400.0}, "charge_per_phase_nc=16.0 outside allowed (0, 10.0]"),
        ({"amplitude_ua": 10.0, "electrode": 60}, "electrode=60 outside allowed [0, 59]"),
    ],
)
def test_out_of_range_command_is_refused_whole_with_named_limit(kwargs, reason):
    args = {"electrode": 3, **kwargs}
    verdict = StimulationGuard(StimulationLimits(), 60).check(batch(**args), 0)
    assert verdict.accepted.tolist() == [False]
    assert len(verdict.reasons) == 1 and reason in verdict.reasons[0]


def test_only_the_bad_command_of_a_batch_is_refused():
    verdict = StimulationGuard(StimulationLimits(), 60).check(batch([0, 1, 2], [10.0, 80.0, 10.0]), 0)
    assert verdict.accepted.tolist() == [True, False, True] and len(verdict.reasons) == 1


def test_charge_budget_per_electrode_refuses_the_latest_commands():
    guard = StimulationGuard(StimulationLimits(), 4)  # 10 nC per command, 200 nC per s
    times = np.arange(25) * 10_000_000  # 25 commands within 250 ms
    verdict = guard.check(batch(np.zeros(25, int), 50.0, 200.0, time_ns=times), 0)
    assert verdict.accepted.tolist() == [True] * 20 + [False] * 5
    assert "charge_per_electrode_per_s_nc=" in verdict.reasons[0] and "electrode 0" in verdict.reasons[0]
    other = guard.check(batch(1, 50.0, 200.0, time_ns=S // 2), 0)  # other electrode unaffected
    assert other.accepted.all()


def test_charge_budget_frees_up_after_one_second():
    guard = StimulationGuard(StimulationLimits(), 4)
    assert guard.check(batch(np.zeros(20, int), 50.0, 200.0), 0).accepted.all()
    assert not guard.check(batch(0, 50.0, 200.0, time_ns=S // 2), S // 2).accepted[0]
    assert guard.check(batch(0, 50.0, 200.0, time_ns=S + 1), S + 1).accepted[0]


def test_refused_commands_do_not_consume_budget():
    guard = StimulationGuard(StimulationLimits(), 4)
    for _ in range(50):
        guard.check(batch(0, 80.0, 200.0), 0)  # refused: amplitude
    assert guard.check(batch(np.zeros(20, int), 50.0, 200.0), 0).accepted.all()


def test_pulse_rate_budget_counts_pulses_per_electrode():
    guard = StimulationGuard(StimulationLimits(), 4)  # 100 pulses/s; 1 uA x 100 us = 0.1 nC
    verdict = guard.check(batch(np.zeros(11, int), 1.0, 100.0, pulse_count=10), 0)
    assert verdict.accepted.sum() == 10
    assert "pulse_rate_hz=110.0 outside allowed [0, 100.0]" in verdict.reasons[0]


def test_future_command_budget_counts_against_later_accepted_commands():
    guard = StimulationGuard(StimulationLimits(), 4)
    assert guard.check(batch(np.zeros(20, int), 50.0, 200.0, time_ns=S), 0).accepted.all()
    # a command 0.5 s earlier would overfill the window ending at the accepted ones
    assert not guard.check(batch(0, 50.0, 200.0, time_ns=S // 2), 0).accepted[0]


@pytest.mark.parametrize(
    "key, value",
    [
        ("max_amplitude_ua", 0.0),
        ("max_phase_width_us", -1.0),
        ("max_charge_per_phase_nc", float("nan")),
        ("max_charge_per_electrode_per_s_nc", float("inf")),
        ("max_pulse_rate_hz", -100.0),
        ("max_pulse_count", 0),
        ("max_pulse_count", 2.5),
    ],
)
def test_bad_limits_are_refused_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        StimulationLimits(**{key: value})


def test_guard_refuses_zero_electrodes():
    with pytest.raises(ConfigError, match="n_electrodes"):
        StimulationGuard(StimulationLimits(), 0)


def _reference_budgets(history: list, batch: list, window_ns: int, max_q: float, max_p: float) -> list[bool]:
    """The budget rule as the guard documents it, in plain Python: per electrode, order history then
    the batch by time (history first, then batch order at equal times); while some window
    (t_i - 1 s, t_i] is over budget, refuse the latest batch command of the first such window."""
    ok = [True] * len(batch)
    for elec in {e for e, _, _, _ in batch}:
        while True:
            rows = [(t, -1, q, p) for e, t, q, p in history if e == elec]
            rows += [(t, i, q, p) for i, (e, t, q, p) in enumerate(batch) if e == elec and ok[i]]
            rows.sort(key=lambda r: (r[0], r[1]))
            first = None
            for t_i, _, _, _ in rows:
                inside = [r for r in rows if t_i - window_ns < r[0] <= t_i]
                if sum(r[2] for r in inside) > max_q or sum(r[3] for r in inside) > max_p:
                    first = inside
                    break
            if first is None:
                break
            victims = [r[1] for r in first if r[1] >= 0]
            if not victims:
                break
            ok[victims[-1]] = False
    return ok


def test_the_compiled_budget_check_matches_the_documented_rule_on_random_batches():
    rng = np.random.default_rng(11)
    limits = StimulationLimits(max_charge_per_electrode_per_s_nc=30.0, max_pulse_rate_hz=12.0)
    for trial in range(60):
        guard = StimulationGuard(limits, 4)
        history: list = []
        now = 0
        for _ in range(6):
            n = int(rng.integers(1, 12))
            electrode = rng.integers(0, 4, n)
            # out of order, some in the past (delivered at once), some equal times
            time_ns = now + rng.integers(-200, 900, n) * 1_000_000
            count = rng.integers(1, 4, n)
            commands = StimulusBatch(electrode, np.full(n, 20.0), np.full(n, 100.0), count, time_ns,
                                     np.zeros(n), np.ones(n), np.zeros(n), np.zeros(n))
            verdict = guard.check(commands, now)
            when = np.maximum(time_ns, now)
            charge = commands.charge_per_phase_nc() * count
            history = [h for h in history if h[1] > now - 1_000_000_000]
            rows = list(zip(electrode.tolist(), when.tolist(), charge.tolist(), count.astype(float).tolist()))
            expected = _reference_budgets(history, rows, 1_000_000_000, 30.0 * (1 + 1e-9), 12.0 * (1 + 1e-9))
            assert verdict.accepted.tolist() == expected, (trial, rows, history)
            assert len(verdict.reasons) == expected.count(False)
            history += [r for r, keep in zip(rows, expected) if keep]
            now += int(rng.integers(50, 700)) * 1_000_000
