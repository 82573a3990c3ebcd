"""The embedded default board backend: a simulated DYNAP board of DPI neurons.

Device clock: board time since ``configure()``, in nanoseconds (``step * dt_s``). Spikes are
stamped at the start of their integration step (Brian2 convention).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurohybrid.board.backend import BOARD_BACKENDS, BoardBackend
from neurohybrid.board.board import DynapBoard
from neurohybrid.core.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.core.units import NS_PER_S


@BOARD_BACKENDS.register("sim")
class SimBoardBackend(BoardBackend):
    """Board backend wrapping :class:`DynapBoard`; kwargs are DynapBoard's (validated at once).

    ``configure()`` builds a fresh board from the kwargs, so a configure/shutdown/configure cycle
    restarts the same seeded device at time 0.
    """

    name = "sim"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._board = DynapBoard(**kwargs)

    @property
    def board(self) -> DynapBoard:
        """The simulated board (state arrays, parameters, counters)."""
        return self._board

    @property
    def n_neurons(self) -> int:
        return self._board.n_neurons

    @property
    def now_ns(self) -> int:
        return int(round(self._board.now_s * NS_PER_S))

    @property
    def late_total(self) -> int:
        """Delivered events whose time had already passed (applied at the next step)."""
        return self._board.late_total

    def _configure(self) -> None:
        self._board = DynapBoard(**self._kwargs)

    def _shutdown(self) -> None:
        self._board.clear_pending()

    def _advance(self, duration_s: float) -> SpikeEvents:
        neuron_id, time_s = self._board.advance(duration_s)
        time_ns = np.rint(time_s * NS_PER_S).astype(np.int64)
        kind = np.full(len(neuron_id), KIND_SILICON_SPIKE, np.uint8)
        return SpikeEvents(neuron_id, time_ns, kind)

    def _deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        self._board.schedule(post_id, time_ns / NS_PER_S, weight)

    def _safe_state(self) -> int:
        return self._board.clear_pending()
