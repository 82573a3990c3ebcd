"""Latency budget of the neurorobotic loop, from the stamps in a recording.

One chain per stimulation command the sensory encoder sent (a ``StimulationCommand`` with rows
and ``pre_frame == "scan"``), leg by leg, each leg in the clocks named here:

1. ``scan_to_stimulation``: the range reading's ``LaserScan.header.stamp`` (the robot twin's
   time, anchored to the host's wall clock when the robot was activated) -> the command's
   ``header.stamp`` (the neurorobot node's ROS time at publish, the host's system clock). The
   scan is named by the command's ``pre_time_ns`` (the scan's stamp); a recording whose commands
   carry none falls back to the newest recorded scan stamped at or before the command.
2. ``stimulation_to_spike``: the command's ``header.stamp`` -> the first response on one of its
   electrodes (an evoked AP or a PSP event, ``SpikeBatch`` of the stimulated lab, at or after the
   command's delivery time ``time_ns`` and within ``RESPONSE_WINDOW_S``), in the MEA's clock
   (``clock_domain``: device time anchored to the host's wall clock at activation). Spontaneous
   APs are not responses and are skipped.
3. ``spike_to_batch_received``: that event's time -> the recorder's ``log_time`` of the batch
   that carried it (the recorder's system clock): slice end, publish and transport.
4. ``batch_to_cmd_vel``: that batch's log time -> the next ``cmd_vel`` log time after it (both
   the recorder's clock; ``Twist`` has no header): the decoder's period and the transport.

``total`` is scan stamp -> that ``cmd_vel`` log time. Legs 1-3 compare two processes' clocks on
one host (the same system clock, so no offset); across hosts they would need the link's offset.
Each leg's ``p50``/``p99``/``max`` are in ms over the complete chains (``n``).

``mea_clock_lead_ms`` checks the MEA's clock against the ROS clock: per spike batch
``slice_end_ns - header.stamp`` (p50, max). A batch cannot be published before its slice ends,
so a positive value means the device clock runs ahead of the ROS clock by at least that much; leg 2
is then too long and leg 3 too short by that lead (their sum is not affected).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.core.events import KIND_EVOKED_AP, KIND_PSP, NO_PRE_TIME_NS
from neurohybrid.core.units import MS_PER_S, NS_PER_S
from neurohybrid.io.reader import Recording, stamp_ns

SCAN_FRAME = "scan"
"""``StimulationCommand.pre_frame`` of the commands the sensory encoder derived from a scan."""
RESPONSE_KINDS = (KIND_EVOKED_AP, KIND_PSP)
RESPONSE_WINDOW_S = 0.5
"""Latest response counted after a command's delivery time, s (the MEA's evoked window is 20 ms;
the rest allows for a command that reached the MEA late)."""
LEGS = ("scan_to_stimulation", "stimulation_to_spike", "spike_to_batch_received", "batch_to_cmd_vel", "total")
CLOCKS = {
    "scan_to_stimulation": "LaserScan.header.stamp (robot twin time, anchored to the host wall clock) -> "
                           "StimulationCommand.header.stamp (neurorobot ROS time at publish)",
    "stimulation_to_spike": "StimulationCommand.header.stamp -> first evoked AP/PSP time_ns on a stimulated "
                            "electrode (MEA clock_domain, device time anchored to the host wall clock)",
    "spike_to_batch_received": "event time_ns (MEA clock) -> recorder log_time of its SpikeBatch",
    "batch_to_cmd_vel": "recorder log_time of the SpikeBatch -> recorder log_time of the next cmd_vel",
    "total": "LaserScan.header.stamp -> recorder log_time of that cmd_vel",
}
PERCENTILES = (50, 99)


def _commands(rec: Recording, topics: list[str]) -> list[tuple[int, int, int, np.ndarray]]:
    """``(stamp, pre_time or NO_PRE_TIME_NS, earliest delivery time, electrodes)`` per scan command."""
    out = []
    for topic in topics:
        for m in rec.decoded(topic):
            if m.pre_frame != SCAN_FRAME or len(m.electrode) == 0:
                continue
            pre = np.asarray(m.pre_time_ns, np.int64)
            pre = pre[pre != NO_PRE_TIME_NS]
            out.append((stamp_ns(m), int(pre.max()) if len(pre) else NO_PRE_TIME_NS,
                        int(np.min(m.time_ns)), np.unique(np.asarray(m.electrode, np.int64))))
    return sorted(out, key=lambda c: c[0])


def _responses(rec: Recording, topic: str) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Per electrode: sorted response times (ns) and the index of the batch of each; batch log times."""
    s = rec.spikes(topic)
    batch = np.repeat(np.arange(len(s["batch_count"])), s["batch_count"])
    keep = np.isin(s["kind"], RESPONSE_KINDS)
    source, times, batch = s["source_id"][keep].astype(np.int64), s["time_ns"][keep], batch[keep]
    out = {}
    for electrode in np.unique(source):
        mine = source == electrode
        order = np.argsort(times[mine], kind="stable")
        out[int(electrode)] = (times[mine][order], batch[mine][order])
    return out, s["batch_log_time_ns"]


def _first_response(responses: dict, electrodes: np.ndarray, from_ns: int) -> tuple[int, int] | None:
    best = None
    for e in electrodes:
        if int(e) not in responses:
            continue
        times, batches = responses[int(e)]
        k = int(np.searchsorted(times, from_ns))
        if k < len(times) and times[k] <= from_ns + RESPONSE_WINDOW_S * NS_PER_S and (best is None or times[k] < best[0]):
            best = (int(times[k]), int(batches[k]))
    return best


def latency_chains(rec: Recording, scan_topic: str | None, stimulation_topics: list[str],
                   spike_topic: str | None, cmd_vel_topic: str | None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Each leg's latency per complete chain, ms (``LEGS``); and how the chains were found."""
    commands = _commands(rec, stimulation_topics)
    meta: dict[str, Any] = {"commands": len(commands), "scan_from": None}
    legs: dict[str, list[int]] = {leg: [] for leg in LEGS}
    if commands and spike_topic is not None and cmd_vel_topic is not None:
        named = any(pre != NO_PRE_TIME_NS for _, pre, _, _ in commands)
        meta["scan_from"] = "pre_time_ns" if named else "newest recorded scan at or before the command"
        scans = rec.scans(scan_topic)["stamp_ns"] if scan_topic is not None else np.empty(0, np.int64)
        scan_stamps = np.sort(scans)
        responses, batch_log = _responses(rec, spike_topic)
        cmd_log = np.sort(rec.log_times_ns(cmd_vel_topic))
        for stamp, pre, delivery, electrodes in commands:
            if named:
                scan = pre
            else:
                k = int(np.searchsorted(scan_stamps, stamp, side="right")) - 1
                scan = int(scan_stamps[k]) if k >= 0 else NO_PRE_TIME_NS
            hit = _first_response(responses, electrodes, delivery)
            if scan == NO_PRE_TIME_NS or hit is None:
                continue
            spike, batch = hit
            received = int(batch_log[batch])
            j = int(np.searchsorted(cmd_log, received, side="right"))
            if j == len(cmd_log):
                continue
            cmd = int(cmd_log[j])
            for leg, value in zip(LEGS, (stamp - scan, spike - stamp, received - spike, cmd - received, cmd - scan)):
                legs[leg].append(value)
    return {leg: np.asarray(v, np.float64) / NS_PER_S * MS_PER_S for leg, v in legs.items()}, meta


def loop_latency(rec: Recording, scan_topic: str | None, stimulation_topics: list[str],
                 spike_topic: str | None, cmd_vel_topic: str | None) -> dict[str, Any]:
    """The ``loop_latency_ms`` section of ``summary.json`` (see the module docstring)."""
    chains, meta = latency_chains(rec, scan_topic, stimulation_topics, spike_topic, cmd_vel_topic)
    out: dict[str, Any] = {**meta, "n": len(chains["total"]), "response_window_s": RESPONSE_WINDOW_S,
                           "clocks": dict(CLOCKS), "mea_clock_lead_ms": None}
    if spike_topic is not None and rec.message_count(spike_topic):
        s = rec.spikes(spike_topic)
        lead_ms = (s["batch_slice_end_ns"] - s["batch_stamp_ns"]) / NS_PER_S * MS_PER_S
        out["mea_clock_lead_ms"] = {"p50": float(np.median(lead_ms)), "max": float(lead_ms.max())}
    for leg, ms in chains.items():
        out[leg] = ({f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(ms, PERCENTILES))}
                    | {"max": float(ms.max())}) if len(ms) else None
    return out
