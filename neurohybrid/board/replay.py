"""The board ``replay`` backend: recorded silicon spikes drive the board node instead of the twin.

Sources (``source="auto"`` picks by file suffix):

* ``"mcap"``: the events of a neurohybrid recording's silicon ``SpikeBatch`` topic (``topic``,
  or the only topic whose events are all silicon spikes); time 0 = the start of its first
  recorded slice.
* ``"nwb_units"``: the Units table ``table`` (default ``silicon_units``, as
  :func:`neurohybrid.io.nwb.export_nwb` writes it; ``"units"`` for the file's main table);
  neuron id = the ``source_id`` column (else the unit's row); time 0 = the session start.

Timing as :mod:`neurohybrid.mea.replay`: ``advance(d)`` moves the device clock by d and replays
``d * replay_speed`` of the recording, an event at recording time t stamped ``t / replay_speed``.

Input cannot reach a recording: :meth:`ReplayBoardBackend.deliver` refuses every weighted event
(after the usual validation) with ``ReplayInputRefused`` (a ValueError, so the node reports it
as a refused input batch) whose message starts ``"replay: no stimulation possible"``; refused
events are counted in ``refused_total``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from neurohybrid.board.backend import BOARD_BACKENDS, BoardBackend
from neurohybrid.errors import ConfigError, NeurohybridError
from neurohybrid.events import KIND_SILICON_SPIKE, SpikeEvents
from neurohybrid.mea.replay import NS_PER_S, REFUSAL_REASON, check_replay_args, mcap_spike_topic, window

DEFAULT_N_NEURONS = 1024
"""Neurons of the default board: 1 DYNAP-SE chip x 4 cores x 256 neurons (Moradi et al. 2018)."""
SOURCES = ("auto", "mcap", "nwb_units")
_LOG = logging.getLogger(__name__)


class ReplayInputRefused(NeurohybridError, ValueError):
    """Weighted input sent to a replayed board: refused whole (nothing can be delivered)."""


@BOARD_BACKENDS.register("replay")
class ReplayBoardBackend(BoardBackend):
    """A board that plays back recorded silicon spikes; input is refused and counted."""

    name = "replay"

    def __init__(self, replay_file: str | os.PathLike = "", replay_speed: float = 1.0, source: str = "auto",
                 topic: str = "", table: str = "silicon_units", n_neurons: int = DEFAULT_N_NEURONS) -> None:
        super().__init__(replay_file=str(replay_file), replay_speed=replay_speed, source=source, topic=topic,
                         table=table, n_neurons=n_neurons)
        self._path, self._speed = check_replay_args(replay_file, replay_speed)
        if source not in SOURCES:
            raise ConfigError(f"source={source!r} unknown; allowed: {', '.join(SOURCES)}")
        if isinstance(n_neurons, bool) or int(n_neurons) != n_neurons or n_neurons < 1:
            raise ConfigError(f"n_neurons={n_neurons!r} outside allowed [1, inf) (integer)")
        self._n_neurons = int(n_neurons)
        self._now_ns = 0
        self.refused_total = 0

    @property
    def n_neurons(self) -> int:
        return self._n_neurons

    @property
    def now_ns(self) -> int:
        """Device clock, ns: the sum of the advanced durations."""
        return self._now_ns

    def _configure(self) -> None:
        self._now_ns = 0
        self._emitted_until: int | None = None
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
        try:
            _, s = mcap_spike_topic(self._path, self._kwargs["topic"], silicon=True)
        except (NeurohybridError, KeyError) as exc:
            raise ConfigError(f"replay_file={str(self._path)!r}: {exc}") from None
        origin = int(s["batch_slice_start_ns"].min()) if len(s["batch_slice_start_ns"]) else 0
        return s["source_id"].astype(np.int64), s["time_ns"] - origin

    def _load_nwb(self) -> tuple[np.ndarray, np.ndarray]:
        from pynwb import NWBHDF5IO

        from neurohybrid.io.nwb import find_units, read_unit_spikes, seconds_to_ns

        try:
            with NWBHDF5IO(str(self._path), "r") as io:
                spikes = read_unit_spikes(find_units(io.read(), self._kwargs["table"], self._path), self._path)
        except (OSError, KeyError) as exc:
            raise ConfigError(f"replay_file={str(self._path)!r} is not a readable NWB file: {exc}") from None
        ids = np.where(spikes.source_id >= 0, spikes.source_id, np.arange(len(spikes.source_id)))[spikes.unit]
        return ids.astype(np.int64), seconds_to_ns(spikes.time_s)

    def _close(self) -> None:
        self._ids = self._times = np.empty(0, np.int64)

    def _advance(self, duration_s: float) -> SpikeEvents:
        self._now_ns += int(round(duration_s * NS_PER_S))
        end_rec = int(round(self._now_ns * self._speed))
        sel = window(self._times, self._emitted_until, end_rec)
        self._emitted_until = end_rec
        t = self._times[sel]
        t_dev = t if self._speed == 1.0 else np.rint(t / self._speed).astype(np.int64)
        return SpikeEvents(self._ids[sel], t_dev, np.full(len(t), KIND_SILICON_SPIKE, np.uint8))

    def _deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        n = len(post_id)
        if not n:
            return
        self.refused_total += n
        _LOG.info("%s: %d weighted event(s) refused (total %d)", REFUSAL_REASON, n, self.refused_total)
        raise ReplayInputRefused(f"{REFUSAL_REASON}: {n} weighted event(s) to neuron(s) "
                                 f"{np.unique(post_id)[:8].tolist()} refused (replayed board)")

    def _safe_state(self) -> int:
        return 0

    def info(self) -> dict[str, Any]:
        """Provenance plus the count of refused input events."""
        return {**super().info(), "refused_total": self.refused_total}
