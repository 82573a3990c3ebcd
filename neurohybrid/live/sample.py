"""A uniform random sample of bounded size from a stream of events (decimation for display)."""

from __future__ import annotations

import numpy as np


class UniformSample:
    """Keeps at most ``capacity`` of the events added since the last :meth:`take`, each event
    equally likely to be kept, whatever the rate (a vectorised reservoir: every event draws a
    random key and the smallest keys stay). Memory is bounded by ``capacity`` plus one batch.
    """

    def __init__(self, capacity: int, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"capacity={capacity} outside allowed [1, inf)")
        self.capacity = capacity
        self._rng = np.random.default_rng(seed)
        self._columns: list[np.ndarray] | None = None
        self._keys = np.empty(0)
        self.offered = 0

    def add(self, *columns: np.ndarray) -> None:
        """Offer events given as equally long columns (e.g. time, id, kind)."""
        n = len(columns[0])
        if n == 0:
            return
        self.offered += n
        keys = self._rng.random(n)
        if self._columns is None:
            self._columns, self._keys = [np.asarray(c) for c in columns], keys
        else:
            self._columns = [np.concatenate((old, c)) for old, c in zip(self._columns, columns)]
            self._keys = np.concatenate((self._keys, keys))
        if len(self._keys) > self.capacity:
            keep = np.argpartition(self._keys, self.capacity - 1)[:self.capacity]
            self._columns = [c[keep] for c in self._columns]
            self._keys = self._keys[keep]

    def take(self, n_columns: int) -> tuple[list[np.ndarray], int]:
        """The kept events (columns sorted by the first one) and how many were offered; resets."""
        offered, self.offered = self.offered, 0
        if self._columns is None:
            return [np.empty(0) for _ in range(n_columns)], offered
        order = np.argsort(self._columns[0], kind="stable")
        out = [c[order] for c in self._columns]
        self._columns, self._keys = None, np.empty(0)
        return out, offered
