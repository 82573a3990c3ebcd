"""neurorobot.launch.yaml: the culture, the robot twin and the interface, with the robot's
topics remapped into its namespace (or to an external robot)."""

from pathlib import Path

from neurohybrid.launcher.description import command_line, load_launch_file
from neurohybrid.launcher.substitutions import find_pkg_share

LAUNCH = Path(find_pkg_share("neurohybrid")) / "launch" / "neurorobot.launch.yaml"


def test_neurorobot_launch_starts_culture_robot_and_interface():
    specs = load_launch_file(LAUNCH)
    assert [s.label for s in specs] == ["/padova/mea", "/robot/robot", "/neurorobot", "/recorder"]
    for spec in specs:
        assert Path(command_line(spec)[0]).exists()
    brain = specs[2]
    assert ("scan", "/robot/scan") in brain.remaps and ("cmd_vel", "/robot/cmd_vel") in brain.remaps
    assert ("spikes", "/padova/spikes") in brain.remaps


def test_external_robot_by_remapping():
    specs = load_launch_file(LAUNCH, {"robot": "false", "robot_ns": "/tb3_0", "record": "false"})
    assert [s.label for s in specs] == ["/padova/mea", "/neurorobot"]
    assert ("cmd_vel", "/tb3_0/cmd_vel") in specs[-1].remaps


BOARD = LAUNCH.with_name("neurorobot_board.launch.yaml")
HYBRID = LAUNCH.with_name("neurorobot_hybrid.launch.yaml")


def _params(spec) -> dict:
    """The node's parameters set by name (``from`` files excluded)."""
    return dict(spec.params)


def test_board_launch_drives_the_robot_from_silicon_input_neurons():
    from neurohybrid.neurorobot.loop import WIRING

    specs = load_launch_file(BOARD)
    assert [s.label for s in specs] == ["/zurich/board", "/robot/robot", "/neurorobot", "/recorder"]
    brain = specs[2]
    assert ("weighted_events", "/zurich/weighted_events") in brain.remaps
    assert ("spikes", "/zurich/spikes") in brain.remaps and ("scan", "/robot/scan") in brain.remaps
    p = _params(brain)
    assert p["target"] == "board" and p["input_neurons"] == [2, 3, 4, 5]
    wiring = WIRING["board"]["decoder"]  # the simulated loop measures the same wiring
    assert {k: p[k] for k in wiring} == wiring
    assert [s.label for s in load_launch_file(BOARD, {"robot": "false", "record": "false"})] == \
        ["/zurich/board", "/neurorobot"]


def test_hybrid_launch_starts_the_three_labs_robot_and_interface():
    from neurohybrid.hub.connectivity import load_connectivity
    from neurohybrid.neurorobot.loop import WIRING

    specs = load_launch_file(HYBRID)
    assert [s.label for s in specs] == ["/southampton/hub", "/padova/mea", "/zurich/board", "/robot/robot",
                                        "/neurorobot", "/recorder"]
    hub, mea, board, _, brain, _ = specs
    assert ("/padova/stimulation", "/padova/hub_stimulation") in hub.remaps  # one stimulation stream into the MEA
    assert ("stimulation", "/padova/stimulation") in brain.remaps and ("spikes", "/zurich/spikes") in brain.remaps
    p = _params(brain)
    assert p["target"] == "mea"
    wiring = WIRING["hybrid"]
    assert {k: p[k] for k in wiring["decoder"]} == wiring["decoder"]
    assert _params(board)["quiet_neurons"] == list(wiring["board"]["quiet_neurons"])
    # the decoder's populations are exactly the board neurons the culture's electrodes reach
    conn = load_connectivity(_params(hub)["connectivity_file"])
    posts = {int(i) for i in conn.post_id}
    assert posts == set(wiring["decoder"]["right_group"]) | set(wiring["decoder"]["left_group"])
    assert {int(i) for i in conn.pre_id} == {48, 49, 8, 9}
    assert conn.plastic.all()
