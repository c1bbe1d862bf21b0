"""As of the cut, a drift declared for beyond the data starts at the cut in a search backtest (and the rolling
backtest built on it), as it does in a posterior backtest: the forecast's band widens with the horizon, and the
drift's size is fitted from the inner cut, where the drift then acts too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from refuge.api import as_model
from refuge.inference.backtest import backtest
from refuge.scenario import parse


def _doc() -> dict:
    """Monthly arrivals at a level that wanders (the data: 1000 a day, then up and down by a fifth), a drift of
    the rate declared from 2023, after the data end, as uk-asylum declares its drifts beyond its data."""
    months = [dt.date(2020 + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1) for m in range(1, 37)]
    level = 1000 * np.exp(0.15 * np.sin(np.arange(36) / 3.0))
    points = [{"date": str(d), "value": float(round(v * d.day))} for d, v in zip(months, level)]
    return {"name": "drift-beyond", "start": "2020-01-01", "end": "2022-12-31",
            "states": [{"name": "camp", "kind": "destination"}],
            "arrivals": [{"name": "arrivals", "to": "camp", "rate": "rate"}],
            "parameters": {"rate": {"value": 1000.0, "assumption": True},
                           "rate_drift": {"value": 0.1, "assumption": True,
                                          "prior": {"dist": "loguniform", "low": 0.01, "high": 0.3}}},
            "drift": [{"parameter": "rate", "size": "rate_drift", "step": "month", "from": "2023-01-01"}],
            "evidence": [{"id": "monthly", "source": {"file": "made up", "fact": "monthly arrivals"},
                          "measure": {"arrivals": ["arrivals"]},
                          "series": {"from": "2020-01-01", "points": points}}]}


@pytest.fixture(scope="module")
def runs():
    m = as_model(parse(_doc(), "toy.yaml"))
    kw = {"cut": dt.date(2022, 1, 1), "draws": 4, "seeds": 1, "refit": 2, "refit_seeds": 2, "forecast_seeds": 40}
    return backtest(m, as_of_cut=False, **kw), backtest(m, as_of_cut=True, **kw)


def _width(r) -> np.ndarray:
    p = r.table.points
    p = p[p["split"] == "test"]
    return ((p["high"] - p["low"]) / p["median"]).to_numpy()


def test_as_of_the_cut_the_drift_declared_beyond_the_data_starts_at_the_cut(runs):
    plain, as_of = runs
    # as written, the drift starts after the data: the band holds Poisson noise only (about 2% of a month)
    assert _width(plain).max() < 0.05
    # as of the cut, each run walks from the cut: the band widens with the horizon, to tens of percent
    w = _width(as_of)
    assert w[-1] > 0.2 and w[-1] > 2 * w[0]


def test_the_drift_size_is_fitted_from_the_inner_cut_where_it_acts(runs):
    plain, as_of = runs
    # from the inner cut the drift acts in the as-of-cut fit: the sizes score differently and one is chosen
    scores = [s for _, s in as_of.table.summary["drift_scores"]]
    assert max(scores) - min(scores) > 1e-6 and "rate_drift" in as_of.values
    # as written, it does not act before the scenario's end: every size ties, none is chosen
    tied = [s for _, s in plain.table.summary["drift_scores"]]
    assert max(tied) - min(tied) < 1e-9


def test_a_posterior_backtest_as_of_the_cut_fits_the_size_where_the_drift_acts(tmp_path):
    from refuge.inference.backtest_posterior import backtest as posterior_backtest
    from refuge.inference.calibrate import Settings

    sc = parse(_doc(), "toy.yaml")
    bt = posterior_backtest(sc, dt.date(2021, 12, 31), tmp_path / "bt", runs=10, workers=1, as_of_cut=True,
                            settings=Settings(population=10, budget=40, generations=2))
    scores = [s for _, s in bt.summary["drift_scores"]]
    # the drift acts from the inner cut in the forecasts that fit its size: the sizes score apart, one is kept
    assert max(scores) - min(scores) > 1e-6 and "rate_drift" in bt.summary["drift_sizes"]
