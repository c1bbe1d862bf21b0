"""The Python API and the `refuge run` / `refuge schema` commands, on a small scenario."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

import refuge
from refuge.cli import app

TOY = Path(__file__).parent / "scenarios" / "toy.yaml"


def test_same_seed_same_result_and_different_seed_differs():
    model = refuge.load(TOY)
    a, b, c = refuge.simulate(model, seed=5), refuge.simulate(model, seed=5), refuge.simulate(model, seed=6)
    assert np.array_equal(a.stocks, b.stocks) and np.array_equal(a.flows, b.flows)
    assert np.array_equal(a.stays, b.stays)
    assert not np.array_equal(a.stocks, c.stocks)


def test_simulate_accepts_a_path_a_scenario_or_a_model():
    sc = refuge.read(TOY)
    runs = [refuge.simulate(x, seed=1) for x in (TOY, str(TOY), sc, refuge.compile_scenario(sc))]
    assert all(np.array_equal(runs[0].stocks, r.stocks) for r in runs)


def test_to_df_is_tidy_with_one_row_per_date_and_name():
    run = refuge.simulate(TOY, seed=2)
    df = run.to_df("stocks")
    assert list(df.columns) == ["date", "run", "state", "value"]
    assert len(df) == run.days * len(run.model.state_names)
    assert df.groupby("date")["value"].sum().nunique() >= 1
    flows = run.to_df("flows")
    assert set(flows["transition"]) == set(run.model.edge_labels)
    wide = df.pivot(index="date", columns="state", values="value")
    assert np.array_equal(wide[run.model.state_names].to_numpy(), run.stocks)
    stays = run.to_df("stays")
    assert {"state", "entry", "days", "people", "completed"} <= set(stays.columns)
    assert (stays["days"] >= 0).all()


def test_until_stops_early_with_identical_prefix():
    model = refuge.load(TOY)
    full = refuge.simulate(model, seed=3)
    part = refuge.simulate(model, seed=3, until=dt.date(2002, 6, 30))
    assert part.days == (dt.date(2002, 6, 30) - model.start).days + 1
    assert np.array_equal(part.stocks, full.stocks[: part.days])


def test_capacity_and_rules_take_effect():
    run = refuge.simulate(TOY, seed=4)
    assert run.site_occupancy[:, 0].max() <= 30
    assert run.rules_active.any(), "the security rule should switch on after a wave of attempts"
    success = run.model.param_names.index("success")
    assert set(np.unique(run.params[run.rules_active[:, 0], success])) == {0.2}


def test_run_command_writes_csv_and_parquet_and_prints_summary(tmp_path):
    result = CliRunner().invoke(app, ["run", str(TOY), "--seed", "7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mission" in result.output and "peak" in result.output
    stocks = pd.read_parquet(tmp_path / "stocks.parquet")
    again = pd.read_csv(tmp_path / "stocks.csv")
    assert len(stocks) == len(again) > 0
    direct = refuge.simulate(TOY, seed=7).to_df("stocks")
    assert np.array_equal(stocks["value"].to_numpy(), direct["value"].to_numpy())
    for what in ("flows", "sites", "stays"):
        assert (tmp_path / f"{what}.csv").exists() and (tmp_path / f"{what}.parquet").exists()


def test_run_command_rejects_bad_options_without_traceback(tmp_path):
    r = CliRunner().invoke(app, ["run", str(TOY), "--until", "2002-13-01", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--until" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["run", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_schema_command_emits_a_json_schema_that_validates_scenarios():
    import jsonschema

    result = CliRunner().invoke(app, ["schema"])
    schema = json.loads(result.output)
    data = yaml.safe_load(TOY.read_text())
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
    data["states"][0]["kind"] = "nowhere"
    try:
        jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
        raise AssertionError("schema accepted an unknown kind")
    except jsonschema.ValidationError:
        pass


def test_shipped_schema_file_is_current():
    shipped = Path(refuge.__file__).parent / "scenario" / "schema" / "scenario.schema.json"
    result = CliRunner().invoke(app, ["schema"])
    assert json.loads(shipped.read_text()) == json.loads(result.output), "run `make schema` to refresh it"


def test_import_is_light():
    code = "import sys, refuge; print(any(m in sys.modules for m in ('numpy', 'pandas', 'numba', 'pydantic')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_readme_example_scenario_compiles_and_runs():
    import re

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = re.search(r"An annotated example:\n\n```yaml\n(.*?)```", readme, re.S).group(1)
    from refuge.scenario import parse

    model = refuge.compile_scenario(parse(yaml.safe_load(block), "README.md"))
    run = refuge.simulate(model, seed=0)
    assert run.stocks.sum(axis=1)[-1] >= 10000


def test_transition_target_name_counts_split_and_redirect_moves():
    run = refuge.simulate(TOY, seed=4)
    m = run.model
    both = [e for e, n in enumerate(m.edge_names) if n == "attempt->custody"]
    assert len(both) == 2 and m.edge_is_redirect[both].tolist() == [False, True]
    assert run.flow_of(["attempt->custody"]).sum() == run.flows[:, both].sum() > 0
    labels = run.to_df("flows")["transition"].unique().tolist()
    assert "attempt->custody (redirected)" in labels and len(labels) == len(set(labels)) == len(m.edge_names)


def test_written_files_are_readable_by_others(tmp_path):
    import os
    import stat

    from refuge.results.files import write_run

    os.umask(0o022)
    files = write_run(refuge.simulate(TOY, seed=1, until=dt.date(2002, 2, 1)), tmp_path)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o644 for f in files)
