"""Backtest by the posterior: calibrate on the evidence dated up to a day, run the posterior forward, score after.

Forecast skill, not in-sample fit, is what earns a model trust. `backtest(scenario, until, out)`:

1. calibrates the scenario (ABC-SMC, `refuge.inference.calibrate`) on the facts and series data points dated
   up to `until` (a fact is dated by the last day it speaks of); facts and points after it are left out of the
   distance;
2. runs `runs` draws of that posterior over the whole scenario period (run r: draw r, seed seed + r);
3. scores every fact and every series data point on both sides of the cut, and forecasts each series beyond
   its last data point with 90% bands.

Steps 2 and 3, the split by date and the files (calibration/ beside backtest.json, facts.csv, points.csv,
forecast.csv and forecast.png) are those of every backtest: `refuge.inference.backtest_core`. This module
does only the calibration and the draws from its posterior.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from refuge.inference.backtest_core import (
    FIGURE_NAME,
    JSON_NAME,
    LEVEL,
    Backtest,
    check_until,
    fact_table,
    forecast_periods,
    forecast_table,
    forward,
    load,
    point_table,
    print_tables,
    report_section,
    summarise,
    tables,
    write,
)
from refuge.inference.backtest_figure import plot
from refuge.inference.horizon import beyond, trimmed
from refuge.scenario import Scenario

__all__ = ["Backtest", "CALIBRATION_DIR", "DEFAULT_SETTINGS", "FIGURE_NAME", "JSON_NAME", "LEVEL", "backtest",
           "fact_table", "forecast_periods", "forecast_table", "load", "plot", "point_table", "print_tables",
           "report_section", "summarise", "write"]

# Calibration settings of a backtest unless given: a smaller population than `refuge calibrate`'s default
# (the backtest must fit in minutes), and one-off counts weighed by the best share any rate could reach.
# On the flagship (54 parameters), 60 particles and 3,000 simulations left the women's growth under-fitted
# (forecast ARD of 2007-2008 0.14); 100 and 6,000 gave 0.07, about 3.5 minutes of CPU (README).
DEFAULT_SETTINGS = {"population": 100, "budget": 6000, "generations": 10, "weights": "reach"}
CALIBRATION_DIR = "calibration"
INNER_DIR = "calibration-inner"  # the calibrations up to the inner cuts (a folder each) the drifts are fitted with
DRIFT_DRAWS, DRIFT_RUNS = 20, 40  # posterior draws taken in turn, and runs per candidate size, to fit a drift


def backtest(scenario: Scenario, until: dt.date, out: str | Path, *, runs: int = 200, seed: int = 0,
             settings: Any = None, workers: int | None = None, cluster: str | None = None, progress: Any = None,
             origin: str = "", level: float = LEVEL, horizon: dt.date | None = None,
             as_of_cut: bool = False) -> Backtest:
    """Calibrate on the evidence dated up to `until`, forecast with the posterior, score both sides;
    `horizon`: forecast past the scenario's end, to that day (`backtest_core.beyond`); `as_of_cut`: the forecast
    knows nothing dated after `until` (schedules held, drifts from the cut: `refuge.inference.asof`)."""
    from refuge.inference.asof import as_of_scenario
    from refuge.inference.calibrate import Settings, calibrate
    from refuge.inference.drift_fit import fit_forecast
    from refuge.inference.posterior import sample_posterior
    from refuge.model.compiler import compile_scenario

    t0 = time.perf_counter()
    out = Path(out)
    model = compile_scenario(as_of_scenario(scenario, until) if as_of_cut else scenario, origin or None)
    if horizon is None or until != model.scenario.end:  # with a horizon, trained on everything: a forecast
        check_until(model, until)
    settings = settings or Settings(**DEFAULT_SETTINGS)
    settings.until = until
    cal = calibrate(model.scenario, out / CALIBRATION_DIR, settings, workers=workers, cluster=cluster,
                    progress=progress, predictive_runs=min(runs, 20), origin=origin)
    t_cal = time.perf_counter() - t0
    draws = sample_posterior(out / CALIBRATION_DIR, runs, seed=seed)
    # a drift's size by the score of its forecasts from an inner cut of the training data (ABC's fit of single
    # runs prefers no drift), with the draws of a posterior that saw nothing after that inner cut
    # (refuge.inference.drift_fit): the posterior to `until` saw the points those forecasts are scored on
    origins, inner_sims = _inner_draws(model, until, settings, out, draws, workers=workers, cluster=cluster,
                                       origin=origin, seed=seed)
    fit = fit_forecast(model, draws[:DRIFT_DRAWS], until, runs=DRIFT_RUNS, seed=seed + 3000, origins=origins,
                       as_of_cut=as_of_cut)
    sizes, drift_scores = fit.sizes, fit.scores
    draws = [d | sizes for d in draws]
    longer = beyond(model, horizon)
    fw = trimmed(model, forward(longer, draws, seed, workers=workers, cluster=cluster,
                                progress="backtest: posterior runs" if progress else False,
                                hold=(until - model.start).days if as_of_cut else -1))
    bt = tables(model, fw, until, out, method="posterior", level=level, calibration=cal,
                concentration=fit.concentration, signed=fit.signed)
    bt.summary |= {"seconds": time.perf_counter() - t0, "fit_seconds": t_cal, "calibration_seconds": t_cal,
                   "simulations": cal.simulations + cal.predictive_runs + runs + inner_sims
                   + len(drift_scores) * DRIFT_RUNS * max(len(origins), 1), "inner_cuts": [str(c) for c, _ in origins],
                   "seed": seed, "as_of_cut": as_of_cut, "drift_sizes": sizes, "drift_scores": drift_scores,
                   "share_scores": fit.share_scores,
                   "settings": {k: str(v) if isinstance(v, dt.date) else v for k, v in vars(settings).items()}}
    write(bt)
    return bt


def _inner_draws(model: Any, until: dt.date, settings: Any, out: Path, draws: list[dict], *, workers: int | None,
                 cluster: str | None, origin: str, seed: int) -> tuple[list[tuple[dt.date, list[dict]]], int]:
    """For each inner cut of the training data (`refuge.inference.drift_fit.inner_cuts`), the posterior draws
    (DRIFT_DRAWS) of a calibration on the evidence up to it (half the budget, written to
    out/calibration-inner/DATE, resumable), and the simulations of them all; none where nothing is to be fitted
    or there is no inner cut (the draws to `until` are used then)."""
    import dataclasses

    from refuge.inference.calibrate import calibrate
    from refuge.inference.drift_fit import drift_sizes, inner_cuts
    from refuge.inference.posterior import sample_posterior
    from refuge.inference.shares import share_groups

    if not (drift_sizes(model.scenario) or share_groups(model)):
        return [], 0
    origins, sims = [], 0
    for inner in inner_cuts(model, until):
        fitted = dataclasses.replace(settings, until=inner, budget=max(settings.budget // 2, settings.population))
        cal = calibrate(model.scenario, out / INNER_DIR / str(inner), fitted, workers=workers, cluster=cluster,
                        predictive_runs=10, origin=origin)
        origins.append((inner, sample_posterior(out / INNER_DIR / str(inner), DRIFT_DRAWS, seed=seed)))
        sims += cal.simulations
    return origins, sims
