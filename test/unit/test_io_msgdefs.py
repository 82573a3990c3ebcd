"""ros2msg schema text: the .msg text plus every dependency, exactly as rosbag2 writes it."""

from __future__ import annotations

from pathlib import Path

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


# --- the robot's standard messages: schemas from the installed .msg files of the ROS wheels ----
STANDARD = ["sensor_msgs/msg/LaserScan", "nav_msgs/msg/Odometry", "geometry_msgs/msg/Twist",
            "geometry_msgs/msg/PointStamped"]


def test_odometry_definition_lists_its_dependencies_depth_first_in_sorted_order_as_rosbag2_does():
    expected = message_text("nav_msgs/msg/Odometry") + "".join(_section(name) for name in (
        "geometry_msgs/PoseWithCovariance", "geometry_msgs/Pose", "geometry_msgs/Point",
        "geometry_msgs/Quaternion", "geometry_msgs/TwistWithCovariance", "geometry_msgs/Twist",
        "geometry_msgs/Vector3", "std_msgs/Header", "builtin_interfaces/Time"))
    assert ros2msg_definition("nav_msgs/msg/Odometry") == expected


def test_laser_scan_twist_and_point_stamped_definitions_have_their_dependencies_once():
    assert ros2msg_definition("sensor_msgs/msg/LaserScan") == (
        message_text("sensor_msgs/msg/LaserScan") + _section("std_msgs/Header") + _section("builtin_interfaces/Time"))
    assert ros2msg_definition("geometry_msgs/msg/Twist") == (
        message_text("geometry_msgs/msg/Twist") + _section("geometry_msgs/Vector3"))
    assert ros2msg_definition("geometry_msgs/msg/PointStamped") == (
        message_text("geometry_msgs/msg/PointStamped") + _section("geometry_msgs/Point")
        + _section("std_msgs/Header") + _section("builtin_interfaces/Time"))


@pytest.mark.parametrize("type_name", STANDARD)
def test_standard_msg_text_is_the_installed_file_of_the_ros_wheel(type_name):
    from ament_index_python.packages import get_package_share_directory

    package, _, name = type_name.split("/")
    installed = Path(get_package_share_directory(package)) / "msg" / f"{name}.msg"
    assert message_text(type_name) == installed.read_text(encoding="utf-8")


@pytest.mark.parametrize("type_name", STANDARD)
def test_standard_definitions_parse_in_mcap_ros2_and_decode_what_rclpy_serialises(type_name):
    from rclpy.serialization import serialize_message

    from neurohybrid.io.cdr import CdrDecoder
    from neurohybrid.nodes.recorder_node import message_class

    cls = message_class(type_name)
    msg = cls()
    sample = {"sensor_msgs/msg/LaserScan": lambda m: setattr(m, "ranges", [0.5, 1.25, 3.5]),
              "nav_msgs/msg/Odometry": lambda m: setattr(m.pose.pose.position, "x", 0.75),
              "geometry_msgs/msg/Twist": lambda m: setattr(m.angular, "z", -0.5),
              "geometry_msgs/msg/PointStamped": lambda m: setattr(m.point, "y", 0.25)}
    sample[type_name](msg)
    definition = ros2msg_definition(type_name)
    assert type_name in generate_dynamic(type_name, definition)
    decoded = CdrDecoder(type_name, definition)(serialize_message(msg))
    if type_name.endswith("LaserScan"):
        assert decoded.ranges.tolist() == [0.5, 1.25, 3.5]
    elif type_name.endswith("Odometry"):
        assert decoded.pose.pose.position.x == 0.75 and decoded.pose.pose.orientation.w == 1.0
        assert len(decoded.pose.covariance) == 36
    elif type_name.endswith("Twist"):
        assert decoded.angular.z == -0.5
    else:
        assert decoded.point.y == 0.25


def test_the_recorder_standard_types_are_checked_naming_the_entry():
    from neurohybrid.core.errors import ConfigError
    from neurohybrid.io.recording import STANDARD_TYPES, check_standard_types

    assert check_standard_types(list(STANDARD_TYPES)) == STANDARD
    assert check_standard_types(["", "geometry_msgs/Twist"]) == ["geometry_msgs/msg/Twist"]
    with pytest.raises(ConfigError, match=r"standard_types\[1\]='sensor_msgs/msg/NoSuchScan'"):
        check_standard_types(["geometry_msgs/msg/Twist", "sensor_msgs/msg/NoSuchScan"])
    with pytest.raises(ConfigError, match=r"standard_types\[0\]='not a type'"):
        check_standard_types(["not a type"])
