"""Index arithmetic of ragged (CSR-like) arrays: the positions of several runs, as one vector."""

from __future__ import annotations

import numpy as np


def run_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions ``starts[i], ..., starts[i] + lengths[i] - 1`` of every run ``i``, concatenated in order.

    E.g. the entries of the selected rows of a CSR matrix: ``run_positions(indptr[rows],
    indptr[rows + 1] - indptr[rows])``. No Python loop per run.
    """
    lengths = np.asarray(lengths)
    run_start = np.cumsum(lengths) - lengths  # where each run begins in the output
    return np.arange(int(lengths.sum())) + np.repeat(np.asarray(starts) - run_start, lengths)
