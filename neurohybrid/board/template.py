"""Recipe for a real board backend: a DYNAP-SE2 driven through SynSense's ``samna``.

This class is deliberately NOT registered. To add hardware, copy it to ``dynapse2.py``, fill
in each method with the samna call named in its docstring, register it with
``@BOARD_BACKENDS.register("dynapse2")`` (or through the entry-point group
``neurohybrid.board_backends``), and add its construction arguments to the table of the shared
board compliance suite (``test/unit/test_board_compliance.py``), which runs on every registered
backend. The public methods of :class:`BoardBackend` already validate ids, weights, durations
and state, so the private methods below never re-validate.

samna names follow its DYNAP-SE2 interface as used by rockpool
(``rockpool/devices/dynapse/interface``); check them against your samna version. The FPGA
timestamps events in microseconds (rockpool ``DT_FPGA = 1e-6``).

Mapping of the twin's parameters onto DYNAP-SE2 biases (per core, set in a
``samna.dynapse2.Dynapse2Configuration`` under ``chips[c].cores[k].parameters``):
membrane ``itau_a`` -> SOIF_LEAK_N, ``ith_a`` -> SOIF_GAIN_N, ``refractory_s`` -> SOIF_REFR_N,
``threshold_a`` -> SOIF_SPKTHR_P, DC bias -> SOIF_DC_P; AMPA synapse ``itau_a`` -> DEAM_ETAU_P,
``igain_a`` -> DEAM_EGAIN_P, ``base_weight_a`` -> SYAM_W0_P together with the pulse width
SYPD_EXT_N. Bias names follow rockpool's ``sim2device_se2`` table; converting amperes to
coarse/fine bias values is chip-specific (rockpool's DYNAP-SE2 mapper does it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.board.backend import BoardBackend
from neurohybrid.core.events import SpikeEvents

_NOT_IMPLEMENTED = "TemplateBoardBackend is a recipe; implement it for your hardware"


class TemplateBoardBackend(BoardBackend):
    """Skeleton of a DYNAP-SE2 backend; every device method raises NotImplementedError.

    Suggested kwargs: ``device_index`` (which samna device), ``bitfile`` (FPGA bitstream),
    ``n_neurons`` (1024 on one DYNAP-SE2), ``core_biases`` (dict of bias name -> value).
    """

    name = "template"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    @property
    def n_neurons(self) -> int:
        """Neurons addressable on the opened chips: 1024 per DYNAP-SE2 (4 cores x 256)."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    @property
    def now_ns(self) -> int:
        """FPGA time: bounce a dummy event (``board.input_interface_write_events(0, [ev])``) and
        read its timestamp from ``board.output_read()``, microseconds -> nanoseconds."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def _configure(self) -> None:
        """``samna.device.get_all_devices()`` -> pick the DYNAP-SE2 info; ``board =
        samna.device.open_device(info)``; ``board.configure_opal_kelly(bitfile)``;
        ``model = board.get_model()``; ``model.reset(samna.dynapse2.ResetType.PowerCycle, mask)``;
        build a ``samna.dynapse2.Dynapse2Configuration`` (biases, CAM tags routing input tag i to
        neuron i, background via the FPGA's Poisson generators) and
        ``model.apply_configuration(config)``."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def _shutdown(self) -> None:
        """``samna.device.close_device(board)``."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def _advance(self, duration_s: float) -> SpikeEvents:
        """Poll ``board.read_events()`` until the FPGA clock has passed ``duration_s``; map each
        ``NormalGridEvent``'s source (chip, core, neuron) to a neuron id and its timestamp
        (microseconds) to ``time_ns``; return them as KIND_SILICON_SPIKE events."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def _deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        """One ``samna.dynapse2.NormalGridEvent`` per event, ``event.event =
        Dynapse2Destination(core=[...], x_hop=0, y_hop=0, tag=<tag of post_id's CAM entry for
        that weight level>)`` and ``event.timestamp = time_ns // 1000`` (FPGA microseconds);
        send them with ``board.grid_bus_write_events(events)``. The chip has a few weight
        biases per core, so quantise ``weight`` onto the available weight levels (CAM tags)."""
        raise NotImplementedError(_NOT_IMPLEMENTED)

    def _safe_state(self) -> int:
        """Flush queued input: ``model.reset(samna.dynapse2.ResetType.LogicReset, chip_mask)``;
        return the number of events that were still queued (count what was written to the FPGA
        and not yet due)."""
        raise NotImplementedError(_NOT_IMPLEMENTED)
