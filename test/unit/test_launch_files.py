"""The package's launch files parse and start the nodes the virtual lab needs."""

from pathlib import Path

import pytest

from neurohybrid.launcher.description import command_line, load_launch_file
from neurohybrid.launcher.substitutions import find_pkg_share

LAUNCH = Path(find_pkg_share("neurohybrid")) / "launch"


@pytest.mark.parametrize("name, labels", [
    ("padova.launch.yaml", ["/mea"]),
    ("zurich.launch.yaml", ["/board"]),
    ("southampton.launch.yaml", ["/hub"]),
    ("virtual_lab.launch.yaml", ["/southampton/hub", "/padova/mea", "/zurich/board", "/recorder"]),
])
def test_launch_file_resolves_to_installed_executables(name, labels):
    specs = load_launch_file(LAUNCH / name)
    assert [s.label for s in specs] == labels
    for spec in specs:
        assert Path(command_line(spec)[0]).exists()
        for pfile in spec.param_files:
            assert Path(pfile).exists(), pfile


def test_virtual_lab_passes_the_drive_protocol_to_the_board():
    specs = load_launch_file(LAUNCH / "virtual_lab.launch.yaml",
                             {"drive_phase_s": "[5.0, 6.0]", "drive_rate_hz": "[40.0, 1.0]"})
    board = next(s for s in specs if s.executable == "board_node")
    assert ("drive_phase_s", [5.0, 6.0]) in board.params
    assert ("drive_rate_hz", [40.0, 1.0]) in board.params
