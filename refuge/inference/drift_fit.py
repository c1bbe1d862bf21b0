"""The size of a drifting driver, fitted on the training data by how well its forecasts score.

A drift's size (`refuge.sim.mechanisms.drift`) sets how fast a forecast's band widens. Fitted like the other
parameters, by the error of single runs, it would always come out near zero: noise only makes a run miss. So
the size is fitted by a proper score of the forecasts it gives, on the training data alone: the training
data points are cut again at two thirds of their dates; for each candidate size (quantiles of its prior) the
runs with the other fitted values forecast the last third from that inner cut, anchored at the data before it
(`refuge.inference.assimilate`); the size whose forecasts have the lowest mean CRPS on those points is kept.
The CRPS rewards a band exactly as wide as the misses it has to cover: too narrow and too wide both cost.
With several drifts, one quantile of their priors is searched for them all. Where the camps of a route
network share the runs' new arrivals (`refuge.inference.shares`), the concentration of their shares is fitted
with the sizes, on the same runs (`fit_forecast`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GRID = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)


def drift_sizes(scenario: Any) -> list[str]:
    """The parameters that set the size of a declared drift."""
    return list(dict.fromkeys(d.size for d in (getattr(scenario, "drift", None) or [])))


def inner_cut(model: Any, until: dt.date) -> dt.date | None:
    """Two thirds of the way through the training data dates (None with fewer than 4 of them)."""
    days = sorted({int(s["grid"][k]) for s in model.series for k in s["obs"]})
    dates = [d for d in (model.start + dt.timedelta(days=x) for x in days) if d <= until]
    if len(dates) < 4:
        return None
    return dates[min(int(len(dates) * 2 / 3), len(dates) - 2)]


@dataclass
class ForecastFit:
    """What the forecast fit keeps: the drift sizes, the camps' share concentration, and the scores tried."""

    sizes: dict[str, float] = field(default_factory=dict)
    concentration: float | None = None  # None: no share group (`refuge.inference.shares`)
    scores: list[tuple[float, float]] = field(default_factory=list)  # (prior quantile, mean CRPS), best share
    share_scores: list[tuple[float, float]] = field(default_factory=list)  # (concentration, mean CRPS), best size


def fit_drift(model: Any, values: dict[str, float] | list[dict[str, float]], until: dt.date, runs: int = 20,
              seed: int = 3000) -> tuple[dict[str, float], list[tuple[float, float]]]:
    """The drift sizes (with the prior) whose anchored forecasts from the inner cut score best on the training
    data after it: ({size parameter: value}, [(prior quantile, mean relative CRPS)]); ({}, []) when there is
    nothing to fit. `values`: the fitted values, or several fits that the runs take in turn (as the forecast
    runs do)."""
    fit = fit_forecast(model, values, until, runs, seed)
    return fit.sizes, fit.scores


def fit_forecast(model: Any, values: dict[str, float] | list[dict[str, float]], until: dt.date, runs: int = 20,
                 seed: int = 3000, as_of_cut: bool = False) -> ForecastFit:
    """`fit_drift`, and with it the concentration of the camps' shares of new arrivals (`refuge.inference.shares`)
    where the scenario has camps in a group: every pair of a drift size and a concentration is scored, the
    best pair kept (the runs are made once per size; the shares are drawn after them). `as_of_cut`: the runs
    use nothing dated after the inner cut (`refuge.inference.asof.held`)."""
    from refuge.inference.asof import as_of_scenario
    from refuge.inference.assimilate import assimilate
    from refuge.inference.backtest_core import forward
    from refuge.inference.shares import CONCENTRATIONS, as_json, share_groups
    from refuge.inference.simulator import series_points, uncertain_parameters
    from refuge.inference.skill import crps
    from refuge.model.compiler import compile_scenario

    unc = {u.name: u for u in uncertain_parameters(model.scenario, model.origin)}
    names = [n for n in drift_sizes(model.scenario) if n in unc]
    shares = list(CONCENTRATIONS) if share_groups(model) else [None]
    inner = inner_cut(model, until)
    if (not names and shares == [None]) or inner is None:
        return ForecastFit()
    pts = series_points(model)
    cols = [k for k, p in enumerate(pts) if inner < p["date"] <= until]
    data = np.array([pts[k]["value"] for k in cols])
    sets = values if isinstance(values, list) else [values]
    # as of the inner cut, drifts declared for beyond the data start after it, as the forecast's do after the cut
    scenario = as_of_scenario(model.scenario, inner) if as_of_cut else model.scenario
    table = {}  # (quantile or None, concentration) -> mean CRPS
    for q in GRID if names else [None]:
        trial = {} if q is None else {n: unc[n].to_value(q) for n in names}
        m = compile_scenario(scenario.with_values(sets[0] | trial), model.origin)
        fw = forward(m, [sets[i % len(sets)] | trial for i in range(runs)], seed,
                     hold=(inner - model.start).days if as_of_cut else -1)
        for c in shares:
            table[q, c] = float(np.nanmean(crps(data, assimilate(m, fw, inner, c, seed).points(m)[:, cols])))
    q, c = min(table, key=table.get)
    by_size = [table[x, c] for x in GRID] if names else []
    tie = bool(by_size) and max(by_size) - min(by_size) <= 1e-12 * max(1.0, abs(by_size[0]))
    # every size scores the same: the drifts do not act before the cut (they start after it, as a scenario's
    # drifts "beyond the data" do), so the inner forecast cannot tell sizes apart; the runs keep the sizes of
    # their own draws (their prior's spread) rather than the grid's first quantile
    return ForecastFit({} if q is None or tie else {n: unc[n].to_value(q) for n in names}, c,
                       [(x, min(v for (y, _), v in table.items() if y == x)) for x in GRID] if names else [],
                       [] if c is None else [(as_json(z), table[q, z]) for z in shares])
