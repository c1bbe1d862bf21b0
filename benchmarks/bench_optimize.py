"""Benchmark: the README's policy searches, each timed (target: at most 5 minutes each on 2 cores).

1. uk-asylum: the smallest decision capacity from 2024 that brings the people waiting for an initial decision
   under 50,000 by the end of 2025 with 90% probability (docs/optimize/uk-capacity.yaml);
2. uk-asylum: the cheapest mix of decision capacity and dispersal places from 2024 that empties the hotels by
   the end of 2025 with 90% probability (docs/optimize/uk-hotels.yaml);
3. north-korea-china: the slowest exit clearance from 2004 that keeps the South Korean consular section in
   Beijing under the 100 people at which it shut in 2003, and every mission under its room, with 90%
   probability (docs/optimize/flagship-clearance.yaml);
4. uk-asylum: the Pareto front of the cost of decision capacity from 2024 against the days until fewer than
   50,000 people wait for an initial decision with 90% probability (docs/optimize/uk-front.yaml), each front
   point re-checked on fresh seeds.

Each search runs in a fresh folder (nothing resumed), on `--workers` local processes. Printed per search: the
chosen policy, the probability of each constraint in the search and on the fresh seeds of the re-check (90%
Wilson intervals), the wall time against the target, runs simulated and runs a second, the CPU time of the
process tree and the load average (a wall time stretched by other jobs on a shared machine shows as such).

    python benchmarks/bench_optimize.py [--workers 2] [--only uk|uk-hotels|flagship|uk-front] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_backtest import TreeCPU  # the benchmarks folder is not a package: found through sys.path above

ROOT = Path(__file__).resolve().parent.parent
SEARCHES = {"uk": ROOT / "docs/optimize/uk-capacity.yaml", "uk-hotels": ROOT / "docs/optimize/uk-hotels.yaml",
            "flagship": ROOT / "docs/optimize/flagship-clearance.yaml",
            "uk-front": ROOT / "docs/optimize/uk-front.yaml"}
TARGET = 300.0


def one(name: str, path: Path, out: Path, workers: int) -> None:
    from refuge.inference.optimize import optimize, summary_lines
    from refuge.inference.optimize_spec import read_spec

    spec = read_spec(path)
    t = time.perf_counter()
    with TreeCPU() as meter:
        result = optimize(spec.scenario, spec, out, workers=workers)
    wall = time.perf_counter() - t
    if spec.objectives is not None:  # a front: every trial, and each front point on the fresh seeds
        from refuge.inference.optimize_front_out import summary_lines as front_lines

        runs = len(result.trials) * spec.runs + len(result.checks) * spec.check_runs
        print("\n".join(front_lines(result)))
    else:
        runs = len(result.trials) * spec.runs + (result.recheck.runs if result.recheck else 0)
        runs += result.confirmations * spec.check_runs
        print("\n".join(summary_lines(result)))
    loads = meter.loads or [meter.start_load]
    print(f"{name}: wall time {wall:.0f} s on {workers} workers (target <= {TARGET:.0f} s): "
          f"{'OK' if wall <= TARGET else 'OVER'}; {runs:,} runs, {runs / wall:.1f} runs/s; CPU time of the process "
          f"tree {meter.cpu:.0f} s; load average {meter.start_load:.1f} at the start, mean "
          f"{sum(loads) / len(loads):.1f}; results in {out}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", choices=sorted(SEARCHES), default=None)
    ap.add_argument("--out", default=None, help="folder for the searches (default: a temporary one)")
    args = ap.parse_args()
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="refuge-bench-optimize-"))
    for name, path in SEARCHES.items():
        if args.only in (None, name):
            out = root / name
            if out.exists() and any(out.iterdir()):
                sys.exit(f"{out}: not empty (the benchmark times a search from scratch)")
            one(name, path, out, args.workers)


if __name__ == "__main__":
    main()
