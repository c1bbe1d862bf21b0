"""The experiment store: layout and metadata, queries and reductions, and resuming without losing anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import refuge
from refuge.api import load, simulate
from refuge.errors import RefugeError
from refuge.experiments.ensemble import run_ensemble
from refuge.experiments.store import Experiment

HERE = Path(__file__).parent
WHATIF = HERE / "scenarios" / "whatif.yaml"
SEED = 5


@pytest.fixture(scope="module")
def exp(tmp_path_factory) -> Experiment:
    return run_ensemble(WHATIF, runs=6, seed=SEED, workers=1, store=tmp_path_factory.mktemp("store") / "e",
                        variants={"baseline": {}, "faster": {"clear_days": 15}})


@pytest.fixture(scope="module")
def runs():
    model = load(WHATIF)
    return model, [simulate(model, seed=SEED + r) for r in range(6)]


def run_files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for table in ("daily", "stays", "measures")
            for p in sorted((path / table).rglob("run-*.parquet"))}


def test_one_parquet_file_per_run_and_table_with_metadata(exp):
    for table in ("daily", "stays", "measures"):
        for v in ("baseline", "faster"):
            files = sorted(p.name for p in (exp.path / table / f"variant={v}").iterdir())
            assert files == [f"run-{r:06d}.parquet" for r in range(6)]
    meta = json.loads((exp.path / "experiment.json").read_text())
    assert meta["scenario_digest"] == load(WHATIF).digest
    assert meta["refuge_version"] == refuge.__version__
    assert meta["seed"] == SEED and meta["runs"] == 6
    assert meta["variants"][1]["set"] == {"clear_days": 15.0}
    assert exp.model("baseline").digest == load(WHATIF).digest  # the stored scenario rebuilds the same model
    assert exp.model("faster").scenario.parameters["clear_days"].value == 15
    assert exp.runs().seed.tolist() == [SEED + r for r in range(6)] * 2


def test_daily_file_holds_stocks_sites_closures_flows_and_waits(exp, runs):
    model, sims = runs
    t = pq.read_table(exp.file("daily", "baseline", 2))
    assert t.num_rows == model.days
    r = sims[2]
    assert np.array_equal(t.column("stocks:hiding").to_numpy(), r.stocks[:, 0])
    assert np.array_equal(t.column("sites:embassy").to_numpy(), r.site_occupancy[:, 0])
    assert np.array_equal(t.column("closed:embassy").to_numpy(zero_copy_only=False), r.closed_sites[:, 0])
    assert np.array_equal(t.column("capacity:embassy").to_numpy(), r.params[:, model.capacity_param[0]])
    assert np.array_equal(t.column("flows:attempt->custody (redirected)").to_numpy(),
                          r.flows[:, list(model.edge_is_redirect).index(True)])
    assert np.array_equal(t.column("max_stay:mission").to_numpy(), r.max_stay[:, 1])
    stays = pq.read_table(exp.file("stays", "baseline", 2)).to_pandas()
    assert stays.completed.sum() == len(r.stays) and (~stays.completed).sum() == len(r.ongoing)


def test_reduce_gives_median_and_bands_over_runs(exp, runs):
    model, sims = runs
    red = exp.reduce("stocks", ["mission"], ["baseline"])
    assert list(red.columns) == ["date", "variant", "state", "runs", "mean", "q5", "q25", "median", "q75", "q95"]
    mission = np.stack([r.stocks[:, model.state_index("mission")] for r in sims])
    assert np.array_equal(red["median"].to_numpy(), np.median(mission, axis=0))
    assert np.allclose(red["q95"].to_numpy(), np.quantile(mission, 0.95, axis=0))
    assert (red.q5 <= red.q25).all() and (red.q25 <= red["median"]).all() and (red["median"] <= red.q95).all()
    closed = exp.reduce("closed", ["embassy"], ["baseline"], quantiles=(0.5,))
    june = closed[(closed.date >= "2002-06-01") & (closed.date <= "2002-07-15")]
    assert (june["mean"] == 1).all()  # the scheduled closure: closed in every run


def test_to_df_is_tidy_and_queries_read_only_what_they_name(exp, runs, monkeypatch):
    model, sims = runs
    df = exp.to_df("flows", ["clearance->transit"], ["faster"])
    assert list(df.columns) == ["date", "variant", "run", "transition", "value"]
    assert len(df) == 6 * model.days and set(df.variant) == {"faster"}
    asked = []
    real = exp._read
    monkeypatch.setattr(exp, "_read", lambda table, columns, variants=None: asked.append((table, columns, variants))
                        or real(table, columns, variants))
    exp.reduce("stocks", ["mission", "custody"], ["baseline"])
    assert asked and all(t == "daily" and set(c) <= {"run", "day", "stocks:mission", "stocks:custody"}
                         and v == ["baseline"] for t, c, v in asked)


def test_memory_budget_reads_columns_in_batches(exp, monkeypatch):
    monkeypatch.setattr("refuge.experiments.store_queries.MEMORY_BUDGET", 1)
    whole = exp.reduce("stocks")
    monkeypatch.undo()
    assert whole.equals(exp.reduce("stocks"))


def test_by_year_totals_and_measures_per_run(exp, runs):
    model, sims = runs
    years = exp.by_year("flows", ["onward->south"], ["baseline"])
    assert years.year.tolist() == [2002, 2003] and years.days.tolist() == [365, 365]
    first = np.array([r.flow_of(["onward"])[:365].sum() for r in sims])
    assert years["median"].iloc[0] == np.median(first)
    m = exp.measures(["baseline"])
    assert m.run.tolist() == list(range(6))
    assert m["outcome:arrivals"].tolist() == [float(r.flow_of(["onward"]).sum()) for r in sims]
    ev = exp.evidence("baseline")
    assert ev.id.tolist() == ["sheltered-end-2002", "cleared-2002", "longest-mid-2003"]


def test_per_run_aggregates_each_run(exp, runs):
    model, sims = runs
    agg = exp.per_run("sites", ["embassy"], "baseline", ("sum", "max", "mean"))
    occupancy = [r.site_occupancy[:, 0] for r in sims]
    assert agg["sum"].index.tolist() == list(range(6))
    assert agg["sum"]["embassy"].tolist() == [float(o.sum()) for o in occupancy]
    assert agg["max"]["embassy"].tolist() == [float(o.max()) for o in occupancy]
    assert np.allclose(agg["mean"]["embassy"], [o.mean() for o in occupancy])
    with pytest.raises(RefugeError, match="stats: expected some of"):
        exp.per_run("sites", stats=("total",))


def test_stay_totals_aggregate_stays_without_loading_them(exp):
    stays = exp.stays(["mission"], ["faster"])
    hist = exp.stay_totals(states=["mission"], variants=["faster"])
    assert list(hist.columns) == ["variant", "state", "completed", "days", "people"]
    expected = stays.groupby(["completed", "days"])["people"].sum()
    assert hist.set_index(["completed", "days"])["people"].astype("int64").equals(expected.astype("int64"))
    left = exp.stay_totals(("run",), states=["mission"], variants=["faster"], completed=False)
    assert left.people.tolist() == stays[~stays.completed].groupby("run")["people"].sum().tolist()


def test_bad_queries_are_short_errors(exp, tmp_path):
    with pytest.raises(RefugeError, match="what: expected one of"):
        exp.reduce("stock")
    with pytest.raises(RefugeError, match="no `misson`.*did you mean `mission`"):
        exp.reduce("stocks", ["misson"])
    with pytest.raises(RefugeError, match="no variant `fastr`.*did you mean `faster`"):
        exp.model("fastr")
    with pytest.raises(RefugeError, match="not an experiment directory"):
        Experiment(tmp_path)


def test_resume_runs_only_what_is_missing(exp, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(exp.path, copy)
    for table in ("daily", "measures"):  # a run killed between its files: no daily file, so not finished
        exp_copy = Experiment(copy)
        exp_copy.file(table, "faster", 3).unlink()
    exp_copy.file("daily", "baseline", 0).unlink()
    before = {p: p.stat().st_mtime_ns for p in copy.rglob("run-*.parquet")}
    again = run_ensemble(WHATIF, runs=6, seed=SEED, workers=1, store=copy,
                         variants={"baseline": {}, "faster": {"clear_days": 15}})
    assert again.complete
    assert run_files(copy) == run_files(exp.path)
    rewritten = {p for p, t in before.items() if p.stat().st_mtime_ns != t}
    redone = {(p.parent.name, p.name) for p in rewritten}
    assert redone <= {("variant=faster", "run-000003.parquet"), ("variant=baseline", "run-000000.parquet")}


def test_growing_an_experiment_adds_runs(exp, tmp_path):
    small = run_ensemble(WHATIF, runs=2, seed=SEED, workers=1, store=tmp_path / "g",
                         variants={"baseline": {}, "faster": {"clear_days": 15}})
    assert small.finished("faster") == [0, 1]
    grown = run_ensemble(WHATIF, runs=6, seed=SEED, workers=1, store=tmp_path / "g",
                         variants={"baseline": {}, "faster": {"clear_days": 15}})
    assert grown.n_runs == 6 and run_files(grown.path) == run_files(exp.path)


@pytest.mark.parametrize("change, field", [
    ({"seed": SEED + 1}, "seed: stored 5, asked 6"),
    ({"variants": {"baseline": {}, "faster": {"clear_days": 16}}}, "faster (clear_days=15)"),
])
def test_a_different_experiment_in_the_same_directory_is_refused(exp, change, field):
    kwargs = {"runs": 6, "seed": SEED, "workers": 1, "variants": {"baseline": {}, "faster": {"clear_days": 15}}}
    kwargs.update(change)
    with pytest.raises(RefugeError, match="holds a different experiment") as err:
        run_ensemble(WHATIF, store=exp.path, **kwargs)
    assert field in str(err.value)


def test_killed_with_sigkill_and_restarted_ends_with_exactly_the_uninterrupted_results(tmp_path):
    cmd = [sys.executable, "-m", "refuge.cli", "run", str(WHATIF), "--runs", "80", "--seed", "2", "--workers", "1",
           "--out", str(tmp_path / "killed")]
    daily = tmp_path / "killed" / "daily" / "variant=baseline"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if daily.is_dir() and sum(1 for p in daily.iterdir() if p.name.startswith("run-")) >= 10:
                break
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    part = Experiment(tmp_path / "killed")
    assert 10 <= len(part.finished("baseline")) < 80  # killed part-way
    for p in (tmp_path / "killed").rglob("run-*.parquet"):
        pq.read_metadata(p)  # every visible file is whole: writes are atomic
    kept = {p: p.stat().st_mtime_ns for p in daily.iterdir()}

    again = subprocess.run(cmd[:-4] + ["--workers", "2"] + cmd[-2:], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())  # finished runs were not run again
    whole = run_ensemble(WHATIF, runs=80, seed=2, workers=1, store=tmp_path / "whole")
    assert run_files(tmp_path / "killed") == run_files(whole.path)


NET_FORK = HERE / "scenarios" / "net" / "fork.yaml"


def test_a_network_store_keeps_each_locations_counts_and_entries(tmp_path):
    """A route network's people at each location and entering it (moves and spawning) go into the store
    like any other daily quantity: `to_df`, the store's reductions and DuckDB over the files give the runs'."""
    from refuge.experiments import sql

    model = load(NET_FORK)
    exp = run_ensemble(NET_FORK, runs=3, seed=SEED, workers=1, store=tmp_path / "net")
    runs = [simulate(model, seed=SEED + r) for r in range(3)]
    locations = [model.state_names[s] for s in model.net.loc_state]
    assert exp.names("entered") == locations and exp.names("stocks") == list(model.state_names)
    assert int(sum(run.entered.sum() for run in runs)) > 0
    for what in ("stocks", "entered"):
        got = exp.to_df(what)
        for r, run in enumerate(runs):
            key = ["date", "state"]
            want = run.to_df(what).drop(columns="run").sort_values(key, ignore_index=True)
            mine = got[got.run == r].drop(columns=["run", "variant"]).sort_values(key, ignore_index=True)
            assert mine.equals(want), what
    sums = exp.per_run("entered", stats=("sum",))["sum"]
    for r, run in enumerate(runs):
        assert np.array_equal(sums.loc[r].to_numpy(), run.entered[:, model.net.loc_state].sum(axis=0))
    files = [exp.file("daily", "baseline", r) for r in range(3)]
    cols = ", ".join(f"sum({sql.name('entered:' + n)})" for n in locations)
    got = sql.connect().execute(f"SELECT run, {cols} FROM {sql.files(files)} GROUP BY run ORDER BY run").fetchall()
    assert [list(row[1:]) for row in got] == [list(run.entered[:, model.net.loc_state].sum(axis=0)) for run in runs]


def test_a_flee_case_compares_and_reports_like_any_scenario(tmp_path):
    """mali2012 with a variant: paired differences of its outcome, and the report of the store."""
    from typer.testing import CliRunner

    from refuge.cli import app

    out = tmp_path / "cmp"
    res = CliRunner().invoke(app, ["compare", "mali2012", "--variant", "slow:speed=200", "--runs", "2",
                                   "--workers", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    exp = Experiment(out)
    assert exp.variants == ["baseline", "slow"]
    from refuge.experiments.compare import differences

    diff = differences(exp)
    assert len(diff) == 1 and diff.runs.iloc[0] == 2
    res = CliRunner().invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Simulated counts against the data" in html and "slow" in html
