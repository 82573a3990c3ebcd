"""CDR decoding from ``ros2msg`` schemas, without ROS: numeric sequences come out as numpy views.

:class:`CdrDecoder` is a schema-driven CDR reader, tested field for field against
``mcap_ros2``'s decoder and 4-50x faster on our batch messages (per-element Python calls
avoided); :func:`decoder_for` picks it for a channel, or ``mcap_ros2``'s decoder for a schema it
cannot read (``wstring``).

Wire format: OMG DDS-XTypes 1.3, 7.4 (XCDR1), as ROS 2 serialises messages: a 4-byte
encapsulation header (byte 1: 0 big-endian, 1 little-endian); each primitive aligned to its
size counted from the end of that header; sequences and strings as a uint32 length, strings
with their NUL terminator; the elements of an empty sequence add no padding.
"""

from __future__ import annotations

import re
import struct
from types import SimpleNamespace
from typing import Any

import numpy as np
from mcap.records import Channel, Schema
from mcap_ros2.decoder import DecoderFactory

from neurohybrid.core.errors import NeurohybridError

CDR_HEADER_SIZE = 4
_STRUCT_CODES = {
    "bool": "?", "byte": "B", "char": "B", "int8": "b", "uint8": "B", "int16": "h", "uint16": "H",
    "int32": "i", "uint32": "I", "int64": "q", "uint64": "Q", "float32": "f", "float64": "d",
}
_SIZES = {code: struct.calcsize(code) for code in set(_STRUCT_CODES.values())}
_BUILTIN_FIELDS = {  # mcap_ros2 likewise knows these without a schema section
    "builtin_interfaces/Time": [("int32", None, "sec"), ("uint32", None, "nanosec")],
    "builtin_interfaces/Duration": [("int32", None, "sec"), ("uint32", None, "nanosec")],
}
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_/]*)(?:<=\d+)?(?:\[(<=)?(\d*)\])?$")
_CONSTANT = re.compile(r"^\S+\s+[A-Za-z][A-Za-z0-9_]*\s*=")
_SECTION = re.compile(r"^={3,}\s*$", re.MULTILINE)
_MSG_LINE = re.compile(r"^MSG:\s+(\S+)\s*$", re.MULTILINE)
_EMPTY_MESSAGE_FIELD = ("uint8", None, "structure_needs_at_least_one_member")
"""ROS 2 gives a message without fields this one uint8 on the wire (legacy interface design)."""


def short_type(schema_name: str) -> str:
    """``"pkg/msg/Type"`` or ``"pkg/Type"`` -> ``"pkg/Type"`` (how schemas are compared)."""
    parts = schema_name.split("/")
    return f"{parts[0]}/{parts[-1]}"


class UnsupportedSchemaError(NeurohybridError):
    """A ``ros2msg`` schema uses a type :class:`CdrDecoder` does not read (e.g. ``wstring``)."""


def _align(offset: int, size: int) -> int:
    """``offset`` moved up to a multiple of ``size`` counted from the end of the CDR header."""
    return offset + (-(offset - CDR_HEADER_SIZE) % size)


def _definitions(schema_name: str, text: str) -> dict[str, list[tuple[str, int | None, str]]]:
    """``pkg/Type`` -> fields ``(type, array length: None scalar, -1 sequence, n fixed, name)``."""
    out: dict[str, list[tuple[str, int | None, str]]] = {}
    for section in _SECTION.split(text):
        msg_line = _MSG_LINE.search(section)
        name = short_type(msg_line.group(1) if msg_line else schema_name)
        package = name.split("/")[0]
        fields = []
        for raw in _MSG_LINE.sub("", section).splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or _CONSTANT.match(line):
                continue
            type_token, field_name = line.split()[:2]
            match = _FIELD.match(type_token)
            if match is None:
                raise UnsupportedSchemaError(f"{schema_name}: cannot read field type {type_token!r}")
            base, bounded, size = match.groups()
            if "/" in base:
                base = short_type(base)
            elif base not in _STRUCT_CODES and base != "string":
                base = f"{package}/{base}"
            if "[" not in type_token:
                length = None
            else:
                length = -1 if bounded or not size else int(size)
            fields.append((base, length, field_name))
        out[name] = fields
    for builtin, fields in _BUILTIN_FIELDS.items():
        out.setdefault(builtin, list(fields))
    return out


class CdrDecoder:
    """Decodes CDR bytes of one ``ros2msg`` schema into namespaces; numeric sequences as numpy views."""

    def __init__(self, schema_name: str, schema_text: str) -> None:
        self.schema_name = short_type(schema_name)
        self._types = _definitions(schema_name, schema_text)
        for name, fields in self._types.items():
            for base, _, field_name in fields:
                if base not in _STRUCT_CODES and base != "string" and base not in self._types:
                    raise UnsupportedSchemaError(
                        f"{schema_name}: type {base!r} of field {name}.{field_name} is not defined")
            if not fields:
                fields.append(_EMPTY_MESSAGE_FIELD)

    def __call__(self, data: bytes) -> SimpleNamespace:
        endian = "<" if len(data) >= CDR_HEADER_SIZE and data[1] & 1 else ">"
        value, _ = self._read(self.schema_name, memoryview(data), CDR_HEADER_SIZE, endian)
        return value

    def _read(self, type_name: str, data: memoryview, offset: int, endian: str) -> tuple[SimpleNamespace, int]:
        out = SimpleNamespace()
        for base, length, name in self._types[type_name]:
            if length == -1:
                offset = _align(offset, 4)
                (count,) = struct.unpack_from(endian + "I", data, offset)
                offset += 4
            else:
                count = 1 if length is None else length
            code = _STRUCT_CODES.get(base)
            if code is not None and length is None:
                size = _SIZES[code]
                offset = _align(offset, size)
                (value,) = struct.unpack_from(endian + code, data, offset)
                offset += size
            elif code is not None:
                dtype = np.dtype(endian + code)
                if count:
                    offset = _align(offset, dtype.itemsize)
                value = np.frombuffer(data, dtype, count, offset)
                offset += count * dtype.itemsize
            else:
                items = []
                for _ in range(count):
                    if base == "string":
                        offset = _align(offset, 4)
                        (size,) = struct.unpack_from(endian + "I", data, offset)
                        items.append(str(data[offset + 4:offset + 4 + max(size - 1, 0)], "utf-8"))
                        offset += 4 + size
                    else:
                        item, offset = self._read(base, data, offset, endian)
                        items.append(item)
                value = items[0] if length is None else items
            setattr(out, name, value)
        return out, offset


def decoder_for(channel: Channel, schema: Schema | None, fallback: DecoderFactory) -> Any:
    """:class:`CdrDecoder` for a ``cdr``/``ros2msg`` channel, else ``mcap_ros2``'s decoder (or None)."""
    if schema is not None and channel.message_encoding == "cdr" and schema.encoding == "ros2msg":
        try:
            return CdrDecoder(schema.name, schema.data.decode())
        except UnsupportedSchemaError:
            pass
    return fallback.decoder_for(channel.message_encoding, schema)
