"""Time in a site (issue 20, finding 2): from entering a site to leaving it, across its states, not one state's stay.

The reception centre holds people for months (registration, a 7-day health check, queues for interviews and
decisions, appeals); the fixed 7-day state inside it must not pass for the time people spend there. Little's law
is the check: mean occupancy = entries per day x mean time in the site."""

from __future__ import annotations

import numpy as np
import pytest

import refuge
from refuge.evidence.check import site_table
from refuge.experiments.check import check
from refuge.results.site_time import entries_and_exits, time_figures, time_in_site

PIPELINE = """
name: pipeline
start: 2020-01-01
end: 2020-03-31
sites: [{name: centre}]
states:
  - {name: first, kind: other, site: centre}
  - {name: second, kind: other, site: centre}
  - {name: out, kind: destination}
transitions:
  - {name: a, from: first, duration: {dist: fixed, value: 3}, to: second}
  - {name: b, from: second, duration: {dist: fixed, value: 4}, to: out}
arrivals:
  - {name: boats, to: first, rate: 5}
"""


@pytest.fixture(scope="module")
def centre_run(scenarios_dir):
    return refuge.simulate(refuge.load(scenarios_dir / "reception-centre.yaml"), seed=3)


def test_entries_and_exits_rebuild_the_daily_occupancy(centre_run):
    run = centre_run
    site = run.model.site_names.index("centre")
    first, entries, exits = entries_and_exits(run, site)
    assert (entries >= 0).all() and (exits >= 0).all()
    direct = run.arrived[:, run.model.arrival_names.index("boats")]  # nothing else enters the centre
    assert np.array_equal(entries, direct)
    assert np.array_equal(first + np.cumsum(entries) - np.cumsum(exits), run.site_occupancy[:, site])


def test_time_in_the_site_obeys_littles_law_on_the_reception_centre(centre_run):
    run = centre_run
    site = run.model.site_names.index("centre")
    occ = run.site_occupancy[:, site]
    entries_per_day = entries_and_exits(run, site)[1].sum() / run.days
    little = occ.mean() / entries_per_day
    mean, median, p90, longest, still = time_figures(run, site)
    assert mean == pytest.approx(little, rel=0.02)
    assert little > 30  # months in the centre, not the 7-day health check inside it
    assert median > 7 and p90 >= median and longest >= p90
    days, people, done = time_in_site(run, site)
    assert people.sum() == entries_and_exits(run, site)[1].sum() and people[~done].sum() == still == occ[-1]


def test_check_reports_time_in_the_site_and_each_state_apart(scenarios_dir):
    result = check(scenarios_dir / "reception-centre.yaml", runs=3, seed=0)
    sites = result.sites.set_index("metric")
    mean_occ, entries = sites.loc["mean_occupancy", "median"], sites.loc["entries", "median"]
    little = mean_occ / (entries / result.model.days)
    assert sites.loc["days_in_site_mean", "median"] == pytest.approx(little, rel=0.1)
    assert "wait_median" not in set(result.sites["metric"])  # the pooled figure of every state's stays is gone
    stays = result.stays.set_index(["state", "metric"])
    assert stays.loc[("health_check", "days_median"), "median"] == 7  # the fixed state, labelled as one state


def test_a_chain_of_fixed_stays_sums_to_the_time_in_the_site(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE, encoding="utf-8")
    run = refuge.simulate(refuge.load(path), seed=1)
    days, people, done = time_in_site(run, 0)
    assert set(days[done].tolist()) == {7}  # 3 days in one state, then 4 in the other
    assert people.sum() == run.arrived.sum()
    table = site_table(run).iloc[0]
    assert table["days_in_site_median"] == 7 and table["days_in_site_longest"] == 7


def test_a_mean_stay_fact_about_a_site_counts_days_in_the_site(tmp_path):
    """`mean_stay: [centre]` over a site of two states (3 days, then 4) is 7 days: not 3.5, the mean of each
    state's stays pooled."""
    from refuge.evidence.measures import measure_all

    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE + """evidence:
  - {id: seven-days, source: {file: test, fact: a week in the centre}, period: {from: 2020-02-01, to: 2020-03-31},
     measure: {mean_stay: [centre]}, bound: exact, value: 7}
  - {id: three-days, source: {file: test, fact: three days in the first room}, period: {from: 2020-02-01,
     to: 2020-03-31}, measure: {mean_stay: [first]}, bound: exact, value: 3}
""", encoding="utf-8")
    run = refuge.simulate(refuge.load(path), seed=2)
    assert list(measure_all(run)) == [7.0, 3.0]
