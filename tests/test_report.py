"""The HTML report: one self-contained file that explains an experiment, plus its figures as PNG files."""

from __future__ import annotations

import base64
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from refuge.cli import app
from refuge.errors import RefugeError
from refuge.experiments.compare import compare
from refuge.experiments.store import Experiment, make_meta
from refuge.present.report import make_figures, parameters_table, waits_table, write_report

HERE = Path(__file__).parent
WHATIF = HERE / "scenarios" / "whatif.yaml"
PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = ("stocks", "occupancy", "waits", "flows")


class Page(HTMLParser):
    """Collects what a reader would see: text, images, links, and whether every table closes."""

    def __init__(self):
        super().__init__()
        self.text, self.images, self.external, self.open_tables = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "table":
            self.open_tables += 1
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")) or (tag in ("script", "link") and a.get(key)):
                self.external.append(a[key])

    def handle_endtag(self, tag):
        if tag == "table":
            self.open_tables -= 1

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


@pytest.fixture(scope="module")
def experiment(tmp_path_factory) -> Experiment:
    return compare(WHATIF, variants={"faster": {"clear_days": 15}}, runs=6, seed=1, workers=1,
                   store=tmp_path_factory.mktemp("rep") / "exp").experiment


@pytest.fixture(scope="module")
def page(experiment) -> tuple[Path, Page]:
    path = write_report(experiment)
    parsed = Page()
    parsed.feed(path.read_text(encoding="utf-8"))
    return path, parsed


def test_report_is_one_self_contained_html_file_with_png_figures_beside_it(page):
    path, parsed = page
    assert path.name == "report.html"
    assert parsed.external == []  # nothing fetched from elsewhere: the file can be mailed or archived
    assert len(parsed.images) == len(FIGURES)
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    for name in FIGURES:
        assert (path.parent / "report-figures" / f"{name}.png").read_bytes().startswith(PNG)
    assert parsed.open_tables == 0


def test_report_says_what_was_run(page, experiment):
    words = page[1].words
    assert "Toy what-if scenario" in words
    assert experiment.meta["scenario_digest"] in words
    assert "6 per variant; run r uses seed 1 + r" in words
    assert "faster" in words and "clear_days = 15" in words


def test_report_shows_outcomes_differences_and_waits(page):
    words = page[1].words
    for label in ("in refuge, mean per day (people)", "arrivals at a destination (people)", "returns (people)"):
        assert label in words
    assert "What if: differences from baseline" in words
    assert "paired" in words
    assert "median stay (days)" in words and "still there at the end" in words


def test_report_marks_closures_against_room(page):
    words = page[1].words
    assert "Each site's occupancy against its room" in words
    assert "closed to entry" in words


def test_report_has_flows_per_year_table(page):
    words = page[1].words
    assert "Flows per year, baseline" in words
    assert re.search(r"clearance->transit \d[\d,]* \[[\d,.]+, [\d,.]+\] \d", words)  # median [low, high]


def test_report_has_the_evidence_table(page, experiment):
    words = page[1].words
    ev = experiment.evidence("baseline")
    for fact in ev.itertuples():
        assert fact.id in words
    assert "at least a hundred people left for transit in 2002 (invented)" in words
    assert "(required)" in words
    section = words[words.index("Evidence Each observed fact"):words.index("Parameters Every named number")]
    for fact in ev.itertuples():  # once, with one column per variant: not a block of rows per variant
        assert section.count(f" {fact.id} ") == 1
    assert section.count("% of runs") == len(ev) * 2


def test_report_holds_no_path_of_this_machine(page, experiment):
    html = page[0].read_text(encoding="utf-8")
    assert str(experiment.path) not in html and str(experiment.path.parent) not in html
    assert str(WHATIF.parent) not in html
    assert "whatif.yaml" in html


def test_report_figures_use_the_scenarios_descriptions(experiment):
    from refuge.present.report import Titles

    titles = Titles(experiment.scenario)
    for name in experiment.names("flows"):
        assert "->" not in titles.flow(name)


@pytest.mark.parametrize("source", ["summaries", "scan"])
def test_one_pass_summary_agrees_with_the_store_queries(experiment, source, monkeypatch):
    """The report reads the runs' summaries (or, for a store without them, each daily file once); what it
    reduces equals what the store's own queries give."""
    import numpy as np

    from refuge.present.summary import QUANTILES, summarise

    if source == "scan":
        monkeypatch.setattr(experiment, "run_summaries", lambda v, skip=(): None)
    for v in experiment.variants:
        s = summarise(experiment, v)
        assert s.source == source
        closed = experiment.per_run("closed", variant=v, stats=("sum",))["sum"]
        for name in experiment.names("closed"):
            assert np.allclose(s.run_sum[f"closed:{name}"], closed[name].to_numpy())
            share = next(experiment.matrices("closed", [name], v))[2].mean(axis=0)
            assert np.allclose(s.closed_share[name], share)
        red = experiment.reduce("stocks", variants=[v], quantiles=QUANTILES)
        for name in experiment.names("stocks"):
            rows = red[red.state == name]
            expect = rows[["q5", "q25", "median", "q75", "q95"]].to_numpy().T[:, s.sample]
            assert np.allclose(s.bands[f"stocks:{name}"], expect)
        sums = experiment.per_run("flows", variant=v, stats=("sum",))["sum"]
        for name in experiment.names("flows"):
            assert np.allclose(s.run_sum[f"flows:{name}"], sums[name].to_numpy())
        occ = experiment.per_run("sites", variant=v, stats=("mean", "max"))
        for name in experiment.names("sites"):
            assert np.allclose(s.run_mean[f"sites:{name}"], occ["mean"][name].to_numpy())
            assert np.allclose(s.run_max[f"sites:{name}"], occ["max"][name].to_numpy())
        years = experiment.by_year("flows", variants=[v])
        for name in experiment.names("flows"):
            med = np.median(s.year_totals[f"flows:{name}"], axis=0)
            assert np.allclose(med, years[years.transition == name]["median"].to_numpy())
        stays = experiment.stay_totals(states=experiment.names("max_stay"), variants=[v])
        for name in experiment.names("max_stay"):
            for done in (False, True):
                sel = stays[(stays.state == name) & (stays.completed == done)]
                hist = np.zeros(s.days + 1)
                np.add.at(hist, sel.days.to_numpy(), sel.people.to_numpy())
                assert np.allclose(s.stay_people[name][int(done)], hist)


def test_report_lists_every_parameter_with_value_and_source(page, experiment):
    words = page[1].words
    rows = parameters_table(experiment)
    assert [r["name"] for r in rows] == list(experiment.scenario.parameters)
    for r in rows:
        assert r["name"] in words
    clear = next(r for r in rows if r["name"] == "clear_days")
    assert clear["values"] == {"baseline": 30.0, "faster": 15.0} and clear["differs"]
    assert clear["changes"] == "scheduled: 90 from 2003-01-01"
    assert next(r for r in rows if r["name"] == "success")["changes"] == "changed by rules"
    assert all(r["assumption"] for r in rows) and "assumption" in words
    assert "uniform(0.2, 0.9)" in words


def test_waits_table_weights_stays_by_people(experiment):
    rows = {(r["state"], r["variant"]): r for r in waits_table(experiment)}
    transit = rows["transit", "baseline"]
    assert transit["median"] == 3 and transit["p90"] == 3 and transit["longest"] == 3  # a fixed three-day journey
    mission = rows["mission", "baseline"]
    assert rows["mission", "faster"]["median"] < mission["median"]


def test_an_incomplete_experiment_says_so(experiment, tmp_path):
    copy = tmp_path / "part"
    shutil.copytree(experiment.path, copy)
    Experiment(copy).file("daily", "faster", 5).unlink()
    parsed = Page()
    parsed.feed(write_report(copy, tmp_path / "part.html").read_text(encoding="utf-8"))
    assert "This experiment is incomplete: baseline has 6 of 6 runs, faster has 5 of 6 runs" in parsed.words
    assert (tmp_path / "part-figures" / "stocks.png").exists()


def test_an_experiment_without_runs_cannot_be_reported(tmp_path, experiment):
    Experiment.create(tmp_path / "empty", experiment.meta)
    with pytest.raises(RefugeError, match="no finished runs"):
        write_report(tmp_path / "empty")


def test_cli_report(experiment, tmp_path):
    res = CliRunner().invoke(app, ["report", str(experiment.path), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").exists() and (tmp_path / "r-figures" / "flows.png").exists()
    bad = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert bad.exit_code == 2 and "not an experiment directory" in bad.output


def test_make_meta_keeps_the_whole_scenario(experiment):
    meta = make_meta(experiment.scenario, "x.yaml", "d", 0, 1, [{"name": "baseline", "set": {}}], {}, None)
    assert meta["scenario"]["transitions"][0]["from"] == "hiding"  # aliases kept: it reads back as a scenario


def test_report_of_a_scenario_without_sites_or_tracked_states(tmp_path):
    """Fewer figures, but a report all the same (no missing-section errors)."""
    scenario = tmp_path / "bare.yaml"
    scenario.write_text("name: bare\nstart: 2002-01-01\nend: 2002-03-31\nstates:\n"
                        "  - {name: a, kind: hiding, initial: 100}\n  - {name: b, kind: destination}\n"
                        "transitions:\n  - {name: go, from: a, to: b, rate: 0.01}\n")
    runner = CliRunner()
    out = tmp_path / "exp"
    assert runner.invoke(app, ["run", str(scenario), "--runs", "3", "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert 'id="stocks"' in html and 'id="sites"' not in html and 'id="waits"' not in html


def _strip_summaries(exp: Experiment, runs: list[int]) -> None:
    """Make runs look written by a refuge before run summaries: their measures files without the columns."""
    import pyarrow.parquet as pq

    from refuge.experiments.runsummary import COLUMNS
    from refuge.experiments.store import encode

    for v in exp.variants:
        for r in runs:
            f = exp.file("measures", v, r)
            f.write_bytes(encode(pq.read_table(f).drop_columns(list(COLUMNS))))


def _report_tables(exp: Experiment) -> dict:
    from refuge.present.report import flows_year_table, series_rows, sites_table, waits_table

    return {"sites": sites_table(exp), "waits": waits_table(exp), "flows": flows_year_table(exp),
            "series": series_rows(exp)}


@pytest.mark.parametrize("stripped", ["all", "some"])
def test_a_store_without_run_summaries_reports_the_same_from_its_daily_tables(experiment, tmp_path, stripped):
    """A store of an older refuge (or one resumed by this one, holding runs of both kinds) is scanned: the
    same tables, the same figures."""
    from refuge.present.report import make_figures, summaries

    copy = tmp_path / "old"
    shutil.copytree(experiment.path, copy)
    old = Experiment(copy)
    _strip_summaries(old, list(range(6)) if stripped == "all" else [3, 5])  # run 0 (read first) keeps its
    assert all(old.run_summaries(v) is None for v in old.variants)
    new = Experiment(experiment.path)
    assert {s.source for s in summaries(old).values()} == {"scan"}
    assert {s.source for s in summaries(new).values()} == {"summaries"}
    assert _report_tables(old) == _report_tables(new)
    assert [f.png for f in make_figures(old)] == [f.png for f in make_figures(new)]
    assert old.measures().equals(new.measures())


@pytest.fixture(scope="module")
def flee_case(tmp_path_factory):
    """mali2012 (a Flee case: a route network, seven camps with data), four runs, and the same runs in memory."""
    import refuge
    from refuge.experiments.ensemble import run_ensemble

    exp = run_ensemble("mali2012", runs=4, seed=3, workers=1, store=tmp_path_factory.mktemp("mali") / "exp")
    model = refuge.load("mali2012")
    return exp, model, [refuge.simulate(model, seed=3 + r) for r in range(4)]


def test_a_flee_case_is_plotted_camp_by_camp_against_its_data(flee_case):
    exp, model, _ = flee_case
    out = write_report(exp)
    figures = {f.name: f for f in make_figures(exp)}
    camps = [model.state_names[s["states"][0]] for s in model.series if len(s["obs"])]
    assert len(camps) == 7
    assert figures["series"].panels == tuple(camps)  # one panel per camp with data, titled by the camp
    assert (out.parent / "report-figures" / "series.png").read_bytes().startswith(PNG)
    assert "flows" not in figures  # no transitions: no flows figure (and no error)
    p = Page()
    p.feed(out.read_text(encoding="utf-8"))
    assert "central 90% of runs (5th to 95th percentile)" in p.words
    assert all(c in p.words for c in camps)


def test_a_flee_case_report_scores_each_camp_as_the_evidence_does(flee_case):
    """The report's ARD (normal and rescaled) and coverage per camp and overall are those of
    refuge.evidence.series for the same runs, simulated again in memory."""
    import numpy as np

    from refuge.evidence.series import series_table, simulate_series
    from refuge.present.report import series_rows

    exp, model, runs = flee_case
    values = [np.array([simulate_series(run, s) for run in runs]) for s in model.series]
    expect = {r["id"]: r for r in series_table(model.series, values, level=0.90).to_dict("records")}
    rows = series_rows(exp)
    assert {r["id"] for r in rows} == set(expect) and "group camps" in expect
    for r in rows:
        e = expect[r["id"]]
        for key in ("ard", "ard_low", "ard_high", "ard_rescaled", "ard_rescaled_low", "ard_rescaled_high",
                    "coverage", "points"):
            assert r[key] == pytest.approx(e[key], rel=1e-12, nan_ok=True), (r["id"], key)
    p = Page()
    p.feed(write_report(exp).read_text(encoding="utf-8"))
    overall = next(r for r in rows if r["id"] == "group camps")
    assert f"{overall['ard']:.3f} [{overall['ard_low']:.3f}, {overall['ard_high']:.3f}]" in p.words
    assert f"{overall['ard_rescaled']:.3f}" in p.words


def test_a_series_whose_data_come_after_a_shortened_run_is_left_out_of_the_figure(tmp_path):
    """`--until` stops runs early: a series with all its data later has no panel, and its scores are blank."""
    import datetime as dt

    from refuge.experiments.ensemble import run_ensemble
    from refuge.present.report import series_rows

    until = dt.date(2005, 3, 1)
    exp = run_ensemble("north-korea-china", runs=2, seed=0, workers=1, until=until, store=tmp_path / "e")
    model = exp.model()
    day = model.day(until)
    late = [s["id"] for s in model.series if (s["grid"][s["obs"]] > day).all()]
    assert late, "the flagship has a series with data only after 2005"
    out = write_report(exp)
    figures = {f.name: f for f in make_figures(exp)}
    assert len(figures["series"].panels) == len(model.series) - len(late)
    rows = {r["id"]: r for r in series_rows(exp)}
    assert all(rows[i]["ard"] != rows[i]["ard"] for i in late)  # NaN: no data point inside the runs
    assert out.exists()


def test_summaries_too_big_for_the_budget_are_read_a_few_runs_at_a_time(experiment, monkeypatch):
    """With more runs x members than MEMORY_BUDGET holds, the bands are read in batches of runs, keeping only
    the sampled days: the same summary as a scan of the daily tables with that budget."""
    import numpy as np

    from refuge.present import summary

    monkeypatch.setattr(summary, "MEMORY_BUDGET", 40_000)
    asked = []
    real = Experiment.run_summaries
    monkeypatch.setattr(Experiment, "run_summaries", lambda self, v, skip=(): asked.append(tuple(skip)) or
                        real(self, v, skip))
    fresh = Experiment(experiment.path)
    streamed = {v: summary.summarise(fresh, v) for v in fresh.variants}
    assert asked and all(skip == ("summary:at",) for skip in asked)
    monkeypatch.setattr(Experiment, "run_summaries", lambda self, v, skip=(): None)
    scanned = {v: summary.summarise(fresh, v) for v in fresh.variants}
    for v in fresh.variants:
        a, b = streamed[v], scanned[v]
        assert (a.source, b.source) == ("summaries", "scan")
        assert len(a.sample) < a.days // 2 and np.array_equal(a.sample, b.sample)
        assert a.bands.keys() == b.bands.keys()
        for k in a.bands:
            assert np.array_equal(a.bands[k], b.bands[k]), k
        for k in a.run_mean:
            assert np.array_equal(a.run_mean[k], b.run_mean[k]), k
