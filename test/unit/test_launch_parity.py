"""One semantics, two runners: every launch file starts the same graph under our runner and under
stock ROS 2 ``launch`` (executables, node names, namespaces, resolved parameters, remaps,
environment, which conditional actions fire). Nothing is started: both sides are planned."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from neurohybrid.launcher import stock
from neurohybrid.launcher.description import plan
from neurohybrid.launcher.substitutions import find_pkg_share

pytestmark = pytest.mark.skipif(stock.missing() is not None, reason=stock.missing() or "")

LAUNCH = Path(find_pkg_share("neurohybrid")) / "launch"
CONFIG = Path(find_pkg_share("neurohybrid")) / "config"


def _cases(tmp: Path) -> dict[str, list[dict[str, str]]]:
    remote = {"hub_address": "127.0.0.1", "certs_dir": str(tmp / "certs")}
    replay = {"backend": "replay", "replay_file": str(tmp / "run.nwb"), "replay_speed": "2.5"}
    return {
        "padova.launch.yaml": [{}, remote, {**remote, "profile": str(tmp / "p.xml")}, replay,
                               {"hub_address": "", "certs_dir": str(tmp)}],
        "zurich.launch.yaml": [{}, remote, replay, {"drive_neurons": "[0, 3]", "drive_phase_s": "[1.5, 2.0]",
                                                    "drive_rate_hz": "[40.0, 2.0]"}],
        "southampton.launch.yaml": [{}, remote, {**remote, "server_profile": str(tmp / "s.xml")},
                                    {"rule": "stdp"}, {"hub_address": "hub.example.org", "certs_dir": str(tmp)}],
        "virtual_lab.launch.yaml": [{}, {"output": str(tmp / "r.mcap"), "drive_phase_s": "[5.0, 5.0]",
                                         "drive_rate_hz": "[40.0, 2.0]", "rule": "stdp"},
                                    {"slice_s": "0.001"},
                                    {"live": "true"},
                                    {"live": "true", "live_host": "0.0.0.0", "live_port": "0", "live_ws_port": "9000"},
                                    {"padova_config": str(CONFIG / "padova_full.yaml"), "zurich_config": str(CONFIG / "zurich_full.yaml")}],
        "virtual_lab_full.launch.yaml": [{}, {"output": str(tmp / "r.mcap"), "slice_s": "0.002", "live": "true"}],
        "neurorobot.launch.yaml": [{}, {"robot": "false", "robot_ns": "/tb3", "record": "false"},
                                   {"output": str(tmp / "r.mcap")},
                                   {"coding": "log", "tetanus": "true", "baseline_s": "2.0", "mea_watchdog_s": "0.3"}],
        "neurorobot_board.launch.yaml": [{}, {"robot": "false", "robot_ns": "/tb3", "record": "false"},
                                         {"output": str(tmp / "r.mcap"), "coding": "log", "tetanus": "true"},
                                         {"zurich_config": str(CONFIG / "zurich_full.yaml"), "baseline_s": "2.0"}],
        "neurorobot_hybrid.launch.yaml": [{}, {"robot": "false", "robot_ns": "/tb3", "record": "false"},
                                          {"output": str(tmp / "r.mcap"), "rule": "stdp", "tetanus": "true",
                                           "coding": "log", "mea_watchdog_s": "0.3"},
                                          {"connectivity": str(CONFIG / "connectivity/three_neuron.yaml"),
                                           "padova_config": str(CONFIG / "padova_full.yaml"),
                                           "zurich_config": str(CONFIG / "zurich_full.yaml"), "baseline_s": "2.0"}],
    }


def _same(path: Path, arguments: dict[str, str]) -> None:
    ours = [p.as_dict() for p in plan(path, arguments)]
    theirs = [p.as_dict() for p in stock.plan(path, arguments)]
    assert [p["name"] for p in ours] == [p["name"] for p in theirs], "different processes start"
    for mine, other in zip(ours, theirs):
        assert mine == other, f"{mine['namespace']}/{mine['name']} differs"


def test_every_launch_file_of_the_package_has_parity_cases(tmp_path):
    assert sorted(p.name for p in LAUNCH.glob("*.launch.yaml")) == sorted(_cases(tmp_path))


@pytest.mark.parametrize("name, index", [(n, i) for n, c in _cases(Path("/tmp")).items() for i in range(len(c))])
def test_package_launch_file_starts_the_same_graph_under_both_runners(tmp_path, name, index):
    _same(LAUNCH / name, _cases(tmp_path)[name][index])


def test_remote_lab_files_start_their_node_in_the_lab_namespace_under_both(tmp_path):
    remote = {"hub_address": "127.0.0.1", "certs_dir": str(tmp_path)}
    for runner in (plan, stock.plan):
        labels = [p.label for p in runner(LAUNCH / "southampton.launch.yaml", remote)]
        assert labels == ["/discovery_server", "/southampton/hub"]
        local = runner(LAUNCH / "padova.launch.yaml", {})
        assert [p.label for p in local] == ["/mea"] and "FASTDDS_DEFAULT_PROFILES_FILE" not in local[0].environment


#: Every construct our runner supports, each in a form both runners read alike.
CONSTRUCTS = """
    launch:
    - arg: {name: lab, default: zurich}
    - arg: {name: flag, default: "true"}
    - arg: {name: empty, default: ""}
    - arg: {name: rate, default: "2.5"}
    - let: {name: is_set, value: "$(not-equals 'x$(var empty)' 'x')"}
    - let: {name: lab_ns, value: "site_$(var lab)"}
    - set_env: {name: NH_PARITY_A, value: "a-$(var lab)"}
    - set_env: {if: "$(var is_set)", name: NH_PARITY_NEVER, value: "1"}
    - set_env: {unless: "$(equals $(var rate) 2.50)", name: NH_PARITY_NUMERIC, value: "1"}
    - executable:
        cmd: "echo hello $(var lab)"
        name: greeter
        env: [{name: NH_PARITY_EXEC, value: "$(var flag)"}]
    - group:
      - push_ros_namespace: {namespace: "$(var lab_ns)"}
      - node:
          pkg: neurohybrid
          exec: relay_node
          name: relay
          namespace: inner
          param:
          - {from: "$(find-pkg-share neurohybrid)/config/zurich.yaml"}
          - {name: period_s, value: "$(var rate)"}
          - {name: nested.a, value: 1}
          - {name: nested.b, value: [1.5, 2.5]}
          - {name: words, value: ["a", "3", "$(var lab)"]}
          - {name: quoted_number, value: "-1"}
          - {name: typed_number, value: "$(var rate)"}
          - {name: text, value: "$(var empty)"}
          - {name: flag, value: "$(var flag)"}
          remap:
          - {from: spikes_in, to: "/$(var lab)/spikes"}
          env: [{name: NH_PARITY_NODE, value: "n"}]
      - node: {pkg: neurohybrid, exec: relay_node, name: only_if, if: "$(var flag)"}
      - node: {pkg: neurohybrid, exec: relay_node, name: only_unless, unless: "$(var flag)"}
    - include:
        file: "$(dirname)/inner.launch.yaml"
        arg: [{name: who, value: "$(var lab)"}]
    - node: {pkg: neurohybrid, exec: relay_node, name: after_include}
"""

INNER = """
    launch:
    - arg: {name: who}
    - push_ros_namespace: {namespace: "$(var who)"}
    - set_env: {name: NH_PARITY_INNER, value: "$(var who)"}
    - node: {pkg: neurohybrid, exec: relay_node, name: "relay_$(var who)"}
"""


@pytest.mark.parametrize("arguments", [{}, {"flag": "false", "lab": "padova"}, {"empty": "set", "rate": "0.25"},
                                       {"flag": "1"}, {"flag": "0"}])
def test_every_supported_construct_means_the_same_under_both_runners(tmp_path, arguments):
    main = tmp_path / "constructs.launch.yaml"
    main.write_text(textwrap.dedent(CONSTRUCTS))
    (tmp_path / "inner.launch.yaml").write_text(textwrap.dedent(INNER))
    _same(main, arguments)
    assert len(plan(main, arguments)) == 5


@pytest.mark.parametrize("value", ["[1.5, 2]", '"$(var mixed)"', '["a", "$(var number)"]', '"$(var mapping)"',
                                   '"$(var null)"', "{a: 1}"])
def test_a_parameter_value_stock_launch_refuses_is_refused_by_ours_too(tmp_path, value):
    from neurohybrid.launcher.description import LaunchError

    path = tmp_path / "bad.launch.yaml"
    path.write_text(textwrap.dedent(f"""
        launch:
        - arg: {{name: mixed, default: "[1.5, 2]"}}
        - arg: {{name: number, default: "3"}}
        - arg: {{name: mapping, default: "{{a: 1}}"}}
        - arg: {{name: "null", default: "null"}}
        - node: {{pkg: neurohybrid, exec: relay_node, name: n, param: [{{name: p, value: {value}}}]}}
    """))
    with pytest.raises(Exception):
        stock.plan(path, {})
    with pytest.raises(LaunchError, match=r"bad.launch.yaml: <node/param>: p: "):
        plan(path, {})
