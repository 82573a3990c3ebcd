"""Three sites as three process groups, joined only by Fast DDS TCPv4 + TLS through the hub's Discovery Server.

Each lab runs its own launch file (``neurohybrid launch <lab>.launch.yaml hub_address:=...``) with
its own certificate and a profile rendered by ``neurohybrid transport-profile``: Southampton
starts the Discovery Server and the hub node (which listens), Padova the MEA node and Zurich the
board node (both connect out only). An observer joins the same way (a listening client with a lab
certificate). The loop closes when Padova's spikes reach the hub, the hub's stimulation reaches
Padova (its evoked action potentials come back) and Zurich's silicon spikes flow. Then Zurich's
whole process group is SIGKILLed and relaunched: it rejoins by itself (rejoin time measured).
All on 127.0.0.1, free ports only.
"""

from __future__ import annotations

import re
import time

import pytest

from neurohybrid.launcher import stock
from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.sites import RUNNERS, Group, Sites
from neurohybrid.transport.discovery import DiscoveryServerError, check_link

pytestmark = [pytest.mark.graph, pytest.mark.slow]

#: Batches each stream must deliver to count as flowing.
FLOWING_BATCHES = 10
#: Upper bound on a lab's rejoin after a restart, s (process start + TLS + discovery + matching).
REJOIN_LIMIT_S = 30.0
#: Evoked action potentials (SpikeBatch.KIND_EVOKED_AP) exist only where stimulation was applied.
KIND_EVOKED_AP = 1


@pytest.fixture(params=sorted(RUNNERS))
def sites(tmp_path, request):
    if request.param == "stock" and stock.missing():
        pytest.skip(stock.missing())
    s = Sites(tmp_path, request.param)
    yield s
    s.close()


def test_three_sites_close_the_loop_over_tls_and_a_killed_lab_rejoins(sites, record_property):
    t0 = time.monotonic()
    hub = sites.launch("southampton")
    wait_for(lambda: "Server started" in hub.text(), 30, what="the launcher starting the server")
    wait_for(lambda: _tls_ok(sites), 30, what="the Discovery Server accepting a lab certificate over TLS")
    padova, zurich = sites.launch("padova"), sites.launch("zurich")
    observer = sites.launch("observer")

    def flowing(topic: str, after: int, timeout_s: float = 60.0) -> None:
        wait_for(lambda: len(observer.rx(topic)) >= after + FLOWING_BATCHES, timeout_s,
                 what=f"{topic} flowing to the observer (logs in {sites.root})")

    for topic in ("padova", "zurich", "stim"):
        flowing(topic, 0)
    # the loop closes at Padova: the hub's stimulation commands (not only keepalives) reach it and
    # come back as evoked action potentials
    wait_for(lambda: any(n > 0 for _, n, _, _ in observer.rx("stim")), 30,
             what="stimulation commands with electrodes from the hub")
    wait_for(lambda: any(ev > 0 for _, _, ev, _ in observer.rx("padova")), 30,
             what="evoked action potentials at Padova (stimulation delivered over TLS)")
    wait_for(lambda: "link to /southampton up" in padova.text() and "link to /southampton up" in zurich.text(),
             30, what="both labs' clock sync with the hub over TLS")
    loop_s = time.monotonic() - t0
    assert all(g.alive() for g in sites.groups.values())
    for lab in ("southampton", "padova", "zurich"):
        _assert_tcp_only_through_the_hub(sites.groups[lab], sites.hub_port)

    # Zurich crashes (its whole process group, SIGKILL) and is relaunched: it rejoins by itself
    last_seq = observer.rx("zurich")[-1][0]
    zurich.kill()
    stim_before = len(observer.rx("stim"))
    restarted_ns, restarted_wall_s = time.monotonic_ns(), time.time()
    zurich = sites.launch("zurich")
    wait_for(lambda: _first_of_new_run(observer.rx("zurich"), last_seq, restarted_ns) is not None,
             REJOIN_LIMIT_S, what="the relaunched Zurich's spikes at the observer")
    first_seq, first_ns = _first_of_new_run(observer.rx("zurich"), last_seq, restarted_ns)
    rejoin_s = (first_ns - restarted_ns) * 1e-9
    wait_for(lambda: _link_up_after(zurich.text(), restarted_wall_s) is not None, REJOIN_LIMIT_S,
             what="the relaunched Zurich's clock sync with the hub")
    hub_link_s = _link_up_after(zurich.text(), restarted_wall_s) - restarted_wall_s
    flowing("zurich", len(observer.rx("zurich")))
    flowing("stim", stim_before)
    assert hub.alive() and padova.alive(), "a lab died when Zurich was killed"
    assert "died unexpectedly" not in hub.text() + padova.text()
    # Ctrl-C at each site (SIGINT to the whole process group, as a terminal sends it; the
    # launcher forwards it too): every process ends cleanly
    for name in ("observer", "zurich", "padova", "southampton"):
        sites.groups[name].stop()
    # no error in any log of the run, the killed Zurich's first run included (a SIGKILL logs nothing)
    bad = sites.bad_lines()
    assert not bad, f"error lines in a clean run (logs in {sites.root}): {bad}"
    record_property("three_sites_connection_transients", sites.transients())
    record_property("three_sites_loop_closed_s", round(loop_s, 1))
    record_property("three_sites_zurich_rejoin_s", round(rejoin_s, 2))
    record_property("three_sites_zurich_hub_link_s", round(hub_link_s, 2))
    print(f"three sites over TLS: loop closed {loop_s:.1f} s after the hub launch; Zurich SIGKILLed "
          f"and relaunched: its link to the hub up {hub_link_s:.2f} s and its spikes at the observer "
          f"{rejoin_s:.2f} s after the relaunch (seq {last_seq} -> {first_seq}: the gap shows)")


def _link_up_after(log: str, since_s: float) -> float | None:
    """ROS log time (s, wall clock) of the first "link to /southampton up" after ``since_s``."""
    for line in log.splitlines():
        m = re.search(r"\[(\d+\.\d+)\].*link to /southampton up", line)
        if m and float(m.group(1)) > since_s:
            return float(m.group(1))
    return None


def _first_of_new_run(rx: list[tuple[int, int, int, int]], last_seq: int,
                      since_ns: int) -> tuple[int, int] | None:
    """(seq, receive time) of the first batch of a relaunched publisher: the first one received after
    ``since_ns`` that does not continue the old run's sequence (the old run's in-flight tail may)."""
    expected = last_seq + 1
    for seq, _, _, t_ns in rx:
        if t_ns <= since_ns:
            continue
        if seq != expected:
            return seq, t_ns
        expected += 1
    return None


def _assert_tcp_only_through_the_hub(group: Group, hub_port: int) -> None:
    """Every ROS process of a lab has a TCP link to the Discovery Server and no UDP socket (no plain DDS)."""
    nodes = [p for p in group.processes() if p.name().endswith("_node")]
    assert nodes, "the lab launched no node"
    for proc in nodes:
        udp = proc.net_connections(kind="udp")
        assert not udp, f"{proc.name()} has UDP sockets {udp}: plain DDS besides TLS"
        assert any(c.raddr and c.raddr.port == hub_port for c in proc.net_connections(kind="tcp")), \
            f"{proc.name()} has no TCP link to the Discovery Server at port {hub_port}"


def _tls_ok(sites) -> bool:
    try:
        return check_link("127.0.0.1", sites.hub_port, sites.pki["padova"], timeout_s=1.0) == "southampton"
    except DiscoveryServerError:  # not listening yet
        return False
