"""One source for every parameter: the specs, the YAML configurations, the CLI and the README."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from neurohybrid import cli
from neurohybrid.core.errors import ConfigError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.parameters import NODE_PARAMS, README_BEGIN, node_params, readme_section, tables, update_readme

REPO = Path(__file__).resolve().parents[2]
CONFIG_OF_NODE = {"padova.yaml": "mea", "zurich.yaml": "board", "southampton.yaml": "hub"}


def test_the_readme_parameter_section_is_the_generated_one():
    text = (REPO / "README.md").read_text()
    assert readme_section() in text, "run `neurohybrid params --readme README.md`"


def test_update_readme_rewrites_only_its_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n\n{README_BEGIN}\nOUTDATED TABLE\n<!-- end of parameters -->\n\nafter\n")
    assert update_readme(readme)
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n\n") and text.endswith("\n\nafter\n") and "OUTDATED TABLE" not in text
    assert readme_section() in text and not update_readme(readme)


@pytest.mark.parametrize("config, node", sorted(CONFIG_OF_NODE.items()))
def test_every_configuration_key_is_a_parameter_of_its_node_with_the_right_type_and_range(config, node):
    doc = yaml.safe_load((REPO / "config" / config).read_text())
    values = doc["/**"]["ros__parameters"]
    checked = node_params(node).check(values, strict=True)
    assert {k: checked[k] for k in values} == values


def test_a_configuration_value_out_of_range_or_of_another_type_is_refused():
    specs = node_params("hub")
    with pytest.raises(ConfigError, match=r"max_abs_voltage_v=20.0 outside allowed \(0, 13.5\]"):
        specs.check({"max_abs_voltage_v": 20.0}, strict=True)
    with pytest.raises(ConfigError, match="r_min_ohm=4000 must be of type float"):
        specs.check({"r_min_ohm": 4000}, strict=True)
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['rate.windw_s'\]"):
        specs.check({"rate.windw_s": 1.0})


@pytest.mark.parametrize("node", sorted(NODE_PARAMS))
def test_every_parameter_has_a_description_and_every_number_a_finite_range(node):
    for spec in node_params(node).values():
        assert spec.description, spec.name
        if spec.type_name.rstrip("[]") in ("int", "float"):
            assert spec.bounds is not None, f"{node}.{spec.name} has no range"
            assert math.isfinite(spec.bounds.low) and math.isfinite(spec.bounds.high), spec.name


def test_node_ranges_are_the_cores_ranges():
    """The programming-pulse amplitude is the rule's range (once (0.1, 10) V in the node)."""
    from neurohybrid.memristor.plasticity import MAX_RULE_AMPLITUDE_V, MIN_RULE_AMPLITUDE_V, PULSE_PARAMS

    assert node_params("hub")["ltp_amplitude_v"] is PULSE_PARAMS["ltp_amplitude_v"]
    bounds = node_params("hub")["ltp_amplitude_v"].bounds
    assert (bounds.low, bounds.high) == (MIN_RULE_AMPLITUDE_V, MAX_RULE_AMPLITUDE_V)


def test_the_params_command_prints_a_table_per_node(capsys):
    assert cli.main(["params", "board", "hub"]) == 0
    out = capsys.readouterr().out
    assert out == tables(["board", "hub"])
    assert "| `late_policy` | string | `'deliver'` | one of: deliver, drop |" in out
    assert "| `rate.window_s` | float | `1.0` | [0.001, 60] | s |" in out
    assert cli.main(["params", "warp"]) == 2


def test_a_spec_refuses_a_default_outside_its_own_range():
    with pytest.raises(ConfigError, match="x=5 outside allowed integers"):
        ParamSpec("x", 5, "x", bounds=Bounds(0, 1, integer=True))
    with pytest.raises(ValueError, match="declared twice"):
        ParamSet("t", [ParamSpec("x", 1.0, "x", bounds=Bounds(0, 2))] * 2)
