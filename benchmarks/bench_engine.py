"""Engine benchmark: prints wall time, transitions per second and the speed-up over the reference engine.

    make bench            # or: .venv/bin/python benchmarks/bench_engine.py [--quick]

(a) one run of the built-in flagship scenario (median wall time over seeds; also its CPU time, which the
    load of a shared machine disturbs less);
(b) a synthetic scenario: 10 years of daily steps, 1,000,000 people in a memoryless reservoir and
    about 10,000 passing through capacity-limited, duration-dependent states; peak memory is measured
    in a fresh process;
(d) a national asylum queue (tests/scenarios/de_backlog.yaml: about 580,000 people waiting at a zero-day step
    with a daily capacity, three years of days), and the same with ten times the people waiting: a queue is
    kept as counts per day of entry, so its cost should not grow with the people in it;
(c) the fast engine against the per-person reference engine on small versions of both scenarios,
    sized so that the reference takes seconds, timed in the same process so the ratio is fair on a
    noisy machine.
Numba compiles once and caches on disk; the first (warm-up) run is excluded from the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def timed(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def events(run) -> int:
    return int(run.flows.sum() + run.arrived.sum())


def line(label: str, seconds: float, n_events: int, extra: str = "") -> None:
    print(f"  {label:<44} {seconds * 1e3:9.2f} ms  {n_events:>10,} transitions  "
          f"{n_events / seconds:>14,.0f} transitions/s {extra}")


def peak_memory_of_synthetic() -> float:
    """Peak resident memory (MB) of a fresh process that compiles and runs the synthetic scenario once."""
    code = (
        "import sys, resource; sys.path.insert(0, %r)\n"
        "from synthetic import synthetic\n"
        "from refuge.api import simulate\n"
        "simulate(synthetic(), seed=1)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n" % str(HERE)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def queue_backlog(simulate, seeds, repeats: int, results: dict[str, float]) -> None:
    """(d): the German queue of issue 17, and the same with ten times the people waiting."""
    from refuge.api import load
    from refuge.model.compiler import compile_scenario

    de = load(HERE.parent / "tests" / "scenarios" / "de_backlog.yaml")
    big = compile_scenario(de.scenario.with_values({"pending_sept_2016": 5_793_140, "decisions_per_day": 19_000,
                                                    "claims_per_day": 6_000}))
    for label, model, key in (("(d) queue of 579,314 (de_backlog)", de, "queue_ms"),
                              ("    queue of 5,793,140 (10x people)", big, "queue_10x_ms")):
        simulate(model, seed=0)
        sec, run = timed(lambda: simulate(model, seed=next(seeds)), max(repeats, 11))
        line(f"{label}, {model.days} days", sec, events(run), "[target <= 50 ms]")
        results[key] = sec * 1e3
    print(f"      ratio 10x people / 1x: {results['queue_10x_ms'] / results['queue_ms']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a smaller reference comparison")
    args = ap.parse_args()
    repeats = 3 if args.quick else args.repeats

    from synthetic import synthetic

    from refuge.api import load, simulate
    from refuge.model.compiler import compile_scenario

    results: dict[str, float] = {}
    print("refuge engine benchmark (median of %d runs after warm-up; load average %.1f on %d cores: wall times "
          "grow with it)" % (repeats, os.getloadavg()[0], os.cpu_count()))

    t0 = time.perf_counter()
    flagship = load()
    simulate(flagship, seed=0)  # warm-up: loads the cached Numba code (compiles on a first ever run)
    print(f"  load + compile flagship + warm-up:            {time.perf_counter() - t0:7.2f} s")
    seeds = iter(range(1, 10_000))
    cpu0 = time.process_time()
    sec, run = timed(lambda: simulate(flagship, seed=next(seeds)), max(repeats, 21))
    cpu = (time.process_time() - cpu0) / max(repeats, 21)
    line(f"(a) flagship {flagship.scenario.name}, {flagship.days} days", sec, events(run),
         "[target <= 15 ms]")
    print(f"      mean CPU time per run: {cpu * 1e3:.2f} ms")
    results["flagship_ms"] = sec * 1e3
    results["flagship_cpu_ms"] = cpu * 1e3

    big = compile_scenario(synthetic())
    simulate(big, seed=0)
    sec, run = timed(lambda: simulate(big, seed=next(seeds)), repeats)
    line(f"(b) synthetic 1,000,000 + ~10,000, {big.days} days", sec, events(run), "[target < 1 s]")
    results["synthetic_ms"] = sec * 1e3
    mem = peak_memory_of_synthetic()
    print(f"      peak memory of a fresh process running (b): {mem:7.1f} MB  [target < 400 MB]")
    results["synthetic_peak_mb"] = mem

    queue_backlog(simulate, seeds, repeats, results)

    try:
        from refuge.api import simulate_reference
    except ImportError:
        print("  (c) reference engine not available")
        print(json.dumps(results))
        return
    print("  (c) fast vs reference engine on small versions (same process, same scenarios):")
    small_synth = compile_scenario(synthetic(reservoir=100_000 if not args.quick else 5_000,
                                             through=5_000 if not args.quick else 500, years=10))
    for label, model in (("flagship", flagship), ("synthetic small", small_synth)):
        ref_sec, ref_run = timed(lambda: simulate_reference(model, seed=3), 1)
        fast_sec, fast_run = timed(lambda: simulate(model, seed=3), max(repeats, 5))
        ratio = ref_sec / fast_sec
        print(f"      {label:<18} reference {ref_sec:8.2f} s   fast {fast_sec * 1e3:8.2f} ms   "
              f"speed-up {ratio:9.0f}x  [target >= 100x]   "
              f"({events(ref_run):,} vs {events(fast_run):,} transitions)")
        results[f"speedup_{label.replace(' ', '_')}"] = ratio
    print(json.dumps({k: round(v, 2) for k, v in results.items()}))


if __name__ == "__main__":
    main()
