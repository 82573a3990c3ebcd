"""The live view's core runs without ROS, its page ships whole (nothing from the internet) and is
served with its configuration; the Foxglove layout shipped in config/ is the one the code builds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from neurohybrid.live.page_server import WEB_DIR, PageServer

REPO = Path(__file__).resolve().parents[2]

CORE_WITHOUT_ROS = """
import sys
sys.modules['rclpy'] = None
import numpy as np
from neurohybrid.live import LiveView
from neurohybrid.live import page_server, foxglove_bridge, layout, cli
v = LiveView()
v.add_spikes('padova', np.array([1]), np.array([10**18]), np.array([2]), 10**18 + 10**7)
assert v.frame(0.0)['labs']['padova']['total'] == 1
assert not any(m == 'rclpy' or m.startswith('rclpy.') for m, v in sys.modules.items() if v is not None)
print('ok')
"""


def test_the_live_core_imports_and_runs_with_rclpy_blocked():
    result = subprocess.run([sys.executable, "-c", CORE_WITHOUT_ROS], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_page_loads_nothing_from_outside_the_package():
    files = {p.name: p.read_text() for p in WEB_DIR.iterdir() if p.is_file()}
    assert {"index.html", "live.js", "live.css"} <= set(files)
    for name, text in files.items():
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I), f"{name} refers to a host"
    referenced = re.findall(r'(?:src|href)="([^"]+)"', files["index.html"])
    local = [r for r in referenced if not r.startswith("data:")]
    assert local and all((WEB_DIR / r).is_file() for r in local), referenced


@pytest.fixture
def page():
    server = PageServer("127.0.0.1", 0, {"ws_port": 1234, "window_s": 10.0})
    yield f"http://127.0.0.1:{server.port}"
    server.close()


def _get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_the_page_server_serves_the_page_and_its_configuration(page):
    status, body, _ = _get(page + "/")
    assert status == 200 and b"live.js" in body
    status, body, kind = _get(page + "/live.js")
    assert status == 200 and "javascript" in kind and body == (WEB_DIR / "live.js").read_bytes()
    status, body, kind = _get(page + "/config.json")
    assert status == 200 and kind == "application/json" and json.loads(body) == {"ws_port": 1234, "window_s": 10.0}


@pytest.mark.parametrize("path", ["/nothing.js", "/../page_server.py", "/%2e%2e/view.py"])
def test_the_page_server_serves_no_other_file(page, path):
    assert _get(page + path)[0] == 404


def test_the_shipped_foxglove_layout_is_the_one_the_code_builds():
    from neurohybrid.live.layout import layout_json

    shipped = REPO / "config" / "foxglove" / "live_layout.json"
    assert shipped.read_text() == layout_json(), "regenerate: python -m neurohybrid.live.layout > " + str(shipped)


def test_the_layouts_frame_paths_name_fields_of_a_frame():
    import numpy as np

    from neurohybrid.live import LiveView
    from neurohybrid.live.foxglove_bridge import FRAME_TOPIC

    view = LiveView()
    for lab in ("padova", "zurich"):
        view.add_spikes(lab, np.array([1]), np.array([10**18]), np.array([2]), 10**18 + 10**9)  # closes bins
    frame = view.frame(0.0)
    text = (REPO / "config" / "foxglove" / "live_layout.json").read_text()
    paths = re.findall(rf'"{FRAME_TOPIC}\.([a-z_.]+)"', text)
    assert paths
    for path in paths:
        node = frame
        for key in path.split("."):
            node = node[key]
        assert isinstance(node, (int, float)), path


def test_the_live_command_turns_its_options_into_node_parameters():
    from neurohybrid.cli import build_parser
    from neurohybrid.live.cli import ros_arguments

    ns = build_parser().parse_args(["live", "--port", "0", "--ws-port", "9001", "--update-hz", "5", "--host", "0.0.0.0"])
    assert ros_arguments(ns) == ["--ros-args", "-p", "host:=0.0.0.0", "-p", "http_port:=0", "-p", "ws_port:=9001",
                                 "-p", "update_hz:=5.0"]
