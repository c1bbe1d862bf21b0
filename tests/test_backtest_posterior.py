"""Backtest: calibrate on the evidence up to a date, run the posterior forward, score what came after.

tests/scenarios/backtest_toy.yaml has a known answer: people arrive at 4 a day and the data are the
expected monthly counts; trained on 2020, the posterior rate sits near 4, the 2021 data fall inside the
forecast bands, and the forecast beyond the data is about 120 a month.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.inference.backtest_posterior import backtest, forecast_periods
from refuge.inference.calibrate import Settings, distance_for, left_out
from refuge.inference.simulator import BoundDistance, series_points

TOY = Path(__file__).parent / "scenarios" / "backtest_toy.yaml"
SMALL = dict(population=30, budget=400, generations=3)


def test_series_points_are_dated_facts_for_the_distance():
    model = refuge.load(TOY)
    points = series_points(model)
    assert len(points) == 18 and points[0]["id"] == "monthly-arrivals@2020-01-31" and points[0]["value"] == 124
    until = Settings(until=dt.date(2020, 12, 31))
    out = left_out(model, until)
    assert "monthly-arrivals@2021-01-31" in out and "monthly-arrivals@2020-12-31" not in out
    assert "some-in-2021" in out  # a fact is dated by the last day it speaks of


def test_a_series_point_misses_by_its_relative_distance_beyond_the_tolerance():
    point = {"id": "s@d", "series": "s", "bound": "about", "value": 100.0, "tolerance": 0.0, "kind": "series"}
    d = BoundDistance([], (), [point], tolerance=0.1)
    assert d({"facts": [], "series": [105.0]}) == 0.0
    assert d({"facts": [], "series": [130.0]}) == pytest.approx(0.2)  # 30 off, 10 allowed, over 100
    assert d({"facts": [], "series": [130.0]}) == d({"facts": [], "series": [70.0]})


def test_series_points_and_facts_share_the_distance_by_the_series_weight():
    fact = {"id": "f", "kind": "stock", "bound": "at_least", "value": 10.0}
    point = {"id": "s@d", "series": "s", "bound": "about", "value": 100.0, "tolerance": 0.0, "kind": "series"}
    x = {"facts": [0.0], "series": [100.0]}  # the fact misses by 1, the point holds
    assert BoundDistance([fact], (), [point], series_weight=0.5)(x) == pytest.approx(np.sqrt(0.5))
    assert BoundDistance([fact], (), [point], series_weight=0.2)(x) == pytest.approx(np.sqrt(0.8))
    assert BoundDistance([fact], ("s@d",), [point], series_weight=0.2)(x) == pytest.approx(1.0)  # left out


def test_reach_weights_make_one_off_counts_pull_less():
    fact = {"id": "five", "kind": "flow", "bound": "exact", "value": 5.0}
    equal, weighted = BoundDistance([fact]), BoundDistance([fact], weights=[0.25])
    assert weighted({"facts": [0.0]}) == pytest.approx(0.25 * equal({"facts": [0.0]}))


def test_forecast_periods_continue_the_data_period_by_period():
    model = refuge.load(TOY)
    ends, starts = forecast_periods(model, model.series[0])
    assert starts[0] == (dt.date(2021, 7, 1) - model.start).days
    days = [(model.start + dt.timedelta(days=d)) for d in (*starts, *ends)]
    assert [d.day for d in days[:6]] == [1] * 6  # data dated at month ends: the forecast's periods are months
    assert [d.month for d in days[6:]] == [7, 8, 9, 10, 11, 12] and all((d + dt.timedelta(days=1)).day == 1
                                                                         for d in days[6:])


def test_backtest_recovers_the_rate_and_forecasts_inside_the_bands(tmp_path):
    m = refuge.load(TOY)
    bt = backtest(m.scenario, dt.date(2020, 12, 31), tmp_path / "bt", runs=40, settings=Settings(**SMALL),
                  workers=1, origin=m.origin)
    rate = bt.calibration.summary.set_index("parameter").loc["arrival_rate"]
    assert 3.3 < rate["median"] < 4.7
    s = bt.summary
    assert s["train"]["points"] == 12 and s["test"]["points"] == 6
    assert s["test"]["ard"] < 0.1 and s["test"]["coverage"] >= 0.8
    assert s["test"]["facts"] == 1 and s["test"]["facts_holding_median"] == 1
    assert (bt.points["split"] == "test").sum() == 6
    assert np.all(np.abs(bt.forecast["median"] - 120) < 20)
    for name in ("backtest.json", "facts.csv", "points.csv", "forecast.csv", "forecast.png"):
        assert (tmp_path / "bt" / name).exists(), name
    doc = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert doc["summary"]["train_until"] == "2020-12-31" and len(doc["forecast"]) == 6
    sk = s["skill"]["points"]  # the held-out months against the naive forecast (last month's count)
    assert sk["points"] == 6 and sk["baselines"]["naive"]["ard"] is not None and sk["coverage90"] >= 0.8
    from refuge.present.report import write_report

    html = write_report(tmp_path / "bt" / "calibration" / "predictive").read_text()
    assert "Verdict:" in html and "skill vs naive" in html and s["skill"]["verdict"] in html


def test_cli_backtest_and_its_errors(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["backtest", str(TOY), "--train-until", "2020-12-31", "--out", str(tmp_path / "b"),
                              "--runs", "20", "--population", "20", "--budget", "200", "--generations", "2",
                              "--workers", "1", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith("series,date,split,data,median,low,high")
    rep = runner.invoke(app, ["report", str(tmp_path / "b")])  # written where the user pointed, saying what ran
    assert rep.exit_code == 0 and (tmp_path / "b" / "report.html").exists(), rep.output
    assert "20 posterior-predictive runs of the calibration" in rep.output and "its 20 posterior runs" in rep.output
    assert "the backtest's own 20 posterior runs" in (tmp_path / "b" / "report.html").read_text()
    bad = runner.invoke(app, ["backtest", str(TOY), "--train-until", "2031-01-01", "--out", str(tmp_path / "c")])
    assert bad.exit_code == 2 and "--train-until" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, ["backtest", str(TOY), "--train-until", "soon"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_distance_settings_are_checked():
    model = refuge.load(TOY)
    with pytest.raises(Exception) as err:
        distance_for(model, Settings(weights="heavy"))
    assert "weights" in str(err.value)


def test_cli_defaults_are_the_backtest_settings():
    """`refuge backtest --train-until` calibrates with DEFAULT_SETTINGS unless told otherwise."""
    import inspect

    from refuge.cli import backtest_command
    from refuge.inference.backtest_posterior import DEFAULT_SETTINGS

    params = inspect.signature(backtest_command).parameters
    for name in ("population", "budget", "generations", "weights"):
        assert params[name].default.default == DEFAULT_SETTINGS[name], name
