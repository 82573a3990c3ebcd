"""Connectivity of the hybrid network: which neuron reaches which, through which memristor.

Every synapse joins a presynaptic neuron ``pre_lab:pre_id`` to a postsynaptic neuron
``post_lab:post_id`` through one memristor of the hub's crossbar, addressed by
``(wordline, bitline)`` (32x32 in the ArC ONE/TWO, mission.md), with a delivery delay.
Two file formats are read by :func:`load_connectivity`, chosen by extension:

Legacy format (any extension but ``.yaml``/``.yml``)
    The list of the original control software (Serb et al. 2020, "Hub logic" step 1): one
    synapse per line, ``pre_id, post_id, wordline, bitline``, separated by commas and/or
    whitespace; ``#`` starts a comment; blank lines are skipped. Ids are non-negative integers.

    The original ids carry no lab: the hub learnt it at run time from the packet's sender code
    ('A' Zurich, 'D' Padova). **Decision:** a legacy file holds ONE direction. Every line means
    ``legacy_pre_lab:pre_id -> legacy_post_lab:post_id`` (defaults ``zurich`` -> ``padova``);
    load the reverse direction by swapping the two arguments. A network with both directions
    (the paper's Zurich -> Padova -> Zurich loop) uses the YAML form, which can include one
    legacy file per direction (``legacy_files`` below), so original lists are reused unchanged.
    We chose this over an id-range convention because Zurich neuron 5 and electrode 5 are
    both "5" in the original lists: any split value would be a guess that silently misroutes.
    Every synapse of a legacy file gets ``default_delay_s``.

YAML format (``.yaml`` / ``.yml``)::

    labs: {padova: mea, zurich: board}     # lab name -> kind: mea | board | legacy
    defaults: {delay_s: 0.001}             # optional; else default_delay_s
    crossbar: {n_wordlines: 32, n_bitlines: 32}   # optional; else the loader's arguments
    description: free text                 # optional; ignored
    synapses:                              # optional; ids are given in list order
      - "zurich:63 -> padova:256 @ (12, 21)"
      - "padova:5 -> zurich:1 @ (3, 4) delay 50ms"      # units s, ms, us
      - {pre: "zurich:63", post: "padova:7", device: [12, 22], delay_s: 0.05}
    legacy_files:                          # optional; paths relative to this file
      - {file: zurich_to_padova.txt, pre_lab: zurich, post_lab: padova, delay_s: 0.001}
    generate:                              # optional; a mapping or a list of mappings
      - {pre_lab: zurich, pre_ids: [0, 1023], post_lab: padova, post_ids: [0, 59],
         count: 256, seed: 1, delay_s: 0.001}

    Kinds: ``mea`` receives weighted events and stimulation commands (an MEA lab), ``board``
    receives weighted events (a neuromorphic board), ``legacy`` receives weighted events meant
    for the 2017 UDP gateway (24-bit neuron ids). The ``labs`` argument of the loader, when
    given, overrides the kinds of the labs it names (e.g. turning ``padova`` into ``legacy``
    when that lab joins through the gateway) and may add labs.

    A ``generate`` block draws ``count`` synapses at random (numpy Generator seeded with
    ``seed``): ``count`` distinct (pre, post) pairs from the inclusive id ranges
    ``pre_ids: [lo, hi]`` x ``post_ids: [lo, hi]`` that no earlier entry connects, sorted by
    (pre id, post id), each on a distinct crossbar device drawn from the devices not used by
    earlier entries. Entries are numbered in this order: ``synapses``, ``legacy_files``,
    ``generate``; the synapse id is the position in that order.

Validation raises :class:`~neurohybrid.errors.ConfigError` naming the file, the line (legacy)
or entry (``synapses[3]``, ``generate[0]``, ``labs.padova``) and the reason: unknown lab,
duplicate device, wordline/bitline outside 0..n-1, bad syntax, negative delay, unknown lab kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from neurohybrid.errors import ConfigError
from neurohybrid.hub.router import FanoutIndex

LAB_KINDS = ("board", "legacy", "mea")
"""Lab kinds: what a lab receives from the hub (see module docstring)."""

KIND_MEA = "mea"
KIND_LEGACY = "legacy"

DEFAULT_LABS: Mapping[str, str] = {"padova": "mea", "zurich": "board"}
"""The original sites (Serb et al. 2020): Padova recorded a culture on an MEA, Zurich ran a DYNAP chip."""

DEFAULT_LEGACY_PRE_LAB = "zurich"
DEFAULT_LEGACY_POST_LAB = "padova"

CROSSBAR_WORDLINES = 32
CROSSBAR_BITLINES = 32
"""ArC ONE / ArC TWO crossbar size, 32x32 (mission.md)."""

DEFAULT_DELAY_S = 1e-3
"""Default synaptic delivery delay, s (a choice of ours; the paper gives none)."""

MAX_NEURON_ID = 2**32 - 1
"""Neuron ids travel as uint32 (events.py)."""

LEGACY_MAX_NEURON_ID = 2**24 - 1
"""The 2017 wire format carries neuron ids in bits 23-0 of word 1 (mission.md, step 4)."""

DELAY_UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6}

NS_PER_S = 1_000_000_000

_LAB_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
_LAB_NAME_RE = re.compile(rf"^{_LAB_NAME}$")
_ENDPOINT_RE = re.compile(rf"^\s*({_LAB_NAME})\s*:\s*(\d+)\s*$")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SYNAPSE_RE = re.compile(
    rf"^\s*({_LAB_NAME})\s*:\s*(\d+)\s*->\s*({_LAB_NAME})\s*:\s*(\d+)\s*"
    rf"@\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*"
    rf"(?:delay\s+({_NUMBER})\s*({'|'.join(DELAY_UNITS_S)})\s*)?$"
)
_LEGACY_SPLIT_RE = re.compile(r"[,\s]+")
_TOP_KEYS = ("crossbar", "defaults", "description", "generate", "labs", "legacy_files", "synapses")
"""Top-level YAML keys; ``description`` is free text, ignored by the loader."""
_SYNAPSE_KEYS = ("delay_s", "device", "plastic", "post", "pre")
_LEGACY_FILE_KEYS = ("delay_s", "file", "post_lab", "pre_lab")
_GENERATE_KEYS = ("count", "delay_s", "plastic", "post_ids", "post_lab", "pre_ids", "pre_lab", "seed")


@dataclass(frozen=True)
class Synapse:
    """One memristive synapse ``pre_lab:pre_id -> post_lab:post_id`` on device (wordline, bitline).

    ``delay_s`` is the delivery delay added to the presynaptic spike time, seconds. A synapse
    that is not ``plastic`` keeps its device's state: it is read for its weight but never
    programmed by the plasticity rule (e.g. a background network of fixed memristive weights).
    """

    synapse_id: int
    pre_lab: str
    pre_id: int
    post_lab: str
    post_id: int
    wordline: int
    bitline: int
    delay_s: float
    plastic: bool = True

    @property
    def pre(self) -> str:
        """Presynaptic neuron as ``"lab:id"``."""
        return f"{self.pre_lab}:{self.pre_id}"

    @property
    def post(self) -> str:
        """Postsynaptic neuron as ``"lab:id"``."""
        return f"{self.post_lab}:{self.post_id}"


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_labs(labs: Mapping[str, str], where: str) -> dict[str, str]:
    if not isinstance(labs, Mapping) or not labs:
        raise ConfigError(f"{where}: labs must be a non-empty mapping lab name -> kind, got {labs!r}")
    for name, kind in labs.items():
        if not isinstance(name, str) or not _LAB_NAME_RE.match(name):
            raise ConfigError(f"{where}: labs: bad lab name {name!r} (letters, digits, _ and -)")
        if kind not in LAB_KINDS:
            raise ConfigError(
                f"{where}: labs.{name}: unknown lab kind {kind!r} (allowed: {', '.join(LAB_KINDS)})"
            )
    return dict(labs)


def _check_crossbar(n_wordlines: object, n_bitlines: object, where: str) -> None:
    for key, value in (("n_wordlines", n_wordlines), ("n_bitlines", n_bitlines)):
        if not _is_int(value) or int(value) < 1:
            raise ConfigError(f"{where}: {key}={value!r} must be an integer >= 1")


def _check_delay(delay_s: object, key: str, where: str) -> float:
    if not _is_number(delay_s) or not math.isfinite(float(delay_s)):
        raise ConfigError(f"{where}: {key}={delay_s!r} must be a finite number of seconds >= 0")
    if float(delay_s) < 0:
        raise ConfigError(f"{where}: negative delay {key}={delay_s!r} (allowed: >= 0 s)")
    return float(delay_s)


class Connectivity:
    """The hub's synapse list as arrays, with vectorised lookups by pre- and postsynaptic neuron.

    ``synapses[i].synapse_id`` must equal ``i``. Arrays (one entry per synapse): ``pre_lab_idx``,
    ``pre_id``, ``post_lab_idx``, ``post_id``, ``wordline``, ``bitline``, ``delay_ns``; lab
    indices point into ``labs`` (names in the order given), whose kinds are ``lab_kinds``.
    ``locations`` (one per synapse) name where each synapse was written, for error messages.
    """

    def __init__(
        self,
        synapses: Sequence[Synapse],
        labs: Mapping[str, str],
        n_wordlines: int = CROSSBAR_WORDLINES,
        n_bitlines: int = CROSSBAR_BITLINES,
        source: str = "<memory>",
        locations: Sequence[str] | None = None,
    ) -> None:
        self.source = source
        kinds = _check_labs(labs, source)
        _check_crossbar(n_wordlines, n_bitlines, source)
        if locations is None:
            locations = [f"{source}, synapses[{i}]" for i in range(len(synapses))]
        if len(locations) != len(synapses):
            raise ValueError(f"{len(locations)} locations for {len(synapses)} synapses")
        self.labs: tuple[str, ...] = tuple(kinds)
        self.lab_kinds: dict[str, str] = kinds
        self.n_wordlines = int(n_wordlines)
        self.n_bitlines = int(n_bitlines)
        self.synapses: list[Synapse] = list(synapses)
        used: dict[tuple[int, int], str] = {}
        for i, (syn, where) in enumerate(zip(self.synapses, locations)):
            self._validate(i, syn, where, used)
        lab_index = {name: i for i, name in enumerate(self.labs)}
        n = len(self.synapses)
        self.pre_lab_idx = np.fromiter((lab_index[s.pre_lab] for s in self.synapses), np.uint16, n)
        self.pre_id = np.fromiter((s.pre_id for s in self.synapses), np.uint32, n)
        self.post_lab_idx = np.fromiter((lab_index[s.post_lab] for s in self.synapses), np.uint16, n)
        self.post_id = np.fromiter((s.post_id for s in self.synapses), np.uint32, n)
        self.wordline = np.fromiter((s.wordline for s in self.synapses), np.int64, n)
        self.bitline = np.fromiter((s.bitline for s in self.synapses), np.int64, n)
        self.delay_ns = np.fromiter(
            (round(s.delay_s * NS_PER_S) for s in self.synapses), np.int64, n
        )
        self.synapse_id = np.arange(n, dtype=np.uint32)
        self.plastic = np.fromiter((s.plastic for s in self.synapses), bool, n)
        self._by_pre = FanoutIndex(self.pre_lab_idx, self.pre_id)
        self._by_post = FanoutIndex(self.post_lab_idx, self.post_id)

    def _validate(self, i: int, syn: Synapse, where: str, used: dict[tuple[int, int], str]) -> None:
        if syn.synapse_id != i:
            raise ConfigError(f"{where}: synapse_id={syn.synapse_id} must equal its position {i}")
        for key, lab, neuron in (("pre", syn.pre_lab, syn.pre_id), ("post", syn.post_lab, syn.post_id)):
            if lab not in self.lab_kinds:
                raise ConfigError(
                    f"{where}: unknown lab {lab!r} in {key} (labs: {', '.join(self.labs)})"
                )
            limit = LEGACY_MAX_NEURON_ID if self.lab_kinds[lab] == KIND_LEGACY else MAX_NEURON_ID
            if not _is_int(neuron) or not 0 <= neuron <= limit:
                raise ConfigError(f"{where}: {key} id {neuron!r} of lab {lab!r} outside 0..{limit}")
        for key, value, size in (
            ("wordline", syn.wordline, self.n_wordlines),
            ("bitline", syn.bitline, self.n_bitlines),
        ):
            if not _is_int(value) or not 0 <= value < size:
                raise ConfigError(f"{where}: out-of-range address {key}={value!r} (allowed 0..{size - 1})")
        _check_delay(syn.delay_s, "delay_s", where)
        device = (int(syn.wordline), int(syn.bitline))
        if device in used:
            raise ConfigError(f"{where}: duplicate device {device}, already used by {used[device]}")
        used[device] = where

    def __len__(self) -> int:
        return len(self.synapses)

    def lab_index(self, lab: str) -> int:
        """Index of ``lab`` in ``labs``; ValueError naming the known labs otherwise."""
        try:
            return self.labs.index(lab)
        except ValueError:
            raise ValueError(f"unknown lab {lab!r} (labs: {', '.join(self.labs)})") from None

    def by_pre(self, lab: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(event_idx, synapse_idx) pairs where event ``ids[e]`` of ``lab`` is the synapse's pre neuron."""
        return self._by_pre.pairs(self.lab_index(lab), ids)

    def by_post(self, lab: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(event_idx, synapse_idx) pairs where event ``ids[e]`` of ``lab`` is the synapse's post neuron."""
        return self._by_post.pairs(self.lab_index(lab), ids)

    def labels(self, which: str) -> np.ndarray:
        """``"lab:id"`` strings of the ``"pre"`` or ``"post"`` neuron of every synapse."""
        if which not in ("pre", "post"):
            raise ValueError(f"which={which!r} must be 'pre' or 'post'")
        return np.array([getattr(s, which) for s in self.synapses], dtype=str)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON/YAML safe) for embedding in recordings; :meth:`from_dict` reads it back."""
        return {
            "source": self.source,
            "labs": dict(self.lab_kinds),
            "crossbar": {"n_wordlines": self.n_wordlines, "n_bitlines": self.n_bitlines},
            "synapses": [
                {"pre": s.pre, "post": s.post, "device": [s.wordline, s.bitline], "delay_s": s.delay_s,
                 "plastic": s.plastic}
                for s in self.synapses
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Connectivity":
        """Rebuild a connectivity from :meth:`to_dict` output (or any YAML-format mapping)."""
        body = {k: v for k, v in data.items() if k != "source"}
        return _from_mapping(
            body,
            origin=str(data.get("source", "<dict>")),
            base_dir=Path("."),
            labs=None,
            n_wordlines=CROSSBAR_WORDLINES,
            n_bitlines=CROSSBAR_BITLINES,
            default_delay_s=DEFAULT_DELAY_S,
        )


@dataclass
class _Draft:
    """A synapse read from a file, before ids are assigned and it is validated."""

    pre_lab: str
    pre_id: int
    post_lab: str
    post_id: int
    wordline: int
    bitline: int
    delay_s: float
    where: str
    plastic: bool = True


def _check_plastic(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: plastic={value!r} must be true or false")
    return value


def load_connectivity(
    path: str | Path,
    labs: Mapping[str, str] | None = None,
    n_wordlines: int = CROSSBAR_WORDLINES,
    n_bitlines: int = CROSSBAR_BITLINES,
    default_delay_s: float = DEFAULT_DELAY_S,
    legacy_pre_lab: str = DEFAULT_LEGACY_PRE_LAB,
    legacy_post_lab: str = DEFAULT_LEGACY_POST_LAB,
) -> Connectivity:
    """Read a connectivity file, YAML (``.yaml``/``.yml``) or legacy (anything else).

    ``labs`` (name -> kind) declares the labs of a legacy file (default padova: mea, zurich:
    board) and overrides/extends the ``labs`` of a YAML file. ``legacy_pre_lab`` and
    ``legacy_post_lab`` give the one direction of a legacy file (see module docstring).
    """
    path = Path(path)
    _check_delay(default_delay_s, "default_delay_s", str(path))
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read connectivity file: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: bad syntax, not valid YAML: {exc}") from exc
        return _from_mapping(
            data,
            origin=str(path),
            base_dir=path.parent,
            labs=labs,
            n_wordlines=n_wordlines,
            n_bitlines=n_bitlines,
            default_delay_s=default_delay_s,
        )
    lab_kinds = _check_labs(DEFAULT_LABS if labs is None else labs, str(path))
    for key, lab in (("legacy_pre_lab", legacy_pre_lab), ("legacy_post_lab", legacy_post_lab)):
        if lab not in lab_kinds:
            raise ConfigError(f"{path}: unknown lab {key}={lab!r} (labs: {', '.join(lab_kinds)})")
    drafts = _parse_legacy(text, str(path), legacy_pre_lab, legacy_post_lab, default_delay_s)
    return _build(drafts, lab_kinds, n_wordlines, n_bitlines, str(path))


def _parse_legacy(text: str, origin: str, pre_lab: str, post_lab: str, delay_s: float) -> list[_Draft]:
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
        drafts.append(_Draft(pre_lab, pre_id, post_lab, post_id, wordline, bitline, delay_s, where))
    return drafts


def _build(
    drafts: Sequence[_Draft], labs: Mapping[str, str], n_wordlines: int, n_bitlines: int, origin: str
) -> Connectivity:
    synapses = [
        Synapse(i, d.pre_lab, d.pre_id, d.post_lab, d.post_id, d.wordline, d.bitline, d.delay_s, d.plastic)
        for i, d in enumerate(drafts)
    ]
    return Connectivity(synapses, labs, n_wordlines, n_bitlines, origin, [d.where for d in drafts])


def _check_keys(entry: object, allowed: Sequence[str], required: Sequence[str], where: str) -> dict:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: bad syntax, expected a mapping with keys {', '.join(allowed)}")
    unknown = sorted(set(map(str, entry)) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: bad syntax, unknown key(s) {', '.join(unknown)} (allowed: {', '.join(allowed)})"
        )
    missing = [k for k in required if k not in entry]
    if missing:
        raise ConfigError(f"{where}: bad syntax, missing key(s) {', '.join(missing)}")
    return dict(entry)


def _as_list(value: object, key: str, where: str) -> list:
    if value is None:
        return []
    if isinstance(value, Mapping) and key == "generate":
        return [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: bad syntax, {key} must be a list, got {type(value).__name__}")
    return value


def _from_mapping(
    data: object,
    origin: str,
    base_dir: Path,
    labs: Mapping[str, str] | None,
    n_wordlines: int,
    n_bitlines: int,
    default_delay_s: float,
) -> Connectivity:
    top = _check_keys({} if data is None else data, _TOP_KEYS, (), origin)
    file_labs = top.get("labs") or {}
    if not isinstance(file_labs, Mapping):
        raise ConfigError(f"{origin}: labs: bad syntax, expected a mapping lab name -> kind")
    lab_kinds = _check_labs({**file_labs, **(labs or {})}, origin)
    if "crossbar" in top:
        crossbar = _check_keys(top["crossbar"], ("n_bitlines", "n_wordlines"), (), f"{origin}, crossbar")
        n_wordlines = crossbar.get("n_wordlines", n_wordlines)
        n_bitlines = crossbar.get("n_bitlines", n_bitlines)
    _check_crossbar(n_wordlines, n_bitlines, origin)
    if "defaults" in top:
        defaults = _check_keys(top["defaults"], ("delay_s",), (), f"{origin}, defaults")
        default_delay_s = _check_delay(defaults.get("delay_s", default_delay_s), "defaults.delay_s", origin)

    drafts: list[_Draft] = []
    for i, entry in enumerate(_as_list(top.get("synapses"), "synapses", origin)):
        drafts.append(_parse_synapse_entry(entry, f"{origin}, synapses[{i}]", default_delay_s))
    for i, entry in enumerate(_as_list(top.get("legacy_files"), "legacy_files", origin)):
        where = f"{origin}, legacy_files[{i}]"
        inc = _check_keys(entry, _LEGACY_FILE_KEYS, ("file", "post_lab", "pre_lab"), where)
        for key in ("pre_lab", "post_lab"):
            if inc[key] not in lab_kinds:
                raise ConfigError(f"{where}: unknown lab {key}={inc[key]!r} (labs: {', '.join(lab_kinds)})")
        delay_s = _check_delay(inc.get("delay_s", default_delay_s), "delay_s", where)
        inc_path = base_dir / str(inc["file"])
        try:
            text = inc_path.read_text()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read legacy file {inc_path}: {exc}") from exc
        drafts.extend(_parse_legacy(text, str(inc_path), inc["pre_lab"], inc["post_lab"], delay_s))
    for i, entry in enumerate(_as_list(top.get("generate"), "generate", origin)):
        where = f"{origin}, generate[{i}]"
        drafts.extend(
            _generate(entry, where, drafts, lab_kinds, int(n_wordlines), int(n_bitlines), default_delay_s)
        )
    return _build(drafts, lab_kinds, n_wordlines, n_bitlines, origin)


def _endpoint(text: object, key: str, where: str) -> tuple[str, int]:
    match = _ENDPOINT_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"{where}: bad syntax, {key}={text!r} must be 'lab:id'")
    return match.group(1), int(match.group(2))


def _parse_synapse_entry(entry: object, where: str, default_delay_s: float) -> _Draft:
    if isinstance(entry, str):
        match = _SYNAPSE_RE.match(entry)
        if match is None:
            raise ConfigError(
                f"{where}: bad syntax {entry!r}, expected 'lab:id -> lab:id @ (wordline, bitline)'"
                f" with optional ' delay <number> <{'|'.join(DELAY_UNITS_S)}>'"
            )
        pre_lab, pre_id, post_lab, post_id, wordline, bitline, delay, unit = match.groups()
        delay_s = default_delay_s if delay is None else float(delay) * DELAY_UNITS_S[unit]
        delay_s = _check_delay(delay_s, "delay", where)
        return _Draft(
            pre_lab, int(pre_id), post_lab, int(post_id), int(wordline), int(bitline), delay_s, where
        )
    syn = _check_keys(entry, _SYNAPSE_KEYS, ("device", "post", "pre"), where)
    pre_lab, pre_id = _endpoint(syn["pre"], "pre", where)
    post_lab, post_id = _endpoint(syn["post"], "post", where)
    device = syn["device"]
    if not isinstance(device, (list, tuple)) or len(device) != 2 or not all(_is_int(v) for v in device):
        raise ConfigError(f"{where}: bad syntax, device={device!r} must be [wordline, bitline] integers")
    delay_s = _check_delay(syn.get("delay_s", default_delay_s), "delay_s", where)
    return _Draft(pre_lab, pre_id, post_lab, post_id, int(device[0]), int(device[1]), delay_s, where,
                  _check_plastic(syn.get("plastic", True), where))


def _id_range(value: object, key: str, where: str) -> tuple[int, int]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(_is_int(v) for v in value)
        or not 0 <= value[0] <= value[1]
    ):
        raise ConfigError(f"{where}: bad syntax, {key}={value!r} must be [lo, hi] with 0 <= lo <= hi")
    return int(value[0]), int(value[1])


def _generate(
    entry: object,
    where: str,
    earlier: Sequence[_Draft],
    labs: Mapping[str, str],
    n_wordlines: int,
    n_bitlines: int,
    default_delay_s: float,
) -> list[_Draft]:
    required = ("count", "post_ids", "post_lab", "pre_ids", "pre_lab", "seed")
    block = _check_keys(entry, _GENERATE_KEYS, required, where)
    for key in ("pre_lab", "post_lab"):
        if block[key] not in labs:
            raise ConfigError(f"{where}: unknown lab {key}={block[key]!r} (labs: {', '.join(labs)})")
    pre_lo, pre_hi = _id_range(block["pre_ids"], "pre_ids", where)
    post_lo, post_hi = _id_range(block["post_ids"], "post_ids", where)
    count, seed = block["count"], block["seed"]
    if not _is_int(count) or count < 1:
        raise ConfigError(f"{where}: count={count!r} must be an integer >= 1")
    if not _is_int(seed) or seed < 0:
        raise ConfigError(f"{where}: seed={seed!r} must be an integer >= 0")
    delay_s = _check_delay(block.get("delay_s", default_delay_s), "delay_s", where)
    plastic = _check_plastic(block.get("plastic", True), where)
    pre_lab, post_lab = block["pre_lab"], block["post_lab"]

    used = np.zeros((n_wordlines, n_bitlines), dtype=bool)
    for d in earlier:
        if 0 <= d.wordline < n_wordlines and 0 <= d.bitline < n_bitlines:
            used[d.wordline, d.bitline] = True
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
    return [
        _Draft(pre_lab, int(p), post_lab, int(q), int(dev // n_bitlines), int(dev % n_bitlines),
               delay_s, where, plastic)
        for p, q, dev in zip(pre_ids, post_ids, devices)
    ]
