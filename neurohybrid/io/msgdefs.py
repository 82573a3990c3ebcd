"""Complete ``ros2msg`` message definitions, as rosbag2 stores them in MCAP schemas.

Format (rosbag2 ``docs/message_definition_encoding.md`` and
``rosbag2_cpp/message_definitions/local_message_definition_source.cpp``): the top-level
``.msg`` text first, then every dependency, depth first, dependencies of one message in sorted
order, each new one introduced by a newline, a line of 80 ``=`` and a line ``MSG: pkg/Type``
(the type as written in the field), followed by that dependency's ``.msg`` text.

The ``.msg`` files are found through the ament index; the Python prefix (``sys.prefix``, where
the ROS wheels of our venv install ``share/<pkg>/msg``) is searched as one more ament prefix,
because ``install/setup.bash`` does not chain that underlay.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

from neurohybrid.core.errors import NeurohybridError

DELIMITER_LINE = "=" * 80
"""Separator line between definitions (rosbag2 ``LocalMessageDefinitionSource::delimiter``)."""

PRIMITIVE_TYPES = frozenset({
    "bool", "byte", "char", "float32", "float64", "int8", "uint8",
    "int16", "uint16", "int32", "uint32", "int64", "uint64", "string",
})
"""Field types that are not messages (rosbag2 ``PRIMITIVE_TYPES``)."""

# Field types of a .msg text, e.g. "std_msgs/Header" in "std_msgs/Header header" (rosbag2's regex).
_FIELD_TYPE = re.compile(r"(?:^|\n)\s*([a-zA-Z0-9_/]+)(?:\[[^\]]*\])?\s+")
_ROS_NAME = r"[a-zA-Z][a-zA-Z0-9_]*"
_TYPE_NAME = re.compile(rf"^({_ROS_NAME})/(?:({_ROS_NAME})/)?({_ROS_NAME})$")


class MessageDefinitionError(NeurohybridError, LookupError):
    """A message type name is malformed or its ``.msg`` file cannot be found."""


def split_type_name(type_name: str) -> tuple[str, str, str]:
    """``"pkg/msg/Type"`` or ``"pkg/Type"`` -> ``("pkg", "msg", "Type")``."""
    match = _TYPE_NAME.match(type_name)
    if match is None:
        raise MessageDefinitionError(
            f"message type {type_name!r} is not 'package/msg/Type' or 'package/Type'")
    package, namespace, name = match.groups()
    return package, namespace or "msg", name


def _share_directory(package: str) -> Path:
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        return Path(get_package_share_directory(package))
    except (PackageNotFoundError, OSError):  # OSError: AMENT_PREFIX_PATH not set
        marker = Path(sys.prefix) / "share" / "ament_index" / "resource_index" / "packages" / package
        if marker.exists():
            return Path(sys.prefix) / "share" / package
    searched = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    raise MessageDefinitionError(
        f"package {package!r} not found in the ament index (AMENT_PREFIX_PATH={searched}, "
        f"python prefix {sys.prefix}); source install/setup.bash")


@functools.cache
def message_text(type_name: str) -> str:
    """The ``.msg`` file of ``type_name`` exactly as installed (share/<pkg>/msg/<Type>.msg)."""
    package, namespace, name = split_type_name(type_name)
    path = _share_directory(package) / namespace / f"{name}.msg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MessageDefinitionError(f"no .msg definition for {type_name!r} at {path}: {exc.strerror}") from None


def message_dependencies(text: str, package: str) -> list[str]:
    """Message types used by the fields of ``text``, sorted; unqualified ones get ``package``."""
    found = set()
    for match in _FIELD_TYPE.finditer(text):
        field_type = match.group(1)
        if field_type in PRIMITIVE_TYPES:
            continue
        found.add(field_type if "/" in field_type else f"{package}/{field_type}")
    return sorted(found)


@functools.cache
def ros2msg_definition(type_name: str) -> str:
    """The complete ``ros2msg`` definition of ``type_name`` (e.g. ``"neurohybrid/msg/SpikeBatch"``).

    Byte-for-byte what rosbag2 writes as the MCAP schema data: the type's ``.msg`` text, then
    each dependency (recursively, each once) as ``"\\n" + "=" * 80 + "\\nMSG: pkg/Type\\n" + text``.
    """
    seen: set[str] = set()

    def expand(name: str) -> str:
        text = message_text(name)
        out = [text]
        for dep in message_dependencies(text, split_type_name(name)[0]):
            if dep not in seen:
                seen.add(dep)
                out.append(f"\n{DELIMITER_LINE}\nMSG: {dep}\n{expand(dep)}")
        return "".join(out)

    return expand(type_name)
