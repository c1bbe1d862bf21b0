"""Backtest by a search: fit the uncertain parameters on the days up to a cut, forecast after it.

    from refuge.inference.backtest import backtest
    result = backtest("mali2012")          # cut at two thirds of the days
    result.values                           # the parameters that fit the first part best
    result.forecast, result.baseline        # ARD (normal, rescaled) after the cut: fitted, and as the scenario says
    result.table                            # the backtest tables of the fitted runs (points, forecast, facts)

The fit is a search, not a posterior: draws from the priors (a scrambled Sobol design), each scored by the
median over a few seeds of the mean of the normal and rescaled ARD of the series group (every series when none
is grouped) on the training days; the
best few are scored again with more seeds and the best of those is kept. The size of a drifting driver is then
fitted by the CRPS of its forecasts inside the training data (`refuge.inference.drift_fit`), made with the
values a second search fits on the data up to an inner cut: scored on points those values never saw. Forecast skill,
not in-sample fit, is what it reports: the ARD on the days after the cut, median over `forecast_seeds` seeds, for
the fitted values and for the scenario's own. The data after the cut are never used in the fit (inputs such as
spawning totals are, as Flee uses them: they drive the simulation, they are not what is scored; with
`as_of_cut`, not even those: a network's spawning goes on at its level before the cut).

This module does only the search. The split by date, the forward runs, the scores (`window_ard`), the tables
and the files are those of every backtest (`refuge.inference.backtest_core`); with `out`, the fitted runs are
written as `refuge backtest --train-until` writes the posterior's (backtest.json, CSV tables, forecast.png).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from refuge.inference.backtest_core import (
    forward,
    run_ards,
    tables,
    until_from_cut,
    window_ard,
    write,
)
from refuge.inference.horizon import beyond, trimmed

__all__ = ["BacktestResult", "backtest", "window_ard"]

BASE_SEEDS = 10  # runs of the scenario's own values after the cut (their median error is printed beside the fit's)
SPREAD = 1.5  # the forecast runs take every refitted draw whose training error is within 1.5 times the best's


@dataclass
class BacktestResult:
    cut: dt.date
    group: str | None  # None: every series together (a scenario whose series have no group)
    values: dict[str, float]
    train: tuple[float, float]  # ARD normal, rescaled on the training days (fitted values, refit seeds)
    forecast: tuple[float, float]  # after the cut, fitted values
    baseline: tuple[float, float]  # after the cut, the scenario's values
    baseline_train: tuple[float, float]
    draws: int
    simulations: int
    trials: list[tuple[dict[str, float], float]] = field(default_factory=list)
    table: Any = None  # refuge.inference.backtest_core.Backtest of the fitted runs


def _median(a: np.ndarray) -> tuple[float, float]:
    return tuple(map(float, np.median(a, axis=0)))


def backtest(model_or_path: Any, cut: dt.date | None = None, group: str | None = None, draws: int = 48, seeds: int = 3,
             refit: int = 5, refit_seeds: int = 10, forecast_seeds: int = 20, seed: int = 0,
             progress: bool = False, out: str | Path | None = None, horizon: dt.date | None = None,
             as_of_cut: bool = False) -> BacktestResult:
    """Fit the uncertain parameters to the time-series evidence up to `cut`, forecast the rest, and score the
    forecast against the series after `cut` (see the module docstring). `out`: also write the tables;
    `horizon`: forecast past the scenario's end, to that day; `as_of_cut`: the forecast runs use nothing dated
    after the cut (`refuge.inference.asof.held`: schedules held, a network's spawning at its recent level)."""
    from scipy.stats import qmc

    from refuge.errors import RefugeError
    from refuge.evidence.series import group_members
    from refuge.inference.asof import as_of_scenario
    from refuge.inference.drift_fit import drift_sizes, fit_forecast, inner_cuts
    from refuge.inference.shares import share_groups
    from refuge.inference.simulator import uncertain_parameters
    from refuge.model.compiler import compile_scenario
    from refuge.results.simulate import as_model

    model = as_model(model_or_path)
    groups = group_members(model.series)
    if not model.series:
        raise RefugeError(f"{model.origin}: no time series to backtest on (evidence with `series`)")
    if group is None:
        group = next(iter(groups), None)  # no group: every series together
    elif group not in groups:
        raise RefugeError(f"group: expected one of {', '.join(groups) or '(none: the series have no group)'}; "
                          f"found {group!r}")
    until = until_from_cut(model, cut)
    uncertain = uncertain_parameters(model.scenario, model.origin)
    sc = model.scenario

    design = qmc.Sobol(len(uncertain), scramble=True, seed=seed).random_base2(max(int(np.ceil(np.log2(draws))), 1))
    candidates = [{u.name: sc.parameters[u.name].value for u in uncertain}]
    candidates += [{u.name: float(u.ppf(x)) for u, x in zip(uncertain, row)} for row in design]
    made: dict = {}  # the search's forward runs, scored again by the search to the inner cut
    trials, ranked, sims = _search(model, group, until, candidates, seeds, refit, refit_seeds, progress, made)
    values, train = ranked[0]
    # the forecast's parameters: the best fits, those within SPREAD of the best's error, in turn over the seeds
    near = inner_fits = _near(ranked)
    # drifts and camps' shares, by the forecasts from an inner cut of fits that saw nothing after it (the fits
    # to the whole training data saw the points those forecasts are scored on, and would prefer narrow bands)
    origins = []
    if drift_sizes(sc) or share_groups(model):
        for inner in inner_cuts(model, until):
            _, ranked_inner, n = _search(model, group, inner, candidates, seeds, refit, refit_seeds, False, made)
            origins.append((inner, _near(ranked_inner)))
            sims += n
    fit = fit_forecast(model, inner_fits, until, runs=forecast_seeds, as_of_cut=as_of_cut, origins=origins)
    sizes, drift_scores = fit.sizes, fit.scores
    values |= sizes
    draws = [near[i % len(near)] | sizes for i in range(forecast_seeds)]
    sims += max(len(drift_scores), 1 if fit.share_scores else 0) * forecast_seeds * max(len(origins), 1)
    # as of the cut, drifts declared for beyond the data start the day after it (`asof.as_of_scenario`)
    ahead = as_of_scenario(sc, until) if as_of_cut else sc
    fitted_model = compile_scenario(ahead.with_values(values), model.origin)
    hold = (until - model.start).days if as_of_cut else -1
    fitted = trimmed(fitted_model, forward(beyond(fitted_model, horizon), draws, 0, hold=hold))
    # the scenario's own values, for comparison (BASE_SEEDS: a median of run errors, not a band)
    own = compile_scenario(ahead, model.origin) if as_of_cut else model
    base = run_ards(model, forward(own, [{}] * min(forecast_seeds, BASE_SEEDS), 0, hold=hold), group,
                    until)["test"]
    before = sum(k[1] for k in made)
    base_train = _scored(model, candidates[0], refit_seeds, 2000, group, until, made)  # the scenario's values
    sims += forecast_seeds + min(forecast_seeds, BASE_SEEDS) + sum(k[1] for k in made) - before
    table = tables(fitted_model, fitted, until, Path(out) if out else None, method="search",
                   concentration=fit.concentration, signed=fit.signed)
    table.summary |= {"group": group, "values": values, "simulations": sims, "drift_scores": drift_scores,
                      "share_scores": fit.share_scores, "as_of_cut": as_of_cut,
                      "parameter_sets": len(near), "inner_cuts": [str(c) for c, _ in origins]}
    if out:
        write(table)
    return BacktestResult(cut=until + dt.timedelta(days=1), group=group, values=values, train=train,
                          forecast=_median(run_ards(model, fitted, group, until)["test"]),
                          baseline=_median(base), baseline_train=_median(base_train),
                          draws=len(candidates), simulations=sims, trials=trials, table=table)


def _scored(model: Any, values: dict, n: int, first_seed: int, group: str | None, until: dt.date,
            runs: dict | None = None) -> np.ndarray:
    """(n, 2): each seed's ARD (normal, rescaled) of the group on the days up to `until`. `runs`: forward runs
    already made, by (values, n, first seed); a run covers the whole period, so the search to an inner cut
    scores the same runs as the search to the cut on fewer days (new runs are added to it)."""
    from refuge.model.compiler import compile_scenario

    key = (tuple(sorted(values.items())), n, first_seed)
    fw = None if runs is None else runs.get(key)
    if fw is None:
        fw = forward(compile_scenario(model.scenario.with_values(values), model.origin) if values else model,
                     [{}] * n, first_seed)
        if runs is not None:
            runs[key] = fw
    return run_ards(model, fw, group, until)["train"]


def _search(model: Any, group: str | None, until: dt.date, candidates: list[dict], seeds: int, refit: int,
            refit_seeds: int, progress: bool, runs: dict | None = None) -> tuple[list, list, int]:
    """Score each candidate on the days up to `until` (median over `seeds` of the mean of normal and rescaled
    ARD), rescore the best `refit` with `refit_seeds`: (trials, ranked [(values, (normal, rescaled))], new runs
    made). `runs`: the forward runs of an earlier search, reused (`_scored`)."""
    from refuge.errors import ScenarioError

    runs = {} if runs is None else runs
    before = sum(k[1] for k in runs)
    trials = []
    for i, values in enumerate(candidates):
        try:
            a = _scored(model, values, seeds, 1000, group, until, runs)
        except ScenarioError:
            continue
        trials.append((values, float(np.median(a.mean(axis=1)))))
        if progress:
            print(f"\r  draw {i + 1}/{len(candidates)}", end="", flush=True)
    if progress:
        print()
    rescored = []
    for values, _ in sorted(trials, key=lambda tv: tv[1])[:refit]:
        rescored.append((values, _median(_scored(model, values, refit_seeds, 2000, group, until, runs))))
    return trials, sorted(rescored, key=lambda vt: vt[1][0] + vt[1][1]), sum(k[1] for k in runs) - before


def _near(ranked: list) -> list[dict]:
    """The best fits: those within SPREAD of the best's training error."""
    best = ranked[0][1][0] + ranked[0][1][1]
    return [v for v, t in ranked if t[0] + t[1] <= SPREAD * best]
