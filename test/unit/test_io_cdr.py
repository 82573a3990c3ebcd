"""CDR decoding from ros2msg schemas: field for field as mcap_ros2, big-endian, nested, fallback."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from rclpy.serialization import serialize_message


def _equal(ours, reference, where: str) -> int:
    """A CdrDecoder namespace equals mcap_ros2's decoded object field for field; returns fields compared."""
    compared = 0
    for name in type(reference).__slots__:
        ref, got = getattr(reference, name), getattr(ours, name)
        if hasattr(type(ref), "_type"):
            compared += _equal(got, ref, f"{where}.{name}")
        elif isinstance(ref, (bytes, list)) and not (ref and isinstance(ref[0], str)):
            assert isinstance(got, np.ndarray), f"{where}.{name}"
            np.testing.assert_array_equal(got, np.frombuffer(ref, np.uint8) if isinstance(ref, bytes)
                                          else np.asarray(ref), err_msg=f"{where}.{name}")
            compared += 1
        else:
            assert got == ref, f"{where}.{name}: {got!r} != {ref!r}"
            compared += 1
    return compared


@pytest.mark.parametrize("name", ["SpikeBatch", "WeightedEventBatch", "StimulationCommand", "SynapseStates",
                                  "PlasticityEvent", "LinkStatus", "Refusal"])
def test_cdr_decoder_agrees_with_mcap_ros2_on_every_field(name):
    from mcap_ros2._dynamic import generate_dynamic

    from neurohybrid.io.cdr import CdrDecoder
    from neurohybrid.io.msgdefs import ros2msg_definition
    from neurohybrid.testing.messages import mock_messages

    schema = f"neurohybrid/msg/{name}"
    data = serialize_message(mock_messages(seed=3)[name])
    reference = generate_dynamic(schema, ros2msg_definition(schema))[schema](data)
    n_fields = len(type(reference).__slots__) - 1 + 3  # the header is sec, nanosec, frame_id
    assert _equal(CdrDecoder(schema, ros2msg_definition(schema))(data), reference, name) == n_fields


def test_cdr_decoder_reads_big_endian_fixed_arrays_nested_sequences_and_skips_constants():
    from neurohybrid.io.cdr import CdrDecoder

    schema = ("int8 LIMIT = 3\nbool flag\nfloat64[2] pair\npkg/Item[] items\nstring<=8 label\n"
              "================================================================================\n"
              "MSG: pkg/Item\nuint16 id\nstring name\n")
    data = (b"\x00\x00\x00\x00" + b"\x01" + b"\x00" * 7 + struct.pack(">2d", 1.5, -2.0)
            + struct.pack(">I", 2) + struct.pack(">H", 7) + b"\x00\x00" + struct.pack(">I", 3) + b"ab\x00"
            + b"\x00" + struct.pack(">H", 9) + b"\x00\x00" + struct.pack(">I", 1) + b"\x00"
            + b"\x00\x00\x00" + struct.pack(">I", 4) + b"xyz\x00")
    m = CdrDecoder("pkg/msg/Thing", schema)(data)
    assert m.flag is True and not hasattr(m, "LIMIT")
    np.testing.assert_array_equal(m.pair, [1.5, -2.0])
    assert [(i.id, i.name) for i in m.items] == [(7, "ab"), (9, "")]
    assert m.label == "xyz"


def test_a_schema_the_cdr_decoder_cannot_read_falls_back_to_mcap_ros2(tmp_path):
    from mcap.records import Channel, Schema
    from mcap_ros2.decoder import DecoderFactory

    from neurohybrid.io.cdr import CdrDecoder, decoder_for

    schema = Schema(id=1, name="pkg/msg/Wide", encoding="ros2msg", data=b"wstring text\n")
    channel = Channel(id=1, topic="/w", message_encoding="cdr", schema_id=1, metadata={})
    assert not isinstance(decoder_for(channel, schema, DecoderFactory()), CdrDecoder)
    known = Schema(id=2, name="pkg/msg/Narrow", encoding="ros2msg", data=b"string text\n")
    assert isinstance(decoder_for(channel, known, DecoderFactory()), CdrDecoder)
