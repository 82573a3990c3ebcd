"""Connectivity of the hybrid network: which neuron reaches which, through which memristor.

Every synapse joins a presynaptic neuron ``pre_lab:pre_id`` to a postsynaptic neuron
``post_lab:post_id`` through one memristor of the hub's crossbar, addressed by
``(tile, wordline, bitline)`` (32x32 in the ArC ONE/TWO, mission.md; the hub may drive several
such crossbars, its tiles, and ``tile`` is 0 wherever a file names none), with a delivery delay.
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
    Every synapse of a legacy file gets ``default_delay_s``; all its devices lie on one tile
    (``legacy_tile``, default 0; the original hub drove one 32x32 array).

YAML format (``.yaml`` / ``.yml``)::

    labs: {padova: mea, zurich: board}     # lab name -> kind: mea | board | legacy
    defaults: {delay_s: 0.001}             # optional; else default_delay_s
    crossbar: {n_wordlines: 32, n_bitlines: 32, n_tiles: 16}   # optional; else the loader's arguments
    description: free text                 # optional; ignored
    synapses:                              # optional; ids are given in list order
      - "zurich:63 -> padova:256 @ (12, 21)"
      - "padova:5 -> zurich:1 @ (3, 4) delay 50ms"      # units s, ms, us
      - {pre: "zurich:63", post: "padova:7", device: [12, 22], delay_s: 0.05}
      - "zurich:64 -> padova:7 @ (3, 12, 21)"          # (tile, wordline, bitline)
      - {pre: "zurich:65", post: "padova:7", device: [3, 12, 22]}
    legacy_files:                          # optional; paths relative to this file
      - {file: zurich_to_padova.txt, pre_lab: zurich, post_lab: padova, delay_s: 0.001, tile: 2}
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
    earlier entries, over every tile (a device index ``k`` of the tiles in order, tile-major).
    Entries are numbered in this order: ``synapses``, ``legacy_files``,
    ``generate``; the synapse id is the position in that order.

Validation raises :class:`~neurohybrid.core.errors.ConfigError` naming the file, the line (legacy)
or entry (``synapses[3]``, ``generate[0]``, ``labs.padova``) and the reason: unknown lab,
duplicate device, tile/wordline/bitline outside 0..n-1, bad syntax, negative delay, unknown lab kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from neurohybrid.core.errors import ConfigError
from neurohybrid.hub.connectivity.legacy import DEFAULT_LEGACY_POST_LAB, DEFAULT_LEGACY_PRE_LAB, parse_legacy
from neurohybrid.hub.connectivity.network import (
    CROSSBAR_BITLINES,
    CROSSBAR_TILES,
    CROSSBAR_WORDLINES,
    DEFAULT_DELAY_S,
    DEFAULT_LABS,
    KIND_LEGACY,
    KIND_MEA,
    LAB_KINDS,
    Connectivity,
    Synapse,
    build,
    check_crossbar,
    check_delay,
    check_labs,
    check_tile,
)
from neurohybrid.hub.connectivity.yaml_file import from_dict, from_mapping

__all__ = ["KIND_LEGACY", "KIND_MEA", "LAB_KINDS", "Connectivity", "Synapse", "from_dict", "load_connectivity"]


def load_connectivity(
    path: str | Path,
    labs: Mapping[str, str] | None = None,
    n_wordlines: int = CROSSBAR_WORDLINES,
    n_bitlines: int = CROSSBAR_BITLINES,
    default_delay_s: float = DEFAULT_DELAY_S,
    legacy_pre_lab: str = DEFAULT_LEGACY_PRE_LAB,
    legacy_post_lab: str = DEFAULT_LEGACY_POST_LAB,
    n_tiles: int = CROSSBAR_TILES,
    legacy_tile: int = 0,
) -> Connectivity:
    """Read a connectivity file, YAML (``.yaml``/``.yml``) or legacy (anything else).

    ``labs`` (name -> kind) declares the labs of a legacy file (default padova: mea, zurich:
    board) and overrides/extends the ``labs`` of a YAML file. ``legacy_pre_lab`` and
    ``legacy_post_lab`` give the one direction of a legacy file (see above), ``legacy_tile`` its
    tile; ``n_tiles`` the crossbar tiles (a YAML ``crossbar.n_tiles`` overrides it).
    """
    path = Path(path)
    check_delay(default_delay_s, "default_delay_s", str(path))
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read connectivity file: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: bad syntax, not valid YAML: {exc}") from exc
        return from_mapping(
            data,
            origin=str(path),
            base_dir=path.parent,
            labs=labs,
            n_wordlines=n_wordlines,
            n_bitlines=n_bitlines,
            default_delay_s=default_delay_s,
            n_tiles=n_tiles,
        )
    lab_kinds = check_labs(DEFAULT_LABS if labs is None else labs, str(path))
    for key, lab in (("legacy_pre_lab", legacy_pre_lab), ("legacy_post_lab", legacy_post_lab)):
        if lab not in lab_kinds:
            raise ConfigError(f"{path}: unknown lab {key}={lab!r} (labs: {', '.join(lab_kinds)})")
    check_crossbar(n_wordlines, n_bitlines, str(path), n_tiles)
    tile = check_tile(legacy_tile, int(n_tiles), "legacy_tile", str(path))
    drafts = parse_legacy(text, str(path), legacy_pre_lab, legacy_post_lab, default_delay_s, tile)
    return build(drafts, lab_kinds, n_wordlines, n_bitlines, str(path), int(n_tiles))


