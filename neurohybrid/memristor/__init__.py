"""Memristive synapses (Southampton): TiOx device model, crossbar twin, limits, rules, backends.

Importing the package registers the ``sim`` and ``arc2`` (ArC TWO) backends in :data:`MEMRISTOR_BACKENDS` and the
``rate`` and ``stdp`` rules in :data:`PLASTICITY_RULES`. Pure Python + numpy, no ROS.
"""

from neurohybrid.memristor.arc2 import Arc2MemristorBackend
from neurohybrid.memristor.backend import (
    MEMRISTOR_BACKENDS,
    MemristorBackend,
    ProgramResult,
)
from neurohybrid.memristor.crossbar import Crossbar, validate_addresses
from neurohybrid.memristor.limits import ProgrammingGuard, ProgrammingLimits, ProgrammingVerdict
from neurohybrid.memristor.model import TiOxParams, pulse_response
from neurohybrid.memristor.plasticity import (
    DIRECTION_LTD,
    DIRECTION_LTP,
    PLASTICITY_RULES,
    PairStdpRule,
    PlasticityRule,
    PulseRequest,
    RateRule,
)
from neurohybrid.memristor.sim import SimMemristorBackend

__all__ = [
    "Arc2MemristorBackend",
    "DIRECTION_LTD",
    "DIRECTION_LTP",
    "MEMRISTOR_BACKENDS",
    "PLASTICITY_RULES",
    "Crossbar",
    "MemristorBackend",
    "PairStdpRule",
    "PlasticityRule",
    "ProgramResult",
    "ProgrammingGuard",
    "ProgrammingLimits",
    "ProgrammingVerdict",
    "PulseRequest",
    "RateRule",
    "SimMemristorBackend",
    "TiOxParams",
    "pulse_response",
    "validate_addresses",
]
