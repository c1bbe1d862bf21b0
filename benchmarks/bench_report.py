"""The HTML report of a large experiment: wall time and peak memory (targets: 1,000 flagship runs in <= 5 s, <= 400 MB).

    python benchmarks/bench_report.py [--runs 1000] [--store DIR] [--repeat 3]

The experiment store is made once (`refuge run north-korea-china --runs N --out DIR`, about a minute on
2 cores) in DIR, by default outside the repository under the system's temporary folder, and reused. Each
repetition is a fresh `refuge report DIR` process (imports included, as a user runs it); the peak memory is that
process's maximum resident set size. Prints each repetition and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def ensure_store(store: Path, runs: int) -> None:
    """A finished store of `runs` flagship runs whose runs carry their summaries (remade once when not)."""
    import shutil

    from refuge.experiments.store import Experiment

    if (store / "experiment.json").exists():
        exp = Experiment(store)
        if exp.complete and exp.n_runs == runs and all(exp.run_summaries(v) is not None for v in exp.variants):
            return
        print(f"{store}: not a finished {runs}-run store with run summaries (an older refuge's?); made again",
              flush=True)
        shutil.rmtree(store)
    print(f"making a {runs}-run flagship experiment in {store} (once) ...", flush=True)
    from refuge.experiments.ensemble import run_ensemble

    run_ensemble("north-korea-china", runs=runs, seed=0, store=store)


def one_report(store: Path, out: Path) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MiB) of one `refuge report` process. CPU time says how much work
    it was when other processes share the cores (wall time then grows, CPU time does not)."""
    code = "import sys; from refuge.cli import main; sys.argv = ['refuge'] + sys.argv[1:]; main()"
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # a child of our own, so its maximum RSS is not mixed with earlier children's
        os.execv(sys.executable, [sys.executable, "-c", code, "report", str(store), "--out", str(out)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"refuge report failed (status {status})")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--store", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    store = args.store or Path(tempfile.gettempdir()) / f"refuge-bench-report-{args.runs}"
    ensure_store(store, args.runs)
    out = Path(tempfile.mkdtemp(prefix="refuge-bench-report-")) / "report.html"
    times, cpus, peaks = [], [], []
    load_before = os.getloadavg()[0]
    for k in range(args.repeat):
        t, cpu, mb = one_report(store, out)
        times.append(t)
        cpus.append(cpu)
        peaks.append(mb)
        print(f"  report {k + 1}: {t:5.1f} s wall, {cpu:5.1f} s CPU, peak {mb:5.0f} MiB", flush=True)
    print(f"report of {args.runs} runs: median {statistics.median(times):.1f} s wall (target <= 5 s), "
          f"{statistics.median(cpus):.1f} s CPU, "
          f"peak {max(peaks):.0f} MiB (target <= 400 MB); load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
