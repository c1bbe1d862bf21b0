"""Two checkouts of refuge side by side: CPU time per run of the flagship, Flee's mali2012 and burundi2015 and
the synthetic scenario, each build in its own process, alternating A B A B so that the shared machine's load
falls on both alike; medians and the ratio B / A.

    .venv/bin/python benchmarks/bench_builds.py OLD_CHECKOUT NEW_CHECKOUT [--seeds 15] [--rounds 2]

Each checkout's own Numba cache is used (the first round compiles a build that has none).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = r"""
import json, sys, time
sys.path.insert(0, %(bench)r)
from synthetic import synthetic
import refuge
from refuge.model.compiler import compile_scenario
out = {}
for name in ("north-korea-china", "mali2012", "burundi2015", "synthetic"):
    model = compile_scenario(synthetic(reservoir=200_000, through=5_000, years=5)) if name == "synthetic" \
        else refuge.load(name)
    refuge.simulate(model, seed=0)
    cpu = []
    for s in range(1, %(seeds)d + 1):
        t0 = time.process_time()
        refuge.simulate(model, seed=s)
        cpu.append(time.process_time() - t0)
    out[name] = cpu
print(json.dumps(out))
"""


def measure(checkout: Path, seeds: int) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=str(checkout), PYTHONDONTWRITEBYTECODE="1")
    res = subprocess.run([sys.executable, "-c", CHILD % {"bench": str(HERE), "seeds": seeds}], env=env,
                         capture_output=True, text=True, check=True, cwd=str(checkout))
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--seeds", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    times: dict[str, dict[str, list[float]]] = {"old": {}, "new": {}}
    for _ in range(args.rounds):
        for label, path in (("old", args.old), ("new", args.new)):
            for name, cpu in measure(path.resolve(), args.seeds).items():
                times[label].setdefault(name, []).extend(cpu)
    print(f"CPU time per run, median of {args.rounds} x {args.seeds} runs a build (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"  {'scenario':<20} {'old ms':>9} {'new ms':>9} {'new/old':>8}")
    for name in times["old"]:
        a, b = statistics.median(times["old"][name]), statistics.median(times["new"][name])
        print(f"  {name:<20} {a * 1e3:9.2f} {b * 1e3:9.2f} {b / a:8.3f}")


if __name__ == "__main__":
    main()
