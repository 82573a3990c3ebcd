"""Every core module imports, and each layer runs, with rclpy blocked: only ``neurohybrid.nodes`` needs ROS.

One subprocess per layer sets ``sys.modules["rclpy"] = None`` (any import of rclpy then fails),
imports every module of the layer found in the source tree and runs the layer's smoke code.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "neurohybrid"
ROS_ADAPTERS = ("nodes",)
"""Subpackages that are the rclpy adapters (allowed to import ROS)."""
ROOT_LAYER = "root"
SMOKE = {
    "mea": """
        from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
        b = MEA_BACKENDS.create("sim", layout=mcs60_layout(), limits=StimulationLimits(), n_neurons=50)
        b.configure(); b.advance(0.01)
    """,
    "board": """
        import neurohybrid.board
        b = neurohybrid.board.BOARD_BACKENDS.create("sim", cores_per_chip=1)
        b.configure(); b.advance(0.001)
    """,
    "memristor": """
        import neurohybrid.memristor as m
        assert "sim" in m.MEMRISTOR_BACKENDS.names()
        assert m.PLASTICITY_RULES.names() == ["rate", "stdp"]
    """,
    "legacy": """
        from neurohybrid.legacy import decode, encode, LegacyClock, SENDER_DENDRITE
        p = decode(encode(SENDER_DENDRITE, [1], [0], [2])).packets
        LegacyClock().to_ns(p.sender, p.ticks, 0)
    """,
    "analysis": """
        from neurohybrid.io.reader import Recording
        from neurohybrid.analysis.summary import summarize
        assert summarize(Recording.open(sys.argv[1]))["events"]["padova"]["total"] == 3
    """,
    ROOT_LAYER: """
        from neurohybrid.parameters import tables
        assert "rate.window_s" in tables(["hub"])
    """,
}


def _modules(layer: str) -> list[str]:
    if layer == ROOT_LAYER:
        files = [p for p in PACKAGE.glob("*.py") if p.name != "__main__.py"]
    else:
        files = sorted((PACKAGE / layer).rglob("*.py"))
    names = []
    for path in sorted(files):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


LAYERS = [ROOT_LAYER] + sorted(p.name for p in PACKAGE.iterdir()
                               if (p / "__init__.py").exists() and p.name not in ROS_ADAPTERS)


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A recording with one batch of three Padova spikes (written with rclpy, read without)."""
    from rclpy.serialization import serialize_message

    from neurohybrid import msg as nh
    from neurohybrid.io.recording import RecordingWriter
    from neurohybrid.nodes.convert import fill_spike_batch
    from neurohybrid.testing.mock import mock_spikes

    path = tmp_path_factory.mktemp("recording") / "r.mcap"
    m = fill_spike_batch(nh.SpikeBatch(seq=0, clock_domain="padova"), mock_spikes(3))
    m.header.frame_id = "padova/mea"
    with RecordingWriter(path) as w:
        w.write("/padova/spikes", "neurohybrid/msg/SpikeBatch", serialize_message(m), 1, 1)
    return path


def test_the_layers_cover_every_module_but_the_ros_adapters():
    covered = {m for layer in LAYERS for m in _modules(layer)}
    every = set(_modules(ROOT_LAYER))
    for sub in PACKAGE.iterdir():
        if (sub / "__init__.py").exists():
            every |= set(_modules(sub.name))
    assert every - covered == {m for sub in ROS_ADAPTERS for m in _modules(sub)}
    assert {"core", "mea", "board", "memristor", "hub", "legacy", "io", "analysis"} <= set(LAYERS)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_module_of_the_layer_imports_and_runs_with_rclpy_blocked(layer, recording):
    code = "\n".join([
        "import importlib, sys",
        "sys.modules['rclpy'] = None",
        *(f"importlib.import_module({name!r})" for name in _modules(layer)),
        textwrap.dedent(SMOKE.get(layer, "")),
        "assert not any(k == 'rclpy' or k.startswith('rclpy.') for k, v in sys.modules.items() if v is not None)",
        "print('ok')",
    ])
    result = subprocess.run([sys.executable, "-c", code, str(recording)], capture_output=True, text=True,
                            timeout=120, cwd=recording.parent)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
