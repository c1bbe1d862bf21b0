"""Flagship benchmark: time of one run of `north-korea-china`, and of `refuge check` with its defaults.

    .venv/bin/python benchmarks/bench_flagship.py [--seeds 50] [--runs 200]

Prints the median and spread of one run over many seeds (after Numba compilation, which is cached on disk),
the share spent outside the engine, and the wall time of the default check (200 runs on local processes).
The machine's load average is printed too: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50, help="runs timed one by one")
    ap.add_argument("--runs", type=int, default=200, help="runs of the check")
    args = ap.parse_args()

    import refuge
    from refuge.experiments.check import check
    from refuge.experiments.ensemble import shutdown_pools

    model = refuge.load("north-korea-china")
    refuge.simulate(model, seed=0)  # compile (or load the cached machine code)
    times = []
    for seed in range(1, args.seeds + 1):
        t0 = time.perf_counter()
        refuge.simulate(model, seed=seed)
        times.append(time.perf_counter() - t0)
    q = statistics.quantiles(times, n=10)
    print(f"one run of north-korea-china ({model.days} days): median {1000 * statistics.median(times):.1f} ms, "
          f"10-90% {1000 * q[0]:.1f}-{1000 * q[-1]:.1f} ms over {args.seeds} seeds")

    for workers in (1, None):
        t0 = time.perf_counter()
        result = check(model, runs=args.runs, seed=0, workers=workers)
        wall = time.perf_counter() - t0
        label = "serial" if workers == 1 else "local processes (one per core, pool start included)"
        print(f"check, {args.runs} runs, {label}: {wall:.1f} s ({args.runs / wall:.0f} runs/s); "
              f"{int(result.facts.holds_median.sum())} of {len(result.facts)} facts hold in the median run")
    shutdown_pools()
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
