"""Backtest on time-series evidence: fit the uncertain parameters on the days up to a cut, forecast after it.

    from refuge.inference.backtest import backtest
    result = backtest("mali2012")          # cut at two thirds of the days
    result.values                           # the parameters that fit the first part best
    result.forecast, result.baseline        # ARD (normal, rescaled) after the cut: fitted, and as the scenario says

The fit is a search, not a posterior: draws from the priors (a scrambled Sobol design), each scored by the
median over a few seeds of the mean of the normal and rescaled ARD of the series group on the training days; the best few are scored again
with more seeds and the best of those is kept. Forecast skill, not in-sample fit, is what it reports: the
ARD on the days after the cut, median over `forecast_seeds` seeds, for the fitted values and for the
scenario's own. The data after the cut are never used in the fit (inputs such as spawning totals are, as
Flee uses them: they drive the simulation, they are not what is scored).
"""

from __future__ import annotations

from typing import Any

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from refuge.evidence.series import aligned, daily_errors, group_members, simulate_all


@dataclass
class BacktestResult:
    cut: dt.date
    group: str
    values: dict[str, float]
    train: tuple[float, float]  # ARD normal, rescaled on the training days (fitted values, refit seeds)
    forecast: tuple[float, float]  # after the cut, fitted values
    baseline: tuple[float, float]  # after the cut, the scenario's values
    baseline_train: tuple[float, float]
    draws: int
    simulations: int
    trials: list[tuple[dict[str, float], float]] = field(default_factory=list)


def window_ard(model: Any, values: list[np.ndarray], group: str, d0: int, d1: int) -> tuple[float, float]:
    """ARD (normal, rescaled) of a series group over the days d0..d1 (inclusive) of one run's series."""
    members = group_members(model.series)[group]
    days = np.unique(np.concatenate([model.series[k]["grid"] for k in members]))
    sim, data = aligned(model.series, members, values)
    keep = (days >= d0) & (days <= d1)
    out = []
    for rescaled in (False, True):
        e = daily_errors(sim[keep], data[keep], rescaled)
        e = e[~np.isnan(e)]
        out.append(float(e.mean()) if e.size else float("nan"))
    return out[0], out[1]


def _score(model, seeds, group, d0, d1, first_seed=0) -> np.ndarray:
    from refuge.api import simulate

    return np.array([window_ard(model, simulate_all(simulate(model, seed=first_seed + s)), group, d0, d1)
                     for s in range(seeds)])


def backtest(model_or_path: Any, cut: dt.date | None = None, group: str | None = None, draws: int = 48, seeds: int = 3,
             refit: int = 5, refit_seeds: int = 10, forecast_seeds: int = 20, seed: int = 0,
             progress: bool = False) -> BacktestResult:
    """Fit the uncertain parameters to the time-series evidence up to `cut`, forecast the rest, and score the
    forecast against the series after `cut` (see the module docstring)."""
    from scipy.stats import qmc

    from refuge.api import as_model
    from refuge.errors import RefugeError, ScenarioError
    from refuge.inference.simulator import uncertain_parameters
    from refuge.model.compiler import compile_scenario

    model = as_model(model_or_path)
    groups = group_members(model.series)
    if not groups:
        raise RefugeError(f"{model.origin}: no group of time series to backtest on (evidence with `series` "
                          "and `group`)")
    group = group or next(iter(groups))
    if group not in groups:
        raise RefugeError(f"group: expected one of {', '.join(groups)}; found {group!r}")
    T = model.days
    c = int(round(T * 2 / 3)) if cut is None else (cut - model.start).days
    if not 0 < c < T:
        raise RefugeError(f"cut: expected a date inside {model.start}..{model.scenario.end}; found {cut}")
    cut_date = model.start + dt.timedelta(days=c)
    uncertain = uncertain_parameters(model.scenario, model.origin)
    sc = model.scenario

    def compiled(values):
        return compile_scenario(sc.with_values(values), model.origin)

    sims = 0
    design = qmc.Sobol(len(uncertain), scramble=True, seed=seed).random_base2(max(int(np.ceil(np.log2(draws))), 1))
    candidates = [{u.name: sc.parameters[u.name].value for u in uncertain}]
    candidates += [{u.name: float(u.ppf(x)) for u, x in zip(uncertain, row)} for row in design]
    trials = []
    for i, values in enumerate(candidates):
        try:
            m = compiled(values)
        except ScenarioError:
            continue
        a = _score(m, seeds, group, 0, c - 1, first_seed=1000)
        sims += seeds
        trials.append((values, float(np.median(a.mean(axis=1)))))
        if progress:
            print(f"\r  draw {i + 1}/{len(candidates)}", end="", flush=True)
    if progress:
        print()
    best = sorted(trials, key=lambda tv: tv[1])[:refit]
    rescored = []
    for values, _ in best:
        a = _score(compiled(values), refit_seeds, group, 0, c - 1, first_seed=2000)
        sims += refit_seeds
        rescored.append((values, tuple(np.median(a, axis=0))))
    values, train = min(rescored, key=lambda vt: vt[1][0] + vt[1][1])
    fitted = _score(compiled(values), forecast_seeds, group, c, T - 1)
    base = _score(model, forecast_seeds, group, c, T - 1)
    base_train = _score(model, refit_seeds, group, 0, c - 1, first_seed=2000)
    sims += 2 * forecast_seeds + refit_seeds
    return BacktestResult(cut=cut_date, group=group, values=values, train=tuple(map(float, train)),
                          forecast=tuple(map(float, np.median(fitted, axis=0))),
                          baseline=tuple(map(float, np.median(base, axis=0))),
                          baseline_train=tuple(map(float, np.median(base_train, axis=0))),
                          draws=len(candidates), simulations=sims, trials=trials)
