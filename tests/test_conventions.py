"""Conventions a Python user expects: version, `python -m`, help as flags, numbers as people write them,
notebook reprs and completion, tidy frames with the same dtypes, project files."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.errors import RefugeError, ScenarioError

ROOT = Path(__file__).parent.parent
TOY = Path(__file__).parent / "scenarios" / "toy.yaml"


# --- project files ----------------------------------------------------------------------------------------


def test_license_citation_changelog_and_one_version():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] and cff["license"] == "MIT" and cff["title"].startswith("refuge")
    assert "version" not in cff, "the version is written in one place, refuge/__init__.py"
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in py["project"] and "version" in py["project"]["dynamic"]
    assert py["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "refuge.__version__"}
    assert py["project"]["license"] == "MIT"
    assert "## Unreleased" in (ROOT / "CHANGELOG.md").read_text()
    assert (ROOT / "refuge" / "py.typed").exists() and "py.typed" in py["tool"]["setuptools"]["package-data"]["refuge"]


# --- command line -----------------------------------------------------------------------------------------


def test_version_option_and_python_dash_m():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"refuge {refuge.__version__}"
    proc = subprocess.run([sys.executable, "-m", "refuge", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"refuge {refuge.__version__}"


@pytest.mark.parametrize("command", ["run", "check", "compare", "calibrate", "sensitivity", "report", "validate"])
def test_help_shows_flags_as_flags_and_fits_80_columns(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    if command == "calibrate":
        assert re.search(r"^\s+--restart\s+discard", result.output, re.M)


def test_shell_completion_is_offered_and_completes_builtin_names():
    from refuge.cli import complete_scenario

    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).output
    assert "north-korea-china" in complete_scenario("north")


# --- numbers as people write them -----------------------------------------------------------------------


def test_scientific_notation_is_a_number(tmp_path):
    data = TOY.read_text()
    text = re.sub(r"(rate:\s*)0\.0005\b", r"\g<1>5e-4", data, count=1)
    assert text != data, "the toy scenario should have a rate of 0.0005 to rewrite"
    path = tmp_path / "sci.yaml"
    path.write_text(text)
    a, b = refuge.load(TOY), refuge.load(path)
    assert a.trans.tolist() == b.trans.tolist() and a.pbase.tolist() == b.pbase.tolist()
    from refuge.scenario import load_yaml

    assert load_yaml("[5e-4, 1E7, -2.5e+3, 1e-7, .5, 10, 1.0]") == [5e-4, 1e7, -2500.0, 1e-7, 0.5, 10, 1.0]
    assert load_yaml("[1e, e5, 1.2.3, 2002-01-01]")[:3] == ["1e", "e5", "1.2.3"]


def test_a_word_where_a_number_goes_says_number_only(tmp_path):
    data = yaml.safe_load(TOY.read_text())
    name = next(iter(data["parameters"]))
    data["parameters"][name]["value"] = "five"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        refuge.read(path)
    assert f"parameters.{name}.value: expected a number (e.g. 30, 0.5 or 5e-4); found 'five'" in str(err.value)


def test_sweep_files_read_scientific_notation(tmp_path):
    from refuge.experiments.ensemble import read_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text("- {success: 5e-1}\n- {success: 7E-1}\n")
    assert [v["set"] for v in read_sweep(path)] == [{"success": 0.5}, {"success": 0.7}]


# --- notebooks ------------------------------------------------------------------------------------------


def test_tab_completion_lists_the_lazy_api_and_every_name_resolves():
    names = dir(refuge)
    for name in refuge.__all__:
        assert name in names
        assert getattr(refuge, name) is not None
    assert {"load", "simulate", "Run", "Model", "Experiment", "check", "compare"} <= set(names)


def test_short_reprs_and_html_reprs():
    run = refuge.simulate("north-korea-china", seed=1)
    assert len(repr(run)) < 200 and "seed=1" in repr(run) and "north-korea-china" in repr(run)
    assert len(repr(run.model)) < 300 and "states" in repr(run.model)
    html = run._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "sk_beijing" in html and len(html) < 20_000
    assert "<table>" in run.model._repr_html_()


def test_to_df_lists_the_valid_names():
    run = refuge.simulate(TOY, seed=1)
    with pytest.raises(RefugeError) as err:
        run.to_df("occupancy")
    assert "expected one of stocks, sites" in str(err.value) and "did you mean `sites`" in str(err.value)


def test_run_and_experiment_frames_have_the_same_dtypes(tmp_path):
    from refuge.experiments.ensemble import run_ensemble
    from refuge.experiments.store import WHATS

    run = refuge.simulate(TOY, seed=0)
    exp = run_ensemble(TOY, runs=1, seed=0, store=tmp_path / "exp", workers=1)
    with pytest.raises(RefugeError, match="expected one of stocks"):
        exp.to_df("occupancy")
    for what in WHATS:
        a, b = run.to_df(what), exp.to_df(what)
        shared = [c for c in a.columns if c in b.columns]
        assert len(shared) == 4, what
        assert {c: str(a[c].dtype) for c in shared} == {c: str(b[c].dtype) for c in shared}, what
        keys = [c for c in shared if c not in ("value", "run")]
        joined = a.merge(b, on=keys, suffixes=("_run", "_exp"))
        assert len(joined) == len(a) == len(b), what
        assert (joined["value_run"] == joined["value_exp"]).all(), what


def test_notebook_progress_is_a_line_rewritten_in_place():
    from refuge.experiments.ensemble import TextProgress

    out = io.StringIO()
    bar = TextProgress("toy: 4 runs", 4, stream=out, every=0.0)
    for _ in range(4):
        bar.advance(1)
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 4 and "4/4 (100%)" in text and text.endswith("\n")


# --- sources a reader can check --------------------------------------------------------------------------


def test_a_source_cites_a_reference_by_key_and_a_wrong_key_is_named(tmp_path):
    data = yaml.safe_load(TOY.read_text())
    data["sources"] = {"unhcr-2024": {"publisher": "UNHCR", "date": "2024-06-13", "headline": "Global Trends",
                                      "url": "https://www.unhcr.org/global-trends"}}
    name = next(iter(data["parameters"]))
    data["parameters"][name] = {"value": data["parameters"][name]["value"],
                                "source": {"ref": "unhcr-2024", "fact": "a share we read from a table"}}
    path = tmp_path / "cited.yaml"
    path.write_text(yaml.safe_dump(data))
    sc = refuge.load(path).scenario
    text = sc.cite(sc.parameters[name].source)
    assert text == ('UNHCR, 13 June 2024, "Global Trends". https://www.unhcr.org/global-trends — a share we read '
                    "from a table")
    data["parameters"][name]["source"]["ref"] = "unhcr-2042"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        refuge.load(path)
    assert (f"parameters.{name}.source.ref: expected the key of an entry of `sources:`; found `unhcr-2042` "
            "(did you mean `unhcr-2024`?)") in str(err.value)
    data["parameters"][name]["source"]["file"] = "notes.txt"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="exactly one of ref, file"):
        refuge.read(path)


# --- single runs record how they were made ----------------------------------------------------------------


def test_a_single_run_records_how_it_was_made_and_never_mixes_into_another(tmp_path):
    import json

    out = tmp_path / "run"
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(TOY), "--seed", "3", "--set", "success=0.5", "--out", str(out)])
    assert first.exit_code == 0, first.output
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 3 and meta["set"] == {"success": 0.5} and meta["refuge_version"] == refuge.__version__
    assert meta["scenario"]["name"] == "toy" and meta["scenario_digest"] and meta["until"] == "2003-12-31"
    again = runner.invoke(app, ["run", str(TOY), "--seed", "3", "--set", "success=0.5", "--out", str(out)])
    assert again.exit_code == 0, again.output  # the same run again: the same files
    other = runner.invoke(app, ["run", str(TOY), "--seed", "4", "--out", str(out)])
    assert other.exit_code == 2 and "holds another run" in other.output and "seed: stored 3, now 4" in other.output
    assert json.loads((out / "run.json").read_text())["seed"] == 3  # nothing was written
    replaced = runner.invoke(app, ["run", str(TOY), "--seed", "4", "--out", str(out), "--overwrite"])
    assert replaced.exit_code == 0 and json.loads((out / "run.json").read_text())["seed"] == 4
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("x")
    mixed = runner.invoke(app, ["run", str(TOY), "--out", str(tmp_path / "notes")])
    assert mixed.exit_code == 2 and "not written by a run (mine.txt)" in mixed.output
    exp = runner.invoke(app, ["run", str(TOY), "--runs", "2", "--out", str(tmp_path / "exp")])
    assert exp.exit_code == 0
    into_exp = runner.invoke(app, ["run", str(TOY), "--out", str(tmp_path / "exp")])
    assert into_exp.exit_code == 2 and "holds an experiment" in into_exp.output


# --- machine-readable output, --set headers, the first compile --------------------------------------------


def test_ensembles_and_comparisons_print_csv_or_json(tmp_path):
    import json
    from io import StringIO

    import pandas as pd

    runner = CliRunner()
    csv = runner.invoke(app, ["run", str(TOY), "--runs", "2", "--format", "csv", "--out", str(tmp_path / "e")])
    assert csv.exit_code == 0, csv.output
    table = pd.read_csv(StringIO(csv.stdout))
    assert {"outcome", "label", "unit", "variant", "median", "low", "high"} <= set(table.columns)
    js = runner.invoke(app, ["compare", str(TOY), "--runs", "2", "--variant", "slow:success=0.3", "--format", "json",
                             "--out", str(tmp_path / "c")])
    assert js.exit_code == 0, js.output
    rows = json.loads(js.stdout)
    assert rows and {r["variant"] for r in rows} == {"slow"} and "difference" in rows[0]
    bad = runner.invoke(app, ["compare", str(TOY), "--format", "xml"])
    assert bad.exit_code == 2 and "--format" in bad.output


def test_a_set_ensemble_names_its_values_instead_of_baseline(tmp_path):
    result = CliRunner().invoke(app, ["run", str(TOY), "--runs", "2", "--set", "success=0.5",
                                      "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "with success=0.5 (--set)" in text and "baseline" not in text


def test_the_first_run_says_the_engine_is_being_compiled(monkeypatch, tmp_path):
    import refuge.api

    refuge.simulate(TOY, seed=0)
    assert refuge.api.engine_ready()  # compiled in this process now
    monkeypatch.setattr(refuge.api, "engine_ready", lambda: False)
    result = CliRunner().invoke(app, ["run", str(TOY), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0 and "compiling the engine" in result.output
    trial = CliRunner().invoke(app, ["validate", str(TOY)])  # validate makes one trial run: it says so too
    assert trial.exit_code == 0 and "compiling the engine" in trial.output
    quiet = CliRunner().invoke(app, ["schema"])
    assert quiet.exit_code == 0 and "compiling" not in quiet.output


# --- tables at 80 columns and in files --------------------------------------------------------------------


@pytest.mark.parametrize("args", [["check", "north-korea-china", "--runs", "2", "--workers", "1"],
                                  ["compare", str(Path(__file__).parent / "scenarios" / "border_camp.yaml"),
                                   "--runs", "2", "--workers", "1"]])
def test_tables_are_readable_at_80_columns_when_piped(args, tmp_path):
    result = CliRunner().invoke(app, [*args, *(["--out", str(tmp_path / "c")] if args[0] == "compare" else [])],
                                env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line.rstrip()) for line in lines if not line.startswith("wrote ")) <= 80  # paths do not wrap
    assert "…" not in result.output  # no number cut short
    if args[0] == "check":
        assert len(lines) < 500, len(lines)  # a heading and a few lines per fact, site and year (was 616 fragments)
        assert "sk-beijing-three-inside-2002-05-27" in result.output  # fact ids are never broken up


def test_one_number_style_everywhere():
    from refuge.numbers import band, num, weighted_quantile

    assert [num(x) for x in (0, 0.0342, 9.99, 12.345, 99.95, 12345.6, float("nan"), None)] == [
        "0", "0.0342", "9.99", "12.3", "100", "12,346", "–", "–"]
    assert band(12, 3, 40) == "12 [3, 40]" and band(1.5, -0.2, 3.1, signed=True) == "+1.5 [-0.2, +3.1]"
    assert weighted_quantile([1, 2, 3, 4], [1, 1, 1, 5], 0.5) == 4.0
    assert list(weighted_quantile([1, 2, 3, 4], [1, 1, 1, 1], [0.25, 0.5])) == [1.0, 2.0]


def test_calibrate_and_sensitivity_take_a_path_a_name_or_an_object(tmp_path):
    from refuge.inference.calibrate import calibrate
    from refuge.inference.sensitivity import analyse

    for scenario in (TOY, str(TOY), refuge.read(TOY), refuge.load(TOY)):
        with pytest.raises(RefugeError, match="toy: no parameter has a `prior`"):
            calibrate(scenario, tmp_path / "cal")
        with pytest.raises(RefugeError, match="toy: no parameter has a `prior`"):
            analyse(scenario, ["peak:mission"])
