"""The silicon-neuron site (Zurich): DPI neuron twin of a DYNAP board and its backends.

Importing this package registers the ``sim`` and ``replay`` backends in :data:`BOARD_BACKENDS`.
"""

from neurohybrid.board.backend import BOARD_BACKENDS, BoardBackend
from neurohybrid.board.board import DynapBoard
from neurohybrid.board.dpi import DPINeuronParams, DPIPopulation, DPISynapseParams, InputSchedule
from neurohybrid.board.replay import ReplayBoardBackend
from neurohybrid.board.sim import SimBoardBackend

__all__ = [
    "BOARD_BACKENDS",
    "BoardBackend",
    "DPINeuronParams",
    "DPIPopulation",
    "DPISynapseParams",
    "DynapBoard",
    "InputSchedule",
    "ReplayBoardBackend",
    "SimBoardBackend",
]
