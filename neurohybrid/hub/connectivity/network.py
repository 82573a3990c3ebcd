"""The hub's synapse list as arrays (the model every connectivity format builds), and its checks."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.units import NS_PER_S
from neurohybrid.core.validate import is_int, is_number
from neurohybrid.hub.router import FanoutIndex

LAB_KINDS = ("board", "legacy", "mea")
"""Lab kinds: what a lab receives from the hub (see the package docstring)."""

KIND_MEA = "mea"
KIND_LEGACY = "legacy"

DEFAULT_LABS: Mapping[str, str] = {"padova": "mea", "zurich": "board"}
"""The original sites (Serb et al. 2020): Padova recorded a culture on an MEA, Zurich ran a DYNAP chip."""

CROSSBAR_WORDLINES = 32
CROSSBAR_BITLINES = 32
"""ArC ONE / ArC TWO crossbar size, 32x32 (mission.md)."""

CROSSBAR_TILES = 1
"""Crossbar tiles by default: one crossbar (the original hub's single 32x32 array)."""

DEFAULT_DELAY_S = 1e-3
"""Default synaptic delivery delay, s (a choice of ours; the paper gives none)."""

MAX_NEURON_ID = 2**32 - 1
"""Neuron ids travel as uint32 (events.py)."""

LEGACY_MAX_NEURON_ID = 2**24 - 1
"""The 2017 wire format carries neuron ids in bits 23-0 of word 1 (mission.md, step 4)."""

LAB_NAME = r"[A-Za-z_][A-Za-z0-9_\-]*"
"""A lab name: letters, digits, _ and -, not starting with a digit."""
_LAB_NAME_RE = re.compile(rf"^{LAB_NAME}$")


@dataclass(frozen=True)
class Synapse:
    """One memristive synapse ``pre_lab:pre_id -> post_lab:post_id`` on device (tile, wordline, bitline).

    ``tile`` is the crossbar (0..n_tiles-1) holding the device, 0 unless a file names another.

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
    tile: int = 0

    @property
    def pre(self) -> str:
        """Presynaptic neuron as ``"lab:id"``."""
        return f"{self.pre_lab}:{self.pre_id}"

    @property
    def post(self) -> str:
        """Postsynaptic neuron as ``"lab:id"``."""
        return f"{self.post_lab}:{self.post_id}"


def check_labs(labs: Mapping[str, str], where: str) -> dict[str, str]:
    """``labs`` (lab name -> kind) checked: names and kinds (one of LAB_KINDS)."""
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


def check_crossbar(n_wordlines: object, n_bitlines: object, where: str, n_tiles: object = 1) -> None:
    """The crossbar sizes and the tile count are integers >= 1."""
    for key, value in (("n_wordlines", n_wordlines), ("n_bitlines", n_bitlines), ("n_tiles", n_tiles)):
        if not is_int(value) or int(value) < 1:
            raise ConfigError(f"{where}: {key}={value!r} must be an integer >= 1")


def check_tile(value: object, n_tiles: int, key: str, where: str) -> int:
    """A crossbar tile index, an integer in 0..n_tiles-1."""
    if not is_int(value) or not 0 <= int(value) < n_tiles:
        raise ConfigError(f"{where}: out-of-range address {key}={value!r} (allowed 0..{n_tiles - 1})")
    return int(value)


def check_delay(delay_s: object, key: str, where: str) -> float:
    """A synaptic delay (s, finite, >= 0) as float."""
    if not is_number(delay_s) or not math.isfinite(float(delay_s)):
        raise ConfigError(f"{where}: {key}={delay_s!r} must be a finite number of seconds >= 0")
    if float(delay_s) < 0:
        raise ConfigError(f"{where}: negative delay {key}={delay_s!r} (allowed: >= 0 s)")
    return float(delay_s)


def check_keys(entry: object, allowed: Sequence[str], required: Sequence[str], where: str) -> dict:
    """``entry`` as a dict if it is a mapping with only ``allowed`` keys and every ``required`` one."""
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


@dataclass
class Draft:
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
    tile: int = 0


def check_plastic(value: object, where: str) -> bool:
    """The ``plastic`` flag of an entry: true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: plastic={value!r} must be true or false")
    return value


class Connectivity:
    """The hub's synapse list as arrays, with vectorised lookups by pre- and postsynaptic neuron.

    ``synapses[i].synapse_id`` must equal ``i``. Arrays (one entry per synapse): ``pre_lab_idx``,
    ``pre_id``, ``post_lab_idx``, ``post_id``, ``tile``, ``wordline``, ``bitline``, ``delay_ns``; lab
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
        n_tiles: int = CROSSBAR_TILES,
    ) -> None:
        self.source = source
        kinds = check_labs(labs, source)
        check_crossbar(n_wordlines, n_bitlines, source, n_tiles)
        if locations is None:
            locations = [f"{source}, synapses[{i}]" for i in range(len(synapses))]
        if len(locations) != len(synapses):
            raise ValueError(f"{len(locations)} locations for {len(synapses)} synapses")
        self.labs: tuple[str, ...] = tuple(kinds)
        self.lab_kinds: dict[str, str] = kinds
        self.n_wordlines = int(n_wordlines)
        self.n_bitlines = int(n_bitlines)
        self.n_tiles = int(n_tiles)
        self.synapses: list[Synapse] = list(synapses)
        used: dict[tuple[int, int, int], str] = {}
        for i, (syn, where) in enumerate(zip(self.synapses, locations)):
            self._validate(i, syn, where, used)
        lab_index = {name: i for i, name in enumerate(self.labs)}
        n = len(self.synapses)
        self.pre_lab_idx = np.fromiter((lab_index[s.pre_lab] for s in self.synapses), np.uint16, n)
        self.pre_id = np.fromiter((s.pre_id for s in self.synapses), np.uint32, n)
        self.post_lab_idx = np.fromiter((lab_index[s.post_lab] for s in self.synapses), np.uint16, n)
        self.post_id = np.fromiter((s.post_id for s in self.synapses), np.uint32, n)
        self.tile = np.fromiter((s.tile for s in self.synapses), np.int64, n)
        self.wordline = np.fromiter((s.wordline for s in self.synapses), np.int64, n)
        self.bitline = np.fromiter((s.bitline for s in self.synapses), np.int64, n)
        self.delay_ns = np.fromiter(
            (round(s.delay_s * NS_PER_S) for s in self.synapses), np.int64, n
        )
        self.synapse_id = np.arange(n, dtype=np.uint32)
        self.plastic = np.fromiter((s.plastic for s in self.synapses), bool, n)
        self._by_pre = FanoutIndex(self.pre_lab_idx, self.pre_id)
        self._by_post = FanoutIndex(self.post_lab_idx, self.post_id)

    def _validate(self, i: int, syn: Synapse, where: str, used: dict[tuple[int, int, int], str]) -> None:
        if syn.synapse_id != i:
            raise ConfigError(f"{where}: synapse_id={syn.synapse_id} must equal its position {i}")
        for key, lab, neuron in (("pre", syn.pre_lab, syn.pre_id), ("post", syn.post_lab, syn.post_id)):
            if lab not in self.lab_kinds:
                raise ConfigError(
                    f"{where}: unknown lab {lab!r} in {key} (labs: {', '.join(self.labs)})"
                )
            limit = LEGACY_MAX_NEURON_ID if self.lab_kinds[lab] == KIND_LEGACY else MAX_NEURON_ID
            if not is_int(neuron) or not 0 <= neuron <= limit:
                raise ConfigError(f"{where}: {key} id {neuron!r} of lab {lab!r} outside 0..{limit}")
        for key, value, size in (
            ("tile", syn.tile, self.n_tiles),
            ("wordline", syn.wordline, self.n_wordlines),
            ("bitline", syn.bitline, self.n_bitlines),
        ):
            if not is_int(value) or not 0 <= value < size:
                raise ConfigError(f"{where}: out-of-range address {key}={value!r} (allowed 0..{size - 1})")
        check_delay(syn.delay_s, "delay_s", where)
        device = (int(syn.tile), int(syn.wordline), int(syn.bitline))
        if device in used:
            shown = device if self.n_tiles > 1 else device[1:]
            raise ConfigError(f"{where}: duplicate device {shown}, already used by {used[device]}")
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

    def pre_runs(self, lab: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For events ``ids`` of ``lab``: (start, length) of each one's run of synapses (it is their
        pre neuron) in the returned order of synapse indices (file order within a run)."""
        lo, counts = self._by_pre.runs(self.lab_index(lab), ids)
        return lo, counts, self._by_pre.order

    def by_post(self, lab: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(event_idx, synapse_idx) pairs where event ``ids[e]`` of ``lab`` is the synapse's post neuron."""
        return self._by_post.pairs(self.lab_index(lab), ids)

    def labels(self, which: str) -> np.ndarray:
        """``"lab:id"`` strings of the ``"pre"`` or ``"post"`` neuron of every synapse."""
        if which not in ("pre", "post"):
            raise ValueError(f"which={which!r} must be 'pre' or 'post'")
        return np.array([getattr(s, which) for s in self.synapses], dtype=str)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON/YAML safe) for embedding in recordings; ``from_dict`` reads it back.

        A device is ``[wordline, bitline]`` on one tile, ``[tile, wordline, bitline]`` on several.
        """
        crossbar = {"n_wordlines": self.n_wordlines, "n_bitlines": self.n_bitlines}
        if self.n_tiles > 1:
            crossbar["n_tiles"] = self.n_tiles

        def device(s: Synapse) -> list[int]:
            return [s.tile, s.wordline, s.bitline] if self.n_tiles > 1 else [s.wordline, s.bitline]

        return {
            "source": self.source,
            "labs": dict(self.lab_kinds),
            "crossbar": crossbar,
            "synapses": [
                {"pre": s.pre, "post": s.post, "device": device(s), "delay_s": s.delay_s, "plastic": s.plastic}
                for s in self.synapses
            ],
        }


def build(
    drafts: Sequence[Draft], labs: Mapping[str, str], n_wordlines: int, n_bitlines: int, origin: str,
    n_tiles: int = CROSSBAR_TILES,
) -> Connectivity:
    """The connectivity of ``drafts``, numbered in their order (synapse id = position)."""
    synapses = [
        Synapse(i, d.pre_lab, d.pre_id, d.post_lab, d.post_id, d.wordline, d.bitline, d.delay_s, d.plastic,
                d.tile)
        for i, d in enumerate(drafts)
    ]
    return Connectivity(synapses, labs, n_wordlines, n_bitlines, origin, [d.where for d in drafts], n_tiles)


