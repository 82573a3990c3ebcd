"""The MEA (Padova) device kind: layouts, culture twin, detector, stimulation safety, backends.

Importing this package registers the built-in "sim", "replay" and "lsl" backends in ``MEA_BACKENDS``.
Pure Python + numpy/scipy: no ROS import anywhere below this package.
"""

from neurohybrid.mea.backend import MEA_BACKENDS, MEABackend
from neurohybrid.mea.culture import IzhikevichCulture
from neurohybrid.mea.detector import OnlineSpikeDetector
from neurohybrid.mea.extracellular import ExtracellularModel
from neurohybrid.mea.layout import ElectrodeLayout, grid_layout, make_layout, mcs60_layout
from neurohybrid.mea.lsl import LslMEABackend
from neurohybrid.mea.replay import ReplayMEABackend
from neurohybrid.mea.sim import SimMEABackend
from neurohybrid.mea.stimulation import StimulationGuard, StimulationLimits, StimulationVerdict

__all__ = [
    "MEA_BACKENDS",
    "ElectrodeLayout",
    "ExtracellularModel",
    "IzhikevichCulture",
    "LslMEABackend",
    "MEABackend",
    "OnlineSpikeDetector",
    "ReplayMEABackend",
    "SimMEABackend",
    "StimulationGuard",
    "StimulationLimits",
    "StimulationVerdict",
    "grid_layout",
    "make_layout",
    "mcs60_layout",
]
