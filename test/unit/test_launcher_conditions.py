"""``if``/``unless`` on launch actions, the ``executable`` action, ``$(equals)``/``$(not-equals)``, and
the lab launch files' cross-site arguments (with the ``transport-profile`` command they rely on)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.launcher.description import LaunchError, command_line, load_launch_file
from neurohybrid.launcher.substitutions import SubstitutionError, find_pkg_share, substitute
from neurohybrid.transport import site

LAUNCH = Path(find_pkg_share("neurohybrid")) / "launch"


def write(tmp_path, text, name="main.launch.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def labels(path, **arguments):
    return [s.label for s in load_launch_file(path, arguments)]


CONDITIONAL = """
    launch:
    - arg: {name: enabled, default: "true"}
    - node: {pkg: neurohybrid, exec: relay_node, name: when_on, if: "$(var enabled)"}
    - node: {pkg: neurohybrid, exec: relay_node, name: when_off, unless: "$(var enabled)"}
    - node: {pkg: neurohybrid, exec: relay_node, name: always}
"""


@pytest.mark.parametrize("value, expected", [
    ("true", ["/when_on", "/always"]), ("1", ["/when_on", "/always"]), ("TRUE", ["/when_on", "/always"]),
    ("false", ["/when_off", "/always"]), ("0", ["/when_off", "/always"]),
])
def test_if_keeps_and_unless_skips_an_action_by_its_substituted_value(tmp_path, value, expected):
    assert labels(write(tmp_path, CONDITIONAL), enabled=value) == expected


def test_conditions_apply_to_set_env_group_include_and_namespace(tmp_path):
    write(tmp_path, """
        launch:
        - node: {pkg: neurohybrid, exec: relay_node, name: inner}
    """, "inner.launch.yaml")
    path = write(tmp_path, """
        launch:
        - arg: {name: enabled, default: "false"}
        - set_env: {if: "$(var enabled)", name: NH_FLAG, value: "set"}
        - push_ros_namespace: {if: "$(var enabled)", namespace: lab}
        - group: {if: "$(var enabled)", children: [{node: {pkg: neurohybrid, exec: relay_node, name: grouped}}]}
        - include: {unless: "$(var enabled)", file: "$(dirname)/inner.launch.yaml"}
        - node: {pkg: neurohybrid, exec: relay_node, name: last}
    """)
    off = load_launch_file(path)
    assert [s.label for s in off] == ["/inner", "/last"]
    assert all("NH_FLAG" not in s.env for s in off)
    on = load_launch_file(path, {"enabled": "1"})
    assert [s.label for s in on] == ["/lab/grouped", "/lab/last"]
    assert all(s.env["NH_FLAG"] == "set" for s in on)


@pytest.mark.parametrize("value", ["yes", "", "maybe", "127.0.0.1"])
def test_a_condition_that_is_not_true_1_false_0_is_an_error_naming_file_and_tag(tmp_path, value):
    path = write(tmp_path, CONDITIONAL)
    with pytest.raises(LaunchError, match=rf"{path}: <node>: if=.*resolved to '{value.lower()}'"):
        load_launch_file(path, {"enabled": value})


def test_if_and_unless_together_are_an_error(tmp_path):
    path = write(tmp_path, """
        launch:
        - set_env: {if: "true", unless: "false", name: A, value: b}
    """)
    with pytest.raises(LaunchError, match=r"<set_env>: give either 'if' or 'unless'"):
        load_launch_file(path)


def test_executable_runs_a_command_from_path_supervised_like_a_node(tmp_path):
    path = write(tmp_path, """
        launch:
        - arg: {name: seconds, default: "5"}
        - set_env: {name: NH_SCOPE, value: outer}
        - executable:
            cmd: "sleep '$(var seconds)'"
            name: sleeper
            output: screen
            respawn: "true"
            respawn_delay: 0.5
            env:
            - {name: NH_OWN, value: mine}
    """)
    spec, = load_launch_file(path, {"seconds": "7"})
    assert spec.label == "/sleeper"
    assert spec.env == {"NH_SCOPE": "outer", "NH_OWN": "mine"}
    assert spec.respawn and spec.respawn_delay_s == 0.5
    cmd = command_line(spec)
    assert Path(cmd[0]).name == "sleep" and Path(cmd[0]).is_absolute() and cmd[1:] == ["7"]


@pytest.mark.parametrize("body, expected", [
    ("{cmd: no-such-command-nh --x}", r"<executable>: command 'no-such-command-nh' not found on PATH"),
    ("{name: x}", r"<executable>: missing attribute\(s\) cmd"),
    ("{cmd: ls, shell: true}", r"<executable>: unknown attribute\(s\) shell"),
    ('{cmd: "  "}', r"<executable>: cmd is empty"),
    ("{cmd: \"echo 'open\"}", r"<executable>: cmd .*No closing quotation"),
])
def test_bad_executables_are_errors_naming_file_and_tag(tmp_path, body, expected):
    path = write(tmp_path, f"launch:\n- executable: {body}\n")
    with pytest.raises(LaunchError, match=rf"{path}: {expected}"):
        for spec in load_launch_file(path):
            command_line(spec)


@pytest.mark.parametrize("text, expected", [
    ("$(equals a a)", "true"), ("$(equals a b)", "false"), ("$(not-equals 'x$(var e)' 'x')", "false"),
    ("$(not-equals 'x$(var h)' 'x')", "true"), ("$(equals \"x\" x)", "true"), ("$(equals '$(var e)' b)", "false"),
    # as stock launch compares: booleans by truth, numbers by value
    ("$(equals true 1)", "true"), ("$(equals False 0)", "true"), ("$(equals 1.0 1)", "true"),
    ("$(equals 0.1 0.10000000001)", "true"), ("$(not-equals 2 2.5)", "true"), ("$(equals 01 x1)", "false"),
])
def test_equals_and_not_equals_compare_quoted_arguments(text, expected):
    assert substitute(text, {"h": "203.0.113.7", "e": ""}, ".") == expected


def test_equals_needs_two_arguments():
    with pytest.raises(SubstitutionError, match=r"\$\(not-equals A B\) takes two arguments"):
        substitute("$(not-equals a)", {}, ".")


@pytest.mark.parametrize("text", ["$(not-equals '$(var h)' '')", "$(equals '' '')", '$(equals "" a)',
                                  "prefix $(equals a $(not-equals '' b))"])
def test_a_quoted_empty_argument_is_refused_because_stock_launch_reads_it_as_brackets(text):
    with pytest.raises(SubstitutionError, match=r"quoted empty argument reads as '\[\]'.*'x\$\(var a\)' 'x'"):
        substitute(text, {"h": ""}, ".")


# -- the lab launch files across sites ---------------------------------------------------------

LAB_NODES = {"padova": "mea", "zurich": "board", "southampton": "hub"}


@pytest.mark.parametrize("lab", sorted(LAB_NODES))
def test_lab_launch_files_are_unchanged_without_a_hub_address(lab):
    spec, = load_launch_file(LAUNCH / f"{lab}.launch.yaml")
    assert spec.label == f"/{LAB_NODES[lab]}"
    assert spec.env == {}


@pytest.mark.parametrize("lab", sorted(LAB_NODES))
def test_a_hub_address_puts_the_lab_on_the_tls_profile_in_its_namespace(lab, tmp_path):
    specs = load_launch_file(LAUNCH / f"{lab}.launch.yaml",
                             {"hub_address": "203.0.113.7", "certs_dir": str(tmp_path)})
    node = specs[-1]
    assert node.label == f"/{lab}/{LAB_NODES[lab]}"
    assert node.env["FASTDDS_DEFAULT_PROFILES_FILE"] == f"{tmp_path}/{lab}.xml"
    assert node.env["RMW_IMPLEMENTATION"] == "rmw_fastrtps_cpp"
    assert node.env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SYSTEM_DEFAULT"
    assert Path(node.env["OPENSSL_CONF"]).is_file()
    explicit = load_launch_file(LAUNCH / f"{lab}.launch.yaml",
                                {"hub_address": "hub.example.org", "profile": "/etc/nh/p.xml"})
    assert explicit[-1].env["FASTDDS_DEFAULT_PROFILES_FILE"] == "/etc/nh/p.xml"


def test_southampton_starts_the_discovery_server_first_with_its_own_profile(tmp_path):
    server, hub = load_launch_file(LAUNCH / "southampton.launch.yaml",
                                   {"hub_address": "203.0.113.7", "certs_dir": str(tmp_path)})
    cmd = command_line(server)
    assert Path(cmd[0]).name == "neurohybrid"
    assert cmd[1:] == ["discovery-server", f"{tmp_path}/southampton_server.xml"]
    assert server.env["FASTDDS_DEFAULT_PROFILES_FILE"] == f"{tmp_path}/southampton_server.xml"
    assert server.env["OPENSSL_CONF"] == hub.env["OPENSSL_CONF"]
    assert hub.env["FASTDDS_DEFAULT_PROFILES_FILE"] == f"{tmp_path}/southampton.xml"


# -- neurohybrid transport-profile ------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from neurohybrid.transport.certs import create_lab_pki

    folder = tmp_path_factory.mktemp("pki")
    create_lab_pki(folder)
    return folder


def test_transport_profile_renders_a_client_with_its_lab_certificates(pki, tmp_path, capsys):
    out = tmp_path / "padova.xml"
    assert site.main(["padova", "--role", "client", "--hub", "203.0.113.7:42111", "--certs", str(pki),
                      "-o", str(out)]) == 0
    text = out.read_text()
    assert "<address>203.0.113.7</address>" in text and "<port>42111</port>" in text
    assert str((pki / "padova.cert.pem").resolve()) in text and str((pki / "ca.cert.pem").resolve()) in text
    assert "<discoveryProtocol>CLIENT</discoveryProtocol>" in text
    assert str(out.resolve()) in capsys.readouterr().out


def test_transport_profile_renders_a_listening_hub_node_and_a_server(pki, tmp_path):
    hub = tmp_path / "hub.xml"
    server = tmp_path / "server.xml"
    assert site.main(["southampton", "--role", "client", "--hub", "hub.example.org", "--listen", "42101",
                      "--certs", str(pki), "-o", str(hub)]) == 0
    assert "<listening_ports><port>42101</port></listening_ports>" in hub.read_text()
    assert f"<port>{site.DEFAULT_HUB_PORT}</port>" in hub.read_text()
    assert site.main(["southampton", "--role", "server", "--hub", "127.0.0.1:42100", "--certs", str(pki),
                      "-o", str(server)]) == 0
    assert "<discoveryProtocol>SERVER</discoveryProtocol>" in server.read_text()


@pytest.mark.parametrize("hub", ["203.0.113.7:http", ":42100", "host:"])
def test_a_malformed_hub_is_refused_naming_the_option(hub):
    with pytest.raises(ConfigError, match=r"--hub="):
        site.parse_hub(hub)


def test_missing_lab_certificates_are_reported_and_exit_2(tmp_path, capsys):
    code = site.main(["padova", "--role", "client", "--hub", "127.0.0.1", "--certs", str(tmp_path),
                      "-o", str(tmp_path / "p.xml")])
    assert code == 2
    assert "cert_chain_file=" in capsys.readouterr().err
    assert not (tmp_path / "p.xml").exists()
