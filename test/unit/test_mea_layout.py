"""Electrode layouts: MCS 60MEA labels and positions, near-square grids, name lookup."""

import numpy as np
import pytest

from neurohybrid.core.errors import ConfigError
from neurohybrid.mea.layout import ElectrodeLayout, grid_layout, make_layout, mcs60_layout


def test_mcs60_has_60_electrodes_without_the_four_corners():
    layout = mcs60_layout()
    assert layout.n_channels == 60
    assert not {"11", "18", "81", "88"} & set(layout.labels)
    assert layout.labels[0] == "12" and layout.labels[-1] == "87"


def test_mcs60_label_is_column_then_row_at_pitch():
    layout = mcs60_layout(pitch_um=100.0)
    pos = dict(zip(layout.labels, layout.positions_um))
    np.testing.assert_allclose(pos["12"], [0.0, 100.0])
    np.testing.assert_allclose(pos["21"], [100.0, 0.0])
    np.testing.assert_allclose(pos["87"], [700.0, 600.0])


@pytest.mark.parametrize("n", [1, 7, 60, 1024, 4096])
def test_grid_layout_is_near_square_with_unique_positions(n):
    layout = grid_layout(n, 17.5)
    assert layout.n_channels == n
    assert len(np.unique(layout.positions_um, axis=0)) == n
    width, height = layout.extent_um()
    assert abs(width - height) <= 17.5


def test_make_layout_by_name():
    assert make_layout("mcs60").n_channels == 60
    assert make_layout("grid", n_channels=100, pitch_um=30.0).n_channels == 100


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"name": "maxwell"}, "layout"),
        ({"name": "grid", "n_channels": 4097}, "n_channels"),
        ({"name": "grid", "n_channels": 0}, "n_channels"),
        ({"name": "grid", "pitch_um": -1.0}, "pitch_um"),
        ({"name": "mcs60", "n_channels": 64}, "n_channels"),
    ],
)
def test_make_layout_refuses_bad_config_naming_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        make_layout(**kwargs)


def test_layout_refuses_mismatched_labels():
    with pytest.raises(ConfigError, match="labels"):
        ElectrodeLayout(np.zeros((2, 2)), ("a",))


def test_layout_positions_are_read_only():
    layout = mcs60_layout()
    with pytest.raises(ValueError):
        layout.positions_um[0, 0] = 5.0
