"""The three sites converge whatever the start order: labs before the hub's Discovery Server, and
after the hub (Discovery Server and hub node) is killed and relaunched under running labs.

Converged = the full loop after the event: Padova's and Zurich's spikes reach a remote observer,
the hub's stimulation commands (with electrodes) reach Padova and come back as evoked action
potentials, and both labs log ``link to /southampton up`` (answered clock exchanges). Each must
happen within :data:`neurohybrid.testing.sites.CONVERGENCE_LIMIT_S` of the last start.
"""

from __future__ import annotations

import time

import pytest

from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.sites import CONVERGENCE_LIMIT_S, Sites, converged

pytestmark = [pytest.mark.graph, pytest.mark.slow]

#: Gap between the labs' start and the hub's, s: long enough for every client to have tried
#: (and failed) to reach the Discovery Server several times (clients announce every 0.45 s).
LABS_FIRST_GAP_S = 5.0


@pytest.fixture
def sites(tmp_path):
    s = Sites(tmp_path)
    yield s
    s.close()


def _converge(sites: Sites, since: tuple[int, float], what: str) -> float:
    """Wait for the full loop after ``since`` (monotonic ns, wall s); seconds it took from then."""
    wait_for(lambda: converged(sites, since[0]), CONVERGENCE_LIMIT_S,
             what=f"the loop closing {what} (logs in {sites.root})")
    return (time.monotonic_ns() - since[0]) * 1e-9


def _now() -> tuple[int, float]:
    return time.monotonic_ns(), time.time()


def test_labs_started_before_the_hub_link_up_once_it_comes(sites, record_property):
    sites.launch("observer")
    padova, zurich = sites.launch("padova"), sites.launch("zurich")
    # the labs run (their nodes configured and active) with no Discovery Server to reach
    wait_for(lambda: "configured padova/mea" in padova.text() and "configured zurich/board" in zurich.text(),
             60, what="both labs' nodes configured before the hub exists")
    time.sleep(LABS_FIRST_GAP_S)  # not synchronisation: the gap is the condition under test
    since = _now()
    sites.launch("southampton")
    took_s = _converge(sites, since, "after the hub started last")
    assert not sites.bad_lines(), f"error lines (logs in {sites.root}): {sites.bad_lines()}"
    record_property("labs_first_converged_s", round(took_s, 2))
    print(f"labs first, hub {LABS_FIRST_GAP_S:.0f} s later: loop closed {took_s:.2f} s after the hub start")


def test_a_killed_and_relaunched_hub_is_rejoined_by_the_running_labs(sites, record_property):
    since = _now()
    for name in ("southampton", "padova", "zurich", "observer"):
        sites.launch(name)
    _converge(sites, since, "at the first start")
    sites.groups["southampton"].kill()  # SIGKILL: the Discovery Server and the hub vanish at once
    since = _now()
    sites.launch("southampton")
    took_s = _converge(sites, since, "after the hub's relaunch")
    assert all(sites.groups[lab].alive() for lab in ("padova", "zurich"))
    assert not sites.bad_lines(), f"error lines (logs in {sites.root}): {sites.bad_lines()}"
    record_property("hub_restart_converged_s", round(took_s, 2))
    print(f"hub SIGKILLed and relaunched: loop closed again {took_s:.2f} s after the relaunch")
