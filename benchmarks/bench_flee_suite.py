"""Flee's published suite as a benchmark: every case folder imported unedited, run, and scored; Flee beside it.

    python benchmarks/bench_flee_suite.py                      # every case in ../shared/flee/suite
    python benchmarks/bench_flee_suite.py path/to/config_files  # any folder of Flee cases
    python benchmarks/bench_flee_suite.py --case mali --seeds 5 # cases whose path holds `mali`
    python benchmarks/bench_flee_suite.py --flee                # also Flee's own run of each case (cached)
    python benchmarks/bench_flee_suite.py --as-flee             # import with Flee's quirks (side by side)
    python benchmarks/bench_flee_suite.py --no-data             # cases without validation data imported too
    python benchmarks/bench_flee_suite.py --case SWEEP/mali2012 --settings flee3_validation/modern125aw2dm75.yml
                                                                # a case with another published settings file

Cases are found as Flee's and FabFlee's runners find them (refuge/interop/flee/layout.py): Flee's
`conflict_input/<case>` with `conflict_validation/<case><year>`, FabFlee's `config_files/<case>/input_csv` with
`source_data/` (or `refugee_data/`) and the case's `simsetting.yml` (or its sweep's), and cases that keep their
CSV files at the top. Per case: imported or refused (the first error, one line, and the reason it falls under),
the warnings of the import, the import's CPU time, refuge's CPU time a run (median over the seeds, after a first
run that compiles the engine) and its ARD against the case's camp data (median over the seeds, normal /
rescaled, Flee's definition). With `--flee`, Flee's own runner (`runscripts/run.py` from ../shared/flee/flee-src,
a child process with the case's folders and settings, as bench_flee.py runs it) on each case, its ARD from its
output and its CPU time; each run is kept in benchmarks/flee_cache/suite/ (`<case path with __>.csv` and
`.json`; a failed run keeps its last error line) and reused. The summary counts cases by the reason of their
first refusal, and says how many of the cases Flee's runner runs (where it was run) refuge imports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("REFUGE_SHARED", ROOT.parent / "shared")) / "flee"
CACHE = HERE / "flee_cache" / "suite"

# The reasons a case is refused, by the first error's text (first match wins), with what Flee does.
REASONS = [
    ("multiscale case (Flee's coupled runner)", r"multiscale", "needs its coupled runner"),
    ("no sim_period.csv", r"(sim|conflict)_period\.csv: expected a file", "its runner fails too"),
    ("missing files", r"expected a file of a Flee case|expected a data file in the validation folder", "fails too"),
    ("no validation data (nothing to spawn from or score)", r"expected a validation folder", "fails too"),
    ("awareness_level above 1 (look-ahead route choice)", r"awareness_level", "runs them"),
    ("marker locations", r"location_type.*found `marker", "supported"),
    ("flood rules with a location missing from data_layout.csv", r"with flood rules, Flee's runner reads every "
     r"location's data", "fails too (its runner reads every location's data)"),
    ("the flood forecaster (per-person flood awareness)", r"flood_forecaster", "runs them"),
    ("flood-driven displacement (DFlee: flood rules, flood spawning, flood zones)",
     r"flood_rules|flood_driven_spawn|flood_zone|found `flood", "runs them"),
    ("camp closures", r"camp closures", "supported"),
    ("conflict_driven_spawning / forced redirection", r"conflict_driven_spawning|forced_redirection", "supported"),
    ("other settings refuge does not model", r"move_rules\.|spawn_rules\.|pruning", "runs them"),
    ("validation dates out of order", r"\(date\): expected a date after", "runs, interpolating across the row"),
    ("data_layout.csv names a place that is not a camp", r"data_layout\.csv line \d+, column 1 \(name\): "
     r"expected (a camp \(|the name of a camp)", "runs; adds the row to the spawn total (sum_from_camps)"),
    ("a camp listed twice in data_layout.csv", r"a camp not listed before", "counts it twice"),
    ("the same location name twice in locations.csv", r"a name not used before", "runs; routes attach to the last"),
    ("a route from a place to itself", r"a location other than name1", "accepts it"),
    ("a closure naming an unknown location or country", r"closures\.csv line .*(the country of a location|"
     r"the name of a location|a location joined)", "does nothing for it"),
    ("a route naming a place not in locations.csv", r"routes\.csv line .*expected the name of a location",
     "stops with an error"),
    ("a population or capacity that is not a whole number", r"locations\.csv line .*\(population\): expected a whole",
     "stops with an error"),
    ("a camp fuller on the first day than its capacity", r"capacity", "runs; its room below 0 reads as no limit"),
    ("over the 1 MB scenario-file limit", r"MB", "runs"),
]


def reason(message: str) -> str:
    """The reason a refusal falls under (`other` when none matches)."""
    return next((name for name, pattern, _ in REASONS if re.search(pattern, message)), "other")


def slug(name: str) -> str:
    return name.replace("/", "__")


def import_case(cf, tmp: Path, as_flee: bool, no_data: bool = False) -> tuple[object | None, dict]:
    """Import a case into `tmp` and load it: (model or None, the record of the import); `no_data`: a case without
    a validation folder too (the import warns: nothing spawns from data, nothing is scored)."""
    import warnings

    import refuge
    from refuge.errors import RefugeError
    from refuge.interop.flee import main_import

    rec: dict = {"case": cf.name}
    if cf.multiscale:
        rec.update(status="refused", error=f"{cf.input}: a multiscale case (locations-0.csv, locations-1.csv): "
                   "Flee's coupled runner, not its single-scale one")
        return None, rec
    if cf.validation is None and not no_data:
        rec.update(status="refused", error=f"{cf.folder}: expected a validation folder (source_data/data_layout.csv"
                   "); found none")
        return None, rec
    t0 = time.process_time()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = main_import(str(cf.input), str(tmp / "case.yaml"), str(cf.validation) if cf.validation else None,
                              str(cf.settings) if cf.settings else None, **({"as_flee": True} if as_flee else {}))
        model = refuge.load(out)
    except RefugeError as exc:
        rec.update(status="refused", error=str(exc).splitlines()[0], import_s=time.process_time() - t0)
        return None, rec
    except Exception as exc:  # a bug of refuge: shown as such, and the suite goes on
        rec.update(status="crashed", error=f"{type(exc).__name__}: {exc}"[:300], import_s=time.process_time() - t0)
        return None, rec
    rec.update(status="imported", import_s=time.process_time() - t0, warnings=[str(w.message) for w in caught],
               locations=len(model.net.names) if model.net is not None else 0, days=model.days)
    return model, rec


def run_case(model, seeds: int, rec: dict) -> None:
    """Run the imported case over the seeds: CPU time a run (median) and ARD (median), into the record."""
    import refuge
    from refuge.evidence.series import run_scores, simulate_all

    runs, cpu = [], []
    for s in range(seeds):
        t0 = time.process_time()
        runs.append(refuge.simulate(model, seed=s))
        cpu.append(time.process_time() - t0)
    rec["run_s"] = float(np.median(cpu))
    if model.series:
        a = np.array([run_scores(model.series, simulate_all(run))["group camps"] for run in runs])
        rec["ard"] = (float(np.median(a[:, 0])), float(np.median(a[:, 1])))


def flee_case(cf, timeout: float, runs: int, rerun: bool) -> dict | None:
    """Flee's own runs of a case (cached, `runs` of them, one more with `rerun`): its ARD (mean, range) and CPU
    time (median), or its failure; None without Flee's code."""
    src = SHARED / "flee-src"
    if not (src / "runscripts" / "run.py").exists():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    metas = _cached(cf)
    if rerun and metas and not metas[-1][1].get("ok"):  # a failed run is tried again, not added to
        (CACHE / f"{metas[-1][0].stem}.json").unlink()
        metas.pop()
    want = max(runs, len(metas) + 1 if rerun else 0)
    while len(metas) < want and (not metas or metas[-1][1].get("ok")):
        k = len(metas) + 1
        stem = slug(cf.name) + ("" if k == 1 else f"-{k}")
        meta = _run_flee(cf, src, CACHE / f"{stem}.csv", timeout)
        (CACHE / f"{stem}.json").write_text(json.dumps(meta, indent=1) + "\n")
        metas.append((CACHE / f"{stem}.csv", meta))
    if not metas:
        return None
    ok = [(p, m) for p, m in metas if m.get("ok") and p.exists()]
    if not ok:
        return {**metas[-1][1], "ok": False, "runs": len(metas)}
    from bench_flee import flee_ard

    try:
        a = np.array([flee_ard(p) for p, _ in ok])
    except Exception as exc:  # an output Flee wrote without camp columns is reported
        return {"ok": False, "runs": len(ok), "error": f"no camp columns in its output ({type(exc).__name__})"}
    return {"ok": True, "runs": len(ok), "ard": tuple(a.mean(axis=0)), "low": tuple(a.min(axis=0)),
            "high": tuple(a.max(axis=0)), "cpu_s": float(np.median([m["cpu_s"] for _, m in ok]))}


def _cached(cf) -> list[tuple[Path, dict]]:
    """Flee's cached runs of a case, in the order they were made."""
    out = []
    for meta_path in CACHE.glob(f"{slug(cf.name)}*.json"):
        m = re.fullmatch(re.escape(slug(cf.name)) + r"(?:-(\d+))?", meta_path.stem)
        if m:
            out.append((int(m.group(1) or 1), meta_path.with_suffix(".csv"), json.loads(meta_path.read_text())))
    return [(p, meta) for _, p, meta in sorted(out, key=lambda r: r[0])]


def _run_flee(cf, src: Path, out_csv: Path, timeout: float) -> dict:
    """Run Flee's runner on a case as a child process, from an empty folder; CPU time from the child's rusage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    meta = {"case": cf.name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "how": "Flee's runscripts/run.py from ../shared/flee/flee-src by benchmarks/bench_flee_suite.py"}
    part = out_csv.with_suffix(".part")  # the output lands under its name only when the run is done
    with tempfile.TemporaryDirectory() as tmp, open(part, "w") as out:
        settings = str(cf.settings) if cf.settings else str(Path(tmp) / "empty.yml")
        if not cf.settings:
            Path(settings).write_text("{}\n")  # Flee's defaults
        cmd = [sys.executable, str(src / "runscripts" / "run.py"), str(cf.input),
               str(cf.validation or Path(tmp) / "none"), "0", settings]
        print(f"  running Flee on {cf.name} ...", file=sys.stderr, flush=True)
        try:
            proc = subprocess.run(cmd, cwd=tmp, stdout=out, stderr=subprocess.PIPE, timeout=timeout,
                                  env={**os.environ, "PYTHONPATH": str(src)})
            ok, err = proc.returncode == 0, proc.stderr.decode("utf-8", "replace").strip().splitlines()
            meta.update(ok=ok, error=None if ok else (err[-1] if err else f"exit code {proc.returncode}")[:300])
        except subprocess.TimeoutExpired:
            meta.update(ok=False, error=f"stopped after {timeout:g} s")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta["cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    meta["wall_s"] = round(time.time() - t0, 2)
    if meta["ok"] and part.stat().st_size == 0:
        meta.update(ok=False, error="no output")
    if meta["ok"]:
        os.replace(part, out_csv)
    part.unlink(missing_ok=True)
    return meta


def _row(rec: dict, fl: dict | None) -> str:
    status = rec["status"] if rec["status"] != "refused" else f"refused: {reason(rec['error'])}"
    ard = f"{rec['ard'][0]:.3f} / {rec['ard'][1]:.3f}" if "ard" in rec else "–"
    run_s = f"{rec['run_s']:.3f}" if "run_s" in rec else "–"
    imp = f"{rec['import_s']:.2f}" if "import_s" in rec else "–"
    flee_txt = ratio = "–"
    fcpu = "–"
    if fl is not None:
        flee_txt = f"{fl['ard'][0]:.3f} / {fl['ard'][1]:.3f}" if fl.get("ard") else "failed"
        fcpu = f"{fl['cpu_s']:.1f}"
        if fl.get("ard") and rec.get("run_s"):
            ratio = f"{fl['cpu_s'] / rec['run_s']:,.0f}x"
        if fl.get("ard") and fl["runs"] > 1:
            flee_txt = f"{fl['ard'][0]:.3f} / {fl['ard'][1]:.3f} [{fl['low'][0]:.3f}-{fl['high'][0]:.3f}]"
    return (f"{rec['case'][:58]:<58} {status[:50]:<50} {imp:>7} {run_s:>8} {ard:>13} {flee_txt:>13} {fcpu:>8} "
            f"{ratio:>7}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", default=str(SHARED / "suite"), help="a folder of Flee cases")
    ap.add_argument("--case", default="", help="only cases whose path holds this text (or one of several, "
                    "comma-separated)")
    ap.add_argument("--seeds", type=int, default=3, help="refuge runs per imported case")
    ap.add_argument("--flee", action="store_true", help="also Flee's own run of each case (cached)")
    ap.add_argument("--flee-runs", type=int, default=1, help="with --flee, run Flee until this many runs of each "
                    "case are cached (its run-to-run range)")
    ap.add_argument("--rerun-flee", action="store_true", help="run Flee once more on each case")
    ap.add_argument("--flee-timeout", type=float, default=14400, help="seconds (wall) before a Flee run is stopped")
    ap.add_argument("--as-flee", action="store_true", help="import with Flee's behaviour where refuge's "
                    "default differs (side-by-side runs)")
    ap.add_argument("--settings", help="a published settings file to use instead of each case's (a path, or one "
                    "relative to the folder of cases); the case is named `CASE@STEM` (and cached so)")
    ap.add_argument("--json", help="write every record to this file")
    ap.add_argument("--no-data", action="store_true", help="import cases without a validation folder too (with a "
                    "warning: nothing spawns from data and nothing is scored)")
    args = ap.parse_args()
    from refuge.interop.flee.layout import find_cases

    cases = [c for c in find_cases(args.folder) if any(part in c.name for part in args.case.split(","))]
    if args.settings:
        path = Path(args.settings) if Path(args.settings).exists() else Path(args.folder) / args.settings
        if not path.is_file():
            sys.exit(f"--settings {args.settings}: no such file (nor in {args.folder})")
        cases = [dataclasses.replace(c, settings=path, name=f"{c.name}@{path.stem}") for c in cases]
    print(f"{len(cases)} case folders in {args.folder}; refuge: median of {args.seeds} seeds, CPU s a run; Flee at "
          "02cd2cbd (its runner, one run)" + ("" if args.flee else " not run (--flee runs it)") + ":")
    print(f"{'case':<58} {'refuge':<50} {'import':>7} {'run s':>8} {'ARD':>13} {'Flee ARD [range]':>13} "
          f"{'Flee s':>8} {'ratio':>7}")
    records, warmed = [], False
    for cf in cases:
        with tempfile.TemporaryDirectory() as tmp:
            model, rec = import_case(cf, Path(tmp), args.as_flee, args.no_data)
        if model is not None:
            if not warmed:
                import refuge

                refuge.simulate(model, seed=0)  # compiles the engine (cached on disk after the first time)
                warmed = True
            run_case(model, args.seeds, rec)
        fl = flee_case(cf, args.flee_timeout, args.flee_runs, args.rerun_flee) \
            if args.flee and not cf.multiscale else None
        if fl is not None:
            rec["flee"] = fl
        records.append(rec)
        print(_row(rec, fl), flush=True)
        if rec["status"] != "imported":
            print(f"{'':<4}{rec['error'][:220]}")
        for w in rec.get("warnings", []):
            print(f"{'':<4}warning: {w[:220]}")
    summary(records)
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1, default=str) + "\n")


def side_by_side(records: list[dict]) -> None:
    """refuge's ARD against Flee's run-to-run range on each case both ran, with the CPU ratio."""
    both = [r for r in records if "ard" in r and r.get("flee", {}).get("ok")]
    if not both:
        return
    print()
    print(f"{'case':<58} {'refuge ARD':>13} {'Flee ARD (mean)':>16} {'Flee range (normal)':>20} {'Flee runs':>9} "
          f"{'ratio':>7}  verdict")
    for r in both:
        fl, a = r["flee"], r["ard"]
        if fl["runs"] == 1:
            verdict = (f"one Flee run: refuge {a[0] - fl['ard'][0]:+.3f} / {a[1] - fl['ard'][1]:+.3f} "
                       "(--flee-runs 3 for its range)")
        elif a[0] < fl["low"][0]:
            verdict = "below Flee's range (closer to the data)"
        elif a[0] <= fl["high"][0]:
            verdict = "within Flee's range"
        else:
            verdict = f"above Flee's range by {a[0] - fl['high'][0]:.3f}"
        ratio = fl["cpu_s"] / r["run_s"]
        print(f"{r['case'][:58]:<58} {a[0]:.3f} / {a[1]:.3f} {fl['ard'][0]:>8.3f} / {fl['ard'][1]:.3f} "
              f"{fl['low'][0]:>13.3f}-{fl['high'][0]:.3f} {fl['runs']:>9} {ratio:>6,.0f}x  {verdict}")


def summary(records: list[dict]) -> None:
    """Counts by status and by the reason of the first refusal; the share of the cases Flee runs."""
    imported = [r for r in records if r["status"] == "imported"]
    print()
    refused = sum(r["status"] == "refused" for r in records)
    crashed = sum(r["status"] == "crashed" for r in records)
    print(f"imported and run: {len(imported)} of {len(records)}; refused: {refused}; crashed: {crashed}")
    counts: dict[str, int] = {}
    for r in records:
        if r["status"] != "imported":
            key = reason(r["error"]) if r["status"] == "refused" else "crashed (a bug of refuge)"
            counts[key] = counts.get(key, 0) + 1
    flee_does = {name: does for name, _, does in REASONS}
    print(f"{'reason (first error)':<75} {'cases':>5}  what Flee does")
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{key:<75} {n:>5}  {flee_does.get(key, '')}")
    flee_fails = {name for name, _, does in REASONS if does.startswith(("fails", "its runner fails", "stops",
                                                                          "needs its coupled"))}
    runnable = [r for r in records if r["status"] != "refused" or reason(r["error"]) not in flee_fails]
    share = 100 * len(imported) / max(1, len(runnable))
    print(f"Of the {len(runnable)} cases Flee's single-scale runner runs (all but those it stops on too, by the "
          f"reasons above), refuge imports and runs {len(imported)} ({share:.0f}%).")
    side_by_side(records)
    ran = [r for r in records if r.get("flee", {}).get("ok")]
    if ran:
        ok = [r for r in ran if r["status"] == "imported"]
        print(f"Of the {len(ran)} cases Flee's runner ran here, refuge imports and runs {len(ok)} "
              f"({100 * len(ok) / len(ran):.0f}%).")
    failed = [r for r in records if "flee" in r and not r["flee"].get("ok")]
    if failed:
        print(f"Flee's runner failed on {len(failed)}: " + "; ".join(f"{r['case']}: {r['flee'].get('error')}"
                                                                     for r in failed)[:2000])


if __name__ == "__main__":
    main()
