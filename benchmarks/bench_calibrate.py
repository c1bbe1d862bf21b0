"""Benchmark: calibrate the flagship scenario with the default settings on 2 worker processes.

Prints the wall time (target: under 10 minutes on 2 cores), the simulations run and their
rate, the generations and their thresholds, the effective sample size of the posterior,
and the posterior predictive check: how many facts hold in at least half of the runs.
Also prints what one particle costs: compiling the drawn scenario (which also checks it)
against one simulation, the reason every draw is compiled rather than patched.

    python benchmarks/bench_calibrate.py [--workers 2] [--scenario north-korea-china] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def particle_costs(scenario) -> dict[str, float]:
    from refuge.api import simulate
    from refuge.evidence.measures import measure_all
    from refuge.inference.simulator import Simulator, uncertain_parameters

    uncertain = uncertain_parameters(scenario)
    sim = Simulator(scenario, uncertain)
    values = {u.name: u.default for u in uncertain}
    simulate(sim.base, seed=0)

    def timed(fn, n=10) -> float:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t) / n

    return {"compile": timed(lambda: sim.model_for(values)),
            "simulate+measure": timed(lambda: measure_all(simulate(sim.base, seed=1))),
            "parameters": len(uncertain)}


def main() -> None:
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="north-korea-china")
    ap.add_argument("--out", default=None, help="experiment directory (default: a temporary one)")
    args = ap.parse_args()

    from refuge.api import load
    from refuge.inference.calibrate import Settings, calibrate, read_posterior

    model = load(args.scenario)
    costs = particle_costs(model.scenario)
    print(f"{args.scenario}: {costs['parameters']} uncertain parameters, {len(model.evidence)} facts")
    print(f"per particle: compile the draw {1e3 * costs['compile']:.1f} ms, "
          f"simulate+measure {1e3 * costs['simulate+measure']:.1f} ms")

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="refuge-bench-calibrate-"))
    settings = Settings()
    t0 = time.perf_counter()
    cal = calibrate(model.scenario, out, settings, workers=args.workers, restart=True, origin=model.origin)
    wall = time.perf_counter() - t0

    gens = cal.generations
    post = read_posterior(out)
    w = post.weight.to_numpy()
    holding = int((cal.predictive.share_holding >= 0.5).sum())
    print(f"settings: population {settings.population}, budget {settings.budget:,}, "
          f"generations <= {settings.generations}, workers {args.workers}")
    print(f"wall time: {wall:.0f} s ({wall / 60:.1f} min; target < 10 min) — "
          f"{'OK' if wall < 600 else 'OVER TARGET'}")
    print(f"simulations: {cal.simulations:,} ({cal.simulations / wall:.1f}/s) + {cal.predictive_runs} "
          f"posterior predictive runs")
    print("thresholds: " + ", ".join(f"{e:.3g}" for e in gens.epsilon) + f"; stopped: {cal.stopped}")
    print(f"posterior: {len(post)} particles, effective sample size {1 / (w ** 2).sum():.0f}")
    print(f"posterior predictive: {holding} of {len(cal.predictive)} facts hold in at least half of the runs")
    for d in cal.diagnosis:
        print(f"  {d['id']}: holds in {d['share_holding']:.0%} — {d['reason']}")
    print(f"experiment: {out}")


if __name__ == "__main__":
    main()
