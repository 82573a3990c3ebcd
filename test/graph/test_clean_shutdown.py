"""Ctrl-C ends every node cleanly, under both runners: exit code 0, no traceback, no FATAL/ERROR
line, no "process has died", the recording closed with its summary and index. Also when SIGINT
arrives twice (a terminal's Ctrl-C reaches the whole process group and the launcher forwards it),
on SIGTERM, and while a numba kernel is running."""

from __future__ import annotations

import re
import signal
import sys
from pathlib import Path

import psutil
import pytest

from neurohybrid.testing import ros2cli
from neurohybrid.testing.graph import NodeProcess, wait_for
from neurohybrid.testing.ros2cli import Ros2Process

pytestmark = [pytest.mark.graph, pytest.mark.slow]

RUNNERS = {
    "stock": lambda *args: ["ros2", "launch", "neurohybrid", "virtual_lab.launch.yaml", *args],
    "ours": lambda *args: [sys.executable, "-m", "neurohybrid", "launch", "--runner", "ours",
                           "virtual_lab.launch.yaml", *args],
}
LAB_NODES = ("hub_node", "mea_node", "board_node", "recorder_node")
#: Every topic of the virtual lab the recorder must record (all of this package's types).
RECORDED = {f"/{lab}/{topic}" for lab in ("padova", "zurich", "southampton") for topic in ("refusals",)} | {
    "/padova/spikes", "/zurich/spikes", "/padova/stimulation", "/zurich/weighted_events",
    "/southampton/synapse_states", "/southampton/plasticity", "/padova/link_status", "/zurich/link_status"}
#: The topics that must hold messages when the lab is stopped (both labs stream from activation).
SPIKES = {"/padova/spikes", "/zurich/spikes"}


def _skip_without(runner: str) -> None:
    if runner == "stock" and ros2cli.missing():
        pytest.skip(ros2cli.missing())


def _run_lab(runner: str, tmp_path: Path) -> tuple[Ros2Process, Path]:
    """The virtual lab under ``runner``, once every node streams (links up, recorder recording)."""
    recording = tmp_path / f"{runner}.mcap"
    lab = Ros2Process([], tmp_path / f"{runner}.log", cwd=tmp_path,
                      command=RUNNERS[runner](f"output:={recording}"))
    try:
        wait_for(lambda: lab.text().count("link to /southampton up") >= 2 and RECORDED <= _subscribed(lab.text())
                 and SPIKES <= _heard(lab.text()), 60, what=f"the virtual lab streaming, every topic recorded ({lab.log})")
    except TimeoutError:
        lab.stop()
        raise
    return lab, recording


def _heard(log: str) -> set[str]:
    """The topics whose first message the recorder logged it wrote."""
    return set(re.findall(r"\[recorder\]: first message on (\S+)", log))


def _subscribed(log: str) -> set[str]:
    """The topics the recorder logged it records."""
    return set(re.findall(r"\[recorder\]: recording (\S+) \[", log))


def _assert_stopped_cleanly(runner: str, lab: Ros2Process, code: int) -> None:
    text = lab.text()
    assert code == 0, text[-3000:]
    assert not ros2cli.unclean_lines(text), "\n".join(ros2cli.unclean_lines(text))
    assert len(re.findall(r"\]: SIG(INT|TERM): stopping", text)) == len(LAB_NODES), text[-3000:]
    if runner == "stock":
        assert text.count("process has finished cleanly") == len(LAB_NODES), text[-3000:]
    else:
        assert "all nodes stopped" in text


def _recorded_topics(recording: Path) -> set[str]:
    """The topics of a recording that has its summary and index (a clean close), which held messages."""
    from mcap.reader import make_reader

    with open(recording, "rb") as f:
        summary = make_reader(f).get_summary()
    assert summary is not None, f"{recording}: no summary section (not closed cleanly)"
    assert summary.chunk_indexes, f"{recording}: no chunk index"
    return {channel.topic for channel in summary.channels.values()}


def test_sigint_stops_every_node_cleanly_and_both_runners_record_the_same_topics(tmp_path):
    topics = {}
    for runner in ("ours", "stock"):
        if runner == "stock" and ros2cli.missing():
            continue
        lab, recording = _run_lab(runner, tmp_path)
        with lab:
            lab.signal(signal.SIGINT)
            _assert_stopped_cleanly(runner, lab, lab.wait())
        topics[runner] = _subscribed(lab.text())
        written = _recorded_topics(recording)
        assert SPIKES <= written <= topics[runner]
    assert topics["ours"] == RECORDED
    _skip_without("stock")
    assert topics["stock"] == topics["ours"]


@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize("how", ["sigterm", "ctrl_c_twice"])
def test_sigterm_and_a_double_ctrl_c_stop_every_node_cleanly(tmp_path, runner, how):
    _skip_without(runner)
    lab, recording = _run_lab(runner, tmp_path)
    with lab:
        _stop(lab, runner, how)
        code = lab.wait()
        _assert_stopped_cleanly(runner, lab, code)
    _recorded_topics(recording)


def _stop(lab: Ros2Process, runner: str, how: str) -> None:
    if how == "sigterm" and runner == "stock":
        # stock launch itself cancels on SIGTERM and orphans its processes (it says so); what
        # reaches the nodes is its own escalation SIGINT -> SIGTERM, or a `kill`: SIGTERM them
        for proc in psutil.Process(lab.proc.pid).children(recursive=True):
            if proc.name().endswith("_node"):
                proc.send_signal(signal.SIGTERM)
    elif how == "sigterm":
        lab.signal(signal.SIGTERM)
    else:  # the terminal's SIGINT reaches the whole group; then the user presses Ctrl-C again
        lab.signal(signal.SIGINT, group=True)
        lab.signal(signal.SIGINT, group=True)


@pytest.mark.parametrize("signals", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM,)],
                         ids=["sigint_twice", "sigterm"])
@pytest.mark.parametrize("node, args", [
    # 16,384 DPI neurons at 0.1 ms steps: the board kernel runs nearly all the time
    ("board_node", ["-p", "n_chips:=16", "-p", "background_rate_hz:=20.0"]),
    # 1,024 channels at 25 kHz through the detector kernel
    ("mea_node", ["-p", "layout:=grid", "-p", "n_channels:=1024", "-p", "n_neurons:=5000"]),
], ids=["board", "mea"])
def test_a_node_stops_cleanly_on_a_signal_while_its_kernel_runs(tmp_path, node, args, signals):
    proc = NodeProcess(node, ["--ros-args", *args], tmp_path / f"{node}.log")
    try:
        wait_for(lambda: "configured" in proc.output(), 120, what=f"{node} configured")
        ps = psutil.Process(proc.proc.pid)
        wait_for(lambda: ps.cpu_percent(interval=0.5) > 80.0, 60, what=f"{node} computing flat out")
        for signum in signals:  # twice: the terminal's Ctrl-C and the launcher's
            proc.proc.send_signal(signum)
        code = proc.proc.wait(60)
    finally:
        proc.stop()
    text = proc.output()
    assert code == 0, text[-3000:]
    assert f"{signal.Signals(signals[0]).name}: stopping" in text
    assert not ros2cli.unclean_lines(text), "\n".join(ros2cli.unclean_lines(text))
