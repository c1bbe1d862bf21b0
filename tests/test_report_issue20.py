"""The report on the user's reception centre (issue 20): panels titled by the names in the scenario with the
descriptions in the captions (finding 3), time in the site against Little's law (finding 2), and the report's
details (finding 11): per-run counts said to be per run, no 0-day histograms, no all-zero axis to 0.045, year
ticks on the years, each rule's days on, no flagship captions, no repeated units."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from refuge.experiments.compare import compare
from refuge.experiments.ensemble import run_ensemble
from refuge.present.figures import flows_figure, occupancy_figure, stocks_figure, waits_figure
from refuge.present.report import sites_table, waits_table, write_report
from refuge.present.summary import summarise
from refuge.present.tables import rules_table
from refuge.present.titles import Titles, with_unit

HERE = Path(__file__).parent
CENTRE = HERE / "scenarios" / "reception-centre.yaml"


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    return compare(CENTRE, runs=4, seed=0, workers=1, store=tmp_path_factory.mktemp("centre") / "exp").experiment


def test_panels_are_titled_by_the_names_in_the_scenario(centre):
    stocks = stocks_figure(centre)
    assert stocks.panels == tuple(s.name for s in centre.scenario.states)  # not "registered" for the interview queue
    assert ("awaiting_interview", "in site centre: registered; waiting for the asylum interview (interview office; "
            "first come first served)") in stocks.key
    flows = flows_figure(centre)
    assert "interview → awaiting_decision" in flows.panels
    assert all("first come" not in p and ":" not in p for p in flows.panels)
    assert ("decision", "first-instance decision (granted, refused and appealed, refused)") in flows.key
    occupancy = occupancy_figure(centre)
    assert occupancy.panels == ("centre",) and "sheltering" not in occupancy.caption  # no flagship wording
    titles = Titles(centre.scenario)
    assert titles.state("landed") == "landed"
    assert titles.flow("decision->awaiting_appeal") == "decision → awaiting_appeal"


def test_the_report_gives_time_in_the_site_by_littles_law(centre):
    s = summarise(centre, "baseline")
    little = s.run_mean["sites:centre"] / (_entries(centre, s) / s.days)  # mean occupancy / entries per day
    assert np.allclose(s.site_time["centre"][:, 0], little, rtol=0.02)
    row = next(r for r in sites_table(centre) if r["variant"] == "baseline")
    assert row["time"]["time_mean"][0] > 30 and row["time"]["time_median"][0] > 7


def _entries(exp, s) -> np.ndarray:
    return s.run_sum["arrivals:boats"]  # boats are the only way into the centre


def test_scan_of_an_older_store_gives_the_same_time_in_the_site(centre, monkeypatch):
    fast = summarise(centre, "baseline").site_time["centre"]
    monkeypatch.setattr(centre, "run_summaries", lambda v, skip=(): None)
    scanned = summarise(centre, "baseline")
    assert scanned.source == "scan"
    assert np.allclose(scanned.site_time["centre"], fast)


def test_people_who_left_a_state_are_counted_per_run_not_summed(centre):
    s = summarise(centre, "baseline")
    row = next(r for r in waits_table(centre) if r["state"] == "health_check" and r["variant"] == "baseline")
    assert row["people"] == np.median(s.left["health_check"])
    assert row["people"] < s.stay_people["health_check"][1].sum()  # the pooled count of 4 runs is not shown


def test_the_page_says_per_run_and_names_each_unit_once(centre):
    html = write_report(centre).read_text(encoding="utf-8")
    assert "<dt>awaiting_interview</dt><dd>in site centre: registered; waiting" in html  # the panels' key
    words = re.sub(r"<[^>]+>", " ", html)
    assert "people who left, per run" in words and "Time in each site" in words
    assert "people landed (people)" not in words and "people landed" in words
    assert "variant(s)" not in words and " 1 rules" not in words
    assert with_unit("people landed", "people") == "people landed"
    assert with_unit("longest wait", "days") == "longest wait (days)"


def test_states_whose_stays_all_take_no_day_are_named_not_drawn(tmp_path):
    # the jam with a boat smaller than the day's capacity (the boat of 200 now waits a day in part): every
    # completed stay in the queue's plain capacity step is 0 days
    small = (HERE / "scenarios" / "jam.yaml").read_text().replace("size: 200", "size: 100")
    (tmp_path / "jam.yaml").write_text(small)
    exp = run_ensemble(tmp_path / "jam.yaml", runs=2, seed=0, workers=1, store=tmp_path / "jam")
    assert waits_figure(exp) is None
    assert "jam, 1 variant, 2/2 runs finished" in repr(exp)


def test_an_all_zero_panel_has_an_axis_to_one_and_says_so():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.present.plotting import _style

    fig, ax = plt.subplots()
    ax.plot(np.arange(5).astype("datetime64[D]"), np.zeros(5))
    _style(ax, "relocated")
    assert ax.get_ylim() == (0, 1)
    assert any("nobody" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_years_sit_on_their_ticks():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.present.figures import _year_ticks

    fig, ax = plt.subplots()
    _year_ticks(ax, [2023])
    assert list(ax.get_xticks()) == [2023] and ax.get_xticklabels()[0].get_text() == "2023"
    plt.close(fig)


def test_each_rule_shows_its_days_on(tmp_path):
    exp = compare(HERE / "scenarios" / "whatif.yaml", runs=3, seed=0, workers=1, store=tmp_path / "w").experiment
    rows = rules_table(exp)
    assert {r["rule"] for r in rows} == {"security", "doors"}
    for r in rows:
        for v, cell in r["cells"].items():
            per_run = exp.per_run("rules", variant=v)["sum"][r["rule"]].to_numpy()
            assert cell[0] == np.median(per_run) and r["days"] == len(exp.dates)
    html = write_report(exp).read_text(encoding="utf-8")
    assert "Rules: days on" in html
