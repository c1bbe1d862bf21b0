"""Ensembles: replicates and parameter variations in parallel, the same results on any backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from refuge.api import load, simulate
from refuge.cli import app
from refuge.errors import RefugeError
from refuge.experiments.ensemble import map_runs, read_sweep, run_ensemble
from refuge.experiments.store import Experiment

HERE = Path(__file__).parent
TOY = HERE / "scenarios" / "toy.yaml"
WHATIF = HERE / "scenarios" / "whatif.yaml"


def cube(x: int) -> int:
    return x ** 3


def run_files(exp: Experiment) -> dict[str, bytes]:
    return {str(p.relative_to(exp.path)): p.read_bytes() for table in ("daily", "stays", "measures")
            for p in sorted((exp.path / table).rglob("run-*.parquet"))}


@pytest.fixture(scope="module")
def serial(tmp_path_factory) -> Experiment:
    """Two variants x 4 replicates of the what-if toy, in this process: the reference for other backends."""
    return run_ensemble(WHATIF, runs=4, seed=11, workers=1, variants={"baseline": {}, "faster": {"clear_days": 15}},
                        store=tmp_path_factory.mktemp("serial"))


def test_map_runs_keeps_task_order_on_processes():
    assert map_runs(cube, range(23), workers=2, chunksize=3) == [x ** 3 for x in range(23)]
    assert map_runs(cube, [], workers=2) == []
    assert map_runs(cube, [4], workers=1) == [64]


def test_replicate_r_runs_with_seed_plus_r(serial):
    model = load(WHATIF)
    ids, mat = serial.matrix("stocks", "mission", "baseline")
    assert list(ids) == [0, 1, 2, 3]
    for r in ids:
        assert np.array_equal(mat[r], simulate(model, seed=11 + r).stocks[:, model.state_index("mission")])
    assert list(serial.runs().seed[serial.runs().variant == "faster"]) == [11, 12, 13, 14]


def test_same_results_with_two_worker_processes(serial, tmp_path):
    parallel = run_ensemble(WHATIF, runs=4, seed=11, workers=2,
                            variants={"baseline": {}, "faster": {"clear_days": 15}}, store=tmp_path / "p")
    assert run_files(parallel) == run_files(serial)  # byte for byte


def test_same_results_on_a_dask_cluster(serial, tmp_path):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert map_runs(cube, range(9), cluster=client) == [x ** 3 for x in range(9)]
        on_dask = run_ensemble(WHATIF, runs=4, seed=11, variants={"baseline": {}, "faster": {"clear_days": 15}},
                               store=tmp_path / "d", cluster=client)
        by_address = run_ensemble(WHATIF, runs=2, seed=11, store=tmp_path / "a", cluster=cluster.scheduler_address)
    assert run_files(on_dask) == run_files(serial)
    import pyarrow.parquet as pq

    for table in ("daily", "stays", "measures"):  # the same data; the stamps name different experiments
        for r in (0, 1):
            a, b = (pq.read_table(e.file(table, "baseline", r)) for e in (by_address, serial))
            assert a.replace_schema_metadata(None).equals(b.replace_schema_metadata(None))
            assert a.schema.metadata != b.schema.metadata


def test_an_unreachable_cluster_is_a_short_error(tmp_path, monkeypatch):
    monkeypatch.setattr("refuge.experiments.parallel.CONNECT_TIMEOUT", "1s")
    with pytest.raises(RefugeError, match="could not connect"):
        run_ensemble(TOY, runs=1, store=tmp_path / "x", cluster="tcp://127.0.0.1:9")


def test_overrides_apply_to_every_run_and_unknown_names_are_refused(tmp_path):
    exp = run_ensemble(WHATIF, runs=2, seed=0, workers=1, overrides={"clear_days": 5}, store=tmp_path / "o")
    assert exp.variant_set("baseline") == {"clear_days": 5.0}
    model = load(WHATIF)
    fast = model.scenario.with_values({"clear_days": 5})
    from refuge.model.compiler import compile_scenario

    expected = simulate(compile_scenario(fast), seed=1).stocks[:, model.state_index("mission")]
    assert np.array_equal(exp.matrix("stocks", "mission", "baseline")[1][1], expected)
    with pytest.raises(RefugeError, match=r"overrides: .*`clear_dayz` \(did you mean `clear_days`\?\)"):
        run_ensemble(WHATIF, runs=1, overrides={"clear_dayz": 5}, store=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()  # nothing written before the error


def test_sweep_files_give_one_variant_per_row(tmp_path):
    csv = tmp_path / "sweep.csv"
    csv.write_text("clear_days,success\n10,0.5\n60,0.5\n")
    yml = tmp_path / "sweep.yaml"
    yml.write_text("- {name: quick, clear_days: 10}\n- {name: slow, set: {clear_days: 60}}\n")
    assert [v["set"] for v in read_sweep(csv)] == [{"clear_days": 10.0, "success": 0.5},
                                                   {"clear_days": 60.0, "success": 0.5}]
    assert [(v["name"], v["set"]) for v in read_sweep(yml)] == [("quick", {"clear_days": 10.0}),
                                                                ("slow", {"clear_days": 60.0})]
    exp = run_ensemble(WHATIF, runs=2, workers=1, sweep=csv, store=tmp_path / "s")
    assert exp.variants == ["sweep-000", "sweep-001"]
    waits = exp.summary().set_index(["outcome", "variant"])["median"]
    assert waits["arrivals", "sweep-000"] > waits["arrivals", "sweep-001"]  # faster clearance, more arrive


def test_bad_sweep_files_name_the_file_and_the_row(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("clear_days\n10\nlots\n")
    with pytest.raises(RefugeError, match=r"bad.csv: row 3.clear_days: expected a number; found 'lots'"):
        read_sweep(bad)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("clear_dayz\n10\n")
    with pytest.raises(RefugeError, match=r"unknown.csv: row 2: expected a parameter .* `clear_dayz`"):
        run_ensemble(WHATIF, runs=1, sweep=unknown, store=tmp_path / "u")


def test_cli_run_with_runs_writes_an_experiment(tmp_path):
    out = tmp_path / "exp"
    res = CliRunner().invoke(app, ["run", str(WHATIF), "--runs", "3", "--workers", "1", "--seed", "4",
                                   "--set", "clear_days=20", "--out", str(out)])
    assert res.exit_code == 0, res.output
    exp = Experiment(out)
    assert exp.complete and exp.meta["seed"] == 4 and exp.variant_set("baseline") == {"clear_days": 20.0}
    assert "arrivals at a destination" in res.output and "refuge report" in res.output


@pytest.mark.parametrize("args, message", [
    (["--set", "clear_days"], "--set: expected name=value"),
    (["--set", "clear_days=soon"], "--set: expected a number after `clear_days=`"),
    (["--set", "clear_dayz=3"], "did you mean `clear_days`"),
    (["--sweep", "missing.csv"], "missing.csv: no such sweep file"),
    (["--workers", "0"], "--workers"),
])
def test_cli_run_rejects_bad_options_without_a_traceback(tmp_path, args, message):
    res = CliRunner().invoke(app, ["run", str(WHATIF), "--runs", "2", "--out", str(tmp_path / "e"), *args])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_cli_single_run_accepts_set(tmp_path):
    res = CliRunner().invoke(app, ["run", str(WHATIF), "--set", "clear_days=5", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "stocks.csv").exists()
