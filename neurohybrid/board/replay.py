"""The board ``replay`` backend: recorded silicon spikes drive the board node instead of the twin.

Sources (``source="auto"`` picks by file suffix):

* ``"mcap"``: the events of a neurohybrid recording's silicon ``SpikeBatch`` topic (``topic``,
  or the only topic whose events are all silicon spikes); time 0 = the start of its first
  recorded slice.
* ``"nwb_units"``: the Units table ``table`` (default ``silicon_units``, as
  :func:`neurohybrid.analysis.nwb.export_nwb` writes it; ``"units"`` for the file's main table);
  neuron id = the ``source_id`` column (else the unit's row); time 0 = the session start.

Timing as every replay (:class:`neurohybrid.io.replay.Playback`): ``advance(d)`` moves the device
clock by d and replays ``d * replay_speed`` of the recording, an event at recording time t
stamped ``t / replay_speed``.

Input cannot reach a recording: the backend declares ``accepts_input = False``, so
:meth:`~neurohybrid.board.backend.BoardBackend.deliver` refuses every batch (after the usual
validation) with InputRefused (a ValueError, so the node reports it as a refused input batch)
whose message starts ``"replay: no stimulation possible"``; refused events are counted in
``refused_total``.
"""

from __future__ import annotations

import os

import numpy as np

from neurohybrid.board.backend import BOARD_BACKENDS, BoardBackend
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.core.units import seconds_to_ns
from neurohybrid.core.validate import check_int
from neurohybrid.io.replay import (
    REFUSAL_REASON,
    Playback,
    check_replay_args,
    mcap_spike_topic,
    recording_origin_ns,
    time_window,
)

DEFAULT_N_NEURONS = 1024
"""Neurons of the default board: 1 DYNAP-SE chip x 4 cores x 256 neurons (Moradi et al. 2018)."""
SOURCES = ("auto", "mcap", "nwb_units")


@BOARD_BACKENDS.register("replay")
class ReplayBoardBackend(BoardBackend):
    """A board that plays back recorded silicon spikes; input is refused and counted."""

    name = "replay"
    accepts_input = False
    input_refusal = REFUSAL_REASON

    def __init__(self, replay_file: str | os.PathLike = "", replay_speed: float = 1.0, source: str = "auto",
                 topic: str = "", table: str = "silicon_units", n_neurons: int = DEFAULT_N_NEURONS) -> None:
        super().__init__(replay_file=str(replay_file), replay_speed=replay_speed, source=source, topic=topic,
                         table=table, n_neurons=n_neurons)
        self._path, speed = check_replay_args(replay_file, replay_speed)
        if source not in SOURCES:
            raise ConfigError(f"source={source!r} unknown; allowed: {', '.join(SOURCES)}")
        self._n_neurons = check_int("n_neurons", n_neurons, 1)
        self._playback = Playback(speed)

    @property
    def n_neurons(self) -> int:
        return self._n_neurons

    @property
    def now_ns(self) -> int:
        """Device clock, ns: the sum of the advanced durations."""
        return self._playback.now_ns

    def _configure(self) -> None:
        self._playback.restart()
        source = self._kwargs["source"]
        if source == "auto":
            source = "mcap" if self._path.suffix.lower() == ".mcap" else "nwb_units"
        ids, t_ns = self._load_mcap() if source == "mcap" else self._load_nwb()
        bad = (ids < 0) | (ids >= self._n_neurons)
        if bad.any():
            raise ConfigError(f"{self._path}: unknown neuron {int(ids[bad][0])} "
                              f"(board has neurons 0..{self._n_neurons - 1}; set n_neurons)")
        order = np.argsort(t_ns, kind="stable")
        self._ids, self._times = ids[order], t_ns[order]

    def _load_mcap(self) -> tuple[np.ndarray, np.ndarray]:
        _, s = mcap_spike_topic(self._path, self._kwargs["topic"], silicon=True)
        return s["source_id"].astype(np.int64), s["time_ns"] - recording_origin_ns(s)

    def _load_nwb(self) -> tuple[np.ndarray, np.ndarray]:
        from pynwb import NWBHDF5IO

        from neurohybrid.io.nwb_units import find_units, read_unit_spikes

        try:
            with NWBHDF5IO(str(self._path), "r") as io:
                spikes = read_unit_spikes(find_units(io.read(), self._kwargs["table"], self._path), self._path)
        except (OSError, KeyError) as exc:
            raise ConfigError(f"replay_file={str(self._path)!r} is not a readable NWB file: {exc}") from None
        ids = np.where(spikes.source_id >= 0, spikes.source_id, np.arange(len(spikes.source_id)))[spikes.unit]
        return ids.astype(np.int64), seconds_to_ns(spikes.time_s)

    def _shutdown(self) -> None:
        self._ids = self._times = np.empty(0, np.int64)

    def _advance(self, duration_s: float) -> SpikeEvents:
        start_rec, end_rec = self._playback.advance(duration_s)
        sel = time_window(self._times, start_rec, end_rec)
        t_dev = self._playback.to_device(self._times[sel])
        return SpikeEvents(self._ids[sel], t_dev, np.full(len(t_dev), KIND_SILICON_SPIKE, np.uint8))

    def _safe_state(self) -> int:
        return 0
