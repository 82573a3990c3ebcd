"""The virtual lab at full hardware scale (virtual_lab_full.launch.yaml) starts and closes the loop.

Real processes: 1,024-channel MEA, 4-chip board (4,096 neurons), hub with 12,000 synapses on 16
crossbar tiles. Whether it keeps real time is measured in bench/bench_scale.py, not here.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.graph, pytest.mark.slow]


@pytest.fixture(scope="module")
def full_lab(tmp_path_factory):
    """Run the full-scale lab until traffic has gone both ways through the hub; yield what was seen."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from neurohybrid import msg as nh
    from neurohybrid.nodes.runtime import event_qos, stream_qos
    from neurohybrid.testing.graph import wait_for

    out = tmp_path_factory.mktemp("full_scale")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "neurohybrid", "launch", "virtual_lab_full.launch.yaml",
         f"output:={out / 'recording.mcap'}", "drive_phase_s:=[600.0, 1.0]"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=out)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = Node("full_scale_probe", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = lambda: executor.spin_once(timeout_sec=0.05)  # noqa: E731
    seen: dict[str, list] = {"padova": [], "zurich": [], "stimulation": [], "weighted": [], "states": []}
    node.create_subscription(nh.SpikeBatch, "/padova/spikes", seen["padova"].append, stream_qos())
    node.create_subscription(nh.SpikeBatch, "/zurich/spikes", seen["zurich"].append, stream_qos())
    node.create_subscription(nh.StimulationCommand, "/padova/stimulation", seen["stimulation"].append, stream_qos())
    node.create_subscription(nh.WeightedEventBatch, "/zurich/weighted_events", seen["weighted"].append, stream_qos())
    node.create_subscription(nh.SynapseStates, "/southampton/synapse_states", seen["states"].append,
                             event_qos(depth=1))
    def counts() -> str:
        return ", ".join(f"{k}: {len(v)} messages" for k, v in seen.items())

    try:
        wait_for(lambda: any(len(m.electrode) for m in seen["stimulation"])
                 and any(len(m.post_id) for m in seen["weighted"]) and seen["states"], 300, spin,
                 "stimulation to the MEA, weighted events to the board and synapse states")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc} ({counts()})") from None
    finally:
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=90)
        node.destroy_node()
        rclpy.try_shutdown(context=context)
    yield {"seen": seen, "output": output, "launcher_code": launcher.returncode}


def test_both_labs_stream_at_full_size(full_lab):
    seen = full_lab["seen"]
    assert max(max(m.source_id, default=0) for m in seen["padova"]) < 1024
    assert any(max(m.source_id, default=0) >= 1024 for m in seen["zurich"]), "no spike from chips 1-3"


def test_the_loop_closes_through_the_hub_in_both_directions(full_lab):
    seen = full_lab["seen"]
    assert sum(len(m.electrode) for m in seen["stimulation"]) > 0  # board -> hub -> MEA
    assert sum(len(m.post_id) for m in seen["weighted"]) > 0  # MEA -> hub -> board


def test_the_hub_drives_12000_synapses(full_lab):
    assert len(full_lab["seen"]["states"][-1].synapse_id) == 12000


def test_the_full_lab_shuts_down_cleanly(full_lab):
    assert full_lab["launcher_code"] == 0, full_lab["output"][-3000:]
    for bad in ("[ERROR]", "[FATAL]", "Traceback", "process has died"):
        assert bad not in full_lab["output"], full_lab["output"][-3000:]
