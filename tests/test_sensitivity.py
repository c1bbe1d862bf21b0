"""Sensitivity analysis: SALib's Morris and Sobol rank a known dominant parameter first.

In `calib_sensitivity.yaml` the mission's occupancy is driven by `walk_in` (a wide prior)
far more than by `clear_rate` (a narrow one), and not at all by `arrest_rate`, which
only moves people from hiding to custody.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from refuge.api import simulate
from refuge.cli import app
from refuge.errors import RefugeError
from refuge.inference.sensitivity import analyse, parse_output, write_outputs
from refuge.model.compiler import compile_scenario
from refuge.scenario import read

SCENARIO = Path(__file__).parent / "scenarios" / "calib_sensitivity.yaml"


@pytest.fixture(scope="module")
def scenario():
    return read(SCENARIO)


@pytest.fixture(scope="module")
def morris(scenario):
    return analyse(scenario, ["peak:mission", "end:custody"], method="morris", samples=10, replicates=2, seed=1)


def test_morris_ranks_the_dominant_parameter_first(morris):
    assert morris.ranking("peak:mission") == ["walk_in", "clear_rate", "arrest_rate"]
    assert morris.ranking("end:custody")[0] == "arrest_rate"


def test_a_parameter_that_cannot_reach_an_output_has_no_effect_on_it(morris):
    # Common random numbers: every point runs the same seeds, so an unrelated parameter moves nothing.
    row = morris.table.set_index(["output", "parameter"]).loc[("peak:mission", "arrest_rate")]
    assert row.mu_star == 0.0 and row.sigma == 0.0


def test_morris_design_size_is_trajectories_times_parameters_plus_one(morris):
    assert len(morris.samples) == 10 * (3 + 1)
    assert morris.runs == len(morris.samples) * 2
    assert morris.samples.walk_in.between(0.5, 5.0).all()
    assert morris.samples.arrest_rate.between(1e-4, 2e-3).all()


def test_sobol_total_index_of_the_dominant_parameter_is_most_of_the_variance(scenario):
    res = analyse(scenario, ["peak:mission"], method="sobol", samples=64, replicates=1, seed=2)
    t = res.table.set_index("parameter")
    assert res.ranking("peak:mission")[0] == "walk_in"
    assert t.loc["walk_in", "ST"] > 0.8 and t.loc["clear_rate", "ST"] < 0.1
    assert len(res.samples) == 64 * (3 + 2)


def test_same_seed_same_indices_with_one_or_two_workers(scenario, morris):
    again = analyse(scenario, ["peak:mission", "end:custody"], method="morris", samples=10, replicates=2, seed=1,
                    workers=2)
    pd.testing.assert_frame_equal(again.table, morris.table)


def test_outputs_measure_what_their_names_say(scenario):
    model = compile_scenario(scenario)
    run = simulate(model, seed=3)
    per_year = 365.25 / run.days
    assert parse_output("peak:embassy", model).value(run) == run.stock_of(["embassy"]).max()
    assert parse_output("end:custody", model).value(run) == run.stocks[-1, model.state_index("custody")]
    assert parse_output("arrivals", model).value(run) == pytest.approx(run.arrived.sum() * per_year)
    assert parse_output("flow:clearance", model).value(run) == pytest.approx(
        run.flow_of(["clearance"]).sum() * per_year)
    _, length, people = run.completed_stays(["mission"])
    assert parse_output("wait:mission", model).value(run) == pytest.approx((length * people).sum() / people.sum())


@pytest.mark.parametrize("text, message", [
    ("peak:misson", "did you mean `mission`"),
    ("pk:mission", "did you mean `peak`"),
    ("wait:hiding", "records no stays"),
    ("flow:nowhere", "expected flow:NAME"),
])
def test_unknown_or_unsuitable_outputs_are_named(scenario, text, message):
    with pytest.raises(RefugeError, match=message):
        parse_output(text, compile_scenario(scenario))


def test_bad_method_is_refused(scenario):
    with pytest.raises(RefugeError, match="--method"):
        analyse(scenario, ["peak:mission"], method="fast")


def test_files_hold_indices_design_plot_and_settings(morris, tmp_path):
    write_outputs(morris, tmp_path)
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert {"output", "parameter", "rank", "mu_star", "mu_star_conf"} <= set(table.columns)
    design = pd.read_csv(tmp_path / "sensitivity_samples.csv")
    assert list(design.columns) == ["walk_in", "clear_rate", "arrest_rate", "peak:mission", "end:custody"]
    assert (tmp_path / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    meta = json.loads((tmp_path / "sensitivity.json").read_text())
    assert meta["method"] == "morris" and meta["runs"] == morris.runs


def test_cli_sensitivity_prints_the_ranking(tmp_path):
    res = CliRunner().invoke(app, ["sensitivity", str(SCENARIO), "--output", "peak:mission", "--samples", "6",
                                   "--replicates", "1", "--workers", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "peak:mission: parameters by effect" in res.output
    table = pd.read_csv(tmp_path / "sensitivity.csv")
    assert table.loc[table["rank"] == 1, "parameter"].item() == "walk_in"
    assert np.isfinite(table.mu_star).all()


def test_cli_sensitivity_bad_output_is_a_message_not_a_traceback(tmp_path):
    res = CliRunner().invoke(app, ["sensitivity", str(SCENARIO), "--output", "peak:nowhere", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "peak:nowhere" in res.output and "Traceback" not in res.output


def test_a_design_point_that_makes_the_scenario_invalid_is_reported(tmp_path):
    import yaml

    data = yaml.safe_load(SCENARIO.read_text())
    data["parameters"]["calm"] = {"value": 1.0, "assumption": True,
                                  "prior": {"dist": "uniform", "low": 0.0, "high": 10.0}}
    data["parameters"]["trigger"] = {"value": 5.0, "assumption": True,
                                     "prior": {"dist": "uniform", "low": 2.0, "high": 20.0}}
    data["rules"] = [{"name": "slow", "signal": {"stock": ["mission"]}, "above": "trigger", "below": "calm",
                      "actions": [{"multiply": {"parameter": "clear_rate", "by": 0.5}}]}]
    from refuge.scenario import parse

    with pytest.raises(RefugeError, match=r"points of the design make the scenario invalid(.|\n)*rules\[0\]\.below"):
        analyse(parse(data), ["peak:mission"], samples=4, replicates=1)
