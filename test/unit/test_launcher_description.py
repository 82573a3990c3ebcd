"""The YAML launch frontend subset: what it accepts and the errors it gives."""

from __future__ import annotations

import textwrap

import pytest

from neurohybrid.launcher.description import (
    LaunchError,
    command_line,
    load_launch_file,
    parse_arguments,
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_args_let_group_namespace_params_remaps_and_env_are_applied(tmp_path, monkeypatch):
    monkeypatch.setenv("NH_TEST_VALUE", "from-env")
    params = write(tmp_path, "p.yaml", "/**:\n  ros__parameters:\n    x: 1\n")
    inner = write(tmp_path, "inner.launch.yaml", """
        launch:
        - arg: {name: who, default: nobody}
        - node:
            pkg: neurohybrid
            exec: relay_node
            name: "relay_$(var who)"
    """)
    main = write(tmp_path, "main.launch.yaml", f"""
        launch:
        - arg: {{name: lab, default: padova}}
        - let: {{name: ns, value: "$(var lab)_ns"}}
        - group:
          - set_env: {{name: NH_X, value: "$(env NH_TEST_VALUE)"}}
          - push_ros_namespace: {{namespace: "$(var ns)"}}
          - node:
              pkg: neurohybrid
              exec: relay_node
              name: relay
              respawn: "true"
              param:
              - {{name: rate_hz, value: 2.5}}
              - {{name: nested.a, value: 1}}
              - {{name: nested.b, value: [1, 2]}}
              - {{from: "{params}"}}
              remap:
              - {{from: in/spike_batch, to: /elsewhere}}
          - include:
              file: "$(dirname)/inner.launch.yaml"
              arg:
              - {{name: who, value: "$(var lab)"}}
        - node: {{pkg: neurohybrid, exec: relay_node, name: top}}
    """)
    specs = load_launch_file(main, {"lab": "zurich"})
    assert [s.label for s in specs] == ["/zurich_ns/relay", "/zurich_ns/relay_zurich", "/top"]
    first = specs[0]
    assert first.respawn is True
    assert ("rate_hz", 2.5) in first.params
    assert ("nested.a", 1) in first.params and ("nested.b", [1, 2]) in first.params
    assert first.param_files == [str(params)]
    assert first.remaps == [("in/spike_batch", "/elsewhere")]
    assert first.env["NH_X"] == "from-env"
    assert specs[1].env["NH_X"] == "from-env"
    assert "NH_X" not in specs[2].env, "set_env inside a group must not leak out"
    cmd = command_line(first)
    assert cmd[cmd.index("--ros-args"):] == [
        "--ros-args", "-r", "__node:=relay", "-r", "__ns:=/zurich_ns", "--params-file", str(params),
        "-p", "rate_hz:=2.5", "-p", "nested.a:=1", "-p", "nested.b:=[1, 2]",
        "-r", "in/spike_batch:=/elsewhere"]


def test_group_in_dict_form_with_children_is_accepted(tmp_path):
    path = write(tmp_path, "g.launch.yaml", """
        launch:
        - group:
            scoped: true
            children:
            - push-ros-namespace: {namespace: a}
            - node: {pkg: neurohybrid, exec: relay_node}
    """)
    assert [s.namespace for s in load_launch_file(path)] == ["/a"]


@pytest.mark.parametrize("body, expected", [
    ("- bogus: {}", "<bogus>: unknown tag"),
    ("- node: {pkg: neurohybrid, exec: relay_node, name: \"$(shout x)\"}", "unknown substitution $(shout)"),
    ("- node: {pkg: neurohybrid, exec: relay_node, name: \"$(var nope)\"}", "$(var nope): launch argument not declared"),
    ("- node: {pkg: neurohybrid}", "<node>: missing attribute(s) exec"),
    ("- node: {pkg: neurohybrid, exec: relay_node, colour: red}", "<node>: unknown attribute(s) colour"),
    ("- arg: {name: needed}", "argument 'needed' has no default"),
    ("- include: {file: missing.launch.yaml}", "launch file not found"),
])
def test_bad_files_are_rejected_naming_file_and_tag(tmp_path, body, expected):
    path = write(tmp_path, "bad.launch.yaml", "launch:\n" + body + "\n")
    with pytest.raises(LaunchError) as info:
        load_launch_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_undeclared_command_line_argument_is_an_error(tmp_path):
    path = write(tmp_path, "a.launch.yaml", "launch:\n- arg: {name: x, default: '1'}\n")
    with pytest.raises(LaunchError, match="not declared by the file: y"):
        load_launch_file(path, {"y": "2"})


def test_arguments_must_use_colon_equals():
    assert parse_arguments(["a:=1", "b:=x:=y"]) == {"a": "1", "b": "x:=y"}
    with pytest.raises(LaunchError, match="name:=value"):
        parse_arguments(["a=1"])


def test_unknown_executable_is_named(tmp_path):
    path = write(tmp_path, "x.launch.yaml", "launch:\n- node: {pkg: neurohybrid, exec: no_such_node}\n")
    (spec,) = load_launch_file(path)
    with pytest.raises(LaunchError, match="executable 'no_such_node' not found"):
        command_line(spec)


def test_an_empty_substituted_parameter_stays_an_empty_string(tmp_path):
    path = write(tmp_path, "e.launch.yaml", """
        launch:
        - arg: {name: f, default: ""}
        - node:
            pkg: neurohybrid
            exec: relay_node
            param:
            - {name: replay_file, value: "$(var f)"}
    """)
    (spec,) = load_launch_file(path)
    assert spec.params == [("replay_file", "")]
    assert command_line(spec)[-2:] == ["-p", "replay_file:=''"]
