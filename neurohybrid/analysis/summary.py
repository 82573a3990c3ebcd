"""The numbers of a recording in one JSON-serialisable dict (what ``summary.json`` holds).

Sections: ``duration_s``; ``events`` per lab (counts and rates by event kind, Serb et al. 2020
kinds plus the silicon spike); ``sequence_gaps`` per spike topic; ``stimulation`` (command rows
published vs refused by the MEA's safety limits); ``plasticity`` (LTP/LTD decisions of the rule,
accepted and refused); ``synapses`` (resistance at the first and last ``SynapseStates``);
``latency_ms`` (p50/p99 of each hop, from header stamps); ``experiment_latency_ms`` per lab
(presynaptic spike -> the input it caused arriving at that lab, from the histogram in the lab's
last ``LinkStatus``); ``refusals`` by category. A neurorobot recording (one with a robot's
``nav_msgs/Odometry``) adds ``robot`` (:mod:`neurohybrid.analysis.robot`) and ``loop_latency_ms``
(:mod:`neurohybrid.analysis.loop_latency`); any other recording's summary has neither.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.analysis.loop_latency import loop_latency
from neurohybrid.analysis.robot import robot_summary, robot_topics
from neurohybrid.core.events import KIND_NAMES
from neurohybrid.core.latency import quantile_ms
from neurohybrid.core.units import MS_PER_S
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

LTP = 1
"""``PlasticityEvent.LTP`` (msg/PlasticityEvent.msg)."""
LTD = -1
"""``PlasticityEvent.LTD`` (msg/PlasticityEvent.msg)."""
REFUSAL_CATEGORIES = {0: "stimulation", 1: "programming", 2: "malformed", 3: "input"}
"""``Refusal.CATEGORY_*`` (msg/Refusal.msg)."""
CATEGORY_STIMULATION = 0
LATENCY_PERCENTILES = (50, 99)


def sequence_gaps(seq: np.ndarray) -> int:
    """Batches missing from a publisher's sequence numbers: values in [min, max] never seen.

    Robust to reordering and duplicates (each missing number counts once).
    """
    if len(seq) == 0:
        return 0
    unique = np.unique(np.asarray(seq, np.uint64))
    return int(unique[-1] - unique[0] + 1 - len(unique))


def _rate(count: int, duration_s: float) -> float | None:
    return count / duration_s if duration_s > 0 else None


def _events(rec: Recording, duration_s: float) -> tuple[dict[str, Any], dict[str, int]]:
    events: dict[str, Any] = {}
    gaps: dict[str, int] = {}
    for topic in rec.topics_of(SPIKE_BATCH):
        spikes = rec.spikes(topic)
        frames = spikes["batch_frame_id"]
        lab = lab_of(frames[0]) if len(frames) and frames[0] else lab_of(topic)
        counts = np.bincount(spikes["kind"], minlength=len(KIND_NAMES))
        by_kind = {name: int(counts[k]) for k, name in KIND_NAMES.items() if counts[k]}
        total = int(len(spikes["kind"]))
        events[lab] = {
            "topic": topic,
            "total": total,
            "by_kind": by_kind,
            "rate_hz": _rate(total, duration_s),
            "rate_hz_by_kind": {name: _rate(n, duration_s) for name, n in by_kind.items()},
            "sources": int(len(np.unique(spikes["source_id"]))),
            "batches": int(len(spikes["batch_seq"])),
        }
        gaps[topic] = sequence_gaps(spikes["batch_seq"])
    return events, gaps


def _refusals(rec: Recording) -> dict[str, int]:
    out: dict[str, int] = {}
    for topic in rec.topics_of(REFUSAL):
        r = rec.refusals(topic)
        for code in np.unique(r["category"]):
            name = REFUSAL_CATEGORIES.get(int(code), f"category_{int(code)}")
            out[name] = out.get(name, 0) + int(r["count"][r["category"] == code].sum())
    return out


def _stimulation(rec: Recording, refused: dict[str, int]) -> dict[str, Any]:
    commands = sum(len(rec.stimulation(t)["electrode"]) for t in rec.topics_of(STIMULATION_COMMAND))
    refused_n = refused.get(REFUSAL_CATEGORIES[CATEGORY_STIMULATION], 0)
    return {"commands": commands, "refused": refused_n, "delivered": max(commands - refused_n, 0)}


def _plasticity(rec: Recording) -> dict[str, dict[str, int]]:
    out = {"ltp": {"accepted": 0, "refused": 0}, "ltd": {"accepted": 0, "refused": 0}}
    for topic in rec.topics_of(PLASTICITY_EVENT):
        p = rec.plasticity(topic)
        for name, code in (("ltp", LTP), ("ltd", LTD)):
            mine = p["direction"] == code
            out[name]["accepted"] += int(np.count_nonzero(mine & p["accepted"]))
            out[name]["refused"] += int(np.count_nonzero(mine & ~p["accepted"]))
    return out


def _first_last(column: np.ndarray) -> tuple[float | None, float | None]:
    known = np.flatnonzero(np.isfinite(column))
    if len(known) == 0:
        return None, None
    return float(column[known[0]]), float(column[known[-1]])


def _synapses(rec: Recording) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for topic in rec.topics_of(SYNAPSE_STATES):
        s = rec.synapse_states(topic)
        for j, sid in enumerate(s["synapse_id"]):
            start, end = _first_last(s["resistance_ohm"][:, j])
            out[str(int(sid))] = {
                "pre": s["pre"][j], "post": s["post"][j],
                "wordline": int(s["wordline"][j]), "bitline": int(s["bitline"][j]),
                "resistance_start_ohm": start, "resistance_end_ohm": end,
                "change_ohm": None if start is None else end - start,
            }
    return out


def _latency(rec: Recording) -> dict[str, Any]:
    out = {}
    for hop, seconds in rec.hop_latencies().items():
        if len(seconds):
            p = np.percentile(seconds * MS_PER_S, LATENCY_PERCENTILES)
            out[hop] = {"n": int(len(seconds)), **{f"p{q}": float(v) for q, v in zip(LATENCY_PERCENTILES, p)}}
    return out


def _experiment_latency(rec: Recording) -> dict[str, Any]:
    """Per lab, from its last ``LinkStatus`` (its histogram counts everything since activation):
    ``n`` inputs caused by a spike, ``p50``/``p99`` (upper edge of the quantile's bin, ms), ``max``."""
    out = {}
    for topic in rec.topics_of(LINK_STATUS):
        msgs = rec.decoded(topic)
        last = msgs[-1] if msgs else None
        if last is None or not sum(last.latency_counts):
            continue
        counts = np.asarray(last.latency_counts, np.uint64)
        lowest, per_decade = last.latency_lowest_edge_ms, last.latency_bins_per_decade
        out[lab_of(topic)] = {
            "n": int(counts.sum()),
            **{f"p{q}": quantile_ms(counts, q / 100, lowest, per_decade, last.latency_max_ms)
               for q in LATENCY_PERCENTILES},
            "max": float(last.latency_max_ms),
            "bin_resolution": f"10^(1/{per_decade}) per bin from {lowest} ms",
        }
    return out


def summarize(rec: Recording) -> dict[str, Any]:
    """The summary of ``rec`` as plain JSON types (no NaN: unknown values are ``None``).

    Rates are counts over the recording's span of log times (``duration_s``). ``stimulation``:
    ``commands`` = rows on ``StimulationCommand`` topics, ``refused`` = items of ``Refusal``
    messages of category stimulation, ``delivered`` = commands - refused (floored at 0).
    """
    duration_s = rec.duration_s
    events, gaps = _events(rec, duration_s)
    refusals = _refusals(rec)
    out = {
        "recording": str(rec.path),
        "truncated": bool(rec.truncated),
        "duration_s": duration_s,
        "topics": {t: rec.message_count(t) for t in rec.topics()},
        "events": events,
        "sequence_gaps": gaps,
        "stimulation": _stimulation(rec, refusals),
        "plasticity": _plasticity(rec),
        "synapses": _synapses(rec),
        "latency_ms": _latency(rec),
        "experiment_latency_ms": _experiment_latency(rec),
        "refusals": refusals,
    }
    robot = robot_summary(rec)
    if robot is not None:
        topics = robot_topics(rec)
        out["robot"] = robot
        out["loop_latency_ms"] = loop_latency(rec, topics.scan, topics.stimulation, topics.spikes, topics.cmd_vel)
    return out
