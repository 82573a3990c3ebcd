"""The live view as a user sees it: the virtual lab with ``live:=true``, its page open in headless
Chromium. The raster and the heatmap are drawn from live data (their pixels change, the heatmap's
colours are those of the values), the page's values are those on the topics, the user changes the
time window, and the lab still stops cleanly."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

PAGE = re.compile(r"live view at (http://[\d.]+:\d+/)")
PHASE_S = 40.0
COLOUR_TOLERANCE = 8
"""Per channel, 0-255: the page interpolates viridis linearly between 17 of its stops (error < 6)."""
EMPTY_CELL = (38, 43, 51)
"""A device no synapse uses (live.js EMPTY_CELL)."""
MATCH_TOLERANCE_NS = 1_000_000
"""A page point and its spike on the topic: 1 us rounding and pacing; the spread of the lab's reported
clock offsets is added (a spike is mapped with the offset of its own time)."""


@pytest.fixture(scope="module")
def chromium():
    from neurohybrid.testing.browser import find_or_install_chromium

    path, reason = find_or_install_chromium()
    if path is None:
        pytest.skip(reason)
    return path


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def session(chromium, tmp_path_factory):
    """The virtual lab with the live view, a probe on its topics and the page; yields what was seen."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.nodes.runtime import event_qos, state_qos, stream_qos
    from neurohybrid.testing.browser import headless_page
    from neurohybrid.testing.graph import wait_for

    out = tmp_path_factory.mktemp("live_view")
    log_path = out / "launch.log"
    log = open(log_path, "wb")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "neurohybrid", "launch", "virtual_lab.launch.yaml", f"output:={out / 'rec.mcap'}",
         "live:=true", "live_port:=0", "live_ws_port:=0", f"drive_phase_s:=[{PHASE_S}, {PHASE_S}]"],
        stdout=log, stderr=subprocess.STDOUT, cwd=out)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("live_view_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.02)  # noqa: E731
    seen: dict[str, list] = {"padova": [], "zurich": [], "states": [], "plasticity": [],
                             "padova_link": [], "zurich_link": []}
    node.create_subscription(nh.SpikeBatch, "/padova/spikes", seen["padova"].append, stream_qos(1000))
    node.create_subscription(nh.SpikeBatch, "/zurich/spikes", seen["zurich"].append, stream_qos(1000))
    states_qos = state_qos()
    states_qos.depth = 1000
    node.create_subscription(nh.SynapseStates, "/southampton/synapse_states", seen["states"].append, states_qos)
    node.create_subscription(nh.PlasticityEvent, "/southampton/plasticity", seen["plasticity"].append, event_qos())
    for lab in ("padova", "zurich"):
        node.create_subscription(nh.LinkStatus, f"/{lab}/link_status", seen[f"{lab}_link"].append, states_qos)
    result: dict = {"out": out}
    try:
        wait_for(lambda: PAGE.search(log_path.read_text(errors="replace")) or launcher.poll() is not None, 90,
                 spin, "the live view's address in the launch output")
        url = PAGE.search(log_path.read_text(errors="replace")).group(1)
        with headless_page(chromium) as page:
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)

            def page_has(js: str, what: str, timeout_s: float = 60) -> None:
                wait_for(lambda: page.evaluate(js), timeout_s, spin, what)

            page_has("window.nhLive && nhLive.connected && nhLive.crossbar !== null && "
                     "(nhLive.drawn.padova || 0) > 0 && (nhLive.drawn.zurich || 0) > 0", "live data drawn on the page")
            shots = [{name: page.locator(sel).screenshot()
                      for name, sel in (("raster", "#raster-zurich"), ("heatmap", "#crossbar"))}]
            plasticity_before = len(seen["plasticity"])
            first_now = page.evaluate("nhLive.now")
            page_has(f"nhLive.now > {first_now} + 1.5", "1.5 s more of data on the page")
            wait_for(lambda: len(seen["plasticity"]) > plasticity_before and page.evaluate(
                f"nhLive.plasticity.events.some(e => e.t > {first_now} && e.accepted)"), 60, spin,
                "an accepted pulse, on the topic and on the page")
            page_has(f"nhLive.renders > 0 && nhLive.now > {first_now} + 2", "a redraw after it")
            shots.append({name: page.locator(sel).screenshot()
                          for name, sel in (("raster", "#raster-zurich"), ("heatmap", "#crossbar"))})
            # in one turn of the page's event loop: the values, the colours it chose and its pixels
            result["page"] = page.evaluate("""() => ({
                crossbar: nhLive.crossbar, cellColors: nhLive.cellColors, cellSize: nhLive.cellSize,
                cellPixels: (() => {
                    const canvas = document.getElementById("crossbar"), g = canvas.getContext("2d");
                    const scale = canvas.width / canvas.clientWidth, n = nhLive.crossbar.n_bitlines;
                    return nhLive.cellColors.map((_, i) => {
                        const c = nhLive.heatmapCell(Math.floor(i / n), i % n);
                        return Array.from(g.getImageData(Math.floor(c.x * scale), Math.floor(c.y * scale), 1, 1).data.slice(0, 3));
                    });
                })(),
                epochNs: nhLive.epochNs, offsets: nhLive.clockOffsetNs, links: nhLive.links,
                labs: Object.fromEntries(Object.entries(nhLive.labs).map(([k, s]) =>
                    [k, {t: s.t.slice(-300), id: s.id.slice(-300), counts: s.counts}])),
            })""")
            result["window"] = {"before": page.evaluate("[nhLive.drawnWindowS, nhLive.drawn.zurich]")}
            page.select_option("#window", "2")
            page_has("nhLive.drawnWindowS === 2", "a redraw with the 2 s window")
            result["window"]["after"] = page.evaluate("[nhLive.drawnWindowS, nhLive.drawn.zurich]")
            page.screenshot(path=str(out / "live_page.png"), full_page=True)
            result["shots"] = shots
            result["page_errors"] = errors
        # the probe receives what was published before the page's snapshot (ordered per topic)
        latest = {lab: max(result["page"]["labs"][lab]["t"]) for lab in ("padova", "zurich")}
        n_states = len(seen["states"])

        def probe_caught_up() -> bool:
            horizon = {lab: (seen[lab][-1].slice_end_ns - result["page"]["epochNs"]
                             + result["page"]["offsets"].get(lab, 0)) / 1e9 for lab in latest if seen[lab]}
            return len(seen["states"]) >= n_states + 2 and all(
                horizon.get(lab, -1) > t + 0.1 for lab, t in latest.items())

        wait_for(probe_caught_up, 30, spin, "the probe to receive what the page showed")
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(60)
        finally:
            log.close()
            node.destroy_node()
            rclpy.try_shutdown(context=context)
    result.update(seen=seen, code=launcher.returncode, output=log_path.read_text(errors="replace"))
    yield result


def test_the_raster_and_the_heatmap_are_redrawn_from_live_data(session):
    before, after = session["shots"]
    for name in ("raster", "heatmap"):
        a, b = _pixels(before[name]), _pixels(after[name])
        assert a.shape == b.shape
        changed = np.any(a != b, axis=2).mean()
        assert changed > 0.001, f"the {name} did not change between two screenshots ({changed:.4%} of pixels)"
    raster = _pixels(after["raster"])
    silicon = np.array([0x4C, 0xC3, 0x8A])  # KIND_COLORS[3] of live.js
    assert np.all(np.abs(raster - silicon) <= 2, axis=2).sum() > 100, "silicon spikes drawn in their colour"
    assert session["page_errors"] == []


def _viridis(x: float) -> np.ndarray:
    """matplotlib's viridis, the heatmap's colour scale."""
    from matplotlib import colormaps

    return np.array(colormaps["viridis"](float(x))[:3]) * 255


def test_each_heatmap_cell_is_painted_in_the_colour_of_its_weight(session):
    page = session["page"]
    crossbar, pixels, colours = page["crossbar"], np.array(page["cellPixels"]), np.array(page["cellColors"])
    assert page["cellSize"] >= 4 and len(pixels) == crossbar["n_wordlines"] * crossbar["n_bitlines"]
    assert np.array_equal(pixels, colours), "the canvas holds the colours the page chose"
    for i, w in enumerate(crossbar["weight"]):
        expected = np.array(EMPTY_CELL) if w is None else _viridis(w)
        assert np.all(np.abs(colours[i] - expected) <= COLOUR_TOLERANCE), (divmod(i, 32), w, colours[i], expected)


def test_the_heatmap_holds_the_resistances_and_weights_published_by_the_hub(session):
    crossbar, states = session["page"]["crossbar"], session["seen"]["states"]
    n_bl = crossbar["n_bitlines"]
    published: dict[int, set] = {}
    weights: dict[int, set] = {}
    for m in states:
        for wl, bl, r, w in zip(m.wordline, m.bitline, m.resistance_ohm, m.weight):
            published.setdefault(wl * n_bl + bl, set()).add(round(r, 1))
            weights.setdefault(wl * n_bl + bl, set()).add(round(float(w), 4))
    for p in session["seen"]["plasticity"]:
        if p.accepted:
            published.setdefault(p.wordline * n_bl + p.bitline, set()).add(round(p.resistance_after_ohm, 1))
    used = [i for i, r in enumerate(crossbar["resistance_ohm"]) if r is not None]
    assert set(used) == set(published), "the page shows exactly the devices the hub uses"
    assert len(used) == 258  # three_neuron.yaml: the paper's 2 synapses + 256 background ones
    for i in used:
        assert crossbar["resistance_ohm"][i] in published[i], (divmod(i, n_bl), crossbar["resistance_ohm"][i])
        assert crossbar["weight"][i] in weights[i]


def test_the_page_rasters_show_spikes_that_were_on_the_topics(session):
    page = session["page"]
    for lab in ("padova", "zurich"):
        received = [m for m in session["seen"][lab]]
        ids = np.concatenate([np.frombuffer(m.source_id, np.uint32) for m in received]).astype(np.int64)
        times = np.concatenate([np.frombuffer(m.time_ns, np.int64) for m in received])
        shown = page["labs"][lab]
        assert len(shown["t"]) > 20, lab
        offset = page["offsets"].get(lab, 0)
        lab_ns = page["epochNs"] + np.round(np.array(shown["t"]) * 1e9).astype(np.int64) - offset
        # each spike was mapped with the offset of its time; the page's offset is the newest one
        offsets = [round(m.clock_offset_s * 1e9) for m in session["seen"][f"{lab}_link"]
                   if np.isfinite(m.clock_offset_s)] + [offset]
        tolerance = MATCH_TOLERANCE_NS + max(offsets) - min(offsets)
        for t, sid in zip(lab_ns, shown["id"]):
            same = times[ids == sid]
            assert len(same) and np.min(np.abs(same - t)) <= tolerance, f"{lab}: no spike of {sid} at {t} (±{tolerance} ns)"
    assert page["labs"]["padova"]["counts"]["evoked_ap"] > 0, "stimulation through the memristor evokes APs"


def test_the_page_shows_the_links_the_labs_report(session):
    links = session["page"]["links"]
    for lab in ("padova", "zurich"):
        reported = {round(m.rtt_s * 1e3, 3) for m in session["seen"][f"{lab}_link"]}
        assert links[lab]["peer_lab"] == "southampton" and links[lab]["rtt_ms"] in reported, (lab, links[lab])


def test_the_user_narrows_the_time_window_and_the_raster_follows(session):
    (before_s, before), (after_s, after) = session["window"]["before"], session["window"]["after"]
    assert (before_s, after_s) == (10, 2)
    assert 0 < after < 0.75 * before, session["window"]  # the page holds more than 2.67 s of data


def test_the_lab_with_its_live_view_stops_cleanly_with_clean_logs(session):
    out = session["output"]
    assert session["code"] == 0, out[-3000:]
    for bad in ("[ERROR]", "[FATAL]", "Traceback"):
        assert bad not in out, out[max(0, out.find(bad) - 1500):out.find(bad) + 1500]
    assert re.search(r"\[live\]: SIGINT: stopping", out), "the live view stopped on the signal"
