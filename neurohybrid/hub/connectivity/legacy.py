"""The original control software's connectivity list (Serb et al. 2020): one synapse per line.

``pre_id, post_id, wordline, bitline``, separated by commas and/or whitespace; ``#`` starts a
comment; blank lines are skipped. A legacy file holds one direction (see the package docstring)
and one crossbar: the original hub drove a single 32x32 array, so every device of a list lies on
one tile, given by whoever loads the list (default 0).
"""

from __future__ import annotations

import re

from neurohybrid.core.errors import ConfigError
from neurohybrid.hub.connectivity.network import Draft

DEFAULT_LEGACY_PRE_LAB = "zurich"
DEFAULT_LEGACY_POST_LAB = "padova"
"""The one direction of a legacy file unless told otherwise (see the package docstring)."""
_LEGACY_SPLIT_RE = re.compile(r"[,\s]+")


def parse_legacy(text: str, origin: str, pre_lab: str, post_lab: str, delay_s: float, tile: int = 0) -> list[Draft]:
    """The synapses ``pre_lab:pre_id -> post_lab:post_id`` of a legacy list, on crossbar ``tile``;
    errors name ``origin`` and the line."""
    drafts = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{origin}, line {lineno}"
        fields = [f for f in _LEGACY_SPLIT_RE.split(line) if f]
        if len(fields) != 4 or not all(f.isdigit() for f in fields):
            raise ConfigError(
                f"{where}: bad syntax {raw.strip()!r}, expected 'pre_id, post_id, wordline, bitline'"
                " (non-negative integers)"
            )
        pre_id, post_id, wordline, bitline = (int(f) for f in fields)
        drafts.append(Draft(pre_lab, pre_id, post_lab, post_id, wordline, bitline, delay_s, where, tile=tile))
    return drafts


