"""Forecasts as of the cut (`refuge backtest --train-until DATE --as-of-cut`): nothing dated after the cut
reaches the forecast runs."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from refuge.inference.asof import held
from refuge.inference.backtest_core import forward
from refuge.model.compiler import compile_scenario
from refuge.scenario.format import parse

SCENARIO = {
    "name": "asof", "start": "2020-01-01", "end": "2020-06-29",
    "states": [{"name": "outside", "kind": "other"}, {"name": "camp", "kind": "other"}],
    "arrivals": [{"name": "come", "to": "camp", "rate": "arrival_rate"}],
    "parameters": {"arrival_rate": {"value": 10, "assumption": True}},
    "schedules": [{"parameter": "arrival_rate", "assumption": True,
                   "points": [{"date": "2020-02-01", "value": 20}, {"date": "2020-05-01", "value": 100}]}],
    "evidence": [{"id": "camp", "assumption": True, "note": "a test series", "measure": {"stock": ["camp"]},
                  "series": {"points": [{"date": "2020-03-31", "value": 1200},
                                        {"date": "2020-06-29", "value": 6000}]}}],
}


@pytest.fixture(scope="module")
def model():
    return compile_scenario(parse(SCENARIO), "asof.yaml")


def test_held_keeps_every_parameter_at_its_value_on_the_last_training_day(model):
    cut = 90  # 2020-03-31: the rate is 20 then; 100 from 1 May only in the scenario as written
    h = held(model, cut)
    p = model.param_names.index("arrival_rate")
    assert model.pbase[-1, p] == 100 and np.all(h.pbase[cut + 1:, p] == 20)
    assert np.array_equal(h.pbase[: cut + 1], model.pbase[: cut + 1])  # the training days are untouched
    assert held(model, model.pbase.shape[0] - 1) is model  # nothing after the last day


def test_the_forward_runs_as_of_the_cut_do_not_see_a_change_dated_after_it(model):
    cut = 90
    plain = forward(model, [{}] * 20, 0)
    as_of = forward(model, [{}] * 20, 0, hold=cut)
    k = [s["id"] for s in model.series].index("camp")
    end_plain, end_as_of = np.median(plain.series[k][:, -1]), np.median(as_of.series[k][:, -1])
    # arrivals of 20 a day from 1 April to 29 June (90 days) on top of the stock at the cut; 100 a day from May
    at_cut = np.median(plain.series[k][:, list(model.series[k]["grid"]).index(cut)])
    assert abs(end_as_of - (at_cut + 20 * 90)) < 150
    assert end_plain > end_as_of + 4000


def test_as_of_cut_needs_train_until():
    from refuge.cli import app

    res = CliRunner().invoke(app, ["backtest", "uk-asylum", "--as-of-cut"])
    assert res.exit_code != 0 and "--as-of-cut" in res.output and "--train-until" in res.output


def test_forecast_periods_after_quarterly_data_are_calendar_quarters():
    """Data dated at quarter ends are forecast quarter by quarter to calendar quarter ends (a stock too; a stock
    on irregular dates, yearly as before)."""
    import datetime as dt

    from refuge.inference.horizon import later, period_months

    assert period_months(dt.date(2023, 12, 31), 92, flow=True) == 3
    assert period_months(dt.date(2023, 12, 31), 92, flow=False) == 3
    assert period_months(dt.date(2020, 6, 29), 90, flow=False) == 12
    assert period_months(dt.date(2020, 6, 29), 10, flow=True) == 0
    assert period_months(dt.date(2008, 12, 31), 366, flow=True) == 12
    assert [later(dt.date(2023, 12, 31), 3 * k) for k in (1, 2, 3)] == [
        dt.date(2024, 3, 31), dt.date(2024, 6, 30), dt.date(2024, 9, 30)]
    assert later(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28) and later(dt.date(2024, 1, 15), 1) == \
        dt.date(2024, 2, 15)


def test_a_networks_spawning_goes_on_at_its_level_before_the_cut():
    """As of the cut, a Flee case spawns each day the mean of the 8 weeks up to the cut (whole people), not
    the increase of a total dated after it; days up to the cut are untouched."""
    from refuge.inference.asof import SPAWN_WINDOW, held_spawn
    from refuge.results.simulate import load

    m = load("mali2012")
    u = 120
    got = held_spawn(m, u).net.spawn
    assert np.array_equal(got[:u + 1], m.net.spawn[:u + 1])
    level = m.net.spawn[u - SPAWN_WINDOW + 1:u + 1].mean()
    assert got[u + 1:].sum() == np.floor(level * (m.days - 1 - u))
    assert got[u + 1:].min() >= np.floor(level) and got[u + 1:].max() <= np.floor(level) + 1
    # the total after the cut is not read: a different one gives the same forecast's spawning
    other = held_spawn(_with_another_total(m, u), u).net.spawn
    assert np.array_equal(other, got)
    assert held(m, u).net.spawn.tolist() == got.tolist() and held_spawn(m, m.days - 1) is m


def _with_another_total(m, u):
    import dataclasses

    spawn = m.net.spawn.copy()
    spawn[u + 1:] = 7 * spawn[u + 1:] + 3
    return dataclasses.replace(m, net=dataclasses.replace(m.net, spawn=spawn))
