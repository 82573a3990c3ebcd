"""The virtual lab under stock ``ros2 launch``, inspected and operated with the stock ROS 2 CLI, as
a user on a ROS 2 install would: node and topic lists, echo and hz of every stream, lifecycle
transitions, read-only parameters, memristor services, ``ros2 run``."""

from __future__ import annotations

import re
import signal

import pytest

from neurohybrid.testing import ros2cli
from neurohybrid.testing.graph import wait_for
from neurohybrid.testing.ros2cli import Ros2Process, ros2

pytestmark = [pytest.mark.graph, pytest.mark.slow,
              pytest.mark.skipif(ros2cli.missing() is not None, reason=ros2cli.missing() or "")]

LAB_NODES = {"/padova/mea", "/zurich/board", "/southampton/hub", "/recorder"}
#: Each device node exchanges clock stamps from a helper node of its own (nodes/clock_link.py).
CLOCK_HELPERS = {"/padova/mea_clock", "/zurich/board_clock", "/southampton/hub_clock"}
STREAMS = {
    "/padova/spikes": "neurohybrid/msg/SpikeBatch",
    "/zurich/spikes": "neurohybrid/msg/SpikeBatch",
    "/zurich/weighted_events": "neurohybrid/msg/WeightedEventBatch",
    "/padova/stimulation": "neurohybrid/msg/StimulationCommand",
    "/southampton/synapse_states": "neurohybrid/msg/SynapseStates",
    "/southampton/plasticity": "neurohybrid/msg/PlasticityEvent",
    "/padova/link_status": "neurohybrid/msg/LinkStatus",
    "/zurich/link_status": "neurohybrid/msg/LinkStatus",
    "/padova/refusals": "neurohybrid/msg/Refusal",
    "/zurich/refusals": "neurohybrid/msg/Refusal",
    "/southampton/refusals": "neurohybrid/msg/Refusal",
}
#: A field each stream's echo must show, with the value it must have where it is fixed.
ECHO_FIELDS = {
    "neurohybrid/msg/SpikeBatch": r"clock_domain: padova",
    "neurohybrid/msg/WeightedEventBatch": r"clock_domain: southampton",
    "neurohybrid/msg/StimulationCommand": r"clock_domain: southampton",
    "neurohybrid/msg/SynapseStates": r"resistance_ohm:",
    "neurohybrid/msg/PlasticityEvent": r"rule: rate",
    "neurohybrid/msg/LinkStatus": r"lab: zurich",
    "neurohybrid/msg/Refusal": r"reason: ",
}
ECHOED = {"/padova/spikes", "/zurich/weighted_events", "/padova/stimulation", "/southampton/synapse_states",
          "/southampton/plasticity", "/zurich/link_status", "/padova/refusals"}
PERIOD_S = 0.01  # config/padova.yaml, config/zurich.yaml


def _node_list() -> set[str]:
    return set(ros2("node", "list").stdout.split())


@pytest.fixture(scope="module")
def stock_lab(tmp_path_factory):
    """The virtual lab started with ``ros2 launch neurohybrid virtual_lab.launch.yaml``."""
    out = tmp_path_factory.mktemp("stock_lab")
    launch = Ros2Process(["launch", "neurohybrid", "virtual_lab.launch.yaml", f"output:={out / 'lab.mcap'}"],
                         out / "launch.log", cwd=out)
    try:
        wait_for(lambda: LAB_NODES | CLOCK_HELPERS <= _node_list(), 60, what="the lab's nodes in `ros2 node list`")
        wait_for(lambda: "link to /southampton up" in launch.text() and "recording /zurich/spikes" in launch.text(),
                 60, what="both labs linked to the hub and the recorder recording")
        yield launch
    finally:
        launch.stop()
        ros2cli.stop_daemon()


def test_node_list_shows_exactly_the_lab_nodes(stock_lab):
    assert _node_list() == LAB_NODES | CLOCK_HELPERS


def test_topic_list_shows_every_topic_once_with_its_type(stock_lab):
    lines = ros2("topic", "list", "-t").stdout.split("\n")
    pairs = [re.fullmatch(r"(\S+) \[(\S+)\]", line).groups() for line in lines if line.strip()]
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names)), f"a topic is listed twice: {names}"
    assert not [n for n in names if re.match(r"/(padova|zurich|southampton)/\1/", n)], names
    listed = dict(pairs)
    for topic, type_name in STREAMS.items():
        assert listed.get(topic) == type_name, f"{topic}: {listed.get(topic)!r}"


def test_topic_echo_once_decodes_every_stream_type(stock_lab, tmp_path):
    echoes = {topic: Ros2Process(["topic", "echo", "--once", topic, STREAMS[topic]], tmp_path / f"{i}.log")
              for i, topic in enumerate(sorted(ECHOED))}
    for topic, echo in echoes.items():
        code = echo.wait(90)
        text = echo.text()
        assert code == 0, f"{topic}: {text[-2000:]}"
        assert re.search(ECHO_FIELDS[STREAMS[topic]], text), f"{topic}: {text[:2000]}"
        assert re.search(r"stamp:\s+sec: \d+", text), f"{topic}: no header stamp"


def test_topic_hz_of_both_spike_streams_is_the_configured_rate(stock_lab, tmp_path):
    hz = {topic: Ros2Process(["topic", "hz", "--window", "200", topic], tmp_path / f"hz{i}.log")
          for i, topic in enumerate(("/padova/spikes", "/zurich/spikes"))}
    try:
        wait_for(lambda: all(len(re.findall(r"average rate", p.text())) >= 4 for p in hz.values()), 60,
                 what="four rate reports of each spike stream")
    finally:  # both stopped before any assertion, so a failure leaks no process
        for proc in hz.values():
            proc.stop()
    for topic, proc in hz.items():
        rate = float(re.findall(r"average rate: ([\d.]+)", proc.text())[-1])
        assert rate == pytest.approx(1.0 / PERIOD_S, rel=0.10), f"{topic}: {rate} Hz"


def test_lifecycle_deactivate_puts_the_mea_in_its_safe_state_and_activate_resumes(stock_lab, tmp_path):
    assert "active [3]" in ros2("lifecycle", "get", "/padova/mea").stdout
    out = ros2("lifecycle", "set", "/padova/mea", "deactivate").stdout
    assert "Transitioning successful" in out, out
    assert "inactive [2]" in ros2("lifecycle", "get", "/padova/mea").stdout
    # no spikes while inactive; the hub's stimulation is refused, never delivered
    spikes = Ros2Process(["topic", "echo", "/padova/spikes", "neurohybrid/msg/SpikeBatch", "--field", "seq"],
                         tmp_path / "spikes.log")
    refusals = Ros2Process(["topic", "echo", "/padova/refusals", "neurohybrid/msg/Refusal", "--field", "reason"],
                           tmp_path / "refusals.log")
    wait_for(lambda: "is not active" in refusals.text(), 30, what="stimulation refused while inactive")
    assert not re.search(r"^\d+$", spikes.text(), re.M), "spikes published while inactive"
    out = ros2("lifecycle", "set", "/padova/mea", "activate").stdout
    assert "Transitioning successful" in out, out
    wait_for(lambda: len(re.findall(r"^\d+$", spikes.text(), re.M)) >= 10, 30, what="spikes after activate")
    spikes.stop()
    refusals.stop()
    assert "active [3]" in ros2("lifecycle", "get", "/padova/mea").stdout


def test_param_get_works_and_setting_a_read_only_parameter_is_refused_with_a_reason(stock_lab):
    assert "Integer value is: 1000" in ros2("param", "get", "/padova/mea", "n_neurons").stdout
    names = ros2("param", "list", "/zurich/board").stdout
    assert "neurons_per_core" in names and "late_policy" in names
    out = ros2("param", "set", "/padova/mea", "n_neurons", "500").stdout
    assert "Setting parameter failed" in out and "read-only" in out, out
    assert "Integer value is: 1000" in ros2("param", "get", "/padova/mea", "n_neurons").stdout


def _resistance(text: str) -> float:
    return float(re.search(r"resistance_ohm=([\d.e+-]+)", text).group(1))


def test_programming_beyond_the_limits_is_refused_and_leaves_r_unchanged(stock_lab):
    read = ["service", "call", "/southampton/read_memristor", "neurohybrid/srv/ReadMemristor",
            "{wordline: 7, bitline: 9}"]
    before = _resistance(ros2(*read).stdout)
    out = ros2("service", "call", "/southampton/program_memristor", "neurohybrid/srv/ProgramMemristor",
               "{wordline: 7, bitline: 9, amplitude_v: 12.0, width_s: 0.0001, count: 1}").stdout
    assert "success=False" in out and "12.0" in out and "5.0" in out, out
    assert _resistance(ros2(*read).stdout) == pytest.approx(before, rel=0.03)  # 0.5 % read noise only
    # the same device does move when programmed within the limits (so the check above can fail)
    out = ros2("service", "call", "/southampton/program_memristor", "neurohybrid/srv/ProgramMemristor",
               "{wordline: 7, bitline: 9, amplitude_v: 4.0, width_s: 0.0001, count: 20}").stdout
    assert "success=True" in out, out
    assert _resistance(ros2(*read).stdout) > before * 1.03


def test_interface_show_prints_our_message_definitions(stock_lab):
    text = ros2("interface", "show", "neurohybrid/msg/SpikeBatch").stdout
    assert "uint32[] source_id" in text and "int64[] time_ns" in text, text


def test_ros2_run_starts_a_working_mea_node(tmp_path):
    mea = Ros2Process(["run", "neurohybrid", "mea_node", "--ros-args", "-r", "__ns:=/solo", "-p", "n_neurons:=500"],
                      tmp_path / "mea.log")
    try:
        wait_for(lambda: "configured solo" in mea.text() or "configured padova/mea" in mea.text(), 60,
                 what="the node configured")
        echo = ros2("topic", "echo", "--once", "/solo/spikes", "neurohybrid/msg/SpikeBatch", timeout_s=60)
        assert "clock_domain: padova" in echo.stdout, echo.stdout[-2000:]
        assert "Integer value is: 500" in ros2("param", "get", "/solo/mea", "n_neurons").stdout
    finally:
        mea.signal(signal.SIGINT, group=True)  # Ctrl-C in the terminal: `ros2 run` waits for its node
        code = mea.wait()
        ros2cli.stop_daemon()
    assert code == 0, mea.text()[-3000:]
    assert not ros2cli.unclean_lines(mea.text()), mea.text()[-3000:]
