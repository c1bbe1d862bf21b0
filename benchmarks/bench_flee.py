"""Flee and refuge side by side on Flee's own test cases: ARD (normal, rescaled) and CPU time.

    python benchmarks/bench_flee.py                    # both cases; runs Flee unless a cached run exists
    python benchmarks/bench_flee.py --case mali2012 --seeds 20
    python benchmarks/bench_flee.py --rerun-flee       # run Flee again even when a cached run exists

Flee runs as a child process (its own `runscripts/run.py`, from ../shared/flee/flee-src, on the case's input and
validation folders with the settings file), so its CPU time is measured with the children's rusage. Its output
(one CSV row a day) and CPU seconds are cached in benchmarks/flee_cache/ (Flee takes minutes; the machine has two
shared cores), and reused unless --rerun-flee. refuge runs the built-in scenario imported from the same files
(`refuge import flee`), seeds 0..N-1 in this process; CPU time is per run, after a first run that compiles.

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
# Flee's figures measured on this kind of machine (../shared/flee/README.md) and the targets of issue 10
TARGETS = {"mali2012": {"flee": (0.348, 0.317), "seconds": 0.1},
           "burundi2015": {"flee": (0.546, 0.494), "seconds": 0.3}}


def flee_ard(csv_path: Path) -> tuple[float, float, int]:
    import pandas as pd

    from refuge.evidence.series import ard

    df = pd.read_csv(csv_path)
    camps = [c[:-4] for c in df.columns if c.endswith(" sim")]
    sim = df[[f"{c} sim" for c in camps]].to_numpy(float)
    data = df[[f"{c} data" for c in camps]].to_numpy(float)
    return ard(sim, data), ard(sim, data, rescaled=True), len(df)


def run_flee(case: str, rerun: bool) -> dict | None:
    """Flee's output and CPU seconds for a case: cached, or run now. None when Flee's code is absent."""
    out_csv, meta_json = CACHE / f"{case}.csv", CACHE / f"{case}.json"
    if out_csv.exists() and meta_json.exists() and not rerun:
        meta = json.loads(meta_json.read_text())
        meta["cached"] = True
        return meta
    src = SHARED / "flee-src"
    if not (src / "runscripts" / "run.py").exists():
        print(f"Flee's code is absent ({src}): Flee is not run.")
        return None
    CACHE.mkdir(exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp, open(out_csv, "w") as out:
        cmd = [sys.executable, str(src / "runscripts" / "run.py"), str(SHARED / case / "input"),
               str(SHARED / case / "validation"), "0", str(SHARED / "settings" / SETTINGS)]
        print(f"running Flee on {case} (minutes) ...", flush=True)
        subprocess.run(cmd, cwd=tmp, stdout=out, stderr=subprocess.DEVNULL, check=True,
                       env={**os.environ, "PYTHONPATH": str(src)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta = {"case": case, "settings": SETTINGS, "cpu_s": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime), "wall_s": time.time() - t0,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cached": False}
    meta_json.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


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
            "ard_range": (float(a[:, 0].min()), float(a[:, 0].max())), "cpu_s": float(np.median(cpu)),
            "seeds": seeds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=["mali2012", "burundi2015", "all"], default="all")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rerun-flee", action="store_true", help="run Flee even when a cached run exists")
    ap.add_argument("--backtest", action="store_true", help="also fit the priors' parameters on the first two "
                    "thirds of the days and compare the forecast of the last third with Flee's on those days")
    args = ap.parse_args()
    cases = list(TARGETS) if args.case == "all" else [args.case]
    rows = []
    for case in cases:
        flee = run_flee(case, args.rerun_flee)
        fl = flee_ard(CACHE / f"{case}.csv") if flee else None
        ref = run_refuge(case, args.seeds)
        rows.append((case, flee, fl, ref))
    print()
    print(f"Flee at 02cd2cbd ({SETTINGS}) and refuge (built-in scenario, median of {args.seeds} seeds), "
          f"this machine, {time.strftime('%Y-%m-%d')}:")
    print(f"{'case':<12} {'Flee ARD':>15} {'Flee CPU s':>11} {'refuge ARD':>15} {'refuge CPU s':>13} "
          f"{'CPU ratio':>10}  targets")
    for case, flee, fl, ref in rows:
        t = TARGETS[case]
        flee_txt = f"{fl[0]:.3f} / {fl[1]:.3f}" if fl else "(not run)"
        cpu_txt = f"{flee['cpu_s']:.0f}" + ("*" if flee.get("cached") else "") if flee else "–"
        ratio = f"{flee['cpu_s'] / ref['cpu_s']:,.0f}x" if flee else "–"
        ok_ard = ref["ard"] <= t["flee"][0] and ref["ard_rescaled"] <= t["flee"][1]
        ok_time = ref["cpu_s"] <= t["seconds"]
        print(f"{case:<12} {flee_txt:>15} {cpu_txt:>11} {ref['ard']:.3f} / {ref['ard_rescaled']:.3f} "
              f"{ref['cpu_s']:>13.3f} {ratio:>10}  ARD <= {t['flee'][0]}/{t['flee'][1]}: "
              f"{'yes' if ok_ard else 'no'}; <= {t['seconds']} s: {'yes' if ok_time else 'no'}")
    if any(f and f.get("cached") for _, f, _, _ in rows):
        print("* Flee's run cached in benchmarks/flee_cache/ (--rerun-flee to run it again)")
    if args.backtest:
        backtests(cases)


def backtests(cases: list[str]) -> None:
    """Fit on the first two thirds of the days, forecast the last third; Flee's ARD on the same days."""
    import pandas as pd

    from refuge.evidence.series import ard
    from refuge.inference.backtest import backtest

    print()
    print("Backtest: parameters with priors fitted on the first two thirds of the days (refuge.inference.backtest), "
          "ARD on the last third (median of 20 seeds):")
    print(f"{'case':<12} {'cut':<11} {'Flee':>15} {'refuge, Flee settings':>22} {'refuge, fitted':>15}  "
          "fit (train ARD)  simulations  CPU s")
    for case in cases:
        t0 = time.process_time()
        r = backtest(case)
        cpu = time.process_time() - t0
        csv = CACHE / f"{case}.csv"
        flee_txt = "(not run)"
        if csv.exists():
            df = pd.read_csv(csv)
            camps = [c[:-4] for c in df.columns if c.endswith(" sim")]
            c = (r.cut - pd.Timestamp(df["Date"].iloc[0]).date()).days + 1  # Flee's row t is dated day t + 1
            sim = df[[f"{x} sim" for x in camps]].to_numpy(float)[c:]
            data = df[[f"{x} data" for x in camps]].to_numpy(float)[c:]
            flee_txt = f"{ard(sim, data):.3f} / {ard(sim, data, rescaled=True):.3f}"
        print(f"{case:<12} {str(r.cut):<11} {flee_txt:>15} {r.baseline[0]:>11.3f} / {r.baseline[1]:.3f} "
              f"{r.forecast[0]:>7.3f} / {r.forecast[1]:.3f}  {r.train[0]:.3f} / {r.train[1]:.3f}  "
              f"{r.simulations:>11}  {cpu:.0f}")
        print("   fitted: " + ", ".join(f"{k} {v:.3g}" for k, v in r.values.items()))


if __name__ == "__main__":
    main()
