"""A seeded chaos run of the three sites over TCP + TLS (short form; the long one is
``CHAOS_FAULTS=N``, e.g. from ``make bench SOAK=1``), on loopback and on separate network stacks.

The five processes (hub site, Padova, Zurich, a remote observer, a recorder at the hub) start in a
random order with random gaps; then, fault after fault, a random site (a lab or the hub) is SIGKILLed or
SIGTERMed and relaunched after a random pause. On separate network
stacks (:mod:`neurohybrid.testing.netns`: a namespace per site, WAN-like links with loss, jitter
and reordering made in user space) a fault may also be a lab's link cut for the pause. After
every fault the full loop must close again within :data:`CONVERGENCE_LIMIT_S` (``converged``);
while the hub is away Padova must apply no stimulation (no evoked action potential reaches the
observer: the MEA's watchdog stops it). At the end the recorder is SIGKILLed: its file opens and
holds everything up to its last flush, and the memristor states the hub last published equal, within read noise,
what its plasticity events say; no plasticity is decided while a lab's data is missing.
Convergence times (p50/p99/max) are printed and recorded as properties.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from neurohybrid.io.reader import Recording, RecordingReadError
from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.netns import Impairment, SiteNetwork, unavailable
from neurohybrid.testing.sites import CONVERGENCE_LIMIT_S, LABS, Sites, converged

pytestmark = [pytest.mark.graph, pytest.mark.slow]

#: The run's seed (``CHAOS_SEED`` overrides it): the same seed, the same order, faults and pauses.
SEED = int(os.environ.get("CHAOS_SEED", "13"))
#: Faults in the short form (``CHAOS_FAULTS`` overrides it).
FAULTS = int(os.environ.get("CHAOS_FAULTS", "3"))
#: Largest random gap between two starts, and pause before a relaunch, s.
MAX_GAP_S = 3.0
#: After the hub dies, evoked action potentials may still arrive for this long: stimulation
#: delivered just before the kill, and Padova's watchdog (0.1 s) noticing the silence, s.
HUB_GONE_MARGIN_S = 0.5
#: Ways a site dies.
SIGNALS = {"SIGKILL": None, "SIGTERM": signal.SIGTERM}
#: What can fail during the run: the three sites. The recorder is SIGKILLed at the end instead: a
#: recorder (a Fast DDS super client) relaunched after a SIGKILL sometimes never receives one lab's
#: stream (README "Deploy across three sites", monitors).
VICTIMS = LABS
#: The links between the sites on separate stacks: 5-15 ms one way, 1 % loss, 1 % reordered.
WAN = Impairment(drop=0.01, delay_s=0.005, jitter_s=0.010, reorder=0.01)
#: A killed recorder keeps what it flushed: its writer flushes every second (RecordingWriter's
#: flush_interval_s), plus the time the kill takes to land, s.
FLUSH_BOUND_S = 2.5
#: A plasticity event's resistance and a later read of the same untouched device differ by two
#: reads' noise (0.5 % each, crossbar read_noise): six standard deviations of the difference.
READ_TOLERANCE = 6 * np.sqrt(2) * 0.005


@pytest.fixture(params=["loopback", "namespaces"])
def sites(request, tmp_path):
    network = None
    if request.param == "namespaces":
        reason = unavailable()
        if reason:
            pytest.skip(f"no separate network stacks here: {reason}")
        network = SiteNetwork(tuple(lab for lab in LABS if lab != "southampton"), "southampton", WAN, seed=SEED)
    s = Sites(tmp_path, network=network)
    yield s
    s.close()
    if network is not None:
        network.close()


def _converge(sites: Sites, since_ns: int, what: str) -> float:
    wait_for(lambda: converged(sites, since_ns), CONVERGENCE_LIMIT_S,
             what=f"the loop closing {what} (seed {SEED}, logs in {sites.root})")
    return (time.monotonic_ns() - since_ns) * 1e-9


def _pause(rng: random.Random) -> None:
    time.sleep(rng.uniform(0.0, MAX_GAP_S))  # not synchronisation: the random gap is the fault


def _first_write_s(log: str) -> float | None:
    """Wall time (s) of the first message a recorder's run logged it wrote, None if none."""
    stamps = re.findall(r"\[INFO\] \[(\d+\.\d+)\] \[recorder\]: first message on ", log)
    return min(map(float, stamps)) if stamps else None


def _check_recordings(sites: Sites, killed_at: dict[int, float]) -> list[Recording]:
    """Every recorder run's file opens and holds both labs' spikes; a SIGKILLed one holds what it had
    flushed: messages up to FLUSH_BOUND_S before the kill, once it had written for longer than that.
    The files, in order."""
    recordings = []
    for run in range(sites.runs["recorder"]):
        rec = Recording.open(sites.recording(run))
        assert rec.message_count("/padova/spikes") and rec.message_count("/zurich/spikes"), sites.recording(run)
        if run in killed_at:
            first_s = _first_write_s((sites.root / f"recorder.{run}.log").read_text(errors="replace"))
            assert rec.truncated, sites.recording(run)
            if first_s is not None and killed_at[run] - first_s > FLUSH_BOUND_S:
                assert rec.end_ns / 1e9 > killed_at[run] - FLUSH_BOUND_S, (run, rec.end_ns, killed_at[run])
        else:
            assert not rec.truncated, sites.recording(run)
        recordings.append(rec)
    return recordings


def _memristor_pairs(rec: Recording, hub_start_s: float) -> list[tuple[int, float, float]]:
    """(synapse, resistance of its last plasticity event, its resistance in the hub's last published
    states) for each device programmed since the hub's last start and before those states."""
    if not rec.topics_of("neurohybrid/msg/PlasticityEvent") or not rec.topics_of("neurohybrid/msg/SynapseStates"):
        return []
    states = rec.synapse_states("/southampton/synapse_states")
    events = rec.plasticity("/southampton/plasticity")
    mine = (events["stamp_ns"] > hub_start_s * 1e9) & events["accepted"] & (events["stamp_ns"] <= states["stamp_ns"][-1])
    return [(int(sid), float(events["resistance_after_ohm"][mine & (events["synapse_id"] == sid)][-1]),
             float(states["resistance_ohm"][-1][np.searchsorted(states["synapse_id"], sid)]))
            for sid in np.unique(events["synapse_id"][mine])]


def _recorded_so_far(sites: Sites) -> Recording | None:
    """The running recorder's file up to its last flush (None before its first)."""
    try:
        return Recording.open(sites.recording(sites.runs["recorder"] - 1))
    except RecordingReadError:
        return None


def test_chaos_every_fault_converges_and_nothing_is_lost(sites, record_property):
    rng = random.Random(SEED)
    order = [*LABS, "observer", "recorder"]
    rng.shuffle(order)
    for i, name in enumerate(order):
        if i:
            _pause(rng)
        sites.launch(name)
    hub_start_s = time.time()
    last_start_ns = time.monotonic_ns()
    times = [_converge(sites, last_start_ns, f"after the start order {order}")]
    faults: list[str] = []
    evoked_while_away = batches_while_away = 0
    away_s: list[tuple[str, float, float]] = []
    recorder_killed_at: dict[int, float] = {}
    kinds = sorted(SIGNALS) + (["cut"] if sites.network is not None else [])
    for n in range(FAULTS):
        how = rng.choice(kinds)
        victim = rng.choice([lab for lab in LABS if lab != "southampton"] if how == "cut" else VICTIMS)
        gone_s, gone_ns = time.time(), time.monotonic_ns()
        if how == "cut":
            link = sites.network.links[victim]
            link.impairment = Impairment(drop=1.0)
            _pause(rng)
            link.impairment = WAN
        else:
            group = sites.groups[victim]
            if SIGNALS[how] is None:
                group.kill()
            else:
                group.stop(SIGNALS[how])
            _pause(rng)
        back_ns = time.monotonic_ns()
        if victim == "southampton":
            away = [ev for _, _, ev, t in sites.groups["observer"].rx("padova")
                    if gone_ns + HUB_GONE_MARGIN_S * 1e9 < t < back_ns]
            batches_while_away += len(away)
            evoked_while_away += sum(away)
        if victim != "southampton":
            away_s.append((victim, gone_s, time.time()))
        if how != "cut":
            sites.launch(victim)
        if victim == "southampton":
            hub_start_s = time.time()
        times.append(_converge(sites, back_ns, f"after fault {n + 1}: {how} {victim}"))
        faults.append(f"{how} {victim}")
    # the hub programs its memristors again after its last start and the recorder has flushed
    # the states it published afterwards: the states can be checked against the events
    wait_for(lambda: (rec := _recorded_so_far(sites)) is not None and _memristor_pairs(rec, hub_start_s),
             2 * CONVERGENCE_LIMIT_S, what=f"plasticity after the hub's last start, recorded (logs in {sites.root})")
    assert evoked_while_away == 0, f"{evoked_while_away} evoked action potentials while the hub was away"
    # checked before the recorder's crash: the Discovery Server then logs DISCOVERY_DATABASE errors
    # (orphan readers/writers of the vanished super client), a Fast DDS 3.2.3 fault noted in the README
    bad = sites.bad_lines()
    assert not bad, f"error lines (seed {SEED}, logs in {sites.root}): {bad}"
    recorder_killed_at[sites.runs["recorder"] - 1] = time.time()  # a crash: the file keeps its last flush
    sites.groups["recorder"].kill()
    recordings = _check_recordings(sites, recorder_killed_at)
    last = recordings[-1]
    pairs = _memristor_pairs(last, hub_start_s)
    assert pairs, "no memristor programmed since the hub's last start was in the recording"
    for sid, programmed, published in pairs:
        assert abs(published / programmed - 1) < READ_TOLERANCE, (sid, programmed, published)
    devices = len(pairs)
    recorded = [r.plasticity("/southampton/plasticity") for r in recordings
                if r.topics_of("neurohybrid/msg/PlasticityEvent")]
    events = {key: np.concatenate([e[key] for e in recorded]) for key in ("accepted", "trigger_time_ns")}
    for lab, start_s, end_s in away_s:  # the lab's process was dead or cut off: it sent no data
        decided = events["accepted"] & (events["trigger_time_ns"] > (start_s + HUB_GONE_MARGIN_S) * 1e9) \
            & (events["trigger_time_ns"] < end_s * 1e9)
        assert not decided.any(), f"{int(decided.sum())} pulses decided on data of a time {lab} was away"
    p50, p99, worst = np.percentile(times, [50, 99, 100])
    network = "loopback" if sites.network is None else "namespaces"
    if os.environ.get("CHAOS_REPORT"):  # bench/bench_chaos.py reads the figures from here, one file per network
        report = Path(os.environ["CHAOS_REPORT"])
        report.with_name(f"{report.stem}.{network}{report.suffix}").write_text(json.dumps(
            {"seed": SEED, "network": network, "order": order, "faults": faults, "convergence_s": times,
             "batches_while_hub_away": batches_while_away, "evoked_while_hub_away": evoked_while_away,
             "devices_checked": devices}))
    record_property("chaos_seed", SEED)
    record_property("chaos_faults_survived", len(faults))
    record_property("chaos_convergence_s", [round(t, 2) for t in times])
    print(f"chaos seed {SEED} on {network}: start order {order}, {len(faults)} faults survived ({', '.join(faults)}); "
          f"convergence s p50 {p50:.2f} p99 {p99:.2f} max {worst:.2f} over {len(times)} events; "
          f"{batches_while_away} Padova batches while the hub was away, {evoked_while_away} evoked APs; "
          f"{devices} memristors match their plasticity events")
