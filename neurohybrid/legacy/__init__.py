"""The 2017 UDP protocol of the original three-site experiment (Serb et al., Sci. Rep. 10, 2590, 2020).

``protocol`` is the pure codec (no ROS): packets <-> numpy arrays and the legacy clock.
The ROS side is ``neurohybrid.nodes.legacy_gateway_node``.
"""

from neurohybrid.legacy.protocol import (
    DEFAULT_PORT,
    SENDER_AXON,
    SENDER_DENDRITE,
    SENDER_SYNAPSE,
    TICK_NS,
    DecodeResult,
    LegacyClock,
    LegacyPackets,
    decode,
    encode,
    encode_synapse,
    spike_kinds,
    weight_to_byte,
)

__all__ = [
    "DEFAULT_PORT",
    "SENDER_AXON",
    "SENDER_DENDRITE",
    "SENDER_SYNAPSE",
    "TICK_NS",
    "DecodeResult",
    "LegacyClock",
    "LegacyPackets",
    "decode",
    "encode",
    "encode_synapse",
    "spike_kinds",
    "weight_to_byte",
]
