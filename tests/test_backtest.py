"""Backtest on time-series evidence: fit on the days before a cut, score the forecast after it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import yaml

import refuge
from refuge.errors import RefugeError
from refuge.inference.backtest import backtest, window_ard
from refuge.scenario import parse

LINE = Path(__file__).parent / "scenarios" / "net" / "line.yaml"


def _scenario(town_chance: float, camp_counts: list[tuple[str, float]] | None):
    data = yaml.safe_load(LINE.read_text())
    data["network"]["movement"]["move_chance_town"] = "town"
    data["parameters"] = {"town": {"value": town_chance, "assumption": True,
                                   "prior": {"dist": "uniform", "low": 0.02, "high": 0.98}}}
    if camp_counts:
        data["evidence"] = [{"id": "camp-C", "source": {"file": "made up", "fact": "people in C"},
                             "measure": {"stock": ["C"]}, "group": "camps",
                             "series": {"points": [{"date": d, "value": v} for d, v in camp_counts]}}]
    from refuge.api import as_model

    return as_model(parse(data, "line.yaml"))


def test_fitting_the_first_days_improves_the_forecast_of_the_last():
    truth = _scenario(0.9, None)
    mean_c = np.mean([refuge.simulate(truth, seed=s).stocks[:, truth.state_index("C")] for s in range(40)], axis=0)
    start = truth.start
    points = [(str(start + dt.timedelta(days=d)), float(mean_c[d])) for d in range(0, truth.days, 2)]
    model = _scenario(0.05, points)  # the scenario's own value is far off
    r = backtest(model, draws=8, seeds=2, refit=2, refit_seeds=3, forecast_seeds=6)
    assert r.cut == start + dt.timedelta(days=20)
    assert r.values["town"] > 0.3
    assert r.train[0] < r.baseline_train[0]
    assert r.forecast[0] < r.baseline[0]


def test_window_ard_scores_only_the_days_asked():
    model = _scenario(0.5, [("2020-01-01", 0), ("2020-01-30", 150)])
    from refuge.evidence.series import simulate_all

    values = simulate_all(refuge.simulate(model, seed=1))
    from refuge.evidence.series import run_scores

    early, late = window_ard(model, values, "camps", 0, 14), window_ard(model, values, "camps", 15, 29)
    whole = window_ard(model, values, "camps", 0, 29)
    assert whole[0] == pytest.approx((early[0] + late[0]) / 2)  # equal halves: the mean of the halves' means
    assert whole[0] == pytest.approx(run_scores(model.series, values)["group camps"][0])


def test_a_scenario_without_a_series_group_is_refused():
    with pytest.raises(RefugeError, match="no group of time series"):
        backtest(_scenario(0.5, None))


def test_cli_backtest_says_what_is_missing():
    from typer.testing import CliRunner

    from refuge.cli import app

    result = CliRunner().invoke(app, ["backtest", "north-korea-china"])
    assert result.exit_code == 2 and "no group of time series" in result.output
