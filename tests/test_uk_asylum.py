"""The built-in `uk-asylum` scenario: its data, its sources and how close its hand-set values come to the data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.evidence.series import run_scores, simulate_all
from refuge.scenario import builtin_path

DATA = Path(builtin_path("uk-asylum")).parent / "uk-asylum-data"
SERIES = ("claims", "initial-decisions", "grants", "refusals", "withdrawals", "awaiting-initial-decision",
          "on-asylum-support", "in-hotels")


@pytest.fixture(scope="module")
def model():
    return refuge.load("uk-asylum")


def test_every_series_of_the_data_is_evidence_and_nothing_after_2023(model):
    ids = [s["id"] for s in model.series if s.get("group") != "legacy"]
    assert sorted(ids) == sorted(SERIES)
    legacy = [s["id"] for s in model.series if s.get("group") == "legacy"]  # the legacy backlog's counts of 2023
    assert len(legacy) == 4
    for e in model.scenario.evidence:
        assert e.series is not None and e.series.points
        assert max(p.date for p in e.series.points) <= dt.date(2023, 12, 31)
    assert model.scenario.end == dt.date(2023, 12, 31)


def test_the_shipped_data_keep_their_source_and_licence():
    notice = (DATA / "NOTICE").read_text()
    assert "Open Government Licence v3.0" in notice and "Home Office" in notice
    assert "Open Government Licence v3.0" in builtin_path("uk-asylum").read_text().split("\nname:")[0]
    table = np.genfromtxt(DATA / "uk-asylum-quarterly.csv", delimiter=",", skip_header=1, usecols=range(1, 9))
    for k, name in enumerate(SERIES):
        values = np.loadtxt(DATA / f"{name}.csv", delimiter=",", skiprows=1, usecols=1)
        assert np.array_equal(values, table[:, k][~np.isnan(table[:, k])])


def test_claims_enter_at_the_quarterly_rate_of_the_data(model):
    """The claims schedule is each quarter's count over its days: its daily rates sum back to the data."""
    sched = next(s for s in model.scenario.schedules if s.parameter == "claims_per_day")
    claims = np.loadtxt(DATA / "claims.csv", delimiter=",", skiprows=1, usecols=1)
    ends = [dt.date.fromisoformat(x) for x in np.loadtxt(DATA / "claims.csv", delimiter=",", skiprows=1,
                                                           usecols=0, dtype=str)]
    assert len(sched.points) == len(claims)
    for p, end, n in zip(sched.points, ends, claims):
        days = (end - p.date).days + 1
        assert 89 <= days <= 92 and abs(float(p.value) * days - n) < 0.5


def test_every_uncertain_number_has_a_prior_or_a_source(model):
    params = model.scenario.parameters
    eras = [p for name, p in params.items() if name.startswith("capacity_2")]
    assert len(eras) >= 8 and all(p.prior is not None for p in eras)
    for name, p in params.items():
        assert p.assumption or p.all_sources(), name


def test_hand_set_values_follow_the_data(model):
    """One run at the scenario's own values: people waiting within 10% (ARD), support and decisions within 15%."""
    run = refuge.simulate(model, seed=3)
    scores = run_scores(model.series, simulate_all(run))
    assert scores["awaiting-initial-decision"][0] <= 0.10
    assert scores["on-asylum-support"][0] <= 0.15
    assert scores["initial-decisions"][0] <= 0.15
    assert scores["claims"][0] <= 0.03


def test_the_what_if_page_moves_the_backlog_with_a_decision_capacity():
    """`refuge app uk-asylum`: fewer decisions from October 2023 leave more people waiting at the end."""
    from refuge.present.app import Session

    session = Session("uk-asylum", workers=1, runs=2)
    page = session.run({"values": {"capacity_2023c": 300}})
    waiting = next(o for o in page["outcomes"] if o["label"].startswith("people waiting for an initial decision at"))
    assert waiting["value"] > waiting["baseline"] + 10_000


LEGACY = ["waiting_dispersal", "waiting_hotel", "waiting_unsupported"]
FLOW = ["flow_dispersal", "flow_hotel", "flow_unsupported"]


def test_the_legacy_backlog_is_decided_first(model):
    """Claims lodged from 28 June 2022 join the flow queues; while more than 6,000 people with older claims wait,
    the flow queues get `flow_share` of the era's capacity (rule `legacy_first`), then all of it."""
    run = refuge.simulate(model, seed=5)
    day = (dt.date(2022, 6, 28) - model.scenario.start).days
    legacy, flow = run.stock_of(LEGACY), run.stock_of(FLOW)
    assert flow[: day - 1].max() == 0 and flow[day + 30] > 1000
    assert np.all(np.diff(legacy[day + 1:]) <= 0)  # no claim joins the legacy queues after 28 June 2022
    dec = (dt.date(2022, 12, 1) - model.scenario.start).days
    legacy_decided = run.flow_of(["decide_supported", "decide_in_hotel", "decide_other"])
    flow_decided = run.flow_of(["decide_flow_supported", "decide_flow_in_hotel", "decide_flow_other"])
    on = np.nonzero(legacy[dec:] > 6000)[0] + dec
    share = model.scenario.parameters["flow_share"].value
    ratio = flow_decided[on].sum() / legacy_decided[on].sum()
    assert 0.5 * share <= ratio <= 1.2 * share  # at most the flow share while older claims wait
    assert legacy[-1] <= 8000  # the legacy queues are all but empty at the end of 2023 (4,537 claims left)


def test_the_levers_of_the_app_are_variants_that_move_the_outcomes(model):
    """Each declared variant compiles; without the clearance drive of 2023 more people wait at the end, with more
    dispersal places fewer people are in hotels."""
    from refuge.experiments.variants import resolve_values
    from refuge.model.compiler import compile_scenario

    sc = model.scenario
    base = refuge.simulate(model, seed=2)
    end = {}
    for v in sc.variants:
        values = resolve_values(sc, dict(v.set), v.name)
        run = refuge.simulate(compile_scenario(sc.with_values(values), model.origin), seed=2)
        end[v.name] = (run.stock_of(WAITING)[-1], run.stock_of(["hotels"])[-1])
    assert end["no-clearance-drive"][0] > base.stock_of(WAITING)[-1] + 20_000
    assert end["more-dispersal"][1] < base.stock_of(["hotels"])[-1] - 10_000


WAITING = ["intake", "waiting_dispersal", "waiting_hotel", "waiting_unsupported", "flow_dispersal", "flow_hotel",
           "flow_unsupported"]


def _walk_size(x: np.ndarray) -> float:
    """A level walking by s a quarter (no stray left): s from the mean squared changes of x over 1 and 8 steps."""
    m1, m8 = (float(np.mean((x[k:] - x[:-k]) ** 2)) for k in (1, 8))
    return float(np.sqrt(max(m8 - m1, 0.0) / 7))


def test_drift_sizes_are_read_off_the_record_before_the_scenario_starts(model):
    """claims_drift, capacity_drift and grant_drift: the quarterly walk of log(claims), log(decisions) and
    log(grants / decisions) in 2001-2009 (before-2010.csv, known at every backtest cut), as their sources say;
    no prior, so no backtest fits them on the calm years after 2010."""
    t = np.loadtxt(DATA / "before-2010.csv", delimiter=",", skiprows=1, usecols=(1, 2, 3))
    assert t.shape == (37, 3)  # 2001-03-31 .. 2010-03-31
    x = t[:-1]  # 2001-2009
    walks = {"claims_drift": _walk_size(np.log(x[:, 0])), "capacity_drift": _walk_size(np.log(x[:, 1])),
             "grant_drift": _walk_size(np.log(x[:, 2] / x[:, 1]))}
    assert [round(v, 2) for v in walks.values()] == [0.17, 0.19, 0.22]
    params = model.scenario.parameters
    for name, v in walks.items():
        assert params[name].prior is None and abs(params[name].value - v) <= 0.025, name
    calm = np.log(np.loadtxt(DATA / "claims.csv", delimiter=",", skiprows=1, usecols=1)[:39])  # to 2019-12-31
    assert _walk_size(calm) < 0.10  # the calm years a backtest cut of 2017-2020 would have fitted the size on
