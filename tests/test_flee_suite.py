"""Flee's published suite: cases are found as Flee's and FabFlee's runners find them, and the suite benchmark
sorts each refusal under the reason of its first error."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from test_flee_import import LOCATIONS, ROUTES

from refuge.interop.flee.layout import case_folders, find_cases

ROOT = Path(__file__).resolve().parent.parent


def _write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)


CASE = {"locations__csv": LOCATIONS, "routes__csv": ROUTES, "sim_period__csv": "StartDate,2020-01-01\nLength,30\n"}
DATA = {"data_layout__csv": "total,total.csv\nC,c.csv\n", "c__csv": "2020-01-01,10\n2020-01-20,200\n",
        "total__csv": "2020-01-01,10\n2020-01-20,200\n"}


def test_the_layouts_of_flee_and_fabflee_are_found(tmp_path):
    cfg = tmp_path / "config_files"
    _write(cfg / "case1" / "input_csv", **CASE)          # FabFlee: input_csv, source_data, simsetting.yml
    _write(cfg / "case1" / "source_data", **DATA)
    _write(cfg / "case1", simsetting__yml="move_rules: {}\n")
    _write(cfg / "validation" / "SWEEP" / "case2" / "input_csv", **CASE)  # a sweep: the sweep's settings
    _write(cfg / "validation" / "SWEEP" / "case2" / "source_data", **DATA)
    _write(cfg / "validation", simsetting__yml="move_rules: {}\n")
    _write(cfg / "grid", **CASE)                          # CSV files at the top, data inside: refugee_data
    _write(cfg / "grid" / "refugee_data", **DATA)
    _write(tmp_path / "flee" / "conflict_input" / "mali", **CASE)  # Flee: conflict_input + conflict_validation
    _write(tmp_path / "flee" / "conflict_validation" / "mali2012", **DATA)
    _write(cfg / "mscale" / "input_csv", sim_period__csv="StartDate,2020-01-01\nLength,30\n")
    for k in (0, 1):  # a multiscale case: locations-0.csv and locations-1.csv
        (cfg / "mscale" / "input_csv" / f"locations-{k}.csv").write_text(LOCATIONS)
    found = {c.name: c for c in find_cases(tmp_path)}
    assert sorted(found) == ["config_files/case1", "config_files/grid", "config_files/mscale",
                             "config_files/validation/SWEEP/case2", "flee/conflict_input/mali"]
    c1, c2 = found["config_files/case1"], found["config_files/validation/SWEEP/case2"]
    assert (c1.input.name, c1.validation.name, c1.settings) == ("input_csv", "source_data",
                                                                cfg / "case1" / "simsetting.yml")
    assert c2.settings == cfg / "validation" / "simsetting.yml"
    assert found["config_files/grid"].validation == cfg / "grid" / "refugee_data"
    assert found["config_files/grid"].settings is None  # Flee's defaults
    assert found["flee/conflict_input/mali"].validation == tmp_path / "flee" / "conflict_validation" / "mali2012"
    assert found["config_files/mscale"].multiscale and not c1.multiscale
    assert case_folders(cfg / "case1" / "input_csv").folder == cfg / "case1"  # the input folder names its case


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_flee_suite", ROOT / "benchmarks" / "bench_flee_suite.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("message, expected", [
    ("s.yml line 23: expected move_rules.awareness_level 0 or 1 (...); found 4", "awareness_level above 1"),
    ("s.yml line 23: expected move_rules.flood_rules off (refuge does not model it); found {...}", "flood-driven"),
    ("locations.csv line 101, column 6 (location_type): expected conflict_zone, town, camp, idpcamp or "
     "forwarding_hub (markers and flood zones are not supported); found `marker`", "marker locations"),
    ("closures.csv line 3, column 1 (closure_type): expected country, ... (camp closures are not supported); "
     "found `camp`", "camp closures"),
    ("x/sim_period.csv: expected a file of a Flee case; found no such file", "no sim_period.csv"),
    ("x/routes.csv: expected a file of a Flee case; found no such file", "missing files"),
    ("niger.csv line 24, column 1 (date): expected a date after 2019-02-28; found 2018-04-30", "validation dates"),
    ("something new", "other"),
])
def test_refusals_are_sorted_by_their_first_error(bench, message, expected):
    assert bench.reason(message).startswith(expected)


def test_the_benchmark_imports_a_case_and_names_a_refusal(bench, tmp_path):
    _write(tmp_path / "ok" / "input_csv", **CASE)
    _write(tmp_path / "ok" / "source_data", **DATA)
    _write(tmp_path / "bad" / "input_csv", **{**CASE, "routes__csv": ROUTES.replace("A,B,50", "A,B,far")})
    _write(tmp_path / "bad" / "source_data", **DATA)
    cases = {c.name: c for c in find_cases(tmp_path)}
    model, rec = bench.import_case(cases["ok"], tmp_path / "o", as_flee=False)
    assert model is not None and rec["status"] == "imported" and rec["locations"] == 3
    model, rec = bench.import_case(cases["bad"], tmp_path / "b", as_flee=False)
    assert model is None and rec["status"] == "refused"
    assert "routes.csv line 2, column 3 (distance): expected a number; found `far`" in rec["error"]


def test_the_benchmark_runs_cases_with_another_published_settings_file(bench, tmp_path, monkeypatch, capsys):
    """`--settings FILE` (a path, or one under the folder of cases) replaces each case's settings; the case is
    named CASE@STEM, so Flee's cached runs of it are kept apart; a missing file stops with one line."""
    import json

    _write(tmp_path / "cases" / "ok" / "input_csv", **CASE)
    _write(tmp_path / "cases" / "ok" / "source_data", **DATA)
    (tmp_path / "cases" / "aw2.yml").write_text("move_rules:\n  awareness_level: 2\n")
    out = tmp_path / "records.json"
    monkeypatch.setattr(sys, "argv", ["bench", str(tmp_path / "cases"), "--case", "ok,nothing", "--settings",
                                      "aw2.yml", "--seeds", "1", "--json", str(out)])
    bench.main()
    [rec] = json.loads(out.read_text())
    assert rec["case"] == "ok@aw2" and rec["status"] == "imported" and "ard" in rec
    monkeypatch.setattr(sys, "argv", ["bench", str(tmp_path / "cases"), "--settings", "none.yml"])
    with pytest.raises(SystemExit, match=r"--settings none.yml: no such file"):
        bench.main()
    capsys.readouterr()
