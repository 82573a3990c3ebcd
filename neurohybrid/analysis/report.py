"""The figures, one JSON file and one HTML page that say what happened in a recording.

``report.png`` (the overview) panels, top to bottom: a raster per lab (time vs source id,
coloured by event kind, with the population rate on a second axis), the memristive synapses'
resistance traces (the synapses that changed most highlighted, LTP ``^`` / LTD ``v`` markers
where the rule programmed them, cf. Serb et al. 2020, Fig. 4), and a histogram of each hop's
latency. The figure set of a paper, one PNG each (``FIGURES``): ``raster.png`` (per-lab raster
with population rate), ``resistance.png`` (resistance and weight trajectories with LTP/LTD
markers), ``stimulation.png`` (stimulation commands delivered vs refused per second, refusal
categories), ``latency.png`` (per-hop latency distributions, histogram and CDF),
``link_status.png`` (per lab: link up/down, round trip, clock offset, sequence gaps and late
events over time). A neurorobot recording (one with a robot's ``nav_msgs/Odometry``) gets another
overview: the rasters with the sensor-driven stimulation per sector and the decoded ``cmd_vel``
under them on one time axis, the memristive synapses and per-hop latency where recorded, then
the trajectory in the arena with its collisions beside the loop's latency budget
(:mod:`neurohybrid.analysis.robot_figures`); and two more figures, ``robot.png`` and
``loop_latency.png``. ``report.html`` embeds every PNG and the summary table
(:mod:`neurohybrid.analysis.html`). ``summary.json`` is :func:`neurohybrid.analysis.summary.summarize`
plus the caller's ``extra``. Drawn with matplotlib's Agg canvas (no display, no global backend
switch).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from neurohybrid.analysis.html import write_html
from neurohybrid.analysis.loop_latency import latency_chains
from neurohybrid.analysis.robot import RobotTopics, robot_topics
from neurohybrid.analysis.robot_figures import (
    draw_commands,
    draw_loop_latency,
    draw_sector_stimulation,
    draw_trajectory,
)
from neurohybrid.analysis.summary import CATEGORY_STIMULATION, LTD, LTP, REFUSAL_CATEGORIES, summarize
from neurohybrid.core.events import KIND_NAMES
from neurohybrid.core.units import MS_PER_S, NS_PER_S
from neurohybrid.io.reader import (
    LINK_STATUS,
    PLASTICITY_EVENT,
    REFUSAL,
    SPIKE_BATCH,
    STIMULATION_COMMAND,
    SYNAPSE_STATES,
    Recording,
    lab_of,
)

REPORT_PNG = "report.png"
REPORT_HTML = "report.html"
SUMMARY_JSON = "summary.json"
STIM_BIN_S = 1.0
"""Bin of the stimulation delivered/refused counts, s."""
RATE_BIN_S = 0.1
"""Bin of the population-rate trace, s."""
MAX_HIGHLIGHTED_SYNAPSES = 8
"""Synapses drawn in colour with a legend; the others are drawn thin and grey."""
CLOCK_MATCH_TOLERANCE_S = 3600.0
"""Event times farther than this from the recording's log times are in a device clock of their
own; such a lab is plotted from its first event instead of from the recording's start, s."""
LATENCY_BINS = 60
LATENCY_TOP_PERCENTILE = 99.9
"""Histogram range ends here so a few outliers do not flatten the bulk."""
KIND_COLORS = {0: "tab:green", 1: "tab:red", 2: "tab:blue", 3: "tab:purple"}
PANEL_HEIGHT_IN = 2.4
FIGURE_WIDTH_IN = 12.0
DPI = 110


def _origin_ns(times_ns: np.ndarray, rec: Recording) -> int:
    """Where a lab's time axis starts: the recording's first log time if its clock matches."""
    tolerance_ns = CLOCK_MATCH_TOLERANCE_S * NS_PER_S
    if rec.start_ns - tolerance_ns <= np.median(times_ns) <= rec.end_ns + tolerance_ns:
        return rec.start_ns
    return int(times_ns.min())


def _raster(ax: Any, rec: Recording, topic: str) -> None:
    s = rec.spikes(topic)
    frames = s["batch_frame_id"]
    lab = lab_of(frames[0]) if len(frames) and frames[0] else lab_of(topic)
    ax.set_title(f"{lab}: {len(s['kind'])} events ({topic})", fontsize=9, loc="left")
    ax.set_ylabel("source id")
    if len(s["kind"]) == 0:
        return
    t_s = (s["time_ns"] - _origin_ns(s["time_ns"], rec)) / NS_PER_S
    for kind in np.unique(s["kind"]):
        mine = s["kind"] == kind
        ax.plot(t_s[mine], s["source_id"][mine], ".", ms=1.5, color=KIND_COLORS.get(int(kind), "k"),
                label=KIND_NAMES.get(int(kind), str(kind)), rasterized=True)
    ax.legend(loc="upper left", fontsize=7, markerscale=6, frameon=False)
    edges = np.arange(t_s.min(), t_s.max(), RATE_BIN_S)  # whole bins only
    if len(edges) > 1:
        counts, _ = np.histogram(t_s, edges)
        rate = ax.twinx()
        rate.plot(edges[:-1], counts / RATE_BIN_S, color="k", lw=0.6, alpha=0.6)
        rate.set_ylabel("population rate, Hz", fontsize=8)


def _resistance(ax: Any, rec: Recording) -> None:
    ax.set_ylabel("resistance, kOhm")
    topics = rec.topics_of(SYNAPSE_STATES)
    if not topics:
        ax.text(0.5, 0.5, "no SynapseStates recorded", ha="center", transform=ax.transAxes)
        return
    s = rec.synapse_states(topics[0])
    t_s = (s["stamp_ns"] - rec.start_ns) / NS_PER_S
    r_kohm = s["resistance_ohm"] / 1e3
    with np.errstate(all="ignore"):
        span = np.nan_to_num(np.nanmax(r_kohm, axis=0) - np.nanmin(r_kohm, axis=0), nan=-1.0)
    order = np.argsort(-span, kind="stable")
    n_top = min(MAX_HIGHLIGHTED_SYNAPSES, int(np.count_nonzero(span > 0)))
    top, rest = order[:n_top], order[n_top:]
    ax.set_title(f"memristive synapses ({len(s['synapse_id'])}; {len(top)} that changed most in colour)",
                 fontsize=9, loc="left")
    if len(rest):
        ax.plot(t_s, r_kohm[:, rest], color="0.8", lw=0.5)
    colors: dict[int, str] = {}
    for j in top:
        (line,) = ax.plot(t_s, r_kohm[:, j], lw=1.2,
                          label=f"{int(s['synapse_id'][j])}: {s['pre'][j]} -> {s['post'][j]}")
        colors[int(s["synapse_id"][j])] = line.get_color()
    for topic in rec.topics_of(PLASTICITY_EVENT):
        p = rec.plasticity(topic)
        ok = p["accepted"] & np.isfinite(p["resistance_after_ohm"])
        tp = (p["stamp_ns"] - rec.start_ns) / NS_PER_S
        for sid, color in colors.items():
            for code, marker in ((LTP, "^"), (LTD, "v")):
                mine = ok & (p["synapse_id"] == sid) & (p["direction"] == code)
                ax.plot(tp[mine], p["resistance_after_ohm"][mine] / 1e3, marker, ms=4, color=color, zorder=3)
    ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=2)


def _latency(ax: Any, rec: Recording) -> None:
    ax.set_xlabel("latency, ms")
    ax.set_ylabel("batches")
    hops = {k: v * MS_PER_S for k, v in rec.hop_latencies().items() if len(v)}
    if not hops:
        ax.text(0.5, 0.5, "no hop latencies (no hub output recorded)", ha="center", transform=ax.transAxes)
        return
    everything = np.concatenate(list(hops.values()))
    top = np.percentile(everything, LATENCY_TOP_PERCENTILE)
    bins = np.linspace(min(everything.min(), 0.0), top if top > 0 else 1.0, LATENCY_BINS + 1)
    for hop, ms in hops.items():
        p50, p99 = np.percentile(ms, (50, 99))
        ax.hist(np.clip(ms, bins[0], bins[-1]), bins=bins, histtype="step", lw=1.2,
                label=f"{hop}: p50 {p50:.2f} ms, p99 {p99:.2f} ms (n={len(ms)})")
    ax.set_title("per-hop latency (source publish -> hub publish, header stamps)", fontsize=9, loc="left")
    ax.legend(fontsize=7, frameon=False)


def _resistance_figure(fig: Figure, rec: Recording) -> None:
    ax_r, ax_w = fig.subplots(2, 1, sharex=True)
    _resistance(ax_r, rec)
    ax_w.set_ylabel("weight")
    ax_w.set_xlabel("time from recording start, s")
    topics = rec.topics_of(SYNAPSE_STATES)
    if topics:
        s = rec.synapse_states(topics[0])
        ax_w.plot((s["stamp_ns"] - rec.start_ns) / NS_PER_S, s["weight"], color="0.6", lw=0.5)
        ax_w.set_title("weights mapped from resistance (Rmin/Rmax), all synapses", fontsize=9, loc="left")


def _stimulation_figure(fig: Figure, rec: Recording) -> None:
    ax_n, ax_c = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    ax_n.set_xlabel("time from recording start, s")
    ax_n.set_ylabel(f"commands per {STIM_BIN_S:g} s")
    sent = [(rec.stimulation(t)["stamp_ns"] - rec.start_ns) / NS_PER_S for t in rec.topics_of(STIMULATION_COMMAND)]
    sent_s = np.concatenate(sent) if sent else np.empty(0)
    refused_s, refused_n, categories = [], [], {}
    for topic in rec.topics_of(REFUSAL):
        r = rec.refusals(topic)
        for code in np.unique(r["category"]):
            name = REFUSAL_CATEGORIES.get(int(code), str(int(code)))
            categories[name] = categories.get(name, 0) + int(r["count"][r["category"] == code].sum())
        stim = r["category"] == CATEGORY_STIMULATION
        refused_s.append((r["stamp_ns"][stim] - rec.start_ns) / NS_PER_S)
        refused_n.append(r["count"][stim].astype(np.float64))
    refused_t = np.concatenate(refused_s) if refused_s else np.empty(0)
    refused_w = np.concatenate(refused_n) if refused_n else np.empty(0)
    end_s = max(rec.duration_s, STIM_BIN_S)
    edges = np.arange(0.0, end_s + STIM_BIN_S, STIM_BIN_S)
    sent_c, _ = np.histogram(sent_s, edges)
    refused_c, _ = np.histogram(refused_t, edges, weights=refused_w)
    delivered = np.maximum(sent_c - refused_c, 0)
    ax_n.bar(edges[:-1], delivered, width=STIM_BIN_S, align="edge", color="tab:green", label="delivered")
    ax_n.bar(edges[:-1], refused_c, width=STIM_BIN_S, align="edge", bottom=delivered, color="tab:red",
             label="refused")
    ax_n.set_title(f"stimulation: {len(sent_s)} commands, {int(refused_w.sum())} refused (delivered = "
                   "commands - refusals)", fontsize=9, loc="left")
    ax_n.legend(fontsize=7, frameon=False)
    ax_c.set_title("refusals by category", fontsize=9, loc="left")
    if categories:
        ax_c.barh(list(categories), list(categories.values()), color="tab:red")
    else:
        ax_c.text(0.5, 0.5, "no refusals", ha="center", transform=ax_c.transAxes)


def _latency_figure(fig: Figure, rec: Recording) -> None:
    ax_h, ax_c = fig.subplots(1, 2)
    _latency(ax_h, rec)
    ax_c.set_xlabel("latency, ms")
    ax_c.set_ylabel("fraction of batches")
    ax_c.set_title("cumulative distribution", fontsize=9, loc="left")
    hops = {hop: np.sort(seconds * MS_PER_S) for hop, seconds in rec.hop_latencies().items() if len(seconds)}
    for hop, ms in hops.items():
        ax_c.plot(ms, np.arange(1, len(ms) + 1) / len(ms), label=hop)
    ax_c.set_xscale("symlog", linthresh=1.0)
    if hops:
        ax_c.legend(fontsize=7, frameon=False)


def _link_figure(fig: Figure, rec: Recording) -> None:
    axes = fig.subplots(4, 1, sharex=True)
    labels = ("link up", "round trip, ms", "clock offset, ms", "gaps / late events")
    for ax, label in zip(axes, labels):
        ax.set_ylabel(label, fontsize=8)
    axes[-1].set_xlabel("time from recording start, s")
    topics = rec.topics_of(LINK_STATUS)
    if not topics:
        axes[0].text(0.5, 0.5, "no LinkStatus recorded", ha="center", transform=axes[0].transAxes)
        return
    for topic in topics:
        ls = rec.link_status(topic)
        t = (ls["stamp_ns"] - rec.start_ns) / NS_PER_S
        lab = lab_of(topic)
        axes[0].step(t, ls["link_up"].astype(float), where="post", label=lab)
        axes[1].plot(t, ls["rtt_s"] * MS_PER_S, ".-", ms=3, label=lab)
        axes[2].errorbar(t, ls["clock_offset_s"] * MS_PER_S, yerr=ls["clock_offset_uncertainty_s"] * MS_PER_S,
                         fmt=".-", ms=3, lw=0.8, label=lab)
        axes[3].plot(t, ls["sequence_gaps"].astype(float), "-", label=f"{lab} gaps")
        axes[3].plot(t, ls["late_events"].astype(float), "--", label=f"{lab} late events")
    axes[0].set_title("link of each lab to the hub (LinkStatus, 1 Hz)", fontsize=9, loc="left")
    for ax in axes:
        ax.legend(fontsize=7, frameon=False, loc="upper left")


def _raster_figure(fig: Figure, rec: Recording) -> None:
    topics = rec.topics_of(SPIKE_BATCH)
    axes = np.atleast_1d(fig.subplots(max(len(topics), 1), 1, sharex=True))
    for ax, topic in zip(axes, topics):
        _raster(ax, rec, topic)
    if not topics:
        axes[0].text(0.5, 0.5, "no spikes recorded", ha="center", transform=axes[0].transAxes)
    axes[-1].set_xlabel("time from recording start, s")


FIGURES = {
    "raster": (_raster_figure, 2, "per-lab raster (colour = event kind) with population rate"),
    "resistance": (_resistance_figure, 2, "memristor resistance and weight trajectories, LTP ^ / LTD v"),
    "stimulation": (_stimulation_figure, 1, "stimulation commands delivered vs refused, refusals by category"),
    "latency": (_latency_figure, 1, "per-hop latency distributions (source publish -> hub publish)"),
    "link_status": (_link_figure, 3, "link status of each lab over time"),
}
"""Name -> (drawing function, height in panels, caption); written as ``<name>.png``."""


def make_figures(rec: Recording, out_dir: str | os.PathLike) -> dict[str, tuple[Path, str]]:
    """Write every figure of ``FIGURES`` as ``<name>.png`` in ``out_dir``; return name -> (path, caption)."""
    out = Path(out_dir)
    written = {}
    for name, (draw, panels, caption) in FIGURES.items():
        fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * panels), dpi=DPI, layout="constrained")
        draw(fig, rec)
        path = out / f"{name}.png"
        fig.savefig(path)
        written[name] = (path, caption)
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"summary value {value!r} of type {type(value).__name__} is not JSON-serialisable")


TRAJECTORY_PANELS = 2.5
"""Height of the trajectory row of a neurorobot overview, in panels."""


def _robot_overview(fig: Figure, rec: Recording, topics: RobotTopics, chains_ms: dict[str, np.ndarray]) -> None:
    """Rasters, stimulation per sector, cmd_vel (one time axis); synapses and hops if recorded;
    the trajectory beside the loop latency budget."""
    spike_topics = rec.topics_of(SPIKE_BATCH)
    extras = [draw for draw, present in ((_resistance, bool(rec.topics_of(SYNAPSE_STATES))),
                                         (_latency, bool(rec.hop_latencies()))) if present]
    rows = len(spike_topics) + 2 + len(extras) + 1
    grid = fig.add_gridspec(rows, 2, height_ratios=[1.0] * (rows - 1) + [TRAJECTORY_PANELS])
    time_axes = [fig.add_subplot(grid[i, :]) for i in range(len(spike_topics) + 2)]
    for ax in time_axes[1:]:
        ax.sharex(time_axes[0])
    for ax, topic in zip(time_axes, spike_topics):
        _raster(ax, rec, topic)
    draw_sector_stimulation(time_axes[len(spike_topics)], rec, topics)
    draw_commands(time_axes[len(spike_topics) + 1], rec, topics)
    time_axes[-1].set_xlabel("time from recording start, s")
    for k, draw in enumerate(extras):
        draw(fig.add_subplot(grid[len(time_axes) + k, :]), rec)
    draw_trajectory(fig.add_subplot(grid[-1, 0]), rec, topics)
    draw_loop_latency(fig.add_subplot(grid[-1, 1]), chains_ms)


def _robot_figures(rec: Recording, topics: RobotTopics, chains_ms: dict[str, np.ndarray],
                   out: Path) -> dict[str, tuple[Path, str]]:
    """``robot.png`` (trajectory, stimulation per sector, commands) and ``loop_latency.png``."""
    fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * 4), dpi=DPI, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.6])
    draw_trajectory(fig.add_subplot(grid[:, 0]), rec, topics)
    ax_s = fig.add_subplot(grid[0, 1])
    draw_sector_stimulation(ax_s, rec, topics)
    ax_c = fig.add_subplot(grid[1, 1], sharex=ax_s)
    draw_commands(ax_c, rec, topics)
    ax_c.set_xlabel("time from recording start, s")
    fig.savefig(out / "robot.png")
    fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * 1.5), dpi=DPI, layout="constrained")
    draw_loop_latency(fig.add_subplot(), chains_ms)
    fig.savefig(out / "loop_latency.png")
    return {"robot": (out / "robot.png", "robot: trajectory with collisions in the arena, stimulation per "
                      "sector, decoded cmd_vel"),
            "loop_latency": (out / "loop_latency.png", "loop latency budget: scan -> stimulation -> evoked "
                             "spike -> batch received -> cmd_vel, per leg (header stamps and log times)")}


def make_report(recording_path: str | os.PathLike, out_dir: str | os.PathLike,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``report.png``, the ``FIGURES`` PNGs, ``report.html`` and ``summary.json`` for the MCAP at
    ``recording_path``; return the summary.

    ``extra`` (e.g. CPU load, protocol) is merged into the summary's top level; a key that the
    summary already has raises ValueError rather than hiding a measured value.
    """
    rec = Recording.open(recording_path)
    summary = summarize(rec)
    clash = sorted(set(extra or {}) & set(summary))
    if clash:
        raise ValueError(f"extra keys {clash} would overwrite summary keys; rename them")
    summary.update(extra or {})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    spike_topics = rec.topics_of(SPIKE_BATCH)
    robot = robot_topics(rec)
    extra_figures: dict[str, tuple[Path, str]] = {}
    if robot is None:
        rows = len(spike_topics) + 2
        fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * rows), dpi=DPI, layout="constrained")
        axes = fig.subplots(rows, 1)
        for ax, topic in zip(axes, spike_topics):
            _raster(ax, rec, topic)
            ax.set_xlabel("time from recording start, s")
        _resistance(axes[-2], rec)
        axes[-2].set_xlabel("time from recording start, s")
        _latency(axes[-1], rec)
        caption = "overview: rasters, resistance traces, latency"
    else:
        chains_ms, _ = latency_chains(rec, robot.scan, robot.stimulation, robot.spikes, robot.cmd_vel)
        panels = len(spike_topics) + 2 + bool(rec.topics_of(SYNAPSE_STATES)) + bool(rec.hop_latencies()) \
            + TRAJECTORY_PANELS
        fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * panels), dpi=DPI, layout="constrained")
        _robot_overview(fig, rec, robot, chains_ms)
        caption = ("overview: rasters with the stimulation per sector and the decoded cmd_vel, trajectory "
                   "with collisions, loop latency budget")
        extra_figures = _robot_figures(rec, robot, chains_ms, out)
    fig.suptitle(f"{Path(recording_path).name}: {rec.duration_s:.1f} s"
                 + (" (truncated: writer did not finish)" if rec.truncated else ""), fontsize=10)
    fig.savefig(out / REPORT_PNG)
    figures = {"report": (out / REPORT_PNG, caption), **extra_figures, **make_figures(rec, out)}
    write_html(out / REPORT_HTML, f"neurohybrid report: {Path(recording_path).name}", figures,
               json.loads(json.dumps(summary, allow_nan=False, default=_json_default)))
    (out / SUMMARY_JSON).write_text(json.dumps(summary, indent=1, allow_nan=False, default=_json_default))
    return summary
