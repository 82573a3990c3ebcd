"""``generate`` blocks of a YAML connectivity: random synapses on free crossbar devices, seeded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import is_int
from neurohybrid.hub.connectivity.network import Draft, check_delay, check_keys, check_plastic

_GENERATE_KEYS = ("count", "delay_s", "plastic", "post_ids", "post_lab", "pre_ids", "pre_lab", "seed")
_GENERATE_REQUIRED = ("count", "post_ids", "post_lab", "pre_ids", "pre_lab", "seed")
"""Keys a generate block must give (the others: delay_s, plastic)."""


def _id_range(value: object, key: str, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(is_int(v) for v in value)
        or not 0 <= value[0] <= value[1]
    ):
        raise ConfigError(f"{where}: bad syntax, {key}={value!r} must be [lo, hi] with 0 <= lo <= hi")
    return int(value[0]), int(value[1])


def generate(
    entry: object,
    where: str,
    earlier: Sequence[Draft],
    labs: Mapping[str, str],
    n_wordlines: int,
    n_bitlines: int,
    default_delay_s: float,
    n_tiles: int = 1,
) -> list[Draft]:
    """The synapses of one ``generate`` block at ``where``, after the ``earlier`` ones (see the package doc)."""
    block = check_keys(entry, _GENERATE_KEYS, _GENERATE_REQUIRED, where)
    for key in ("pre_lab", "post_lab"):
        if block[key] not in labs:
            raise ConfigError(f"{where}: unknown lab {key}={block[key]!r} (labs: {', '.join(labs)})")
    pre_lo, pre_hi = _id_range(block["pre_ids"], "pre_ids", where)
    post_lo, post_hi = _id_range(block["post_ids"], "post_ids", where)
    count, seed = block["count"], block["seed"]
    if not is_int(count) or count < 1:
        raise ConfigError(f"{where}: count={count!r} must be an integer >= 1")
    if not is_int(seed) or seed < 0:
        raise ConfigError(f"{where}: seed={seed!r} must be an integer >= 0")
    delay_s = check_delay(block.get("delay_s", default_delay_s), "delay_s", where)
    plastic = check_plastic(block.get("plastic", True), where)
    pre_lab, post_lab = block["pre_lab"], block["post_lab"]

    used = np.zeros((n_tiles, n_wordlines, n_bitlines), dtype=bool)
    for d in earlier:
        if 0 <= d.tile < n_tiles and 0 <= d.wordline < n_wordlines and 0 <= d.bitline < n_bitlines:
            used[d.tile, d.wordline, d.bitline] = True
    free = np.flatnonzero(~used.ravel())
    if count > len(free):
        raise ConfigError(f"{where}: count={count} exceeds the {len(free)} free crossbar devices")

    n_post = post_hi - post_lo + 1
    n_pairs = (pre_hi - pre_lo + 1) * n_post
    taken = {
        (d.pre_id - pre_lo) * n_post + (d.post_id - post_lo)
        for d in earlier
        if d.pre_lab == pre_lab and d.post_lab == post_lab
        and pre_lo <= d.pre_id <= pre_hi and post_lo <= d.post_id <= post_hi
    }
    rng = np.random.default_rng(seed)
    candidates = rng.choice(n_pairs, size=min(n_pairs, count + len(taken)), replace=False)
    unconnected = [c for c in candidates.tolist() if c not in taken][:count]
    chosen = np.sort(np.array(unconnected, dtype=np.int64))
    if len(chosen) < count:
        raise ConfigError(f"{where}: count={count} exceeds the {len(chosen)} unconnected (pre, post) pairs")
    devices = free[rng.choice(len(free), size=count, replace=False)]
    pre_ids = pre_lo + chosen // n_post
    post_ids = post_lo + chosen % n_post
    tiles, within = np.divmod(devices, n_wordlines * n_bitlines)
    return [
        Draft(pre_lab, int(p), post_lab, int(q), int(dev // n_bitlines), int(dev % n_bitlines),
               delay_s, where, plastic, int(t))
        for p, q, t, dev in zip(pre_ids.tolist(), post_ids.tolist(), tiles.tolist(), within.tolist())
    ]
