"""Round trip of issue 5: run the virtual lab, export NWB, validate it, replay its biological
spikes into a new run (MEA ``replay`` backend) and find the same input spike train at the hub."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]

RUN_S = 12.0
MIN_COVERED = 0.8  # the replay run stops once it recorded this fraction of the original's MEA events
REPLAY_TIMEOUT_S = 45.0  # ... or after this long (a loaded machine starts nodes slowly)
POLL_S = 1.0
PHASES = "[5.0, 5.0]"
TOLERANCE_NS = 1_000_000  # 1 ms: the bound on replayed spike times
MAX_DEVICE_START_S = 5.0  # the replay run's first recorded slice starts this soon after replay start

REPLAY_RUN = """
import sys
from neurohybrid.cli import _resolve_launch_file
from neurohybrid.launcher import Supervisor, load_launch_file
output, nwb = sys.argv[1], sys.argv[2]
specs = load_launch_file(_resolve_launch_file("virtual_lab.launch.yaml"),
                         {"output": output, "drive_phase_s": %r})
mea = [s for s in specs if s.executable == "mea_node"]
assert len(mea) == 1, specs
mea[0].params = [p for p in mea[0].params if p[0] != "backend"] + [("backend", "replay"), ("replay_file", nwb)]
sys.exit(Supervisor(specs).run())
""" % PHASES


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay_roundtrip")
    original, replayed, nwb = out / "original.mcap", out / "replayed.mcap", out / "original.nwb"
    first = subprocess.run(
        [sys.executable, "-m", "neurohybrid", "launch", "virtual_lab.launch.yaml", f"output:={original}",
         f"drive_phase_s:={PHASES}", "--duration", str(RUN_S)],
        capture_output=True, text=True, cwd=out, timeout=RUN_S + 40)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    from neurohybrid.analysis.nwb import export_nwb
    from neurohybrid.io.reader import Recording, RecordingReadError, UnknownTopicError

    export = export_nwb(original, nwb)
    n_original = sum(export.spikes["padova"].values())
    assert n_original > 100, export
    second = subprocess.Popen([sys.executable, "-c", REPLAY_RUN, str(replayed), str(nwb)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=out)
    deadline = time.monotonic() + REPLAY_TIMEOUT_S
    replayed_n = 0
    try:
        while replayed_n < MIN_COVERED * n_original and time.monotonic() < deadline:
            time.sleep(POLL_S)
            try:
                replayed_n = len(Recording.open(replayed).spikes("/padova/spikes")["time_ns"])
            except (RecordingReadError, UnknownTopicError):
                continue
    finally:
        second.send_signal(signal.SIGINT)
        log, _ = second.communicate(timeout=60)
    assert second.returncode == 0, log[-3000:]
    return {"original": original, "replayed": replayed, "nwb": nwb, "export": export, "log": log,
            "n_original": n_original}


def test_the_exported_nwb_file_passes_the_pynwb_validator(runs):
    from pynwb import validate

    assert validate(path=str(runs["nwb"])) == []


def test_replayed_spikes_reach_the_hub_with_the_original_ids_kinds_and_timing(runs):
    from neurohybrid.io.reader import Recording

    orig = Recording.open(runs["original"]).spikes("/padova/spikes")
    rep = Recording.open(runs["replayed"]).spikes("/padova/spikes")
    assert len(rep["time_ns"]) > 100, runs["log"][-2000:]
    ref_ns = runs["export"].session_start_ns
    # the replay's clock offset: replayed time - original time, the same for every event
    first = slice(0, 50)
    cand = (rep["time_ns"][first, None] - orig["time_ns"][None, :])[
        (rep["source_id"][first, None] == orig["source_id"][None, :])]
    values, counts = np.unique(np.round(cand / 1e3).astype(np.int64), return_counts=True)
    shift_ns = int(values[np.argmax(counts)]) * 1000
    # every original event whose replayed time falls in a recorded slice of the new run, and no other
    starts, ends = rep["batch_slice_start_ns"], rep["batch_slice_end_ns"]
    order = np.argsort(starts)
    t_shift = orig["time_ns"] + shift_ns
    k = np.searchsorted(starts[order], t_shift, side="right") - 1
    inside = (k >= 0) & (t_shift < ends[order][np.maximum(k, 0)])
    expected = np.lexsort((orig["kind"][inside], orig["source_id"][inside], t_shift[inside]))
    got = np.lexsort((rep["kind"], rep["source_id"], rep["time_ns"]))
    assert len(got) == len(expected) >= MIN_COVERED * runs["n_original"], runs["log"][-2000:]
    np.testing.assert_array_equal(rep["source_id"][got], orig["source_id"][inside][expected])
    np.testing.assert_array_equal(rep["kind"][got], orig["kind"][inside][expected])
    error_ns = rep["time_ns"][got] - t_shift[inside][expected]
    assert np.abs(error_ns).max() <= TOLERANCE_NS
    # replay start (device time 0) = session start of the NWB file: the first recorded slice of
    # the replay run begins at or after it (1 us slack: NWB stores float seconds)
    replay_start_ns = ref_ns + shift_ns + int(np.median(error_ns))
    assert -1000 <= rep["batch_slice_start_ns"].min() - replay_start_ns <= MAX_DEVICE_START_S * 1e9


def test_stimulation_sent_to_the_replayed_mea_is_refused_and_reported(runs):
    from neurohybrid.io.reader import Recording

    rec = Recording.open(runs["replayed"])
    assert len(rec.stimulation("/padova/stimulation")["electrode"]) > 0
    refusals = rec.refusals("/padova/refusals")
    replay = np.array(["replay: no stimulation possible" in r for r in refusals["reason"]])
    assert replay.sum() > 0 and np.all(refusals["category"][replay] == 0)


def test_nwb_reads_back_to_the_recordings_spike_counts(runs):
    from pynwb import NWBHDF5IO

    from neurohybrid.io.reader import Recording

    rec = Recording.open(runs["original"])
    with NWBHDF5IO(str(runs["nwb"]), "r") as io:
        nwb = io.read()
        bio = len(nwb.units["spike_times"].target.data[:])
        silicon = len(nwb.processing["silicon"]["silicon_units"]["spike_times"].target.data[:])
    assert bio == len(rec.spikes("/padova/spikes")["time_ns"])
    assert silicon == len(rec.spikes("/zurich/spikes")["time_ns"])


def test_the_report_of_the_run_has_every_figure_non_empty_and_in_the_html_page(runs, tmp_path):
    from neurohybrid.analysis.html import FIGURE_ID_PREFIX
    from neurohybrid.analysis.report import FIGURES, REPORT_HTML, REPORT_PNG, make_report

    make_report(runs["original"], tmp_path)
    page = (tmp_path / REPORT_HTML).read_text()
    for name in ["report", *FIGURES]:
        png = (tmp_path / REPORT_PNG) if name == "report" else tmp_path / f"{name}.png"
        assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000, name
        assert f'id="{FIGURE_ID_PREFIX}{name}"' in page and f"({png.name})" in page, name
    assert page.count("data:image/png;base64,") == len(FIGURES) + 1
    assert "<h2>Summary</h2>" in page and "padova" in page
