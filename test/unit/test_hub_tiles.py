"""Crossbar tiles: synapses addressed by (tile, wordline, bitline), from files to the devices the hub drives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.events import KIND_SILICON_SPIKE, KIND_SPONTANEOUS_AP, SpikeEvents
from neurohybrid.hub import Hub, StimulusMap, WeightMap
from neurohybrid.hub.connectivity import from_dict, load_connectivity
from neurohybrid.hub.params import hub_params, hub_session
from neurohybrid.memristor.plasticity import PLASTICITY_RULES
from neurohybrid.memristor.sim import SimMemristorBackend

LABS = {"padova": "mea", "zurich": "board"}
MS = 1_000_000


def write_yaml(tmp_path: Path, data: dict, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def test_files_without_a_tile_put_every_device_on_tile_0(tmp_path):
    legacy = tmp_path / "list.txt"
    legacy.write_text("0, 1, 2, 3\n")
    conn = load_connectivity(legacy)
    assert conn.n_tiles == 1 and conn.tile.tolist() == [0]
    conn = load_connectivity(write_yaml(tmp_path, {"labs": LABS, "synapses": ["zurich:0 -> padova:1 @ (2, 3)"]}))
    assert conn.tile.tolist() == [0] and conn.to_dict()["synapses"][0]["device"] == [2, 3]


def test_yaml_names_tiles_in_strings_devices_and_legacy_includes(tmp_path):
    (tmp_path / "a.txt").write_text("5, 6, 1, 2\n")
    path = write_yaml(tmp_path, {
        "labs": LABS,
        "crossbar": {"n_tiles": 4},
        "synapses": ["zurich:0 -> padova:1 @ (3, 2, 3)", {"pre": "zurich:1", "post": "padova:1", "device": [2, 2, 3]},
                     "zurich:2 -> padova:1 @ (2, 3)"],
        "legacy_files": [{"file": "a.txt", "pre_lab": "zurich", "post_lab": "padova", "tile": 1}],
    })
    conn = load_connectivity(path)
    assert conn.n_tiles == 4
    assert conn.tile.tolist() == [3, 2, 0, 1]
    assert conn.wordline.tolist() == [2, 2, 2, 1] and conn.bitline.tolist() == [3, 3, 3, 2]
    again = from_dict(conn.to_dict())
    assert again.tile.tolist() == conn.tile.tolist() and again.n_tiles == 4


@pytest.mark.parametrize("data, key, value", [
    ({"crossbar": {"n_tiles": 2}, "synapses": ["zurich:0 -> padova:1 @ (2, 0, 0)"]}, "tile", "2"),
    ({"crossbar": {"n_tiles": 2}, "synapses": [{"pre": "zurich:0", "post": "padova:1", "device": [5, 0, 0]}]},
     "tile", "5"),
    ({"crossbar": {"n_tiles": 2}, "legacy_files": [{"file": "a.txt", "pre_lab": "zurich", "post_lab": "padova",
                                                     "tile": 2}]}, "tile", "2"),
    ({"crossbar": {"n_tiles": 0}}, "n_tiles", "0"),
])
def test_out_of_range_tile_names_key_value_and_range(tmp_path, data, key, value):
    (tmp_path / "a.txt").write_text("5, 6, 1, 2\n")
    with pytest.raises(ConfigError) as err:
        load_connectivity(write_yaml(tmp_path, {"labs": LABS, **data}))
    assert f"{key}={value}" in str(err.value)
    if key == "tile":
        assert "allowed 0..1" in str(err.value)


def test_same_wordline_and_bitline_on_two_tiles_are_two_devices_but_not_on_one(tmp_path):
    ok = {"labs": LABS, "crossbar": {"n_tiles": 2},
          "synapses": ["zurich:0 -> padova:1 @ (0, 4, 4)", "zurich:1 -> padova:1 @ (1, 4, 4)"]}
    assert len(load_connectivity(write_yaml(tmp_path, ok))) == 2
    ok["synapses"].append("zurich:2 -> padova:1 @ (1, 4, 4)")
    with pytest.raises(ConfigError, match=r"duplicate device \(1, 4, 4\)"):
        load_connectivity(write_yaml(tmp_path, ok))


def test_legacy_file_loads_on_the_tile_it_is_given_and_refuses_a_missing_tile(tmp_path):
    legacy = tmp_path / "list.txt"
    legacy.write_text("0, 1, 2, 3\n4, 5, 2, 3\n".replace("4, 5, 2, 3", "4, 5, 6, 7"))
    conn = load_connectivity(legacy, n_tiles=3, legacy_tile=2)
    assert conn.tile.tolist() == [2, 2]
    with pytest.raises(ConfigError, match=r"legacy_tile=3 \(allowed 0\.\.2\)"):
        load_connectivity(legacy, n_tiles=3, legacy_tile=3)


def test_generate_fills_16_tiles_with_distinct_devices(tmp_path):
    conn = load_connectivity(write_yaml(tmp_path, {"labs": LABS, "crossbar": {"n_tiles": 16}, "generate": {
        "pre_lab": "zurich", "pre_ids": [0, 4095], "post_lab": "padova", "post_ids": [0, 1023],
        "count": 12_000, "seed": 3}}))
    assert len(conn) == 12_000
    devices = set(zip(conn.tile.tolist(), conn.wordline.tolist(), conn.bitline.tolist()))
    assert len(devices) == 12_000
    assert set(conn.tile.tolist()) == set(range(16))
    with pytest.raises(ConfigError, match="exceeds the 16384 free crossbar devices"):
        load_connectivity(write_yaml(tmp_path, {"labs": LABS, "crossbar": {"n_tiles": 16}, "generate": {
            "pre_lab": "zurich", "pre_ids": [0, 4095], "post_lab": "padova", "post_ids": [0, 1023],
            "count": 16_385, "seed": 3}}))


def test_backend_addresses_tiles_and_refuses_a_tile_it_does_not_have():
    backend = SimMemristorBackend(n_tiles=3, seed=1)
    backend.configure()
    assert backend.shape == (32, 32) and backend.n_tiles == 3
    truth = backend.resistance_ohm
    assert truth.shape == (96, 32)
    r = backend.read(np.array([1, 1]), np.array([2, 2]), np.array([0, 2]))
    assert r.shape == (2,)
    with pytest.raises(ValueError, match=r"tile 3 outside allowed range 0\.\.2"):
        backend.read(np.array([1]), np.array([2]), np.array([3]))
    backend.arm()
    before = backend.resistance_ohm
    result = backend.program(np.array([4]), np.array([5]), 4.0, 1e-4, 0, tile=np.array([2]))
    assert result.accepted.tolist() == [True]
    after = backend.resistance_ohm
    changed = np.argwhere(after != before).tolist()
    assert changed == [[2 * 32 + 4, 5]]


def test_hub_reads_and_programs_the_device_on_the_synapses_tile(tmp_path):
    path = write_yaml(tmp_path, {"labs": LABS, "crossbar": {"n_tiles": 2},
                                 "synapses": ["zurich:0 -> padova:1 @ (1, 3, 4)", "padova:1 -> zurich:2 @ (0, 3, 4)"]})
    conn = load_connectivity(path)
    memristor = SimMemristorBackend(n_tiles=2, seed=2)
    memristor.configure()
    memristor.arm()
    rule = PLASTICITY_RULES.create("rate", n_synapses=len(conn))
    hub = Hub(conn, memristor, rule, WeightMap(), StimulusMap())
    states = hub.synapse_states()
    truth = memristor.resistance_ohm
    np.testing.assert_allclose(states["resistance_ohm"], [truth[32 + 3, 4], truth[3, 4]], rtol=0.05)
    assert states["tile"].tolist() == [1, 0]
    # 2 presynaptic spikes of zurich:0 in the second before a postsynaptic event of padova:1: fewer than 5,
    # so the rate rule asks for LTD on synapse 0, which lives on tile 1.
    t = np.array([1000, 1500], dtype=np.int64) * MS
    hub.on_spikes("zurich", SpikeEvents(np.zeros(2, np.uint32), t, np.full(2, KIND_SILICON_SPIKE, np.uint8)))
    out = hub.on_spikes("padova", SpikeEvents(np.array([1], np.uint32), np.array([1600 * MS]),
                                              np.array([KIND_SPONTANEOUS_AP], np.uint8)))
    on_0 = out.plasticity.synapse_id == 0
    assert on_0.any()
    assert out.plasticity.tile[on_0].tolist() == [1] * int(on_0.sum())
    moved = np.argwhere(memristor.resistance_ohm != truth).tolist()
    assert [32 + 3, 4] in moved and [3, 4] not in moved


def test_hub_refuses_a_connectivity_with_more_tiles_than_its_backend(tmp_path):
    path = write_yaml(tmp_path, {"labs": LABS, "crossbar": {"n_tiles": 4},
                                 "synapses": ["zurich:0 -> padova:1 @ (3, 0, 0)"]})
    memristor = SimMemristorBackend(n_tiles=2)
    memristor.configure()
    with pytest.raises(ConfigError, match=r"tile=3 outside the memristor backend's crossbar \(allowed 0\.\.1\)"):
        Hub(load_connectivity(path), memristor, PLASTICITY_RULES.create("rate", n_synapses=1), WeightMap(),
            StimulusMap())


def test_hub_node_parameter_n_tiles_reaches_loader_and_backend(tmp_path):
    path = write_yaml(tmp_path, {"labs": LABS, "synapses": ["zurich:0 -> padova:1 @ (5, 0, 0)"]})
    session = hub_session({"connectivity_file": str(path), "n_tiles": 8})
    assert session.hub.memristor.n_tiles == 8 and session.hub.connectivity.n_tiles == 8
    with pytest.raises(ConfigError, match="n_tiles"):
        hub_params().check({"connectivity_file": str(path), "n_tiles": 0})
