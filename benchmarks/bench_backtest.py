"""Benchmark: the flagship backtest on 2 worker processes: train to 2006-12-31, score 2007-2008, forecast 2009-2012.

Prints the wall time (target: under 10 minutes on 2 cores, calibration included), the scores before and
after the training cut (ARD of the annual arrivals in South Korea and 90% interval coverage), the forecast
of 2009-2012 with 90% bands, and the issue's targets beside the measured values.

    python benchmarks/bench_backtest.py [--workers 2] [--train-until 2006-12-31] [--out DIR] [--runs 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scenario", default="north-korea-china")
    ap.add_argument("--train-until", default="2006-12-31")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--out", default=None, help="backtest directory (default: a temporary one)")
    args = ap.parse_args()

    from refuge.api import load
    from refuge.inference.backtest_posterior import DEFAULT_SETTINGS, backtest, print_tables
    from refuge.inference.calibrate import Settings

    model = load(args.scenario)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="refuge-bench-backtest-"))
    t = time.perf_counter()
    bt = backtest(model.scenario, dt.date.fromisoformat(args.train_until), out, runs=args.runs,
                  settings=Settings(**DEFAULT_SETTINGS), workers=args.workers, origin=model.origin)
    wall = time.perf_counter() - t
    print_tables(bt)
    s = bt.summary
    print(f"wall time {wall / 60:.1f} min on {args.workers} workers (target <= 10 min); "
          f"calibration {s['calibration_seconds'] / 60:.1f} min, {s['simulations']:,} simulations")
    print(f"in-sample (to {args.train_until}): ARD {s['train']['ard']:.3f}, coverage {s['train']['coverage']:.0%}")
    print(f"after the cut: ARD {s['test']['ard']:.3f} (target <= 0.20), coverage {s['test']['coverage']:.0%} "
          f"(target >= 80%)")


if __name__ == "__main__":
    main()
