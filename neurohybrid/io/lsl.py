"""Lab Streaming Layer access shared by the ``lsl`` MEA backend and the ``lsl_bridge`` node.

``pylsl`` (pinned; its wheel carries liblsl 1.18) is imported through :func:`pylsl_module`, which
first sets liblsl's log level to errors only: liblsl otherwise logs INFO lines on every stream
it opens. Times: LSL stamps samples with ``local_clock()`` (seconds, steady clock of the sending
machine); ``StreamInlet.time_correction()`` is the offset that maps them into the receiving
machine's ``local_clock()`` (liblsl's NTP-like clock sync, re-estimated every 5 s).
"""

from __future__ import annotations

from functools import lru_cache
from types import ModuleType

LSL_LOG_LEVEL = -2
"""liblsl (loguru) verbosity: -2 logs errors only (0 would log INFO)."""


@lru_cache(maxsize=1)
def pylsl_module() -> ModuleType:
    """``pylsl``, with liblsl configured once, before any stream exists."""
    import pylsl

    pylsl.set_config_content(f"[log]\nlevel = {LSL_LOG_LEVEL}\n")
    return pylsl


def resolve_predicate(name: str = "", stream_type: str = "", source_id: str = "") -> str:
    """The XPath predicate of ``resolve_bypred`` matching every given property ('' matches any)."""
    parts = [f"{key}='{value}'" for key, value in (("name", name), ("type", stream_type),
                                                    ("source_id", source_id)) if value]
    return " and ".join(parts)
