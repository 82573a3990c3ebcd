"""The live view's frames: bounded whatever the rate, exact in their counts, in the hub's clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_EVOKED_AP, KIND_SILICON_SPIKE
from neurohybrid.live import LiveView, ViewSettings
from neurohybrid.live.links import LinkReport
from neurohybrid.testing.mock import mock_spikes

T0_NS = 1_700_000_000_250_000_000
SLICE_NS = 10_000_000


def feed(view: LiveView, lab: str, n_batches: int, per_batch: int, kind: int = KIND_SILICON_SPIKE,
         t0_ns: int = T0_NS) -> int:
    for k in range(n_batches):
        start = t0_ns + k * SLICE_NS
        s = mock_spikes(per_batch, seed=k, n_sources=1024, t0_ns=start, span_ns=SLICE_NS, kind=kind)
        view.add_spikes(lab, s.source_id, s.time_ns, s.kind, start + SLICE_NS)
    return n_batches * per_batch


def link(offset_s: float = 0.0, up: bool = True, received_s: float = 0.0) -> LinkReport:
    return LinkReport(peer_lab="southampton", link_up=up, rtt_s=0.001, clock_offset_s=offset_s,
                      clock_offset_uncertainty_s=0.0005, received_batches=1, sequence_gaps=0,
                      late_events=3, malformed_messages=0, received_s=received_s)


def test_a_frame_holds_at_most_the_point_budget_whatever_the_spike_rate():
    view = LiveView(ViewSettings(update_hz=10.0, raster_points_per_s=1000))
    offered = feed(view, "zurich", 10, 50_000)  # 5 M spikes/s for 0.1 s
    lab = view.frame(0.0)["labs"]["zurich"]
    assert len(lab["points"]["t"]) == 100 == view.settings.points_per_frame
    assert lab["offered"] == offered and lab["total"] == offered
    assert lab["counts"]["silicon_spike"] == offered and lab["id_max"] <= 1023


def test_every_spike_is_in_the_rate_once_its_bin_is_closed():
    view = LiveView(ViewSettings(rate_bin_s=0.01))
    total = feed(view, "padova", 30, 77, kind=KIND_EVOKED_AP)
    frames = [view.frame(0.0)]
    lab = frames[0]["labs"]["padova"]
    counted = sum(lab["rate"]["hz"]) * lab["rate"]["bin_s"]
    assert counted == pytest.approx(total)  # the horizon is the end of the last slice: all bins closed
    assert lab["counts"]["evoked_ap"] == total and lab["rate_hz"] == pytest.approx(77 / 0.01)


def test_points_are_real_spikes_in_seconds_since_the_epoch():
    view = LiveView(ViewSettings(raster_points_per_s=100_000))
    s = mock_spikes(40, seed=3, n_sources=60, t0_ns=T0_NS, span_ns=SLICE_NS)
    view.add_spikes("padova", s.source_id, s.time_ns, s.kind, T0_NS + SLICE_NS)
    f = view.frame(0.0)
    p = f["labs"]["padova"]["points"]
    back = f["epoch_ns"] + np.round(np.array(p["t"]) * 1e9).astype(np.int64)
    assert np.all(np.abs(back - s.time_ns) <= 500) and p["id"] == s.source_id.tolist()  # to the microsecond
    assert f["epoch_ns"] == (T0_NS // 10**9) * 10**9
    assert f["now"] == pytest.approx((T0_NS + SLICE_NS - f["epoch_ns"]) / 1e9)


def test_a_labs_spikes_are_mapped_into_the_hub_clock_with_its_reported_offset():
    view = LiveView()
    view.update_link("padova", link(offset_s=2.5))
    s = mock_spikes(5, t0_ns=T0_NS)
    view.add_spikes("padova", s.source_id, s.time_ns, s.kind, T0_NS + SLICE_NS)
    f = view.frame(0.0)
    back = f["epoch_ns"] + np.round(np.array(f["labs"]["padova"]["points"]["t"]) * 1e9).astype(np.int64)
    assert np.all(np.abs(back - s.time_ns - 2_500_000_000) <= 500)
    assert f["clock_offset_ns"] == {"padova": 2_500_000_000}


def test_the_next_frame_holds_only_what_came_after_the_previous_one():
    view = LiveView()
    feed(view, "zurich", 1, 10)
    view.frame(0.0)
    f = view.frame(0.1)
    assert f["labs"]["zurich"]["points"]["t"] == [] and f["labs"]["zurich"]["offered"] == 0
    assert f["labs"]["zurich"]["total"] == 10 and f["seq"] == 1


def test_the_crossbar_is_sent_on_change_and_every_key_period():
    view = LiveView(ViewSettings(update_hz=10.0, crossbar_key_s=0.5))
    view.set_states(np.array([0, 31]), np.array([1, 0]), np.array([5000.0, 8000.0]), np.array([0.2, 0.8]))
    first = view.frame(0.0)["crossbar"]
    assert first["resistance_ohm"][1] == 5000.0 and first["resistance_ohm"][31 * 32] == 8000.0
    assert first["weight"][1] == pytest.approx(0.2) and first["resistance_ohm"][0] is None
    carried = [view.frame(0.0)["crossbar"] is not None for _ in range(5)]
    assert carried == [False, False, False, False, True]
    view.set_states(np.array([0]), np.array([1]), np.array([5100.0]), np.array([0.22]))
    assert view.frame(0.0)["crossbar"]["resistance_ohm"][1] == 5100.0


def test_an_accepted_pulse_updates_its_device_at_once_and_is_listed():
    view = LiveView()
    view.set_states(np.array([0]), np.array([0]), np.array([5000.0]), np.array([0.2]))
    view.add_plasticity(T0_NS, 0, 0, 0, 1, 5000.0, 5050.0, True)
    view.add_plasticity(T0_NS, 0, 0, 0, -1, 5050.0, float("nan"), False)
    f = view.frame(0.0)
    assert f["crossbar"]["resistance_ohm"][0] == 5050.0
    assert f["plasticity"]["ltp"] == {"accepted": 1, "refused": 0}
    assert f["plasticity"]["ltd"] == {"accepted": 0, "refused": 1}
    new = f["plasticity"]["recent"]["new"]
    assert [e["direction"] for e in new] == ["ltp", "ltd"] and new[1]["r_after_ohm"] is None
    json.dumps(f, allow_nan=False)


def test_stimulation_delivered_is_commands_minus_refused_as_in_the_summary():
    view = LiveView()
    view.add_stimulation(7)
    view.add_stimulation(0)  # the hub's keepalive
    view.add_refusal(1, "padova/mea", 0, "amplitude_ua=500 outside allowed (0, 50]", 2)
    view.add_refusal(2, "southampton/memristor", 1, "max_pulses_per_s", 3)
    f = view.frame(0.0)
    assert f["stimulation"] == {"commands": 7, "refused": 2, "delivered": 5}
    assert f["refusals"]["by_source"] == {"padova/mea": {"stimulation": 2}, "southampton/memristor": {"programming": 3}}
    assert [r["reason"] for r in f["refusals"]["recent"]["new"]][0].startswith("amplitude_ua=500")


def test_links_report_rtt_offset_late_events_and_watchdog_trips():
    view = LiveView()
    view.update_link("zurich", link(up=True, received_s=10.0))
    view.update_link("zurich", link(up=False, received_s=11.0))
    view.update_link("zurich", link(up=True, received_s=12.0))
    z = view.frame(16.0)["links"]["zurich"]
    assert z["rtt_ms"] == 1.0 and z["uncertainty_ms"] == 0.5 and z["late_events"] == 3
    assert z["watchdog_trips"] == 1 and z["link_up"] and z["stale"] and z["age_s"] == 4.0


def test_a_device_outside_the_grid_is_refused_naming_the_line_and_range():
    view = LiveView(ViewSettings(n_wordlines=4, n_bitlines=4))
    with pytest.raises(ValueError, match=r"bitline=9 outside allowed \[0, 3\]"):
        view.set_states(np.array([0]), np.array([9]), np.array([5000.0]), np.array([0.2]))
    with pytest.raises(ValueError, match="lengths differ"):
        view.set_states(np.array([0, 1]), np.array([0]), np.array([5000.0]), np.array([0.2]))


def test_unknown_refusal_category_and_plasticity_direction_are_refused():
    view = LiveView()
    with pytest.raises(ValueError, match=r"category=9 outside allowed \[0, 1, 2, 3\]"):
        view.add_refusal(0, "x", 9, "", 1)
    with pytest.raises(ValueError, match=r"direction=0 outside allowed"):
        view.add_plasticity(T0_NS, 0, 0, 0, 0, 1.0, 1.0, True)


@pytest.mark.parametrize("key, value, allowed", [("update_hz", 50.0, r"\[1, 20\]"),
                                                  ("raster_points_per_s", 0, r"integers \[10, 100000\]"),
                                                  ("rate_bin_s", 5.0, r"\[0.005, 1\]")])
def test_a_setting_outside_its_range_is_refused_naming_key_value_and_range(key, value, allowed):
    with pytest.raises(ConfigError, match=rf"{key}={value!r} outside allowed {allowed}"):
        ViewSettings(**{key: value})


def test_a_frame_of_an_idle_view_is_valid_json():
    f = LiveView().frame(0.0)
    assert f["now"] is None and f["labs"] == {} and f["crossbar"] is not None
    json.dumps(f, allow_nan=False)
