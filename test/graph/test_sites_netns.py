"""The three sites on separate network stacks: each in a Linux network namespace of its own, the
labs joined to the hub by user-space links that drop, delay and reorder packets (WAN-like), over
TCP + TLS. Started together, as the README's "Deploy across three sites" reads; the loop closes,
the links' impairment was real (packets dropped and reordered), a lab cut off for a while comes
back, and no log holds an error line.
"""

from __future__ import annotations

import signal
import time

import pytest

from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.netns import Impairment, SiteNetwork, unavailable
from neurohybrid.testing.sites import CONVERGENCE_LIMIT_S, LABS, Sites, converged

pytestmark = [pytest.mark.graph, pytest.mark.slow]

#: A long-distance link: 10-20 ms one way, 1 % loss, 1 % of packets overtaken, each direction.
WAN = Impairment(drop=0.01, delay_s=0.010, jitter_s=0.010, reorder=0.01)
#: Packets each link direction carries before the impairment's effect is checked.
IMPAIRED_SAMPLE = 1000
#: A cut link: every packet lost.
CUT = Impairment(drop=1.0)
#: How long a lab stays cut off, s: longer than the hub's 0.1 s watchdog, shorter than the 5 s lease.
CUT_S = 2.0


@pytest.fixture
def sites(tmp_path):
    reason = unavailable()
    if reason:
        pytest.skip(f"no separate network stacks here: {reason}")
    network = SiteNetwork(tuple(lab for lab in LABS if lab != "southampton"), "southampton", WAN, seed=5)
    s = Sites(tmp_path, network=network)
    yield s
    s.close()
    network.close()


def _converge(sites: Sites, since_ns: int, what: str) -> float:
    wait_for(lambda: converged(sites, since_ns), CONVERGENCE_LIMIT_S, what=f"{what} (logs in {sites.root})")
    return (time.monotonic_ns() - since_ns) * 1e-9


def test_three_sites_on_their_own_network_stacks_over_impaired_links(sites):
    for name in (*LABS, "observer"):
        sites.launch(name)
    started_ns = time.monotonic_ns()
    first = _converge(sites, started_ns, "the loop closing across namespaces")
    # the impairment was real: packets dropped and reordered on every link, each way (with 1 % of
    # each, 0 of 1,000 packets happens with probability 4e-5)
    directions = [(lab, way) for lab in ("padova", "zurich") for way in ("up", "down")]
    wait_for(lambda: all(sites.network.counts()[lab][way].carried >= IMPAIRED_SAMPLE for lab, way in directions),
             CONVERGENCE_LIMIT_S, what="traffic on every link")
    counts = sites.network.counts()
    for lab, way in directions:
        c = counts[lab][way]
        assert c.dropped > 0 and c.reordered > 0, (lab, way, c)

    # Zurich's link cut for a while, then back: the loop closes again
    link = sites.network.links["zurich"]
    dropped = link.counts[0].dropped
    link.impairment = CUT
    time.sleep(CUT_S)  # not synchronisation: the cut's length is the fault
    link.impairment = WAN
    assert link.counts[0].dropped > dropped + 10, "Zurich kept sending into the cut"
    back = _converge(sites, time.monotonic_ns(), "the loop closing after Zurich's link came back")

    # a lab killed and relaunched inside its namespace
    sites.groups["padova"].stop(signal.SIGTERM)
    sites.launch("padova")
    again = _converge(sites, time.monotonic_ns(), "the loop closing after Padova's relaunch")
    assert not sites.bad_lines(), sites.bad_lines()
    print(f"namespaces: converged in {first:.2f} s, after a {CUT_S} s cut {back:.2f} s, "
          f"after a relaunch {again:.2f} s; links {sites.network.counts()}")
