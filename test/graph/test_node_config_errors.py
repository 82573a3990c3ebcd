"""Nodes refuse bad configuration at start with the offending key, value or file in the message."""

from __future__ import annotations

import pytest

from neurohybrid.testing.graph import wait_for

pytestmark = pytest.mark.graph


def test_out_of_range_parameter_stops_the_node_and_names_it(start_node):
    node = start_node("mea_node", "--ros-args", "-p", "max_amplitude_ua:=5000.0")
    assert node.proc.wait(60) != 0
    assert "max_amplitude_ua" in node.output()


def test_unknown_backend_choice_is_refused_with_the_choices(start_node):
    node = start_node("board_node", "--ros-args", "-p", "backend:=warp_drive")
    assert node.proc.wait(60) != 0
    out = node.output()
    assert "warp_drive" in out and "sim" in out


def test_invalid_connectivity_fails_configure_naming_file_and_reason(start_node, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("labs: {padova: mea}\nsynapses:\n  - \"mars:1 -> padova:2 @ (0, 0)\"\n")
    node = start_node("hub_node", "--ros-args", "-p", f"connectivity_file:={bad}")
    assert node.proc.wait(60) != 0
    out = node.output()
    assert str(bad) in out and "unknown lab 'mars'" in out


def test_a_float_parameter_given_as_text_is_refused_naming_its_type(start_node):
    node = start_node("mea_node", "--ros-args", "-p", "max_step_s:=abc")
    assert node.proc.wait(60) != 0
    assert "max_step_s='abc' must be of type float" in node.output()


def test_a_float_parameter_takes_an_integer_as_a_launch_file_types_it(start_node):
    """``max_step_s:=1`` is YAML-typed as an integer: taken as 1.0, not refused as INTEGER."""
    node = start_node("mea_node", "--ros-args", "-p", "max_step_s:=1")
    wait_for(lambda: "configured padova/mea" in node.output() or not node.alive(), 60, what="configure")
    assert "configured padova/mea" in node.output(), node.output()
