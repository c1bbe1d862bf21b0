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


def test_a_scenario_without_time_series_is_refused():
    with pytest.raises(RefugeError, match="no time series to backtest on"):
        backtest(_scenario(0.5, None))


def test_cli_backtest_says_what_is_missing():
    from typer.testing import CliRunner

    from refuge.cli import app

    result = CliRunner().invoke(app, ["backtest", str(LINE)])
    assert result.exit_code == 2 and "no time series to backtest on" in result.output


def test_the_search_writes_the_same_tables_as_the_posterior_backtest(tmp_path):
    """Both backtests share one core: the fitted runs of the search give the points, forecast and facts tables,
    backtest.json and the figure, split at the day before the cut."""
    import json

    from refuge.inference.backtest_core import window_ard as core_window_ard

    model = _scenario(0.5, [("2020-01-05", 10), ("2020-01-20", 60), ("2020-01-28", 120)])
    r = backtest(model, draws=4, seeds=1, refit=1, refit_seeds=2, forecast_seeds=5, out=tmp_path / "bt")
    t = r.table
    assert t.method == "search" and t.runs == 5 and t.until == r.cut - dt.timedelta(days=1)
    assert t.points["split"].tolist() == ["train", "train", "test"]  # the cut is 2020-01-21
    assert t.summary["train"]["points"] == 2 and t.summary["test"]["points"] == 1
    assert t.summary["values"] == r.values
    for name in ("backtest.json", "points.csv", "forecast.csv", "facts.csv", "forecast.png"):
        assert (tmp_path / "bt" / name).exists(), name
    doc = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert doc["summary"]["method"] == "search" and doc["summary"]["train_until"] == str(t.until)
    assert window_ard is core_window_ard


def test_cli_cut_keeps_its_lines_and_writes_files_only_when_asked(tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    path = tmp_path / "line.yaml"
    data = yaml.safe_load(LINE.read_text())
    data["network"]["movement"]["move_chance_town"] = "town"
    data["parameters"] = {"town": {"value": 0.5, "assumption": True,
                                   "prior": {"dist": "uniform", "low": 0.02, "high": 0.98}}}
    data["evidence"] = [{"id": "camp-C", "source": {"file": "made up", "fact": "people in C"},
                         "measure": {"stock": ["C"]}, "group": "camps",
                         "series": {"points": [{"date": "2020-01-05", "value": 10},
                                               {"date": "2020-01-28", "value": 120}]}}]
    path.write_text(yaml.safe_dump(data))
    args = ["backtest", str(path), "--cut", "2020-01-21", "--draws", "2", "--seeds", "3"]
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("net-line: fitted on 2020-01-01..2020-01-20") and "group `camps`" in lines[0]
    assert lines[1].lstrip().startswith("fit, days before the cut:") and lines[2].lstrip().startswith(
        "forecast, from 2020-01-21:") and lines[3].lstrip().startswith("fitted values: town = ")
    assert lines[4].lstrip().startswith("verdict: ")
    assert len(lines) == 5 and not (tmp_path / "backtest").exists()
    res = CliRunner().invoke(app, args + ["--out", str(tmp_path / "b")], catch_exceptions=False)
    assert res.exit_code == 0 and (tmp_path / "b" / "points.csv").exists() and "wrote" in res.output


def test_every_backtest_scores_its_forecast_against_the_baselines_and_ends_with_a_verdict(tmp_path):
    """The held-out points are scored for the runs and for the naive and drift forecasts made from the data
    before the cut; the summary carries the skill, the coverage, the CRPS and a verdict."""
    import json

    model = _scenario(0.5, [("2020-01-05", 10), ("2020-01-12", 40), ("2020-01-20", 60), ("2020-01-25", 100),
                            ("2020-01-28", 120)])
    r = backtest(model, draws=4, seeds=1, refit=1, refit_seeds=2, forecast_seeds=8, out=tmp_path / "bt")
    sk = r.table.summary["skill"]
    pts = sk["points"]
    assert pts["points"] == 2 and [h["horizon"] for h in pts["by_horizon"]] == ["1", "2"]
    # naive carries 60 forward (errors 0.4 and 0.5); drift adds (60 - 10) / 15 a day
    assert pts["baselines"]["naive"]["ard"] == pytest.approx((40 / 100 + 60 / 120) / 2)
    assert pts["baselines"]["drift"]["ard"] == pytest.approx((abs(60 + 50 / 15 * 5 - 100) / 100
                                                              + abs(60 + 50 / 15 * 8 - 120) / 120) / 2)
    assert pts["baselines"]["naive"]["skill"] == pytest.approx(pts["ard_median"] / pts["baselines"]["naive"]["ard"])
    assert 0 <= pts["coverage50"] <= pts["coverage90"] <= 1 and pts["crps"] >= 0
    g = sk["groups"]["camps"]
    assert g["days"] == 10 and "ard_rescaled" not in g["median"]  # one series: rescaled means nothing
    assert "naive forecast" in sk["verdict"] and "held-out points" in sk["verdict"]
    doc = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    assert doc["summary"]["skill"]["verdict"] == sk["verdict"]


def test_a_backtest_says_why_it_has_nothing_to_score_or_forecast():
    from refuge.inference.backtest_core import empty_reason, no_forecast_reason

    model = _scenario(0.5, [("2020-01-05", 10), ("2020-01-28", 120)])
    until = model.start + dt.timedelta(days=28)
    assert "no series has a data point after 2020-01-29" in empty_reason(model, until)
    r = backtest(model, draws=2, seeds=1, refit=1, refit_seeds=1, forecast_seeds=2)
    assert len(r.table.forecast) == 0 and "no whole period is left" in no_forecast_reason(r.table)


def test_a_forecast_starts_from_the_last_count_observed_before_the_cut():
    """Anchored at the last data point before the cut: a stock is that count plus the run's own change since
    (never below zero); a count over a period is scaled by how the observed count compares with the run's."""
    from refuge.inference.assimilate import anchored

    stock = {"kind": "stock", "grid": np.arange(5), "data": np.array([0.0, 10, 20, 30, 40]), "obs": [0, 2, 4]}
    runs = np.array([[0.0, 5, 8, 12, 30], [0, 5, 30, 20, 40]])
    got, beyond = anchored(stock, runs, 2, np.array([[31.0], [50.0]]))
    assert got.tolist() == [[0, 5, 8, 24, 42], [0, 5, 30, 10, 30]]  # 20 + (12 - 8), 20 + (20 - 30), ...
    assert beyond.tolist() == [[43.0], [40.0]]
    assert anchored(stock, np.array([[0.0, 0, 50, 0, 0]]), 2)[0][0, 3:].tolist() == [0, 0]  # never below 0
    flow = {"kind": "flow", "grid": np.array([364, 729]), "data": np.array([99.0, 0]), "obs": [0, 1]}
    got, _ = anchored(flow, np.array([[49.0, 60.0]]), 0)
    assert got.tolist() == [[49.0, 120.0]]  # observed 99 where the run had 49: its next year doubled


def test_rolling_cuts_resume_and_pool_by_horizon(tmp_path):
    from refuge.inference.rolling import default_cuts, load, rolling

    model = _scenario(0.5, [(f"2020-01-{d:02d}", 4.0 * d) for d in range(2, 30, 3)])
    cuts = default_cuts(model)
    assert cuts == [dt.date(2020, 1, d) for d in (14, 17, 20, 23, 26)]  # from 40% of the record, each data date
    assert default_cuts(model, every=2) == [dt.date(2020, 1, 14), dt.date(2020, 1, 20), dt.date(2020, 1, 26)]
    small = {"draws": 2, "seeds": 1, "refit": 1, "refit_seeds": 1, "forecast_seeds": 4}
    r = rolling(model, tmp_path / "roll", cuts=cuts[-2:], workers=1, **small)
    assert r.resumed == 0 and [c["until"] for c in r.per_cut] == ["2020-01-23", "2020-01-26"]
    # 2 points after the 23rd, 1 after the 26th: horizon 1 pools 2 points, horizon 2 one
    assert r.pooled["points"] == 3 and [(h["horizon"], h["points"]) for h in r.pooled["by_horizon"]] == [
        ("1", 2), ("2", 1)]
    assert r.pooled["verdict"].startswith("over 2 cuts:") and (tmp_path / "roll" / "rolling.png").exists()
    page = (tmp_path / "roll" / "rolling.html").read_text()
    assert "Verdict:" in page and "pooled by horizon" in page and "data:image/png;base64," in page
    assert "No driver drifts in this scenario" in page
    from typer.testing import CliRunner

    from refuge.cli import app

    res = CliRunner().invoke(app, ["report", str(tmp_path / "roll")], catch_exceptions=False)
    assert res.exit_code == 0 and "rolling backtest of" in res.output
    assert (tmp_path / "roll" / "report.html").read_text() == page
    again = rolling(model, tmp_path / "roll", cuts=cuts[-2:], workers=1, **small)
    assert again.resumed == 2 and again.pooled == load(tmp_path / "roll")["pooled"] == r.pooled
    with pytest.raises(RefugeError, match="cuts: expected dates from 2020-01-01"):
        rolling(model, tmp_path / "x", cuts=[dt.date(2021, 1, 1)])


def test_cli_rolling_and_horizon(tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    path = tmp_path / "line.yaml"
    data = yaml.safe_load(LINE.read_text())
    data["network"]["movement"]["move_chance_town"] = "town"
    data["parameters"] = {"town": {"value": 0.5, "assumption": True,
                                   "prior": {"dist": "uniform", "low": 0.02, "high": 0.98}}}
    data["evidence"] = [{"id": "camp-C", "source": {"file": "made up", "fact": "people in C"},
                         "measure": {"stock": ["C"]}, "group": "camps",
                         "series": {"points": [{"date": f"2020-01-{d:02d}", "value": 4 * d} for d in range(2, 30, 3)]}}]
    path.write_text(yaml.safe_dump(data))
    res = CliRunner().invoke(app, ["backtest", str(path), "--rolling", "--every", "3", "--draws", "2", "--seeds", "3",
                                   "--workers", "1", "--out", str(tmp_path / "r")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "rolling-origin backtest, 2 cuts" in res.output and "verdict: over 2 cuts" in res.output
    bad = CliRunner().invoke(app, ["backtest", str(path), "--rolling", "--cut", "2020-01-20"])
    assert bad.exit_code == 2 and "--rolling" in bad.output
    res = CliRunner().invoke(app, ["backtest", str(path), "--cut", "2020-01-21", "--draws", "2", "--seeds", "3",
                                   "--horizon", "2021-06-30", "--out", str(tmp_path / "h")], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    import pandas as pd

    fc = pd.read_csv(tmp_path / "h" / "forecast.csv")
    assert fc["date"].max() >= "2021-01-01"  # a period past the scenario's end (2020-01-30)
    bad = CliRunner().invoke(app, ["backtest", str(path), "--cut", "2020-01-21", "--horizon", "2019-01-01"])
    assert bad.exit_code == 2 and "--horizon: expected a date after the scenario's end" in bad.output


def test_cli_rolling_keeps_its_own_seed_default_unless_seeds_is_given(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import refuge.inference.backtest as search
    import refuge.inference.rolling as rolling_mod
    from refuge.cli import app

    asked: list[dict] = []

    def fake_rolling(model, out, **kw):
        asked.append(kw)
        raise RefugeError("stopped by the test")

    monkeypatch.setattr(rolling_mod, "rolling", fake_rolling)
    for extra in ([], ["--seeds", "7"]):
        res = CliRunner().invoke(app, ["backtest", "north-korea-china", "--rolling", "--out", str(tmp_path), *extra])
        assert res.exit_code == 2 and "stopped by the test" in res.output
    assert "forecast_seeds" not in asked[0]  # the rolling default (DEFAULT_SEARCH's 30) applies
    assert asked[1]["forecast_seeds"] == 7
    seen: list[int] = []

    def fake_search(model, **kw):
        seen.append(kw["forecast_seeds"])
        raise RefugeError("stopped by the test")

    monkeypatch.setattr(search, "backtest", fake_search)
    res = CliRunner().invoke(app, ["backtest", "north-korea-china", "--cut", "2006-01-01"])
    assert res.exit_code == 2 and seen == [20]


def test_a_forecast_figure_says_what_its_values_count():
    from refuge.inference.backtest_core import unit_label
    from refuge.results.simulate import as_model

    flagship = {s["id"]: unit_label(s) for s in as_model("north-korea-china").series}
    assert flagship["arrivals-south-korea-2001-2008"] == "people a year (count over the year to the date)"
    camps = {unit_label(s) for s in as_model("mali2012").series}
    assert camps == {"people (count on the date)"}


def test_rolling_compiles_the_engine_once_before_its_workers_start(monkeypatch, tmp_path):
    """With several worker processes, one day of one run goes first in the calling process (the engine compiled
    there once, or loaded from Numba's cache), so the workers load it instead of each compiling it."""
    import refuge.experiments.ensemble as ensemble
    import refuge.inference.rolling as rolling_mod
    from refuge.results.simulate import as_model

    order: list[str] = []
    monkeypatch.setattr(rolling_mod, "warm", lambda m: order.append(f"warm {m.scenario.name}"))

    def fake_map(fn, todo, workers=None, **kw):
        order.append(f"map {len(todo)} on {workers}")
        raise RefugeError("stopped by the test")

    monkeypatch.setattr(ensemble, "map_runs", fake_map)
    model = as_model("north-korea-china")
    cuts = [dt.date(2005, 12, 31), dt.date(2006, 12, 31)]
    for workers in (2, 1):
        with pytest.raises(RefugeError, match="stopped by the test"):
            rolling_mod.rolling(model, tmp_path, cuts=cuts, workers=workers)
    assert order == ["warm north-korea-china", "map 2 on 2", "map 2 on 1"]
    monkeypatch.undo()
    ran: list = []
    import refuge.results.simulate as sim

    real = sim.simulate
    monkeypatch.setattr(sim, "simulate", lambda m, seed, until: ran.append(until) or real(m, seed, until))
    rolling_mod.warm(model)
    assert ran == [model.start]  # one day, not the whole period
