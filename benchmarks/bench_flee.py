"""Flee and refuge side by side on Flee's own test cases: ARD (normal, rescaled) and CPU time.

    python benchmarks/bench_flee.py                    # both cases; runs Flee unless a cached run exists
    python benchmarks/bench_flee.py --case mali2012 --seeds 20
    python benchmarks/bench_flee.py --rerun-flee       # run Flee once more (added to the cached runs)
    python benchmarks/bench_flee.py --flee-runs 5      # run Flee until 5 runs of each case are cached
    python benchmarks/bench_flee.py --conventions      # also Flee's ARD under other readings of the definition
    python benchmarks/bench_flee.py --backtest         # also the forecast of the last third of the days

Flee runs as a child process (its own `runscripts/run.py`, from ../shared/flee/flee-src, on the case's input and
validation folders with the settings file), so its CPU time is measured with the children's rusage. Flee has no
seed, so each run differs: every run's output (one CSV row a day) and CPU seconds are kept in
benchmarks/flee_cache/ (`CASE.csv`, then `CASE-2.csv`, ...; Flee takes minutes and the machine has two shared
cores), and the table shows the mean over the cached runs with their range. refuge runs the built-in scenario
imported from the same files (`refuge import flee`), seeds 0..N-1 in this process; CPU time is per run, after a
first run that compiles.

ARD as Flee's validation reports it: per day, sum over camps |sim - data| / max(1, sum of data), averaged over
the days; rescaled: sims scaled per day to the data's total first (refuge.evidence.series).
"""

from __future__ import annotations

import argparse
import json
import os
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
CACHE = HERE / "flee_cache"
SHARED = Path(os.environ.get("REFUGE_SHARED", ROOT.parent / "shared")) / "flee"
SETTINGS = "validation-modern125.yml"
# Flee's figures in ../shared/flee/README.md (single runs on another machine) and the targets of issue 10
TARGETS = {"mali2012": {"readme": (0.348, 0.317), "readme_cpu": 97, "seconds": 0.1},
           "burundi2015": {"readme": (0.546, 0.494), "readme_cpu": 309, "seconds": 0.3}}


def flee_code() -> Path | None:
    """Flee's source folder, or None when its code is absent."""
    src = SHARED / "flee-src"
    return src if (src / "runscripts" / "run.py").exists() else None


def flee_table(csv_path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(camps, sim, data) from Flee's output: its `<camp> sim` and `<camp> data` columns, one row a day."""
    import pandas as pd

    df = pd.read_csv(csv_path)
    camps = [c[:-4] for c in df.columns if c.endswith(" sim")]
    return (camps, df[[f"{c} sim" for c in camps]].to_numpy(float),
            df[[f"{c} data" for c in camps]].to_numpy(float))


def flee_ard(csv_path: Path, first_day: int = 0) -> tuple[float, float]:
    """Flee's ARD (normal, rescaled) from its output, over its rows (days) from `first_day` on."""
    from refuge.evidence.series import ard

    _, sim, data = flee_table(csv_path)
    return ard(sim[first_day:], data[first_day:]), ard(sim[first_day:], data[first_day:], rescaled=True)


def cached_runs(case: str) -> list[tuple[Path, dict]]:
    """Flee's cached runs of a case: (output CSV, its record), oldest first; only complete runs."""
    out = []
    for meta_path in sorted(CACHE.glob(f"{case}*.json"), key=_run_number):
        csv_path = meta_path.with_suffix(".csv")
        if _run_number(meta_path) < 0 or not csv_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        if meta.get("case") == case:
            out.append((csv_path, meta))
    return out


def _run_number(path: Path) -> int:
    """1 for CASE.json, k for CASE-k.json, -1 for anything else."""
    stem = path.stem
    for case in TARGETS:
        if stem == case:
            return 1
        if stem.startswith(case + "-") and stem[len(case) + 1:].isdigit():
            return int(stem[len(case) + 1:])
    return -1


def run_flee(case: str) -> dict | None:
    """Run Flee once on a case and cache its output and CPU seconds; None when Flee's code is absent."""
    src = flee_code()
    if src is None:
        return None
    CACHE.mkdir(exist_ok=True)
    k = max([_run_number(p) for p, _ in cached_runs(case)] or [0]) + 1
    stem = case if k == 1 else f"{case}-{k}"
    out_csv, meta_json = CACHE / f"{stem}.csv", CACHE / f"{stem}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, open(out_csv, "w") as out:
        cmd = [sys.executable, str(src / "runscripts" / "run.py"), str(SHARED / case / "input"),
               str(SHARED / case / "validation"), "0", str(SHARED / "settings" / SETTINGS)]
        print(f"running Flee on {case} (minutes) ...", flush=True)
        subprocess.run(cmd, cwd=tmp, stdout=out, stderr=subprocess.DEVNULL, check=True,
                       env={**os.environ, "PYTHONPATH": str(src)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta = {"case": case, "settings": SETTINGS, "cpu_s": round((after.ru_utime - before.ru_utime)
                                                               + (after.ru_stime - before.ru_stime), 2),
            "wall_s": round(time.time() - t0, 2), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "how": "Flee's runscripts/run.py from ../shared/flee/flee-src, by benchmarks/bench_flee.py, "
                   "CPU (user+sys) of the child process"}
    meta_json.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def flee_summary(case: str) -> dict | None:
    """Flee's ARD over its cached runs: mean, min and max (normal and rescaled), CPU median; None without runs."""
    runs = cached_runs(case)
    if not runs:
        return None
    a = np.array([flee_ard(p) for p, _ in runs])
    cpu = [m["cpu_s"] for _, m in runs]
    return {"runs": len(runs), "ard": tuple(a.mean(axis=0)), "low": tuple(a.min(axis=0)),
            "high": tuple(a.max(axis=0)), "cpu_s": float(np.median(cpu)), "cpu_range": (min(cpu), max(cpu)),
            "each": [tuple(x) for x in a]}


def run_refuge(case: str, seeds: int) -> dict:
    import refuge
    from refuge.evidence.series import run_scores, simulate_all

    model = refuge.load(case)
    refuge.simulate(model, seed=0)  # compiles (cached on disk after the first time)
    scores, cpu = [], []
    for s in range(seeds):
        t0 = time.process_time()
        run = refuge.simulate(model, seed=s)
        cpu.append(time.process_time() - t0)
        scores.append(run_scores(model.series, simulate_all(run))["group camps"])
    a = np.array(scores)
    return {"ard": float(np.median(a[:, 0])), "ard_rescaled": float(np.median(a[:, 1])),
            "low": tuple(a.min(axis=0)), "high": tuple(a.max(axis=0)), "cpu_s": float(np.median(cpu)),
            "seeds": seeds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=["mali2012", "burundi2015", "all"], default="all")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rerun-flee", action="store_true", help="run Flee once more, adding to the cached runs")
    ap.add_argument("--flee-runs", type=int, default=1, help="run Flee until this many runs are cached")
    ap.add_argument("--conventions", action="store_true", help="also Flee's ARD from its output under other "
                    "readings of the definition (which days, which denominator, which camps)")
    ap.add_argument("--backtest", action="store_true", help="also fit the priors' parameters on the first two "
                    "thirds of the days and compare the forecast of the last third with Flee's on those days")
    args = ap.parse_args()
    cases = list(TARGETS) if args.case == "all" else [args.case]
    if flee_code() is None:
        print(f"Flee's code is absent ({SHARED / 'flee-src'}): Flee is not run; its cached runs in "
              f"{CACHE.relative_to(ROOT)}/ are shown where there are any.")
    rows = []
    for case in cases:
        want = max(args.flee_runs, len(cached_runs(case)) + 1 if args.rerun_flee else 0)
        while len(cached_runs(case)) < want and run_flee(case) is not None:
            pass
        rows.append((case, flee_summary(case), run_refuge(case, args.seeds)))
    print()
    print(f"Flee at 02cd2cbd ({SETTINGS}; mean of its cached runs here, range in brackets) and refuge "
          f"(built-in scenario, median of {args.seeds} seeds), this machine, {time.strftime('%Y-%m-%d')}:")
    print(f"{'case':<12} {'Flee runs':>9} {'Flee ARD':>15} {'Flee CPU s':>11} {'refuge ARD':>15} "
          f"{'refuge CPU s':>13} {'CPU ratio':>10}  targets")
    for case, fl, ref in rows:
        t = TARGETS[case]
        flee_txt = f"{fl['ard'][0]:.3f} / {fl['ard'][1]:.3f}" if fl else "(not run)"
        cpu_txt = f"{fl['cpu_s']:.0f}" if fl else "–"
        ratio = f"{fl['cpu_s'] / ref['cpu_s']:,.0f}x" if fl else "–"
        ok_time = ref["cpu_s"] <= t["seconds"]
        verdict = "–"
        if fl:
            ok = ref["ard"] <= fl["ard"][0] and ref["ard_rescaled"] <= fl["ard"][1]
            within = ref["ard"] <= fl["high"][0] and ref["ard_rescaled"] <= fl["high"][1]
            verdict = "yes" if ok else ("within Flee's run-to-run range" if within else "no")
        print(f"{case:<12} {fl['runs'] if fl else 0:>9} {flee_txt:>15} {cpu_txt:>11} {ref['ard']:.3f} / "
              f"{ref['ard_rescaled']:.3f} {ref['cpu_s']:>13.3f} {ratio:>10}  ARD <= Flee's: {verdict}; "
              f"<= {t['seconds']} s: {'yes' if ok_time else 'no'}")
        if fl:
            print(f"{'':<12} {'':>9} [{fl['low'][0]:.3f}-{fl['high'][0]:.3f} / {fl['low'][1]:.3f}-"
                  f"{fl['high'][1]:.3f}] [{fl['cpu_range'][0]:.0f}-{fl['cpu_range'][1]:.0f}] "
                  f"[{ref['low'][0]:.3f}-{ref['high'][0]:.3f} / {ref['low'][1]:.3f}-{ref['high'][1]:.3f}]")
    print("The shared README's Flee figures (one run each, another machine): " + "; ".join(
        f"{c} {TARGETS[c]['readme'][0]} / {TARGETS[c]['readme'][1]}, {TARGETS[c]['readme_cpu']} CPU s"
        for c in cases) + ".")
    for case, fl, _ in rows:
        if fl:
            lo, hi = fl["low"], fl["high"]
            r = TARGETS[case]["readme"]
            inside = lo[0] - 0.001 <= r[0] <= hi[0] + 0.001 and lo[1] - 0.001 <= r[1] <= hi[1] + 0.001
            print(f"  {case}: {'reproduced' if inside else 'not reproduced'} by the {fl['runs']} run(s) here "
                  f"({lo[0]:.3f}-{hi[0]:.3f} / {lo[1]:.3f}-{hi[1]:.3f})")
    if args.conventions:
        conventions(cases)
    if args.backtest:
        backtests(cases)


def conventions(cases: list[str]) -> None:
    """Flee's ARD from its own output columns under each plausible reading of the definition."""
    from refuge.evidence.series import daily_errors

    import pandas as pd

    print()
    print("Flee's ARD from its output (mean over its cached runs) under other readings of the definition:")
    for case in cases:
        runs = cached_runs(case)
        if not runs:
            continue
        res: dict[str, list[tuple[float, float]]] = {}
        for path, _ in runs:
            camps, sim, data = flee_table(path)
            df = pd.read_csv(path)

            def both(s, d, den=None):
                if den is None:
                    return daily_errors(s, d).mean(), daily_errors(s, d, True).mean()
                den = np.maximum(1.0, den)
                f = d.sum(1) / np.maximum(s.sum(1), 1e-12)
                return ((np.abs(s - d).sum(1) / den).mean(),
                        (np.abs(s * f[:, None] - d).sum(1) / den).mean())

            ways = {"every day (as defined)": both(sim, data),
                    "without day 0": both(sim[1:], data[1:]),
                    "without the last day": both(sim[:-1], data[:-1]),
                    "sim of day t against data of day t+1": both(sim[:-1], data[1:]),
                    "denominator: Flee's 'raw UNHCR refugee count'": both(
                        sim, data, df["raw UNHCR refugee count"].to_numpy(float)),
                    "Flee's extract-validation-results (camp totals)": both(
                        sim, data, df["refugees in camps (UNHCR)"].to_numpy(float))}
            for j, c in enumerate(camps):
                keep = [i for i in range(len(camps)) if i != j]
                ways[f"without {c}"] = both(sim[:, keep], data[:, keep])
            for k, v in ways.items():
                res.setdefault(k, []).append(v)
        r = TARGETS[case]["readme"]
        print(f"  {case} (the shared README: {r[0]} / {r[1]})")
        for k, v in res.items():
            m = np.mean(v, axis=0)
            print(f"    {k:<52} {m[0]:.3f} / {m[1]:.3f}")


def backtests(cases: list[str]) -> None:
    """Fit on the first two thirds of the days, forecast the last third; Flee's ARD on the same days."""
    import pandas as pd

    from refuge.inference.backtest import backtest

    print()
    print("Backtest: parameters with priors fitted on the first two thirds of the days (refuge.inference.backtest), "
          "ARD on the last third (median of 20 seeds; Flee: mean of its cached runs):")
    print(f"{'case':<12} {'cut':<11} {'Flee':>15} {'refuge, Flee settings':>22} {'refuge, fitted':>15}  "
          "fit (train ARD)  simulations  CPU s")
    for case in cases:
        t0 = time.process_time()
        r = backtest(case)
        cpu = time.process_time() - t0
        runs = cached_runs(case)
        flee_txt = "(not run)"
        if runs:
            start = pd.Timestamp(pd.read_csv(runs[0][0])["Date"].iloc[0]).date()
            c = (r.cut - start).days + 1  # Flee's row t is dated day t + 1
            a = np.mean([flee_ard(p, c) for p, _ in runs], axis=0)
            flee_txt = f"{a[0]:.3f} / {a[1]:.3f}"
        print(f"{case:<12} {str(r.cut):<11} {flee_txt:>15} {r.baseline[0]:>11.3f} / {r.baseline[1]:.3f} "
              f"{r.forecast[0]:>7.3f} / {r.forecast[1]:.3f}  {r.train[0]:.3f} / {r.train[1]:.3f}  "
              f"{r.simulations:>11}  {cpu:.0f}")
        print("   fitted: " + ", ".join(f"{k} {v:.3g}" for k, v in r.values.items()))


if __name__ == "__main__":
    main()
