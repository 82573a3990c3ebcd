"""The YAML connectivity format (see the package docstring): labs, defaults, synapses, legacy files, generate."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.validate import is_int
from neurohybrid.hub.connectivity.generate import generate
from neurohybrid.hub.connectivity.legacy import parse_legacy
from neurohybrid.hub.connectivity.network import (
    CROSSBAR_BITLINES,
    CROSSBAR_WORDLINES,
    DEFAULT_DELAY_S,
    LAB_NAME,
    Connectivity,
    Draft,
    build,
    check_crossbar,
    check_delay,
    check_keys,
    check_labs,
    check_plastic,
    check_tile,
)

DELAY_UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_ENDPOINT_RE = re.compile(rf"^\s*({LAB_NAME})\s*:\s*(\d+)\s*$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SYNAPSE_RE = re.compile(
    rf"^\s*({LAB_NAME})\s*:\s*(\d+)\s*->\s*({LAB_NAME})\s*:\s*(\d+)\s*"
    rf"@\s*\(\s*(?:(\d+)\s*,\s*)?(\d+)\s*,\s*(\d+)\s*\)\s*"
    rf"(?:delay\s+({_NUMBER})\s*({'|'.join(DELAY_UNITS_S)})\s*)?$"
)
_TOP_KEYS = ("crossbar", "defaults", "description", "generate", "labs", "legacy_files", "synapses")
"""Top-level YAML keys; ``description`` is free text, ignored by the loader."""
_SYNAPSE_KEYS = ("delay_s", "device", "plastic", "post", "pre")
_LEGACY_FILE_KEYS = ("delay_s", "file", "post_lab", "pre_lab", "tile")


def _as_list(value: object, key: str, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, Mapping) and key == "generate":
        return [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: bad syntax, {key} must be a list, got {type(value).__name__}")
    return value


def from_mapping(
    data: object,
    origin: str,
    base_dir: Path,
    labs: Mapping[str, str] | None,
    n_wordlines: int,
    n_bitlines: int,
    default_delay_s: float,
    n_tiles: int = 1,
) -> Connectivity:
    """The connectivity of a parsed YAML document (``origin`` names it in errors; files relative to ``base_dir``)."""
    top = check_keys({} if data is None else data, _TOP_KEYS, (), origin)
    file_labs = top.get("labs") or {}
    if not isinstance(file_labs, Mapping):
        raise ConfigError(f"{origin}: labs: bad syntax, expected a mapping lab name -> kind")
    lab_kinds = check_labs({**file_labs, **(labs or {})}, origin)
    if "crossbar" in top:
        crossbar = check_keys(top["crossbar"], ("n_bitlines", "n_tiles", "n_wordlines"), (), f"{origin}, crossbar")
        n_wordlines = crossbar.get("n_wordlines", n_wordlines)
        n_bitlines = crossbar.get("n_bitlines", n_bitlines)
        n_tiles = crossbar.get("n_tiles", n_tiles)
    check_crossbar(n_wordlines, n_bitlines, origin, n_tiles)
    if "defaults" in top:
        defaults = check_keys(top["defaults"], ("delay_s",), (), f"{origin}, defaults")
        default_delay_s = check_delay(defaults.get("delay_s", default_delay_s), "defaults.delay_s", origin)

    drafts: list[Draft] = []
    for i, entry in enumerate(_as_list(top.get("synapses"), "synapses", origin)):
        drafts.append(_synapse_entry(entry, f"{origin}, synapses[{i}]", default_delay_s))
    for i, entry in enumerate(_as_list(top.get("legacy_files"), "legacy_files", origin)):
        where = f"{origin}, legacy_files[{i}]"
        inc = check_keys(entry, _LEGACY_FILE_KEYS, ("file", "post_lab", "pre_lab"), where)
        for key in ("pre_lab", "post_lab"):
            if inc[key] not in lab_kinds:
                raise ConfigError(f"{where}: unknown lab {key}={inc[key]!r} (labs: {', '.join(lab_kinds)})")
        delay_s = check_delay(inc.get("delay_s", default_delay_s), "delay_s", where)
        tile = check_tile(inc.get("tile", 0), int(n_tiles), "tile", where)
        inc_path = base_dir / str(inc["file"])
        try:
            text = inc_path.read_text()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read legacy file {inc_path}: {exc}") from exc
        drafts.extend(parse_legacy(text, str(inc_path), inc["pre_lab"], inc["post_lab"], delay_s, tile))
    for i, entry in enumerate(_as_list(top.get("generate"), "generate", origin)):
        where = f"{origin}, generate[{i}]"
        drafts.extend(
            generate(entry, where, drafts, lab_kinds, int(n_wordlines), int(n_bitlines), default_delay_s,
                     int(n_tiles))
        )
    return build(drafts, lab_kinds, n_wordlines, n_bitlines, origin, int(n_tiles))


def _endpoint(text: object, key: str, where: str) -> tuple[str, int]:
    match = _ENDPOINT_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"{where}: bad syntax, {key}={text!r} must be 'lab:id'")
    return match.group(1), int(match.group(2))


def _synapse_entry(entry: object, where: str, default_delay_s: float) -> Draft:
    if isinstance(entry, str):
        match = _SYNAPSE_RE.match(entry)
        if match is None:
            raise ConfigError(
                f"{where}: bad syntax {entry!r}, expected 'lab:id -> lab:id @ ([tile, ]wordline, bitline)'"
                f" with optional ' delay <number> <{'|'.join(DELAY_UNITS_S)}>'"
            )
        pre_lab, pre_id, post_lab, post_id, tile, wordline, bitline, delay, unit = match.groups()
        delay_s = default_delay_s if delay is None else float(delay) * DELAY_UNITS_S[unit]
        delay_s = check_delay(delay_s, "delay", where)
        return Draft(
            pre_lab, int(pre_id), post_lab, int(post_id), int(wordline), int(bitline), delay_s, where,
            tile=int(tile or 0),
        )
    syn = check_keys(entry, _SYNAPSE_KEYS, ("device", "post", "pre"), where)
    pre_lab, pre_id = _endpoint(syn["pre"], "pre", where)
    post_lab, post_id = _endpoint(syn["post"], "post", where)
    device = syn["device"]
    if not isinstance(device, (list, tuple)) or len(device) not in (2, 3) or not all(is_int(v) for v in device):
        raise ConfigError(
            f"{where}: bad syntax, device={device!r} must be [wordline, bitline] or [tile, wordline, bitline] integers")
    tile, wordline, bitline = (0, *device) if len(device) == 2 else device
    delay_s = check_delay(syn.get("delay_s", default_delay_s), "delay_s", where)
    return Draft(pre_lab, pre_id, post_lab, post_id, int(wordline), int(bitline), delay_s, where,
                  check_plastic(syn.get("plastic", True), where), int(tile))




def from_dict(data: Mapping[str, Any]) -> Connectivity:
    """Rebuild a connectivity from :meth:`Connectivity.to_dict` output (or any YAML-format mapping)."""
    body = {k: v for k, v in data.items() if k != "source"}
    return from_mapping(body, origin=str(data.get("source", "<dict>")), base_dir=Path("."), labs=None,
                        n_wordlines=CROSSBAR_WORDLINES, n_bitlines=CROSSBAR_BITLINES,
                        default_delay_s=DEFAULT_DELAY_S)
