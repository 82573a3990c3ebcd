"""Connectivity files (legacy and YAML), their validation errors and the fan-out lookups."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurohybrid.core.errors import ConfigError
from neurohybrid.hub.connectivity import Connectivity, Synapse, from_dict, load_connectivity

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "connectivity"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def write_yaml(tmp_path: Path, data: dict, name: str = "net.yaml") -> Path:
    return write(tmp_path, name, yaml.safe_dump(data))


LABS = {"padova": "mea", "zurich": "board"}


# ---------------------------------------------------------------- legacy format


def test_legacy_file_reads_comma_and_whitespace_separated_lines_with_comments(tmp_path):
    path = write(tmp_path, "conn.txt", "# header\n\n0, 24, 0, 0\n3 24 0 2  # trailing\n7,\t11 ,1, 5\n")
    conn = load_connectivity(path)
    assert [(s.pre, s.post, s.wordline, s.bitline) for s in conn.synapses] == [
        ("zurich:0", "padova:24", 0, 0),
        ("zurich:3", "padova:24", 0, 2),
        ("zurich:7", "padova:11", 1, 5),
    ]
    assert [s.synapse_id for s in conn.synapses] == [0, 1, 2]
    np.testing.assert_array_equal(conn.delay_ns, [1_000_000] * 3)


def test_legacy_file_direction_is_set_by_legacy_pre_and_post_lab(tmp_path):
    path = write(tmp_path, "conn.txt", "5, 1, 2, 3\n")
    conn = load_connectivity(path, legacy_pre_lab="padova", legacy_post_lab="zurich", default_delay_s=0.05)
    syn = conn.synapses[0]
    assert (syn.pre, syn.post, syn.delay_s) == ("padova:5", "zurich:1", 0.05)
    assert conn.delay_ns[0] == 50_000_000


def test_shipped_legacy_example_loads():
    conn = load_connectivity(CONFIG_DIR / "legacy_example.txt")
    assert len(conn) >= 3
    assert {s.pre_lab for s in conn.synapses} == {"zurich"}


@pytest.mark.parametrize(
    "line",
    ["1, 2, 3", "1, 2, 3, 4, 5", "a, 2, 3, 4", "-1, 2, 3, 4", "1.5, 2, 3, 4"],
)
def test_legacy_bad_syntax_names_file_and_line(tmp_path, line):
    path = write(tmp_path, "conn.txt", f"0, 1, 0, 0\n# comment\n{line}\n")
    with pytest.raises(ConfigError, match=r"conn\.txt, line 3: bad syntax"):
        load_connectivity(path)


def test_legacy_duplicate_device_names_both_lines(tmp_path):
    path = write(tmp_path, "conn.txt", "0, 1, 4, 5\n2, 3, 4, 5\n")
    with pytest.raises(ConfigError, match=r"conn\.txt, line 2: duplicate device \(4, 5\), already used by .*line 1"):
        load_connectivity(path)


@pytest.mark.parametrize("line, key", [("0, 1, 32, 0", "wordline=32"), ("0, 1, 0, 40", "bitline=40")])
def test_legacy_out_of_range_address_names_line_and_key(tmp_path, line, key):
    path = write(tmp_path, "conn.txt", f"{line}\n")
    with pytest.raises(ConfigError, match=rf"conn\.txt, line 1: out-of-range address {key} \(allowed 0\.\.31\)"):
        load_connectivity(path)


def test_legacy_crossbar_size_is_configurable(tmp_path):
    path = write(tmp_path, "conn.txt", "0, 1, 7, 7\n")
    with pytest.raises(ConfigError, match=r"wordline=7 \(allowed 0\.\.3\)"):
        load_connectivity(path, n_wordlines=4, n_bitlines=4)


def test_legacy_unknown_lab_argument_is_rejected(tmp_path):
    path = write(tmp_path, "conn.txt", "0, 1, 0, 0\n")
    with pytest.raises(ConfigError, match=r"conn\.txt: unknown lab legacy_post_lab='rome'"):
        load_connectivity(path, legacy_post_lab="rome")


def test_legacy_negative_default_delay_is_rejected(tmp_path):
    path = write(tmp_path, "conn.txt", "0, 1, 0, 0\n")
    with pytest.raises(ConfigError, match=r"conn\.txt: negative delay default_delay_s=-0\.001"):
        load_connectivity(path, default_delay_s=-0.001)


def test_legacy_unknown_lab_kind_is_rejected(tmp_path):
    path = write(tmp_path, "conn.txt", "0, 1, 0, 0\n")
    with pytest.raises(ConfigError, match=r"labs\.padova: unknown lab kind 'eeg'"):
        load_connectivity(path, labs={"padova": "eeg", "zurich": "board"})


def test_legacy_lab_ids_beyond_24_bits_are_rejected(tmp_path):
    path = write(tmp_path, "conn.txt", f"0, {2**24}, 0, 0\n")
    with pytest.raises(ConfigError, match=r"line 1: post id 16777216 of lab 'padova' outside 0\.\.16777215"):
        load_connectivity(path, labs={"padova": "legacy", "zurich": "board"})


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.txt: cannot read"):
        load_connectivity(tmp_path / "nope.txt")


# ---------------------------------------------------------------- YAML format


def test_yaml_string_and_dict_synapses_with_delays(tmp_path):
    path = write_yaml(
        tmp_path,
        {
            "labs": LABS,
            "defaults": {"delay_s": 0.002},
            "synapses": [
                "zurich:63 -> padova:25 @ (12, 21)",
                "padova:5 -> zurich:1 @ (3, 4) delay 50ms",
                "padova:6 -> zurich:2 @ (3, 5) delay 250 us",
                "padova:7->zurich:3@(3,6) delay 1.5e-1 s",
                {"pre": "zurich:63", "post": "padova:7", "device": [12, 22], "delay_s": 0.05},
                {"pre": "zurich:64", "post": "padova:8", "device": [12, 23]},
            ],
        },
    )
    conn = load_connectivity(path)
    assert [s.pre for s in conn.synapses] == ["zurich:63", "padova:5", "padova:6", "padova:7", "zurich:63", "zurich:64"]
    assert [(s.wordline, s.bitline) for s in conn.synapses][:2] == [(12, 21), (3, 4)]
    np.testing.assert_array_equal(
        conn.delay_ns, [2_000_000, 50_000_000, 250_000, 150_000_000, 50_000_000, 2_000_000]
    )


def test_yaml_labs_argument_overrides_file_kinds(tmp_path):
    path = write_yaml(tmp_path, {"labs": LABS, "synapses": ["zurich:0 -> padova:1 @ (0, 0)"]})
    conn = load_connectivity(path, labs={"padova": "legacy"})
    assert conn.lab_kinds == {"padova": "legacy", "zurich": "board"}


def test_yaml_includes_one_legacy_file_per_direction(tmp_path):
    write(tmp_path, "z2p.txt", "0, 24, 0, 0\n")
    write(tmp_path, "p2z.txt", "24, 1, 0, 1\n")
    path = write_yaml(
        tmp_path,
        {
            "labs": LABS,
            "legacy_files": [
                {"file": "z2p.txt", "pre_lab": "zurich", "post_lab": "padova"},
                {"file": "p2z.txt", "pre_lab": "padova", "post_lab": "zurich", "delay_s": 0.01},
            ],
        },
    )
    conn = load_connectivity(path)
    assert [(s.pre, s.post, s.delay_s) for s in conn.synapses] == [
        ("zurich:0", "padova:24", 0.001),
        ("padova:24", "zurich:1", 0.01),
    ]


def test_yaml_duplicate_device_across_legacy_includes_names_the_included_file(tmp_path):
    write(tmp_path, "z2p.txt", "0, 24, 0, 0\n")
    write(tmp_path, "p2z.txt", "\n24, 1, 0, 0\n")
    path = write_yaml(
        tmp_path,
        {
            "labs": LABS,
            "legacy_files": [
                {"file": "z2p.txt", "pre_lab": "zurich", "post_lab": "padova"},
                {"file": "p2z.txt", "pre_lab": "padova", "post_lab": "zurich"},
            ],
        },
    )
    with pytest.raises(ConfigError, match=r"p2z\.txt, line 2: duplicate device \(0, 0\).*z2p\.txt, line 1"):
        load_connectivity(path)


def test_three_neuron_example_has_the_papers_loop_and_background():
    conn = load_connectivity(CONFIG_DIR / "three_neuron.yaml")
    loop = conn.synapses[:2]
    assert loop[0].pre == "zurich:0" and loop[0].post_lab == "padova"
    assert loop[1].pre == loop[0].post and loop[1].post == "zurich:1"
    assert (loop[0].wordline, loop[0].bitline) != (loop[1].wordline, loop[1].bitline)
    background = conn.synapses[2:]
    assert len(background) >= 256
    directions = {(s.pre_lab, s.post_lab) for s in background}
    assert directions == {("zurich", "padova"), ("padova", "zurich")}
    for s in background:
        silicon, electrode = (s.pre_id, s.post_id) if s.pre_lab == "zurich" else (s.post_id, s.pre_id)
        assert 0 <= silicon <= 1023 and 0 <= electrode <= 59


def test_generate_block_is_reproducible_unique_and_avoids_used_devices_and_pairs(tmp_path):
    data = {
        "labs": LABS,
        "synapses": ["zurich:0 -> padova:0 @ (0, 0)", "zurich:1 -> padova:1 @ (0, 1)"],
        "generate": {"pre_lab": "zurich", "pre_ids": [0, 3], "post_lab": "padova", "post_ids": [0, 3],
                     "count": 14, "seed": 7, "delay_s": 0.004},
    }
    first = load_connectivity(write_yaml(tmp_path, data, "a.yaml"))
    second = load_connectivity(write_yaml(tmp_path, data, "b.yaml"))
    assert first.to_dict()["synapses"] == second.to_dict()["synapses"]
    pairs = {(s.pre_id, s.post_id) for s in first.synapses}
    assert len(pairs) == 16  # all of the 4 x 4 pairs, none twice
    devices = {(s.wordline, s.bitline) for s in first.synapses}
    assert len(devices) == 16
    assert all(s.delay_s == 0.004 for s in first.synapses[2:])


def test_generate_seed_changes_the_draw(tmp_path):
    block = {"pre_lab": "zurich", "pre_ids": [0, 1023], "post_lab": "padova", "post_ids": [0, 59], "count": 50}
    a = load_connectivity(write_yaml(tmp_path, {"labs": LABS, "generate": {**block, "seed": 1}}, "a.yaml"))
    b = load_connectivity(write_yaml(tmp_path, {"labs": LABS, "generate": {**block, "seed": 2}}, "b.yaml"))
    assert a.to_dict()["synapses"] != b.to_dict()["synapses"]


def test_to_dict_round_trips_through_from_dict_and_yaml(tmp_path):
    conn = load_connectivity(CONFIG_DIR / "three_neuron.yaml")
    back = from_dict(yaml.safe_load(yaml.safe_dump(conn.to_dict())))
    assert back.synapses == conn.synapses
    assert back.lab_kinds == conn.lab_kinds
    assert back.source == conn.source


def _yaml_error(tmp_path, data) -> str:
    with pytest.raises(ConfigError) as info:
        load_connectivity(write_yaml(tmp_path, data))
    return str(info.value)


@pytest.mark.parametrize(
    "synapses, index, reason",
    [
        (["zurich:0 -> rome:1 @ (0, 0)"], 0, r"unknown lab 'rome' in post \(labs: padova, zurich\)"),
        (["zurich:0 -> padova:1 @ (0, 0)", "zurich:2 -> padova:3 @ (0, 0)"], 1,
         r"duplicate device \(0, 0\), already used by .*synapses\[0\]"),
        (["zurich:0 -> padova:1 @ (32, 0)"], 0, r"out-of-range address wordline=32 \(allowed 0\.\.31\)"),
        (["zurich:0 -> padova:1 @ (0, 99)"], 0, r"out-of-range address bitline=99"),
        (["zurich:0 => padova:1 @ (0, 0)"], 0, r"bad syntax 'zurich:0 => padova:1"),
        (["zurich:0 -> padova:1 @ (0, 0) delay 5 min"], 0, r"bad syntax"),
        (["zurich:0 -> padova:1 @ (0, 0) delay -5 ms"], 0, r"negative delay"),
        ([{"pre": "zurich:0", "post": "padova:1", "device": [0, 0], "delay_s": -1.0}], 0, r"negative delay delay_s=-1\.0"),
        ([{"pre": "zurich:0", "post": "padova:1", "device": [0]}], 0, r"bad syntax, device=\[0\]"),
        ([{"pre": "zurich", "post": "padova:1", "device": [0, 0]}], 0, r"bad syntax, pre='zurich' must be 'lab:id'"),
        ([{"pre": "zurich:0", "post": "padova:1"}], 0, r"bad syntax, missing key\(s\) device"),
        ([{"pre": "zurich:0", "post": "padova:1", "device": [0, 0], "weight": 3}], 0, r"unknown key\(s\) weight"),
        ([42], 0, r"bad syntax"),
    ],
)
def test_yaml_synapse_errors_name_file_index_and_reason(tmp_path, synapses, index, reason):
    message = _yaml_error(tmp_path, {"labs": LABS, "synapses": synapses})
    assert "net.yaml" in message
    assert f"synapses[{index}]" in message
    assert re.search(reason, message), message


@pytest.mark.parametrize(
    "data, reason",
    [
        ({"labs": {"padova": "eeg"}}, r"labs\.padova: unknown lab kind 'eeg' \(allowed: board, legacy, mea\)"),
        ({"labs": {"bad name": "mea"}}, r"bad lab name 'bad name'"),
        ({"synapses": []}, r"labs must be a non-empty mapping"),
        ({"labs": LABS, "synapse": []}, r"unknown key\(s\) synapse"),
        ({"labs": LABS, "defaults": {"delay_s": -0.1}}, r"negative delay defaults\.delay_s=-0\.1"),
        ({"labs": LABS, "defaults": {"delay": 0.1}}, r"defaults: bad syntax, unknown key\(s\) delay"),
        ({"labs": LABS, "synapses": "zurich:0 -> padova:1 @ (0, 0)"}, r"synapses must be a list"),
        ({"labs": LABS, "crossbar": {"n_wordlines": 0}}, r"n_wordlines=0 must be an integer >= 1"),
        ({"labs": LABS, "legacy_files": [{"file": "x.txt", "pre_lab": "rome", "post_lab": "padova"}]},
         r"legacy_files\[0\]: unknown lab pre_lab='rome'"),
        ({"labs": LABS, "legacy_files": [{"file": "x.txt", "pre_lab": "zurich", "post_lab": "padova"}]},
         r"legacy_files\[0\]: cannot read legacy file"),
    ],
)
def test_yaml_top_level_errors_name_file_key_and_reason(tmp_path, data, reason):
    message = _yaml_error(tmp_path, data)
    assert "net.yaml" in message
    assert re.search(reason, message), message


GEN = {"pre_lab": "zurich", "pre_ids": [0, 9], "post_lab": "padova", "post_ids": [0, 9], "count": 5, "seed": 1}


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"post_lab": "rome"}, r"unknown lab post_lab='rome'"),
        ({"pre_ids": [5, 2]}, r"bad syntax, pre_ids=\[5, 2\] must be \[lo, hi\]"),
        ({"count": 0}, r"count=0 must be an integer >= 1"),
        ({"seed": -3}, r"seed=-3 must be an integer >= 0"),
        ({"delay_s": -1e-3}, r"negative delay delay_s=-0\.001"),
        ({"count": 101}, r"count=101 exceeds the 100 unconnected \(pre, post\) pairs"),
        ({"pre_ids": [0, 99], "count": 1025}, r"count=1025 exceeds the 1024 free crossbar devices"),
        ({"size": 3}, r"unknown key\(s\) size"),
    ],
)
def test_generate_errors_name_file_block_and_reason(tmp_path, override, reason):
    message = _yaml_error(tmp_path, {"labs": LABS, "generate": [{**GEN, **override}]})
    assert "net.yaml, generate[0]" in message
    assert re.search(reason, message), message


def test_invalid_yaml_is_a_bad_syntax_error(tmp_path):
    path = write(tmp_path, "net.yml", "labs: {padova: mea\nsynapses: [")
    with pytest.raises(ConfigError, match=r"net\.yml: bad syntax, not valid YAML"):
        load_connectivity(path)


# ---------------------------------------------------------------- in-memory construction


def test_connectivity_requires_synapse_id_equal_to_position():
    syn = Synapse(3, "zurich", 0, "padova", 1, 0, 0, 0.001)
    with pytest.raises(ConfigError, match=r"synapses\[0\]: synapse_id=3 must equal its position 0"):
        Connectivity([syn], LABS)


def test_unknown_lab_lookup_lists_known_labs():
    conn = Connectivity([Synapse(0, "zurich", 0, "padova", 1, 0, 0, 0.001)], LABS)
    with pytest.raises(ValueError, match=r"unknown lab 'rome' \(labs: padova, zurich\)"):
        conn.by_pre("rome", np.array([0]))


# ---------------------------------------------------------------- fan-out lookups


def _random_connectivity(seed: int, n_synapses: int = 400) -> Connectivity:
    rng = np.random.default_rng(seed)
    devices = rng.choice(32 * 32, n_synapses, replace=False)
    labs = ("padova", "zurich")
    synapses = []
    for i, dev in enumerate(devices):
        pre_lab, post_lab = labs[rng.integers(2)], labs[rng.integers(2)]
        synapses.append(
            Synapse(i, pre_lab, int(rng.integers(0, 40)), post_lab, int(rng.integers(0, 40)),
                    int(dev // 32), int(dev % 32), 0.001)
        )
    return Connectivity(synapses, LABS)


@pytest.mark.parametrize("which", ["pre", "post"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fanout_pairs_match_a_brute_force_loop(seed, which):
    conn = _random_connectivity(seed)
    rng = np.random.default_rng(100 + seed)
    ids = rng.integers(0, 45, 300).astype(np.uint32)  # some ids have no synapse
    for lab in conn.labs:
        lookup = conn.by_pre if which == "pre" else conn.by_post
        event_idx, synapse_idx = lookup(lab, ids)
        expected = [
            (e, s.synapse_id)
            for e, neuron in enumerate(ids)
            for s in conn.synapses
            if getattr(s, f"{which}_lab") == lab and getattr(s, f"{which}_id") == neuron
        ]
        assert list(zip(event_idx.tolist(), synapse_idx.tolist())) == expected


def test_fanout_of_an_empty_batch_is_empty():
    conn = _random_connectivity(0)
    event_idx, synapse_idx = conn.by_pre("zurich", np.empty(0, np.uint32))
    assert event_idx.shape == synapse_idx.shape == (0,)


def test_labels_give_lab_colon_id_strings():
    conn = Connectivity([Synapse(0, "zurich", 63, "padova", 7, 0, 0, 0.001)], LABS)
    assert conn.labels("pre").tolist() == ["zurich:63"]
    assert conn.labels("post").tolist() == ["padova:7"]
