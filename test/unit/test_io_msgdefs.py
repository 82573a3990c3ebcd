"""ros2msg schema text: the .msg text plus every dependency, exactly as rosbag2 writes it."""

from __future__ import annotations

import pytest
from mcap_ros2._dynamic import generate_dynamic

from neurohybrid.io.msgdefs import (
    DELIMITER_LINE,
    MessageDefinitionError,
    message_dependencies,
    message_text,
    ros2msg_definition,
)

TYPES = ["SpikeBatch", "WeightedEventBatch", "StimulationCommand", "SynapseStates",
         "PlasticityEvent", "LinkStatus", "Refusal"]


def _section(name: str) -> str:
    return f"\n{DELIMITER_LINE}\nMSG: {name}\n{message_text(name)}"


def test_delimiter_is_a_line_of_80_equals_signs():
    assert DELIMITER_LINE == "=" * 80


def test_spike_batch_definition_is_its_msg_text_then_header_then_time_as_rosbag2_writes_it():
    expected = (message_text("neurohybrid/msg/SpikeBatch") + _section("std_msgs/Header")
                + _section("builtin_interfaces/Time"))
    assert ros2msg_definition("neurohybrid/msg/SpikeBatch") == expected


@pytest.mark.parametrize("name", TYPES)
def test_every_type_has_the_header_and_time_sections_once(name):
    text = ros2msg_definition(f"neurohybrid/msg/{name}")
    assert text.startswith(message_text(f"neurohybrid/msg/{name}"))
    assert text.count("\nMSG: std_msgs/Header\n") == 1
    assert text.count("\nMSG: builtin_interfaces/Time\n") == 1
    assert text.count(DELIMITER_LINE) == 2
    assert "uint32 nanosec" in text and "string frame_id" in text


@pytest.mark.parametrize("name", TYPES)
def test_the_mcap_ros2_decoder_builds_a_parser_from_the_definition(name):
    parsers = generate_dynamic(f"neurohybrid/msg/{name}", ros2msg_definition(f"neurohybrid/msg/{name}"))
    assert f"neurohybrid/msg/{name}" in parsers


def test_short_and_long_type_names_give_the_same_text():
    assert ros2msg_definition("neurohybrid/Refusal") == ros2msg_definition("neurohybrid/msg/Refusal")


def test_definitions_are_cached():
    assert ros2msg_definition("neurohybrid/msg/LinkStatus") is ros2msg_definition("neurohybrid/msg/LinkStatus")


def test_dependencies_skip_primitives_and_comments_and_qualify_local_types_sorted():
    text = ("# a comment naming std_msgs/Fake\nuint8 KIND = 1\nstd_msgs/Header header\n"
            "Local[] items\nbuiltin_interfaces/Time[4] times\nstring[] names\n")
    assert message_dependencies(text, "pkg") == ["builtin_interfaces/Time", "pkg/Local", "std_msgs/Header"]


def test_malformed_type_name_is_refused_with_the_name():
    with pytest.raises(MessageDefinitionError, match="not/a/valid/type"):
        ros2msg_definition("not/a/valid/type")


def test_unknown_package_is_reported_with_the_package():
    with pytest.raises(MessageDefinitionError, match="no_such_pkg"):
        ros2msg_definition("no_such_pkg/msg/Thing")


def test_unknown_type_in_a_known_package_is_reported_with_the_path():
    with pytest.raises(MessageDefinitionError, match="NoSuchType.msg"):
        ros2msg_definition("neurohybrid/msg/NoSuchType")
