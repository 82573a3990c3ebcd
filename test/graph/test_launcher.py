"""`neurohybrid launch` starts real nodes, forwards signals, and reports unexpected deaths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

pytestmark = pytest.mark.graph


def _launch(tmp_path, text: str, *args: str) -> subprocess.Popen:
    path = tmp_path / "t.launch.yaml"
    path.write_text(textwrap.dedent(text))
    return subprocess.Popen(
        [sys.executable, "-m", "neurohybrid", "launch", "--runner", "ours", str(path), *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=tmp_path,
    )


TWO_RELAYS = """
    launch:
    - arg: {name: lab, default: padova}
    - group:
      - push_ros_namespace: {namespace: "$(var lab)"}
      - node: {pkg: neurohybrid, exec: relay_node, name: relay_a}
      - node: {pkg: neurohybrid, exec: relay_node, name: relay_b}
"""


def _graph_nodes(node) -> set[str]:
    return {f"{ns.rstrip('/')}/{name}" for name, ns in node.get_node_names_and_namespaces()}


def test_launched_nodes_join_the_graph_and_sigint_stops_them_all(tmp_path, ros_context):
    from rclpy.node import Node

    from neurohybrid.testing.graph import wait_for

    launcher = _launch(tmp_path, TWO_RELAYS, "lab:=zurich")
    node = Node("launch_probe", context=ros_context)
    expected = {"/zurich/relay_a", "/zurich/relay_b"}
    wait_for(lambda: expected <= _graph_nodes(node), timeout_s=30, what="launched nodes in the graph")
    children = psutil.Process(launcher.pid).children(recursive=True)
    assert len(children) >= 2
    launcher.send_signal(signal.SIGINT)
    try:
        out, _ = launcher.communicate(timeout=30)
    finally:  # a launcher that did not stop must not leave its nodes in the next tests' graph
        for child in children:
            if child.is_running():
                child.kill()
    assert launcher.returncode == 0, out
    assert "all nodes stopped" in out
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    node.destroy_node()


def test_sigterm_reaches_every_child_before_the_launcher_exits(tmp_path):
    launcher = _launch(tmp_path, TWO_RELAYS)
    proc = psutil.Process(launcher.pid)
    from neurohybrid.testing.graph import wait_for

    wait_for(lambda: len(proc.children(recursive=True)) >= 2, timeout_s=30, what="two children")
    children = proc.children(recursive=True)
    os.kill(launcher.pid, signal.SIGTERM)
    launcher.communicate(timeout=30)
    assert launcher.returncode == 0
    assert all(not c.is_running() or c.status() == psutil.STATUS_ZOMBIE for c in children)


def test_a_node_dying_unexpectedly_makes_the_launcher_exit_non_zero(tmp_path):
    launcher = _launch(tmp_path, """
        launch:
        - node: {pkg: neurohybrid, exec: relay_node, name: fine}
        - node:
            pkg: neurohybrid
            exec: relay_node
            name: broken
            param:
            - {from: /nonexistent/params.yaml}
    """)
    out, _ = launcher.communicate(timeout=60)
    assert launcher.returncode == 1, out
    assert "/broken died unexpectedly" in out


def test_unknown_tag_is_reported_with_file_and_tag(tmp_path):
    launcher = _launch(tmp_path, "launch:\n- nodee: {pkg: neurohybrid, exec: relay_node}\n")
    out, _ = launcher.communicate(timeout=30)
    assert launcher.returncode == 2
    assert "t.launch.yaml" in out and "<nodee>: unknown tag" in out
