"""The board device kind: the device contract plus ``advance``/``deliver``; backends by name.

Template method (as neo's ``BaseRawIO``): the public methods validate their arguments and the
backend's state, then call the private ``_configure``/``_advance``/``_deliver``/... that a
backend implements; backends never re-validate. Lifecycle and provenance are those of every
device (:mod:`neurohybrid.core.device`): ``configure`` (safe state) -> ``arm`` -> ``advance`` /
``deliver`` -> ``safe_state`` (queued input dropped, no input until ``arm``) -> ``shutdown``.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from neurohybrid.core.device import StreamingBackend
from neurohybrid.core.registry import BackendRegistry


class BoardBackend(StreamingBackend):
    """A neuromorphic board: deliver weighted input events, advance time, collect spikes.

    Times are integers in nanoseconds of the device clock; neuron ids are 0..n_neurons-1;
    ``advance`` returns KIND_SILICON_SPIKE events.
    """

    kind = "board"

    def deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        """Queue weighted input events for neurons ``post_id`` at device times ``time_ns``.

        The batch is refused whole: ValueError if any neuron id is unknown or any weight is
        outside [0, 1] or NaN; InputRefused if the device takes no input (not armed, a replay).
        Events apply at their time; past times apply at once.
        """
        ids_raw = np.asarray(post_id)
        t_raw = np.asarray(time_ns)
        w = np.asarray(weight, dtype=np.float64)
        if not (ids_raw.ndim == t_raw.ndim == w.ndim == 1):
            raise ValueError("post_id, time_ns and weight must be 1-D arrays")
        if not len(ids_raw) == len(t_raw) == len(w):
            raise ValueError(f"post_id, time_ns and weight differ in length: "
                             f"{len(ids_raw)}, {len(t_raw)}, {len(w)}")
        if len(ids_raw) and (ids_raw.dtype.kind not in "iu" or t_raw.dtype.kind not in "iu"):
            raise ValueError(f"post_id and time_ns must be integer arrays, got "
                             f"{ids_raw.dtype} and {t_raw.dtype}")
        ids = ids_raw.astype(np.int64)
        n = self.n_neurons
        bad = (ids < 0) | (ids >= n)
        if bad.any():
            raise ValueError(f"neuron id {int(ids[bad][0])} outside allowed [0, {n - 1}]")
        bad = ~((w >= 0.0) & (w <= 1.0))
        if bad.any():
            raise ValueError(f"weight {float(w[bad][0])!r} outside allowed [0, 1]")
        self.require_configured("deliver")
        self.admit(len(ids), "weighted event(s)")
        if len(ids):
            self._deliver(ids, t_raw.astype(np.int64), w)
        self.delivered_total += len(ids)

    @property
    @abstractmethod
    def n_neurons(self) -> int:
        """Number of addressable neurons."""

    def _deliver(self, post_id: np.ndarray, time_ns: np.ndarray, weight: np.ndarray) -> None:
        """Queue validated events (int64 ids in range, int64 ns, float64 weights in [0, 1]).

        Every backend that takes input (``accepts_input``) implements this.
        """
        raise NotImplementedError(f"{type(self).__name__} takes input events but does not deliver them")


BOARD_BACKENDS: BackendRegistry[BoardBackend] = BackendRegistry("board")
"""Board backends by name; importing :mod:`neurohybrid.board` registers ``sim`` and ``replay``."""
