"""The helpers of benchmarks/bench_flee.py: its cache of Flee's runs, Flee's output columns, the README verdict."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_flee", ROOT / "benchmarks" / "bench_flee.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "CACHE", tmp_path)
    return mod


def _flee_csv(path: Path, sims: list[tuple[int, int]], data: list[tuple[int, int]], agents: list[int]) -> None:
    rows = ["Day,Date,A sim,A data,A error,B sim,B data,B error,Total error,refugees in camps (UNHCR),"
            "total refugees (simulation),raw UNHCR refugee count,refugees in camps (simulation),refugee_debt"]
    for t, ((a, b), (da, db), n) in enumerate(zip(sims, data, agents)):
        rows.append(f"{t},2012-03-0{t + 1},{a},{da},0,{b},{db},0,0,{da + db},{n},{da + db},{a + b},0")
    path.write_text("\n".join(rows) + "\n")


def _cache(bench, stem: str, case: str, settings: str) -> None:
    _flee_csv(bench.CACHE / f"{stem}.csv", [(10, 0), (20, 10)], [(10, 10), (20, 20)], [10, 31])
    (bench.CACHE / f"{stem}.json").write_text(json.dumps({"case": case, "settings": settings, "cpu_s": 1.0}))


def test_cache_names_keep_settings_apart(bench):
    assert bench.cache_prefix("mali2012", bench.MODERN) == "mali2012"
    assert bench.cache_prefix("mali2012", "mali2012.yml") == "mali2012+mali2012"
    assert bench.split_stem("mali2012+mali2012-12") == ("mali2012+mali2012", 12)
    assert bench.split_stem("burundi2015") == ("burundi2015", 1)
    assert bench.split_stem("mali2012+h-flee-defaults") == ("mali2012+h-flee-defaults", 1)
    for stem, settings in [("mali2012", bench.MODERN), ("mali2012-10", bench.MODERN), ("mali2012-2", bench.MODERN),
                           ("mali2012+mali2012", "mali2012.yml"), ("mali2012+mali2012-2", "mali2012.yml")]:
        _cache(bench, stem, "mali2012", settings)
    (bench.CACHE / "mali2012-3.json").write_text("{}")  # a record without its output: an unfinished run
    assert [p.stem for p, _ in bench.cached_runs("mali2012")] == ["mali2012", "mali2012-2", "mali2012-10"]
    assert [p.stem for p, _ in bench.cached_runs("mali2012", "mali2012.yml")] == ["mali2012+mali2012",
                                                                                   "mali2012+mali2012-2"]
    assert bench.cached_runs("burundi2015") == []


def test_output_columns_agents_and_ard(bench):
    _cache(bench, "mali2012", "mali2012", bench.MODERN)
    path = bench.CACHE / "mali2012.csv"
    camps, sim, data = bench.flee_table(path)
    assert camps == ["A", "B"] and sim.tolist() == [[10, 0], [20, 10]]
    assert bench.flee_agents(path) == 31  # `total refugees (simulation)` on the last day
    # day 0: (0 + 10) / 20; day 1: (0 + 10) / 40. Rescaled: day 0 sims x 2 -> (10 + 10) / 20; day 1 sims x 4/3
    # -> (6.67 + 6.67) / 40
    normal, rescaled = bench.flee_ard(path)
    assert normal == pytest.approx((0.5 + 0.25) / 2)
    assert rescaled == pytest.approx((1.0 + 1 / 3) / 2)
    s = bench.flee_summary("mali2012")
    assert s["runs"] == 1 and s["agents"] == (31, 31) and s["ard"][0] == pytest.approx(0.375)


def test_readme_verdict(bench):
    fl = {"runs": 3, "ard": (0.364, 0.331), "low": (0.363, 0.329), "high": (0.365, 0.332), "sd": (0.001, 0.0015),
          "agents": (89991, 89991)}
    ok, why = bench.reproduces(fl, {"agents": 89991, "ard": (0.3645, 0.3325)})
    assert ok and why == ""
    ok, why = bench.reproduces(fl, {"agents": 89991, "ard": (0.348, 0.317)})
    assert not ok and "-16 sd / -9 sd" in why
    ok, why = bench.reproduces(fl, {"agents": 8996, "ard": (0.364, 0.331)})
    assert not ok and "agents 89,991 here, 8,996 in the README" in why


def test_hypothesis_settings_are_made_from_the_shared_files(bench):
    import yaml

    if not (bench.SHARED / "settings" / "mali2012.yml").exists():
        pytest.skip("../shared/flee is absent")
    merged = yaml.safe_load(bench.settings_text("h-case-under-sweep"))
    assert merged["move_rules"]["softening"] == 36.0 and merged["move_rules"]["conflict_weight"] == 0.25
    assert merged["optimisations"]["hasten"] == 1 and merged["log_levels"]["agent"] == 0
    assert yaml.safe_load(bench.settings_text("h-case-file-hasten1"))["move_rules"]["camp_weight"] == 5.0
    assert yaml.safe_load(bench.settings_text("h-flee-defaults")) == {}


def test_flee_parallel_code_runs_on_one_rank(bench, tmp_path):
    """The one-rank mpi4py stand-in runs Flee's parallel ecosystem through Flee's own run.py (3 days)."""
    import subprocess
    import sys

    src = bench.flee_code()
    if src is None:
        pytest.skip("Flee's code (../shared/flee/flee-src) is absent")
    case = bench.SHARED / "mali2012"
    cmd = [sys.executable, str(bench.ONE_RANK / "run_pflee.py"), str(src / "runscripts" / "run.py"),
           str(case / "input"), str(case / "validation"), "3", str(bench.SHARED / "settings" / bench.MODERN)]
    out = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": f"{bench.ONE_RANK}:{src}", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("Day,Date,") and [ln.split(",")[0] for ln in lines[1:]] == ["0", "1", "2"]
    assert "Creating Flee Ecosystem" in out.stderr  # printed by flee.pflee's Ecosystem on rank 0
