"""The built-in scenario `north-korea-china`: traced to its sources, every mechanism present, invariants hold,
and at least 80% of the facts it cites hold in the median run of the default check."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.evidence.check import site_table, year_table
from refuge.experiments.check import check
from refuge.scenario import builtin_path

# The five reports the scenario cites and the date of each (voa-2003-10-06 is undated on the page; its date is
# inferred, see the scenario).
SEEDS = {
    "bbc-2002-05-27": dt.date(2002, 5, 27),
    "voa-2002-06-11": dt.date(2002, 6, 11),
    "voa-2002-05-09": dt.date(2002, 5, 9),
    "voa-2003-10-06": dt.date(2003, 10, 6),
    "korea-herald-2012-03-07": dt.date(2012, 3, 7),
}
# Official statistics: the Ministry of Unification's annual arrivals (the 2001 figure as reported in January 2002,
# 2002-2008 from the Ministry's table, which carries no single date).
STATISTICS = {"mou-2001": dt.date(2002, 1, 3), "mou-table": None, "mou-1998-2000": dt.date(2002, 2, 17),
              "mou-women-2003": dt.date(2003, 7, 24)}
CITED = SEEDS | STATISTICS
SEED_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"  # shared/ sits beside the checkout
MISSIONS = {"sk_beijing", "sk_shenyang", "japan_shenyang", "us_shenyang", "canada_beijing", "spain_beijing",
            "other_missions"}


@pytest.fixture(scope="module")
def model():
    return refuge.load("north-korea-china")


@pytest.fixture(scope="module")
def run(model):
    return refuge.simulate(model, seed=11)


def test_it_is_the_default_scenario_of_run(tmp_path, model):
    assert refuge.load().digest == model.digest
    result = CliRunner().invoke(app, ["run", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert model.scenario.title in result.output
    assert (tmp_path / "stocks.csv").exists()


def test_every_parameter_has_a_seed_source_or_is_an_assumption_with_a_prior(model):
    for name, p in model.scenario.parameters.items():
        assert p.all_sources() or p.assumption, name
        for src in p.all_sources():
            assert src.ref in CITED and src.fact.strip(), name
        if p.assumption:
            assert p.prior is not None, f"{name}: an assumption needs a prior for calibration"
            if p.prior.dist in ("uniform", "loguniform"):
                assert p.prior.low <= p.value <= p.prior.high, f"{name}: default outside its prior"
    for item in [*model.scenario.schedules, *model.scenario.rules]:
        assert item.source is not None or item.assumption
        assert item.source is None or item.source.ref in CITED


def test_sources_are_cited_so_a_reader_can_find_them(model):
    sc = model.scenario
    assert set(sc.sources) == set(CITED)
    for key, ref in sc.sources.items():
        assert ref.publisher and ref.headline, key
        assert ref.date == CITED[key] or (ref.date is None and ref.note), key
    assert sum(bool(ref.url) for ref in sc.sources.values()) >= 4
    cite = sc.cite(sc.evidence[0].source)
    assert sc.sources[sc.evidence[0].source.ref].headline in cite and sc.evidence[0].source.fact in cite


def test_nothing_in_the_package_names_a_path_outside_it():
    package = Path(refuge.__file__).parent
    outside = re.compile(r"/work/|shared/seeds|\.\./|\b\d{3}_[0-9a-f]{16}\.txt")
    for path in package.rglob("*"):
        if path.suffix in (".py", ".yaml", ".json", ".html", ".txt", ".md"):
            found = outside.findall(path.read_text(encoding="utf-8"))
            assert not found, f"{path.relative_to(package)}: {found}"


def test_every_fact_cites_a_seed_and_is_dated_by_its_report(model):
    facts = [f for f in model.scenario.evidence if f.series is None]
    assert len(facts) >= 20
    assert {f.source.ref for f in facts} == set(SEEDS)
    for f in facts:
        last = f.date if f.date is not None else f.period.end
        # A report may announce what starts the next day (003: closing "from Tuesday"), never later.
        assert last <= SEEDS[f.source.ref] + dt.timedelta(days=1), f.id
    bounds = {f.bound for f in facts}
    assert {"more_than", "at_least", "at_most", "range", "about", "exact"} <= bounds
    assert any(f.required for f in facts)


def test_every_mechanism_of_the_reports_is_in_the_scenario(model):
    sc = model.scenario
    kinds = {s.kind for s in sc.states}
    assert {"hiding", "refuge", "custody", "transit", "destination", "returned"} <= kinds
    assert {s.site for s in sc.states if s.kind == "refuge"} == MISSIONS
    assert all(site.supplies and site.capacity is not None for site in sc.sites)
    hiding = next(s for s in sc.states if s.kind == "hiding")
    assert not model.tracked[model.state_index(hiding.name)], "hiding is counted, not tracked"
    attempts = [t for t in sc.transitions if t.source == hiding.name and t.split and t.name.startswith("enter_")]
    assert len(attempts) == len(MISSIONS) and all(t.group_size is not None for t in attempts)
    assert all({s.to for s in t.split} & {"held_after_attempt"} for t in attempts)  # stopped outside
    assert any(t.name.startswith("raid_") for t in sc.transitions)  # taken from inside a compound
    custody = next(t for t in sc.transitions if t.name == "custody_end")
    assert {s.to for s in custody.split} == {"returned", "transit_third_country"}
    actions = {(a.close or (a.set or a.multiply).parameter) for r in sc.rules for a in r.actions}
    assert {"entry_success", "sk_beijing", "release_share"} <= actions  # security, closure, pressure
    scheduled = {s.parameter for s in sc.schedules}
    assert {"clearance_sk_days", "clearance_foreign_days"} <= scheduled
    assert next(s for s in sc.states if s.name == "transit_from_sk_missions").closed  # exits withheld
    assert any(s.kind == "transit" and "Southeast Asia" in s.description for s in sc.states)


def test_clearance_grows_from_a_day_to_years(model):
    col = model.param_names.index
    def at(d, p):
        return model.pbase[model.day(d), col(p)]
    assert at(dt.date(2002, 3, 14), "clearance_foreign_days") == 1
    assert 7 <= at(dt.date(2003, 6, 1), "clearance_sk_days") <= 180
    assert at(dt.date(2010, 1, 1), "clearance_sk_days") >= 365


def test_a_run_keeps_everyone_and_respects_room_and_closures(model, run):
    total = run.stocks.sum(axis=1)
    assert np.array_equal(total, run.initial_total() + np.cumsum(run.from_outside()))
    assert (run.stocks >= 0).all()
    occ = run.site_occupancy
    for n, p in enumerate(model.capacity_param):
        assert (occ[:, n] <= np.floor(run.params[:, p] + 1e-9)).all(), model.site_names[n]
        inside = [s for s in range(len(model.state_names)) if model.state_site[s] == n]
        entering = [e for e in range(len(model.edge_names)) if model.edge_target[e] in inside]
        assert run.flows[run.closed_sites[:, n]][:, entering].sum() == 0, model.site_names[n]
    withheld = run.closed_states[:, model.state_index("transit_from_sk_missions")]
    assert withheld.any() and run.flow_of(["clear_sk_beijing", "clear_sk_shenyang"])[withheld].sum() == 0


def test_same_seed_same_run(model, run):
    again = refuge.simulate(model, seed=11)
    assert np.array_equal(run.stocks, again.stocks) and np.array_equal(run.flows, again.flows)


def test_each_run_reports_per_site_and_per_year(model, run):
    missions = site_table(run)
    assert set(missions["site"]) == MISSIONS
    for col in ("person_days", "days_closed", "days_in_site_median", "days_in_site_p90", "days_in_site_longest",
                "meals_per_day_mean",
                "sleeping_places_per_day_peak", "clothing_sets_per_day_mean"):
        assert col in missions.columns
    sk = missions.set_index("site").loc["sk_beijing"]
    assert sk["person_days"] == run.stock_of(["sk_beijing"]).sum()
    assert sk["days_closed"] == run.closed_sites[:, model.site_names.index("sk_beijing")].sum()
    years = year_table(run)
    assert years["year"].tolist() == list(range(2001, 2013))
    into_korea = [e for e, name in enumerate(model.edge_names) if name.endswith("->south_korea")]
    airlift = run.arrived[:, model.arrival_names.index("vietnam_airlift")].sum()
    assert years["arrivals"].sum() == run.flows[:, into_korea].sum() + airlift
    assert (years[["entries", "arrests", "returns", "arrivals"]] > 0).all().all()


def test_default_check_reproduces_at_least_80_percent_of_the_facts():
    result = check("north-korea-china", seed=0, workers=1)  # the defaults of `refuge check`
    assert result.runs == 200
    assert result.failed_required == []
    assert result.share_holding >= 0.80, result.facts.loc[~result.facts.holds_median, "id"].tolist()


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason="the seed reports are not in this checkout")
def test_no_sentence_of_the_reports_is_copied():
    def words(text):
        return re.findall(r"[a-z0-9']+", text.lower())
    seeds = [words(p.read_text(encoding="utf-8")) for p in SEED_DIR.glob("*.txt")]
    grams = {tuple(w[i:i + 8]) for w in seeds for i in range(len(w) - 7)}
    text = builtin_path("north-korea-china").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^\s*headline:.*$", "", text)  # a citation quotes the title as published
    ours = words(text)
    copied = [" ".join(ours[i:i + 8]) for i in range(len(ours) - 7) if tuple(ours[i:i + 8]) in grams]
    assert copied == []


def test_rule_hysteresis_holds_over_the_whole_prior_box(model):
    """Any draw from the priors keeps each rule's `below` at or under its `above` (else calibration wastes it)."""
    params = model.scenario.parameters

    def span(x):
        if isinstance(x, str):
            p = params[x]
            return (p.prior.low, p.prior.high) if p.prior is not None else (p.value, p.value)
        return (x, x)

    for rule in model.scenario.rules:
        if rule.below is not None:
            assert span(rule.below)[1] <= span(rule.above)[0], rule.name


def test_the_official_series_stops_in_2008_and_the_model_follows_its_trend(model):
    """Annual arrivals in South Korea are cited for 2001-2008 only: later years judge the forecast."""
    from refuge.evidence.series import simulate_series

    series = [f for f in model.scenario.evidence if f.series is not None]
    assert [f.source.ref for f in series] == ["mou-table"] * 3  # the totals; the women among them, around 2004
    assert max(p.date for f in series for p in f.series.points) == dt.date(2008, 12, 31)
    dates = [p.date for p in series[0].series.points]
    assert dates[0] == dt.date(2001, 12, 31) and max(dates) == dt.date(2008, 12, 31) and len(dates) == 8
    data = np.array([p.value for p in series[0].series.points])
    sims = np.array([simulate_series(refuge.simulate(model, seed=r), model.series[0])[model.series[0]["obs"]]
                     for r in range(10)])
    ard = np.mean(np.abs(np.median(sims, axis=0) - data) / data)
    assert ard < 0.15  # the scenario's own values, before calibration
    assert np.median(sims[:, -1]) > 3 * np.median(sims[:, 0])  # the rise from 2001 to 2008


def test_the_2004_airlift_is_an_input_not_evidence(model):
    ev = {e.name: e for e in model.scenario.events}
    assert ev["vietnam_airlift"].size == 468 and ev["vietnam_airlift"].source.ref == "mou-table"
    run = refuge.simulate(model, seed=0)
    a = model.arrival_names.index("vietnam_airlift")
    assert run.arrived[:, a].sum() == 468 and run.arrived[model.day(dt.date(2004, 7, 27)), a] == 468


def test_women_leave_on_their_own_broker_route_and_their_share_of_arrivals_rises(model):
    """The Ministry counts women and men apart: 288 of 583 arrivals in 2001 were women, 2,195 of 2,803 in 2008.
    The women's broker route has its own rate, growing faster than the others'; the crackdown cuts both."""
    sc = model.scenario
    women = next(t for t in sc.transitions if t.name == "broker_women")
    assert women.source == "hiding" and women.to == "transit_women"
    grows = {s.parameter: [p.value for p in s.points] for s in sc.schedules}
    assert grows["women_route_rate"] == ["women_route_rate", "women_route_rate_2008"]
    assert grows["overland_rate"] == ["overland_rate", "overland_rate_2008"]
    crackdown = next(r for r in sc.rules if r.name == "route_crackdown")
    assert {a.multiply.parameter for a in crackdown.actions} == {"overland_rate", "women_route_rate"}
    runs = [refuge.simulate(model, seed=r) for r in range(5)]
    into = [e for e in model.edge_names if e.endswith("->south_korea")]

    def share(year: int) -> float:
        a, b = model.day(dt.date(year, 1, 1)), model.day(dt.date(year, 12, 31)) + 1
        w = sum(r.flow_of(["women_route_end->south_korea"])[a:b].sum() for r in runs)
        return w / sum(r.flows[a:b][:, [model.edge_names.index(e) for e in into]].sum() for r in runs)

    assert 0.35 < share(2001) < 0.65 and share(2008) > 0.65  # data: 49% and 78%
