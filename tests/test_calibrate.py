"""Calibration: ABC-SMC recovers known parameters from evidence, the same way on any backend, and resumes.

The scenario `calib_recovery.yaml` has two uncertain parameters (an arrival rate and an
exit rate) and evidence produced by simulating it at known true values, loosened into
`about` bounds. Settings are small so that the file runs in seconds on one core.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from refuge.api import simulate
from refuge.cli import app
from refuge.errors import RefugeError
from refuge.evidence.measures import holds, measure_all
from refuge.inference.calibrate import (
    BoundDistance,
    Settings,
    Simulator,
    calibrate,
    candidate_seed,
    read_meta,
    sample_posterior,
    uncertain_parameters,
)
from refuge.model.compiler import compile_scenario
from refuge.scenario import parse, read

RECOVERY = Path(__file__).parent / "scenarios" / "calib_recovery.yaml"
TRUTH = {"arrival_rate": 2.0, "exit_rate": 0.05}
SMALL = dict(population=50, budget=5000, generations=4, seed=3)


@pytest.fixture(scope="module")
def scenario():
    return read(RECOVERY)


@pytest.fixture(scope="module")
def recovered(scenario, tmp_path_factory):
    out = tmp_path_factory.mktemp("recovery")
    return calibrate(scenario, out, Settings(population=100, budget=6000, generations=8, seed=1),
                     predictive_runs=100)


@pytest.fixture(scope="module")
def small_run(scenario, tmp_path_factory):
    """An uninterrupted small calibration: the reference for backend and resume comparisons."""
    out = tmp_path_factory.mktemp("small")
    calibrate(scenario, out, Settings(**SMALL), predictive_runs=20)
    return out


def posterior(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path / "posterior.parquet")


# --- the evidence of the test scenario really comes from the truth --------------------------------


def test_recovery_evidence_is_what_the_truth_produces_with_seed_7(scenario):
    run = simulate(compile_scenario(scenario.with_values(TRUTH)), seed=7)
    observed = [f.value for f in scenario.evidence]
    assert measure_all(run).tolist() == observed


def test_distance_is_zero_exactly_when_every_bound_holds(scenario):
    facts = compile_scenario(scenario).evidence
    d = BoundDistance(facts)
    at_values = np.array([f["value"] for f in facts], float)
    assert d({"facts": at_values}) == 0.0
    off = at_values.copy()
    off[0] *= 1.5  # 50% above a ±10% bound: misses by 40% of the value
    assert not holds(facts[0], off[0])
    assert d({"facts": off}) == pytest.approx(np.sqrt(0.4 ** 2 / len(facts)))
    assert d({"facts": np.full(len(facts), np.nan)}) == 1.0


# --- recovery ------------------------------------------------------------------------------------


def test_calibration_recovers_the_true_parameters_within_the_90pct_interval(recovered):
    table = recovered.summary.set_index("parameter")
    for name, truth in TRUTH.items():
        row = table.loc[name]
        assert row.low <= truth <= row.high, f"{name}: truth {truth} outside [{row.low}, {row.high}]"
        assert row.narrowing > 0.7, f"{name}: the evidence should narrow the prior's 90% interval a lot"


def test_posterior_predictive_reproduces_every_fact_in_most_runs(recovered):
    pred = recovered.predictive
    assert (pred.share_holding >= 0.5).all(), pred[["id", "median", "share_holding"]]
    assert recovered.diagnosis == []


def test_experiment_holds_posterior_tables_plot_and_metadata(recovered):
    e = recovered.experiment
    post = posterior(e)
    assert list(post.columns) == ["arrival_rate", "exit_rate", "weight", "distance"]
    assert len(post) == 100 and post.weight.sum() == pytest.approx(1.0)
    summary = pd.read_csv(e / "posterior_summary.csv")
    assert {"parameter", "prior", "median", "low", "high"} <= set(summary.columns)
    assert summary.prior.tolist() == ["uniform(0.5, 5)", "loguniform(0.01, 0.2)"]
    assert (e / "marginals.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    meta = read_meta(e)
    assert meta["scenario_digest"] == compile_scenario(recovered.scenario).digest
    assert meta["parameters"] == ["arrival_rate", "exit_rate"] and meta["status"] == "done"
    assert [g["generation"] for g in meta["generations"]] == list(range(8))
    json.loads((e / "calibration.json").read_text())  # strict JSON: no Infinity


def test_thresholds_fall_from_generation_to_generation(recovered):
    eps = recovered.generations.epsilon.to_numpy()
    assert np.isinf(eps[0])  # generation 0 is a sample of the prior
    assert np.all(np.diff(eps[1:]) < 0)


# --- reproducible on any backend, resumable -----------------------------------------------------


def test_candidate_seeds_depend_only_on_seed_generation_and_index():
    assert candidate_seed(3, 2, 17) == candidate_seed(3, 2, 17)
    assert len({candidate_seed(3, t, i) for t in range(3) for i in range(100)}) == 300


def test_two_worker_processes_give_the_same_posterior(scenario, small_run, tmp_path):
    calibrate(scenario, tmp_path, Settings(**SMALL), workers=2, predictive_runs=20)
    pd.testing.assert_frame_equal(posterior(tmp_path), posterior(small_run))


def test_a_dask_cluster_gives_the_same_posterior(scenario, small_run, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        calibrate(scenario, tmp_path, Settings(**SMALL), cluster=cluster.scheduler_address, predictive_runs=20)
    pd.testing.assert_frame_equal(posterior(tmp_path), posterior(small_run))
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "posterior_predictive.csv"),
                                  pd.read_csv(small_run / "posterior_predictive.csv"))


def test_stopped_at_fewer_generations_then_continued_equals_uninterrupted(scenario, small_run, tmp_path):
    calibrate(scenario, tmp_path, Settings(**(SMALL | {"generations": 2})), predictive_runs=20)
    assert len(read_meta(tmp_path)["generations"]) == 2
    calibrate(scenario, tmp_path, Settings(**SMALL), predictive_runs=20)
    pd.testing.assert_frame_equal(posterior(tmp_path), posterior(small_run))


def test_interrupted_mid_generation_resumes_reusing_finished_simulations(scenario, small_run, tmp_path):
    def interrupt(event):
        if event["generation"] == 2 and event["evaluated"] > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate(scenario, tmp_path, Settings(**SMALL), progress=interrupt)
    assert list((tmp_path / "pending").glob("generation-2.jsonl"))
    cal = calibrate(scenario, tmp_path, Settings(**SMALL), predictive_runs=20)
    assert cal.reused > 0
    pd.testing.assert_frame_equal(posterior(tmp_path), posterior(small_run))
    assert not list((tmp_path / "pending").glob("generation-*"))


def test_continuing_with_other_settings_or_another_scenario_is_refused(scenario, small_run):
    with pytest.raises(RefugeError, match="population 50 -> 60"):
        calibrate(scenario, small_run, Settings(**(SMALL | {"population": 60})))
    data = yaml.safe_load(RECOVERY.read_text())
    data["parameters"]["arrival_rate"]["value"] = 3.0
    with pytest.raises(RefugeError, match="another version of the scenario"):
        calibrate(parse(data), small_run, Settings(**SMALL))


def test_a_scenario_without_priors_cannot_be_calibrated(tmp_path):
    data = yaml.safe_load(RECOVERY.read_text())
    for p in data["parameters"].values():
        p.pop("prior")
    with pytest.raises(RefugeError, match="no parameter has a `prior`"):
        calibrate(parse(data), tmp_path)


# --- drawing from the posterior --------------------------------------------------------------------


def test_posterior_draws_are_reproducible_and_prefix_stable(small_run):
    a = sample_posterior(small_run, 20, seed=4)
    assert a == sample_posterior(small_run, 20, seed=4)
    assert a[:5] == sample_posterior(small_run, 5, seed=4)
    assert a != sample_posterior(small_run, 20, seed=5)
    post = posterior(small_run)
    assert all(d["arrival_rate"] in set(post.arrival_rate) for d in a)


def test_sample_posterior_without_a_calibration_names_the_directory(tmp_path):
    with pytest.raises(RefugeError, match="no posterior.parquet"):
        sample_posterior(tmp_path, 3)


# --- draws the scenario does not allow -----------------------------------------------------------


def test_a_draw_that_makes_the_scenario_invalid_is_never_accepted(scenario):
    data = yaml.safe_load(RECOVERY.read_text())
    data["parameters"]["calm"] = {"value": 1.0, "assumption": True,
                                  "prior": {"dist": "uniform", "low": 0.0, "high": 10.0}}
    data["parameters"]["trigger"] = {"value": 5.0, "assumption": True,
                                     "prior": {"dist": "uniform", "low": 2.0, "high": 20.0}}
    data["rules"] = [{"name": "slow", "signal": {"stock": ["waiting"]}, "above": "trigger", "below": "calm",
                      "actions": [{"multiply": {"parameter": "exit_rate", "by": 0.5}}]}]
    sc = parse(data)
    sim = Simulator(sc, uncertain_parameters(sc))
    u = {x.name: x for x in sim.uncertain}
    ok = {k: u[k].to_internal(v) for k, v in {"arrival_rate": 2, "exit_rate": 0.05, "calm": 3, "trigger": 8}.items()}
    bad = ok | {"calm": u["calm"].to_internal(9.0), "trigger": u["trigger"].to_internal(4.0)}
    distance = BoundDistance(sim.facts)
    assert np.isfinite(distance(sim(ok))) and sim(ok)["invalid"] == 0.0
    assert distance(sim(bad)) == np.inf  # below (9) above `above` (4): rejected even by the prior generation


def test_internal_coordinates_are_the_prior_cdf(scenario):
    a, e = uncertain_parameters(scenario)
    assert a.to_internal(2.75) == pytest.approx(0.5) and a.to_value(0.5) == pytest.approx(2.75)
    assert e.to_value(0.5) == pytest.approx(np.sqrt(0.01 * 0.2))  # the geometric midpoint of a log-uniform prior
    assert e.to_value(e.to_internal(0.05)) == pytest.approx(0.05)


# --- the command --------------------------------------------------------------------------------


def test_cli_calibrate_prints_the_posterior_and_writes_the_experiment(tmp_path):
    out = tmp_path / "cal"
    res = CliRunner().invoke(app, ["calibrate", str(RECOVERY), "--out", str(out), "--population", "30",
                                   "--generations", "3", "--workers", "1", "--predictive-runs", "20"])
    assert res.exit_code == 0, res.output
    assert "arrival_rate" in res.output and "posterior predictive" in res.output
    assert (out / "posterior.parquet").exists() and (out / "calibration.db").exists()


def test_cli_calibrate_reports_bad_input_without_a_traceback(tmp_path):
    res = CliRunner().invoke(app, ["calibrate", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "no such file" in res.output and "Traceback" not in res.output


# --- runs that draw from the posterior -------------------------------------------------------------


def test_posterior_predictive_runs_are_an_ensemble_with_the_drawn_parameters(recovered):
    from refuge.experiments.store import Experiment

    exp = Experiment(recovered.experiment / "predictive")
    assert exp.variants == ["posterior"] and len(exp.finished("posterior")) == 100
    measures = exp.measures().sort_values("run")
    draws = sample_posterior(recovered.experiment, 100, seed=2)  # the predictive check uses seed + 1
    assert measures["parameter:arrival_rate"].tolist() == [d["arrival_rate"] for d in draws]
    pd.testing.assert_frame_equal(exp.evidence("posterior"), recovered.predictive)


def test_cli_run_with_posterior_draws_the_parameters(small_run, tmp_path):
    res = CliRunner().invoke(app, ["run", str(RECOVERY), "--posterior", str(small_run), "--seed", "4",
                                   "--out", str(tmp_path / "one")])
    assert res.exit_code == 0, res.output
    draw = sample_posterior(small_run, 1, seed=4)[0]
    assert f"arrival_rate={draw['arrival_rate']:.4g}" in res.output
    assert (tmp_path / "one" / "stocks.parquet").exists()


def test_cli_run_with_posterior_and_runs_writes_a_posterior_ensemble(small_run, tmp_path):
    from refuge.experiments.store import Experiment

    res = CliRunner().invoke(app, ["run", str(RECOVERY), "--posterior", str(small_run), "--runs", "3",
                                   "--workers", "1", "--out", str(tmp_path / "ens")])
    assert res.exit_code == 0, res.output
    exp = Experiment(tmp_path / "ens")
    assert exp.meta["posterior"]["experiment"] == str(small_run.resolve())
    got = exp.measures().sort_values("run")["parameter:exit_rate"].tolist()
    assert got == [d["exit_rate"] for d in sample_posterior(small_run, 3, seed=0)]


def test_cli_run_with_posterior_refuses_a_set_of_a_drawn_parameter(small_run, tmp_path):
    res = CliRunner().invoke(app, ["run", str(RECOVERY), "--posterior", str(small_run), "--set", "exit_rate=0.1",
                                   "--out", str(tmp_path)])
    assert res.exit_code == 2 and "exit_rate is drawn from the posterior" in res.output


def test_report_section_of_a_posterior_ensemble_shows_the_calibration(recovered):
    from refuge.experiments.store import Experiment
    from refuge.inference.calibrate import report_section

    section = report_section(Experiment(recovered.experiment / "predictive"))
    assert [r["parameter"] for r in section["table"]] == ["arrival_rate", "exit_rate"]
    assert section["marginals"].startswith("data:image/png;base64,") and section["same_scenario"]
    assert len(section["generations"]) == 8


def test_excluded_facts_leave_the_distance_but_not_the_report(scenario, tmp_path):
    from refuge.inference.calibrate import excluded_facts

    facts = compile_scenario(scenario).evidence
    assert excluded_facts(facts, ["waiting-*"]) == ("waiting-april", "waiting-july", "waiting-october", "waiting-end")
    d = BoundDistance(facts, excluded_facts(facts, ["waiting-*"]))
    x = np.array([f["value"] for f in facts], float)
    x[2:] = 0.0  # every stock fact missed: ignored
    assert d({"facts": x}) == 0.0
    with pytest.raises(RefugeError, match="did you mean `waiting-end`"):
        excluded_facts(facts, ["waiting-ends"])
    cal = calibrate(scenario, tmp_path, Settings(**(SMALL | {"generations": 2, "exclude": ("waiting-*",)})),
                    predictive_runs=20)
    assert read_meta(tmp_path)["excluded"] == ["waiting-april", "waiting-july", "waiting-october", "waiting-end"]
    assert len(cal.predictive) == len(facts)


def test_cli_report_of_a_calibration_shows_posterior_marginals_and_predictive_check(tmp_path):
    scenario = Path(__file__).parent / "scenarios" / "calib_report.yaml"
    out = tmp_path / "cal"
    runner = CliRunner()
    res = runner.invoke(app, ["calibrate", str(scenario), "--out", str(out), "--population", "20",
                              "--generations", "2", "--workers", "1", "--predictive-runs", "10"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text()  # where the user pointed (issue 20), not inside predictive/
    assert "10 posterior-predictive runs of the calibration" in res.output
    calibration = page[page.index('id="calibration"'):]
    assert "<code>arrival_rate</code>" in calibration and "uniform(0.5, 5)" in calibration
    assert 'alt="posterior marginals"' in calibration
    assert "posterior predictive check" in calibration
