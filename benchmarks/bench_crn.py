"""What common random numbers buy: how much narrower paired intervals are than unpaired ones.

    make bench-crn        # or: .venv/bin/python benchmarks/bench_crn.py [--runs 100] [SCENARIO ...]

For each scenario (default: the built-in flagship and tests/scenarios/border_camp.yaml), runs the baseline and
every declared variant with the same seeds, then prints the ratio of the unpaired to the paired spread
(`refuge.experiments.compare.spread_ratio`: the width of the central 90% interval of variant - baseline over
runs of different seeds, over that of runs of the same seed) for

- each state's end-of-run count, per variant (states empty in both arms at the end left out), and
- each declared outcome, per variant (the column `refuge compare` prints),

with the median of each. 1 means the pairing buys nothing; "inf" is a state or outcome the variant leaves
exactly unchanged in every paired run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT = ("north-korea-china", str(HERE.parent / "tests" / "scenarios" / "border_camp.yaml"))


def measure(scenario: str, runs: int, workers: int) -> dict:
    from refuge.experiments import compare as cmp
    from refuge.experiments.ensemble import resolve_scenario, run_ensemble

    sc, _ = resolve_scenario(scenario)
    variants = list(sc.variants)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        exp = run_ensemble(scenario, runs=runs, seed=0, workers=workers, store=Path(tmp) / "x",
                           variants=[{"name": "baseline", "description": "", "set": {}}] + variants)
        base = exp.variants[0]
        stocks = {}
        for state in exp.names("stocks"):
            b = exp.matrix("stocks", state, base)[1][:, -1]
            for v in exp.variants[1:]:
                x = exp.matrix("stocks", state, v)[1][:, -1]
                stocks[f"{state} / {v}"] = cmp.spread_ratio(x, b)
        table = cmp.differences(exp)
        outcomes = {f"{r.outcome} / {r.variant}": r.narrower for r in table.itertuples()}
    seconds = time.perf_counter() - t0
    return {"scenario": sc.name, "runs": runs, "variants": len(variants), "seconds": round(seconds, 1),
            "stocks": stocks, "outcomes": outcomes,
            "median_stocks": _median(stocks.values()), "median_outcomes": _median(outcomes.values())}


def _median(values) -> float:
    r = np.array([v for v in values if not math.isnan(v)], float)
    return float(np.median(r)) if len(r) else math.nan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="*", default=list(DEFAULT))
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="also print every ratio as JSON")
    args = ap.parse_args()
    for scenario in args.scenarios:
        res = measure(scenario, args.runs, args.workers)
        print(f"{res['scenario']}: {res['variants']} variants x {res['runs']} paired runs ({res['seconds']} s)")
        for what in ("stocks", "outcomes"):
            vals = res[what]
            finite = [v for v in vals.values() if np.isfinite(v)]
            print(f"  {what:<9} median ratio of unpaired to paired spread {res['median_' + what]:8.2f} over "
                  f"{sum(not math.isnan(v) for v in vals.values())} pairs ({len(finite)} finite; "
                  f"{sum(v == math.inf for v in vals.values())} identical in every paired run)")
        if args.json:
            json.dump(res, sys.stdout, indent=1, default=str)
            print()


if __name__ == "__main__":
    main()
