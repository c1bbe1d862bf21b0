"""The UK asylum scenario in the rolling backtest: quarterly series, several of them, drifts from the cut."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from refuge.api import load
from refuge.inference.rolling import rolling, shown


def test_the_fan_chart_shows_each_group_s_fullest_series_first():
    counts = pd.Series({"claims": 144, "decisions": 144, "grants": 144, "awaiting": 144, "hotels": 39,
                        "legacy": 8})
    groups = {"claims": "flows", "decisions": "flows", "grants": "flows", "awaiting": "stocks", "hotels": "stocks",
              "legacy": "legacy"}
    assert shown(counts, groups, 3) == ["claims", "awaiting", "decisions"]  # a one-point group is not shown first
    camps = pd.Series({"a": 30, "b": 20, "c": 10})  # one group (a Flee case's camps): by data points, as before
    assert shown(camps, dict.fromkeys(camps.index, "camps"), 2) == ["a", "b"] == shown(camps, {}, 2)


def test_uk_asylum_rolls_with_quarterly_baselines_and_drifts_from_the_cut(tmp_path):
    cut = dt.date(2021, 12, 31)
    r = rolling(load("uk-asylum"), tmp_path, cuts=[cut], workers=1, as_of_cut=True, draws=2, seeds=1, refit=1,
                refit_seeds=1, forecast_seeds=12)
    p = r.pooled
    assert p["points"] == 65 and set(p["baselines"]) == {"naive", "drift", "seasonal"}  # quarterly: seasonal too
    assert p["crps"] is not None and "90% band held" in p["verdict"]
    pts = pd.read_csv(tmp_path / "cuts" / str(cut) / "points.csv")
    claims = pts[(pts["series"] == "claims") & (pts["split"] == "test")]
    width = ((claims["high"] - claims["low"]) / claims["median"]).to_numpy()
    assert width[-1] > width[0] > 0.1  # the claims' drift and strays act from the cut, and widen with it
    doc = json.loads((tmp_path / "rolling.json").read_text())
    assert "claims_per_day" in doc["drift"] and "grant_share" in doc["drift"]
    # the sizes are read off the record before 2010 (no prior): the caption says so, not "fitted at each cut"
    assert "claims_drift = 0.17 at every cut (no prior: not fitted)" in doc["drift"]
    assert "fitted at each cut" not in doc["drift"]
