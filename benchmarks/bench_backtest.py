"""Benchmark: the flagship backtest on 2 worker processes: train to 2006-12-31, score 2007-2008, forecast 2009-2012.

Prints the backtest's tables (the yearly arrivals against the posterior, the forecast of 2009-2012 with 90%
bands, the facts after the cut), then the issue's targets beside the measured values: the ARD and 90%
coverage of the annual arrivals in South Korea before and after the cut, and the time: wall time (target:
under 10 minutes on 2 cores, calibration included), the CPU time of the whole process tree (this process and
its workers, sampled twice a second with psutil, which dask[distributed] installs) and the load average, so
that a wall time stretched by other jobs on a shared machine shows as such.

    python benchmarks/bench_backtest.py --train-until 2006-12-31 [--workers 2] [--out DIR] [--runs 200]
    python benchmarks/bench_backtest.py --train-until 2008-12-31     # in sample: every year trained on
    python benchmarks/bench_backtest.py [--rolling CASE ...]          # rolling-origin, each case (default: the
                                                                      # four built-in cases with data)
    python benchmarks/bench_backtest.py --pool DIR [DIR ...]          # stored rolling backtests pooled, by horizon

With --rolling: a rolling-origin backtest of each case (`refuge.inference.rolling`, default cuts and search
settings) on the workers, one case after the other; per case its wall time (target <= 10 min on 2 cores), CPU
time and load, the pooled ARD of the median against the naive forecast's, the 90% coverage (target 80-97%),
Flee's daily ARD of the group where there is one, and the verdict; then the cases pooled together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import threading
import time
from pathlib import Path

SERIES = "arrivals-south-korea-2001-2008"


class TreeCPU:
    """CPU seconds of this process and all its descendants (pool workers), and the load average, sampled."""

    def __init__(self, every: float = 0.5):
        import psutil

        self.me = psutil.Process()
        self.every, self.seen, self.loads = every, {}, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        import psutil

        try:
            procs = [self.me, *self.me.children(recursive=True)]
        except psutil.Error:
            return
        for p in procs:
            try:
                t = p.cpu_times()
                self.seen[p.pid] = t.user + t.system
            except psutil.Error:
                pass  # ended between the listing and the reading; its last sample stands
        self.loads.append(os.getloadavg()[0])

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def __enter__(self) -> "TreeCPU":
        self.start_load = os.getloadavg()[0]
        self._sample()
        self.base = dict(self.seen)  # CPU already spent before: this measure counts what follows only
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()

    @property
    def cpu(self) -> float:
        return sum(t - getattr(self, "base", {}).get(pid, 0.0) for pid, t in self.seen.items())


CASES = ("north-korea-china", "mali2012", "burundi2015", "uk-asylum")


FLEE_CACHE = Path(__file__).parent / "flee_cache"


def flee_point_ard(case: str, r) -> dict | None:
    """Flee's own error on a case's held-out points: the mean of Flee's cached runs of the case
    (benchmarks/flee_cache/CASE.csv, CASE-2.csv, ...: `make bench-flee-suite`'s, validation-modern125) at each
    cut's held-out data points, as a relative error beside the model's and the naive forecast's (None without
    a cached run)."""
    import json

    import numpy as np
    import pandas as pd

    files = sorted(FLEE_CACHE.glob(f"{case}.csv")) + sorted(FLEE_CACHE.glob(f"{case}-[0-9]*.csv"))
    if not files:
        return None
    runs = [pd.read_csv(f).set_index("Day") for f in files]
    meta = json.loads(files[0].with_suffix(".json").read_text()) if files[0].with_suffix(".json").exists() else {}
    start = dt.date.fromisoformat(str(runs[0]["Date"].iloc[0])) - dt.timedelta(days=1)  # Flee's day 0 is dated +1
    errs, model = [], []
    for until in r.cuts:
        pts = pd.read_csv(r.out / "cuts" / str(until) / "points.csv")
        for p in pts[pts["split"] == "test"].itertuples(index=False):
            col = f"{p.series.removeprefix('camp-')} sim"
            day = (dt.date.fromisoformat(p.date) - start).days
            if col not in runs[0].columns or day not in runs[0].index:
                continue
            flee = float(np.mean([x.at[day, col] for x in runs]))
            errs.append(abs(flee - p.data) / max(p.data, 1.0))
            model.append(p.error)
    if not errs:
        return None
    naive = r.pooled["baselines"].get("naive", {}).get("ard", float("nan"))
    return {"runs": len(runs), "settings": meta.get("settings", "?"), "points": len(errs),
            "ard": float(np.mean(errs)), "model_ard": float(np.mean(model)), "naive_ard": naive}


def bench_rolling(cases: list[str], workers: int, out: Path, as_of_cut: bool = False) -> None:
    """Rolling-origin backtest of each case: wall time, pooled scores, verdict; then all cases pooled."""
    from refuge.api import load
    from refuge.inference.rolling import print_rolling, rolling
    from refuge.inference.skill import pool, verdict

    rows, blocks = [], []
    for case in cases or CASES:
        t = time.perf_counter()
        with TreeCPU() as meter:
            r = rolling(load(case), out / case, workers=workers, **({"as_of_cut": True} if as_of_cut else {}))
        wall = time.perf_counter() - t
        print_rolling(r)
        p = r.pooled
        nv = p["baselines"].get("naive", {})
        loads = meter.loads or [meter.start_load]
        rows.append(f"{case}: {len(r.cuts)} cuts, wall {wall / 60:.1f} min ({'OK' if wall <= 600 else 'OVER'} "
                    f"10 min; {r.resumed} cuts resumed), CPU {meter.cpu / 60:.1f} min, mean load "
                    f"{sum(loads) / len(loads):.1f}; ARD of the median {p['ard_median']:.3f} vs naive "
                    f"{nv.get('ard', float('nan')):.3f} (skill {nv.get('skill') or float('nan'):.2f}), "
                    f"90% held {p['coverage90']:.0%} of {p['points']} points")
        flee = flee_point_ard(case, r)
        if flee:
            rows.append(f"  Flee's own runs ({flee['runs']} of {flee['settings']}, from the case's start, as Flee "
                        f"runs it): ARD at the same {flee['points']} held-out points {flee['ard']:.3f} (the "
                        f"model's median {flee['model_ard']:.3f}, naive {flee['naive_ard']:.3f})")
        for name, g in r.groups.items():
            rows.append(f"  group {name}: Flee's daily ARD after the cuts, median {g['median']['ard']:.3f}, "
                        f"naive {g['naive']['ard']:.3f}")
        blocks.append(p)
    print("\n".join(rows))
    pooled = pool(blocks)
    print("all cases pooled: " + verdict(pooled))
    print_by_horizon(pooled)


def pool_stored(dirs: list[str]) -> None:
    """Each stored rolling backtest's pooled scores and wall time, then all of them pooled by horizon."""
    from refuge.inference.rolling import load
    from refuge.inference.skill import pool, verdict

    blocks = []
    for d in dirs:
        doc = load(d)
        p = doc["pooled"]
        print(f"{doc['scenario']} ({d}): {len(doc['cuts'])} cuts, {doc.get('seconds', 0) / 60:.1f} min of wall time "
              f"in its last call (0 when every cut was resumed)")
        print_by_horizon(p)
        blocks.append(p)
    pooled = pool(blocks)
    print(f"all {len(blocks)} pooled: " + verdict(pooled))
    print_by_horizon(pooled)


def print_by_horizon(p: dict) -> None:
    """The pooled scores by horizon, one line each, then all horizons."""
    def f(x: float | None, fmt: str = ".3f") -> str:
        return "–" if x is None else format(x, fmt)

    print(f"{'horizon':>8} {'points':>6} {'ARD':>6} {'naive':>6} {'skill':>5} {'50%':>4} {'90%':>4} {'CRPS':>6}")
    for h in [*p["by_horizon"], {**p, "horizon": "all"}]:
        nv = h["baselines"].get("naive", {})
        print(f"{h['horizon']:>8} {h['points']:>6} {f(h['ard_median']):>6} {f(nv.get('ard')):>6} "
              f"{f(nv.get('skill'), '.2f'):>5} {f(h['coverage50'], '.0%'):>4} {f(h['coverage90'], '.0%'):>4} "
              f"{f(h['crps']):>6}")


def main() -> None:
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rolling", nargs="*", default=None, metavar="CASE",
                    help="rolling-origin backtest of these cases (none named: the three built-in cases)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--as-of-cut", action="store_true", help="with --rolling: forecasts use nothing dated after "
                    "the cut (a Flee case's spawning goes on at its level before it)")
    ap.add_argument("--scenario", default="north-korea-china")
    ap.add_argument("--train-until", default=None, help="the single posterior backtest trained to this day "
                    "(without it and without --rolling: the rolling backtests of the three cases)")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--out", default=None, help="backtest directory (default: a temporary one)")
    ap.add_argument("--pool", nargs="+", default=None, metavar="DIR", help="no run: pool stored rolling backtests "
                    "(each DIR holds a rolling.json, e.g. of another case run elsewhere) and print them by horizon")
    args = ap.parse_args()
    if args.pool:
        pool_stored(args.pool)
        return
    if args.rolling is not None or args.train_until is None:
        bench_rolling(args.rolling, args.workers,
                      Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="refuge-bench-rolling-")),
                      args.as_of_cut)
        return

    from refuge.api import load
    from refuge.inference.backtest_posterior import DEFAULT_SETTINGS, backtest, print_tables
    from refuge.inference.calibrate import Settings

    model = load(args.scenario)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="refuge-bench-backtest-"))
    t = time.perf_counter()
    with TreeCPU() as meter:
        bt = backtest(model.scenario, dt.date.fromisoformat(args.train_until), out, runs=args.runs,
                      settings=Settings(**DEFAULT_SETTINGS), workers=args.workers, origin=model.origin)
    wall = time.perf_counter() - t
    print_tables(bt)
    s = bt.summary
    loads = meter.loads or [meter.start_load]
    print(f"wall time {wall / 60:.1f} min on {args.workers} workers (target <= 10 min): "
          f"{'OK' if wall <= 600 else 'OVER'}; calibration {s['calibration_seconds'] / 60:.1f} min, "
          f"{s['simulations']:,} simulations")
    print(f"CPU time of the process tree {meter.cpu / 60:.1f} min ({meter.cpu / wall:.2f} cores busy on "
          f"average); load average {meter.start_load:.1f} at the start, mean {sum(loads) / len(loads):.1f}, "
          f"max {max(loads):.1f} (on {os.cpu_count()} cores)")
    for split, label, target in (("train", f"in sample (to {args.train_until})", "ARD <= 0.15, every year inside"),
                                 ("test", "after the cut", "ARD <= 0.20, coverage >= 80%")):
        x = s[split]["series"].get(SERIES)
        if x:
            print(f"{label}: {SERIES} ARD {x['ard']:.3f}, 90% coverage {x['coverage']:.0%} of {x['points']} "
                  f"years (target {target})")
    fc = bt.forecast[bt.forecast["series"] == SERIES]
    if len(fc):
        print("forecast, median [90% band]: " + "; ".join(f"{r.date[:4]} {r.median:,.0f} [{r.low:,.0f}–"
                                                          f"{r.high:,.0f}]" for r in fc.itertuples()))


if __name__ == "__main__":
    main()
