"""The size of a drifting driver, fitted on the training data by how well its forecasts score.

A drift's size (`refuge.sim.mechanisms.drift`) sets how fast a forecast's band widens. Fitted like the other
parameters, by the error of single runs, it would always come out near zero: noise only makes a run miss. So
the size is fitted by a proper score of the forecasts it gives, on the training data alone: the training
data points are cut again at two thirds of their dates; for a candidate size (quantiles of its prior) the
runs with the other fitted values forecast the last third from that inner cut, anchored at the data before it
(`refuge.inference.assimilate`); the size whose forecasts have the lowest mean CRPS on those points is kept.
The CRPS rewards a band exactly as wide as the misses it has to cover: too narrow and too wide both cost, so
the score has one minimum over the sizes, and a ternary search (`bracket`) finds it trying 4 of the 6 sizes
(the same seeds for each: common random numbers).
With several drifts, one quantile of their priors is searched for them all. Where the camps of a route
network share the runs' new arrivals (`refuge.inference.shares`), the concentration of their shares is fitted
with the sizes, on the same runs, against the runs' own split of the arrivals over the camps (`fit_forecast`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GRID = (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)
LEAST_DATES = 6  # training data dates the forecasts from the inner cuts are scored at, at least (`inner_cuts`)


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


def inner_cuts(model: Any, until: dt.date, least: int = LEAST_DATES) -> list[dt.date]:
    """The inner cut (`inner_cut`), and earlier training data dates before it, latest first, until the
    forecasts from them are scored at `least` training data dates at least (each date counted once per cut it
    follows), never earlier than a third of the way through the training dates. A drift's size says how fast
    the misses grow with the horizon, and the counts of several camps on one date are forecast by the same runs
    from the same cut: they tell about one horizon, not several. So dates are counted, not points. A record of a
    few annual counts (the flagship: 2 to 4 dates after one inner cut) otherwise sizes its drift on one or two
    years' changes; a Flee case's camp counts on 7 or more dates after the inner cut keep one inner cut (counting
    points, mali2012's cut at 2012-07-26 took a second, thinly counted one and fitted a drift of 0.05 a week
    where one inner cut fitted 0.8)."""
    first = inner_cut(model, until)
    if first is None:
        return []
    days = sorted({int(s["grid"][k]) for s in model.series for k in s["obs"]})
    dates = [d for d in (model.start + dt.timedelta(days=x) for x in days) if d <= until]

    def after(c: dt.date) -> int:
        return sum(c < d for d in dates)

    cuts, scored = [first], after(first)
    for d in reversed(dates[len(dates) // 3:dates.index(first)]):
        if scored >= least:
            break
        cuts.append(d)
        scored += after(d)
    return cuts


@dataclass
class ForecastFit:
    """What the forecast fit keeps: the drift sizes, the camps' share concentration, and the scores tried."""

    sizes: dict[str, float] = field(default_factory=dict)
    concentration: float | None = None  # None: the runs' own split (or no share group; `refuge.inference.shares`)
    scores: list[tuple[float, float]] = field(default_factory=list)  # (prior quantile, mean CRPS), best share
    share_scores: list[tuple] = field(default_factory=list)  # (concentration, signed, mean CRPS), best size
    signed: bool = False  # the camps that emptied lately go on losing (`refuge.inference.shares.split`)


def fit_drift(model: Any, values: dict[str, float] | list[dict[str, float]], until: dt.date, runs: int = 20,
              seed: int = 3000) -> tuple[dict[str, float], list[tuple[float, float]]]:
    """The drift sizes (with the prior) whose anchored forecasts from the inner cut score best on the training
    data after it: ({size parameter: value}, [(prior quantile, mean relative CRPS)]); ({}, []) when there is
    nothing to fit. `values`: the fitted values, or several fits that the runs take in turn (as the forecast
    runs do)."""
    fit = fit_forecast(model, values, until, runs, seed)
    return fit.sizes, fit.scores


def fit_forecast(model: Any, values: dict[str, float] | list[dict[str, float]], until: dt.date, runs: int = 20,
                 seed: int = 3000, as_of_cut: bool = False,
                 origins: list[tuple[dt.date, list[dict[str, float]]]] | None = None) -> ForecastFit:
    """`fit_drift`, and with it the concentration of the camps' shares of new arrivals (`refuge.inference.shares`)
    where the scenario has camps in a group: every pair of a drift size and a concentration is scored, the
    best pair kept (the runs are made once per size; the shares are drawn after them). `as_of_cut`: the runs
    use nothing dated after the inner cut (`refuge.inference.asof.held`; drifts declared for beyond the data
    start after it). `origins`: several inner cuts, each with the fits made on the data up to it (`inner_cuts`);
    the score is the mean CRPS over all their points (default: the one inner cut, with `values`)."""
    from refuge.inference.asof import as_of_scenario
    from refuge.inference.assimilate import assimilate
    from refuge.inference.backtest_core import forward
    from refuge.inference.shares import CONCENTRATIONS, as_json, share_groups
    from refuge.inference.simulator import series_points, uncertain_parameters
    from refuge.inference.skill import crps
    from refuge.model.compiler import compile_scenario

    unc = {u.name: u for u in uncertain_parameters(model.scenario, model.origin)}
    names = [n for n in drift_sizes(model.scenario) if n in unc]
    # (None, False): the runs' own split of the new arrivals over the camps, each camp anchored at its count
    # (`refuge.inference.assimilate`); it is a candidate beside the shares, so that a camp the record had not
    # yet seen fill (burundi2015's Nduta, opened days before a cut) can take what the runs send it
    grouped = bool(share_groups(model))
    shares = [(None, False)] + ([(c, sg) for sg in (False, True) for c in CONCENTRATIONS] if grouped else [])
    inner = inner_cut(model, until)
    if (not names and not grouped) or inner is None:
        return ForecastFit()
    pts = series_points(model)
    origins = origins or [(inner, values if isinstance(values, list) else [values])]
    table = {}  # (quantile or None, (concentration, signed)) -> mean CRPS

    def score(i: int | None) -> float:
        """The best mean CRPS over the concentrations with the i-th size of GRID (None: no size), its runs made
        once (common random numbers: the same seeds for every size)."""
        q = None if i is None else GRID[i]
        trial = {} if q is None else {n: unc[n].to_value(q) for n in names}
        scores: dict = {c: [] for c in shares}
        for cut, sets in origins:
            cols = [k for k, p in enumerate(pts) if cut < p["date"] <= until]
            data = np.array([pts[k]["value"] for k in cols])
            # as of an inner cut, drifts declared for beyond the data start after it, as the forecast's do
            scenario = as_of_scenario(model.scenario, cut) if as_of_cut else model.scenario
            m = compile_scenario(scenario.with_values(sets[0] | trial), model.origin)
            fw = forward(m, [sets[j % len(sets)] | trial for j in range(runs)], seed,
                         hold=(cut - model.start).days if as_of_cut else -1)
            for c in shares:
                scores[c].append(crps(data, assimilate(m, fw, cut, c[0], seed, c[1]).points(m)[:, cols]))
        for c in shares:
            table[q, c] = float(np.nanmean(np.concatenate(scores[c])))
        return min(table[q, c] for c in shares)

    if names:
        bracket(score, len(GRID))
    else:
        score(None)
    q, c = min(table, key=table.get)
    tried = [x for x in GRID if (x, c) in table]
    by_size = [table[x, c] for x in tried]
    tie = bool(by_size) and max(by_size) - min(by_size) <= 1e-12 * max(1.0, abs(by_size[0]))
    # every size scores the same: the drifts do not act before the cut (they start after it, as a scenario's
    # drifts "beyond the data" do), so the inner forecast cannot tell sizes apart; the runs keep the sizes of
    # their own draws (their prior's spread) rather than the grid's first quantile
    return ForecastFit({} if q is None or tie else {n: unc[n].to_value(q) for n in names}, c[0],
                       [(x, min(v for (y, _), v in table.items() if y == x)) for x in tried],
                       [(as_json(z), sg, table[q, (z, sg)]) for z, sg in shares] if grouped else [], c[1])


def bracket(f: Any, n: int) -> int:
    """The index of the smallest f(i) over i = 0..n-1, for f with one minimum over the indices (the CRPS of a
    forecast against the size of its drift: too narrow and too wide both cost), by a ternary search that
    evaluates f at about 2 log(n) indices instead of n (each evaluation is a set of forecast runs; f is called
    once per index)."""
    seen: dict[int, float] = {}

    def at(i: int) -> float:
        if i not in seen:
            seen[i] = f(i)
        return seen[i]

    lo, hi = 0, n - 1
    while hi - lo > 2:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        a, b = at(m1), at(m2)
        if a < b:
            hi = m2 - 1
        elif a > b:
            lo = m1 + 1
        else:
            lo, hi = m1, m2
            if m2 - m1 <= 1:
                break
    return min(range(lo, hi + 1), key=at)
