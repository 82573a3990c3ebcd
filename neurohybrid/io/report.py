"""One figure and one JSON file that say what happened in a recording.

``report.png`` panels, top to bottom: a raster per lab (time vs source id, coloured by event
kind, with the population rate on a second axis), the memristive synapses' resistance traces
(the synapses that changed most highlighted, LTP ``^`` / LTD ``v`` markers where the rule
programmed them, cf. Serb et al. 2020, Fig. 4), and a histogram of each hop's latency.
``summary.json`` is :func:`neurohybrid.io.summary.summarize` plus the caller's ``extra``.
Drawn with matplotlib's Agg canvas (no display, no global backend switch).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from neurohybrid.events import KIND_NAMES
from neurohybrid.io.reader import (
    NS_PER_S,
    PLASTICITY_EVENT,
    SPIKE_BATCH,
    SYNAPSE_STATES,
    Recording,
    lab_of,
)
from neurohybrid.io.summary import LTD, LTP, MS_PER_S, summarize

REPORT_PNG = "report.png"
SUMMARY_JSON = "summary.json"
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


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"summary value {value!r} of type {type(value).__name__} is not JSON-serialisable")


def make_report(recording_path: str | os.PathLike, out_dir: str | os.PathLike,
                extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``report.png`` and ``summary.json`` for the MCAP at ``recording_path``; return the summary.

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
    rows = len(spike_topics) + 2
    fig = Figure(figsize=(FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * rows), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, 1)
    for ax, topic in zip(axes, spike_topics):
        _raster(ax, rec, topic)
        ax.set_xlabel("time from recording start, s")
    _resistance(axes[-2], rec)
    axes[-2].set_xlabel("time from recording start, s")
    _latency(axes[-1], rec)
    fig.suptitle(f"{Path(recording_path).name}: {rec.duration_s:.1f} s"
                 + (" (truncated: writer did not finish)" if rec.truncated else ""), fontsize=10)
    fig.savefig(out / REPORT_PNG)
    (out / SUMMARY_JSON).write_text(json.dumps(summary, indent=1, allow_nan=False, default=_json_default))
    return summary
