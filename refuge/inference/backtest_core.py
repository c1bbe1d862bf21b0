"""What every backtest shares: the split of the evidence by date, the forward runs, the scores, the files.

A backtest fits a scenario on the evidence dated up to a day (`until`, the last training day) and scores what
it says after that day. Two ways of fitting use this core, each doing only its own part:

- `refuge.inference.backtest_posterior` (`refuge backtest --train-until DATE`): ABC-SMC on the facts and series
  points dated up to `until`, then runs drawn from the posterior;
- `refuge.inference.backtest` (`refuge backtest --cut DATE`): a search over the priors scored by the ARD of a
  series group on the days before the cut (`until` = the day before the cut), then runs of the best values.

Here, for both:

- **the split**: a fact is dated by the last day it speaks of, a series data point by its date (for a flow, the
  last day of its period), a day of a series' grid by itself; `train` is up to and including `until`, `test`
  after it (`side`, `fact_end`);
- **the forward runs** (`forward`): run r takes parameter draw r and seed `seed + r`, over the whole period;
  each gives its facts, its series on their grids and the series beyond their data (`forecast_periods`);
- **the scores**: per data point the median and central interval of the runs, the relative error of the median
  and whether the data fall inside (`point_table`); on each side, the ARD of the median and the coverage
  (`summarise`), and each run's ARD of a series group on a window of days, normal and rescaled (`window_ard`,
  Flee's measure, as `refuge check` computes it); per fact, the evidence table (`fact_table`);
- **the outputs**: backtest.json (settings, summary, every table), facts.csv, points.csv, forecast.csv and
  forecast.png, the bands against the data with the cut marked (`write`; the figure in
  `refuge.inference.backtest_figure`), and the terminal tables
  (`print_tables`) and report section (`report_section`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.inference.asof import held
from refuge.inference.backtest_figure import fitted_label
from refuge.inference.horizon import empty_reason, no_forecast_reason
from refuge.scenario import Scenario

LEVEL = 0.90
JSON_NAME = "backtest.json"
FIGURE_NAME = "forecast.png"


@dataclass
class Backtest:
    """A finished backtest: where it lives, what was trained on, and every score."""

    experiment: Path | None
    scenario: Scenario
    until: dt.date
    runs: int
    facts: Any  # DataFrame: one row per fact
    points: Any  # DataFrame: one row per series data point
    forecast: Any  # DataFrame: one row per series and forecast period
    summary: dict = field(default_factory=dict)
    calibration: Any = None
    method: str = "posterior"  # how it was fitted: "posterior" (ABC-SMC) or "search" (over the priors)
    units: dict = field(default_factory=dict)  # series id -> what its values count (`unit_label`), for the figure
    periods: dict = field(default_factory=dict)  # series id -> days a value counts over (0: a stock), for the figure


# --- the split ----------------------------------------------------------------------------------------------


def side(date: dt.date, until: dt.date) -> str:
    """`train` for a date up to and including `until`, else `test`."""
    return "train" if date <= until else "test"


def fact_end(model: Any, fact: dict) -> dt.date:
    """The last day a fact speaks of: its date, or the end of its period."""
    day = fact["days"][1] if "days" in fact else fact["day"]
    return model.start + dt.timedelta(days=int(day))


def until_from_cut(model: Any, cut: dt.date | None) -> dt.date:
    """The last training day for a cut (the first day scored as forecast; default: two thirds of the days)."""
    c = int(round(model.days * 2 / 3)) if cut is None else (cut - model.start).days
    if not 0 < c < model.days:
        raise RefugeError(f"cut: expected a date inside {model.start}..{model.scenario.end}; found {cut}")
    return model.start + dt.timedelta(days=c - 1)


def check_until(model: Any, until: dt.date, flag: str = "--train-until") -> None:
    """`until` must leave at least one day after it inside the scenario's period."""
    last = model.start + dt.timedelta(days=model.days - 1)
    if not model.start <= until < last:
        raise RefugeError(f"{flag}: expected a date from {model.start} to the day before the scenario's end "
                          f"{last}; found {until}")


# --- the forward runs ---------------------------------------------------------------------------------------


def forecast_periods(model: Any, s: dict) -> tuple[list[int], list[int]]:
    """The periods after a series' last data point, each as long as the last one (annual totals: the following
    calendar years; data dated at month ends: the following months or quarters; a stock without month-end dates:
    the following years), up to the scenario's end: (last days, first days). See `horizon.period_months`."""
    from refuge.inference.horizon import later, period_months

    last = int(s["grid"][s["obs"][-1]]) if len(s["obs"]) else -1
    if last < 0:
        return [], []
    end_date = model.start + dt.timedelta(days=last)
    flow = s["kind"] == "flow"
    length = (last - int(s["starts"][s["obs"][-1]]) + 1 if flow else
              last - int(s["grid"][s["obs"][-2]]) if len(s["obs"]) > 1 else 365)
    months = period_months(end_date, length, flow)
    ends, starts = [], []
    k, prev = 1, last
    while True:
        day = (later(end_date, k * months) - model.start).days if months else last + k * length
        if day >= model.days:
            break
        ends.append(day)
        starts.append(prev + 1)
        prev, k = day, k + 1
    return ends, starts


def forecast_all(model: Any) -> tuple:
    """`forecast_periods` of each series whose last data point is the latest of all series, and of every camp of
    its share group (`refuge.inference.shares`); another series (stopping earlier, say) is not forecast."""
    from refuge.inference.shares import share_groups

    def last(s: dict) -> int:
        return int(s["grid"][s["obs"][-1]]) if len(s["obs"]) else -1

    latest = max((last(s) for s in model.series), default=-1)
    out = [forecast_periods(model, s) if last(s) == latest else ([], []) for s in model.series]
    for members in share_groups(model):  # camps sharing one inflow: all forecast at the latest camp's periods
        lead = [out[k] for k in members if out[k][0]]
        out = [lead[0] if k in members and lead else x for k, x in enumerate(out)]
    return tuple(out)


@dataclass(frozen=True)
class _Forward:
    scenario: Scenario
    origin: str | None
    digest: str  # of the scenario as given: the cache key of its compiled draws
    draws: tuple
    seed: int
    ahead: tuple  # per series: (ends, starts) of the forecast periods
    hold: int = -1  # as of the cut: every parameter held after this day (`refuge.inference.asof.held`)


_MODELS: dict[tuple, Any] = {}


def _forward_one(spec: _Forward, r: int) -> dict[str, Any]:
    """Run r: its facts, its series on their grids, and its values at the forecast periods."""
    from refuge.evidence.measures import measure_all
    from refuge.evidence.series import simulate_all, simulate_series
    from refuge.model.compiler import compile_scenario
    from refuge.results.simulate import simulate

    draw = spec.draws[r]
    key = (spec.digest, tuple(sorted(draw.items())))
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 64:
            _MODELS.clear()
        model = _MODELS[key] = compile_scenario(spec.scenario.with_values(draw) if draw else spec.scenario,
                                                spec.origin)
    run = simulate(held(model, spec.hold) if spec.hold >= 0 else model, seed=spec.seed + r)
    ahead = [simulate_series(run, dict(s, grid=np.asarray(ends, np.int64), starts=np.asarray(starts, np.int64)))
             for s, (ends, starts) in zip(model.series, spec.ahead)]
    return {"facts": measure_all(run), "series": simulate_all(run),
            "ahead": np.concatenate(ahead) if ahead else np.zeros(0)}


@dataclass
class Forward:
    """The forward runs of a backtest: per run, its facts, its series (one array per series, on the series'
    grid) and the series beyond their data (`ahead`, the periods of `forecast_periods`)."""

    facts: np.ndarray  # (runs, facts)
    series: list[np.ndarray]  # per series: (runs, grid)
    ahead: np.ndarray  # (runs, forecast periods of all series)
    periods: tuple  # per series: (ends, starts)

    def points(self, model: Any) -> np.ndarray:
        """(runs, data points) in the order of `refuge.inference.simulator.series_points`."""
        cols = [v[:, s["obs"]] for v, s in zip(self.series, model.series)]
        return np.concatenate(cols, axis=1) if cols else np.zeros((self.facts.shape[0], 0))

    def run_series(self, r: int) -> list[np.ndarray]:
        """Run r's series, as `refuge.evidence.series.simulate_all` gives them."""
        return [v[r] for v in self.series]


def forward(model: Any, draws: list[dict], seed: int = 0, *, workers: int | None = 1, cluster: str | None = None,
            progress: Any = False, hold: int = -1) -> Forward:
    """Run draw r with seed `seed + r` over the whole period (an empty draw: the model as is; `hold`: asof.held)."""
    from refuge.experiments.ensemble import map_runs

    periods = forecast_all(model)
    spec = _Forward(model.scenario, model.origin, model.digest, tuple(draws), int(seed), periods, hold)
    given = (model.digest, ())
    kept = given in _MODELS
    _MODELS[given] = model  # an empty draw runs the model as given (forked workers inherit it)
    runs = len(draws)
    try:
        res = map_runs(partial(_forward_one, spec), range(runs), workers=workers, cluster=cluster, progress=progress)
    finally:
        if not kept:
            _MODELS.pop(given, None)
    facts = np.array([r["facts"] for r in res], float).reshape(runs, len(model.evidence))
    series = [np.array([r["series"][k] for r in res], float).reshape(runs, -1) for k in range(len(model.series))]
    ahead = np.array([r["ahead"] for r in res], float).reshape(runs, -1)
    return Forward(facts, series, ahead, periods)


# --- the scores ---------------------------------------------------------------------------------------------


def window_ard(model: Any, values: list[np.ndarray], group: str | None, d0: int, d1: int) -> tuple[float, float]:
    """ARD (normal, rescaled) of one run's series over the days d0..d1 (inclusive): the series of `group`
    together, or every series together when `group` is None."""
    from refuge.evidence.series import aligned, daily_errors, group_members

    members = group_members(model.series)[group] if group is not None else list(range(len(model.series)))
    days = np.unique(np.concatenate([model.series[k]["grid"] for k in members]))
    sim, data = aligned(model.series, members, values)
    keep = (days >= d0) & (days <= d1)
    out = []
    for rescaled in (False, True):
        e = daily_errors(sim[keep], data[keep], rescaled)
        e = e[~np.isnan(e)]
        out.append(float(e.mean()) if e.size else float("nan"))
    return out[0], out[1]


def run_ards(model: Any, fw: Forward, group: str | None, until: dt.date) -> dict[str, np.ndarray]:
    """Each run's window ARD (normal, rescaled) before and after the cut: {"train": (runs, 2), "test": ...}."""
    u = (until - model.start).days
    return {name: np.array([window_ard(model, fw.run_series(r), group, d0, d1) for r in range(fw.facts.shape[0])])
            for name, (d0, d1) in (("train", (0, u)), ("test", (u + 1, model.days - 1)))}


def fact_table(model: Any, values: np.ndarray, until: dt.date, level: float = LEVEL) -> Any:
    """The evidence table of the forward runs, each fact marked train or test by the last day it speaks of."""
    from refuge.evidence.measures import evaluate

    df = evaluate(model, values, level=level)
    ends = [fact_end(model, f) for f in model.evidence]
    df.insert(1, "split", [side(e, until) for e in ends])
    df.insert(2, "end", [str(e) for e in ends])
    return df


def point_table(model: Any, values: np.ndarray, until: dt.date, level: float = LEVEL) -> Any:
    """One row per series data point: data, median and band of the runs (`skill.band`), relative error, inside
    or not."""
    import pandas as pd

    from refuge.inference.simulator import series_points
    from refuge.inference.skill import band

    rows = []
    for k, p in enumerate(series_points(model)):
        col = values[:, k]
        col = col[~np.isnan(col)]
        med, lo, hi = (float(np.median(col)), *map(float, band(col, level))) if col.size else (math.nan,) * 3
        rows.append({"series": p["series"], "date": str(p["date"]), "split": side(p["date"], until),
                     "data": p["value"], "median": med, "low": lo, "high": hi,
                     "error": abs(med - p["value"]) / max(p["value"], 1.0),
                     "inside": bool(lo - 1e-9 <= p["value"] <= hi + 1e-9)})
    return pd.DataFrame(rows, columns=["series", "date", "split", "data", "median", "low", "high", "error",
                                       "inside"])


def forecast_table(model: Any, ahead: tuple, values: np.ndarray, level: float = LEVEL) -> Any:
    """One row per series and forecast period (beyond the data): its end date, median and band (`skill.band`)."""
    import pandas as pd

    from refuge.inference.skill import band

    rows, k = [], 0
    for s, (ends, starts) in zip(model.series, ahead):
        for end, start in zip(ends, starts):
            col = values[:, k]
            col = col[~np.isnan(col)]
            k += 1
            rows.append({"series": s["id"], "from": str(model.start + dt.timedelta(days=int(start))) if
                         s["kind"] == "flow" else "", "date": str(model.start + dt.timedelta(days=int(end))),
                         "median": float(np.median(col)), **dict(zip(("low", "high"), map(float, band(col, level))))})
    return pd.DataFrame(rows, columns=["series", "from", "date", "median", "low", "high"])


def tables(model: Any, fw: Forward, until: dt.date, experiment: Path | None, *, method: str,
           level: float = LEVEL, calibration: Any = None, start: str = "observed",
           concentration: float | None = None, signed: bool = False) -> Backtest:
    """The backtest of these forward runs: facts, points and forecast tables, and the summary on each side.

    `start`: "observed" anchors each run's forecast at the last data point before the cut
    (`refuge.inference.assimilate`); "scenario" reads it off the runs as they ran from the scenario's start.
    The summary scores both (`skill` for the one chosen, `skill_other` for the other). `concentration`: the
    camps of a route network share the runs' new arrivals as the record did (`refuge.inference.shares`;
    `signed`: camps that emptied lately go on losing)."""
    from refuge.inference.assimilate import assimilate

    if start not in ("observed", "scenario"):
        raise RefugeError(f"start: expected observed or scenario; found {start!r}")
    free = fw
    if start == "observed":
        fw = assimilate(model, fw, until, concentration, signed=signed)
    bt = Backtest(experiment, model.scenario, until, fw.facts.shape[0],
                  facts=fact_table(model, fw.facts, until, level), points=point_table(model, fw.points(model),
                                                                                      until, level),
                  forecast=forecast_table(model, fw.periods, fw.ahead, level), calibration=calibration,
                  method=method, units={x["id"]: unit_label(x) for x in model.series},
                  periods={x["id"]: period_days(x) for x in model.series})
    bt.summary = summarise(bt, level)
    bt.summary["start"] = start
    if concentration is not None:
        from refuge.inference.shares import as_json

        bt.summary["share_concentration"] = as_json(concentration)
        bt.summary["share_signed"] = signed
    bt.summary["skill"] = skill_summary(model, fw, until)
    if start == "observed":
        bt.summary["skill_other"] = skill_summary(model, free, until)
    return bt


def skill_summary(model: Any, fw: Forward, until: dt.date, reference: str = "") -> dict:
    """The held-out scores (`refuge.inference.heldout`): points against the baselines, Flee's daily ARD per
    group, and the verdict; or why there is nothing to score."""
    from refuge.evidence.other_error import backtest_errors, clause
    from refuge.inference.heldout import group_scores, point_scores
    from refuge.inference.skill import verdict

    pts = point_scores(model, fw.points(model), until)
    out = {"points": pts, "groups": group_scores(model, fw.series, until)}
    out["other_error"] = backtest_errors(model, until, out["groups"])
    named = "; ".join([reference] * bool(reference) + [clause(n, r) for n, r in out["other_error"].items()])
    out["verdict"] = verdict(pts, named) if pts["points"] else empty_reason(model, until)
    return out


def summarise(bt: Backtest, level: float = LEVEL) -> dict:
    """ARD and coverage of the series points, and the facts holding, on each side of the training cut."""
    out: dict[str, Any] = {"method": bt.method, "train_until": str(bt.until), "runs": bt.runs, "level": level}
    for split in ("train", "test"):
        pts = bt.points[bt.points["split"] == split]
        facts = bt.facts[bt.facts["split"] == split]
        out[split] = {
            "points": int(len(pts)),
            "ard": float(pts["error"].mean()) if len(pts) else None,
            "coverage": float(pts["inside"].mean()) if len(pts) else None,
            "facts": int(len(facts)),
            "facts_holding_median": int(facts["holds_median"].sum()),
            "mean_share_holding": float(facts["share_holding"].mean()) if len(facts) else None,
            "mean_score": float(facts["score"].mean()) if len(facts) else None,
            "series": {name: {"points": int(len(g)), "ard": float(g["error"].mean()),
                              "coverage": float(g["inside"].mean())}
                       for name, g in pts.groupby("series", sort=False)},
        }
    return out


# --- files, tables and the figure ---------------------------------------------------------------------------


def write(bt: Backtest) -> None:
    """Write a backtest's tables, JSON and figure to its directory."""
    from refuge.numbers import json_ready
    from refuge.results.files import atomic_write, write_frame

    e = bt.experiment
    if e is None:
        raise RefugeError("backtest: no directory to write to")
    for name, df in (("facts", bt.facts), ("points", bt.points), ("forecast", bt.forecast)):
        write_frame(df, e / f"{name}.csv")
    doc = {"scenario": bt.scenario.name, "summary": bt.summary, "facts": bt.facts.to_dict(orient="records"),
           "points": bt.points.to_dict(orient="records"), "forecast": bt.forecast.to_dict(orient="records")}
    atomic_write(e / JSON_NAME, lambda p: p.write_text(json.dumps(json_ready(doc), indent=2), encoding="utf-8"))
    from refuge.inference.backtest_figure import plot

    plot(bt, e / FIGURE_NAME)


def load(experiment: str | Path) -> dict:
    """A stored backtest (backtest.json) as a dict."""
    p = Path(experiment) / JSON_NAME
    if not p.exists():
        raise RefugeError(f"{experiment}: not a backtest (no {JSON_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))


def unit_label(s: dict) -> str:
    """What a compiled series' values count, for a figure's axis: people on the date (a stock), or people over
    the period ending on the date (a flow: a year, a quarter, a month, or its length in days)."""
    if s["kind"] != "flow":
        return "people (count on the date)"
    days = period_days(s)
    for low, high, name in ((335, 397, "a year"), (88, 93, "a quarter"), (28, 31, "a month"), (7, 7, "a week"),
                            (1, 1, "a day")):
        if low <= days <= high:
            return f"people {name} (count over the {name[2:]} to the date)"
    return f"people in {days} days (count over the period to the date)"


def period_days(s: dict) -> int:
    """Days each value of a compiled series counts over (the median over its points; 0 for a stock)."""
    obs = np.asarray(s["obs"], int)
    if s["kind"] != "flow" or not obs.size:
        return 0
    return int(np.median(s["grid"][obs] - s["starts"][obs] + 1))


def print_tables(bt: Backtest, console: Any = None) -> None:
    """Print a backtest's tables for a terminal: the series points, the forecast beyond the data with its
    90% bands, the facts after the cut, and the summary on each side."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=160)
    pts = Table(title=f"{bt.scenario.name}: series data against the {fitted_label(bt)} runs trained up to {bt.until} "
                      f"({bt.runs} runs; median [90% band])")
    for c in ("series", "date", "split", "data", "model", "error", "inside"):
        pts.add_column(c, justify="left" if c in ("series", "date", "split") else "right")
    for r in bt.points.itertuples(index=False):
        pts.add_row(r.series, r.date, r.split, f"{r.data:,.0f}", f"{r.median:,.0f} [{r.low:,.0f}–{r.high:,.0f}]",
                    f"{r.error:.2f}", "yes" if r.inside else "[red]no[/]")
    console.print(pts)
    if len(bt.forecast):
        fc = Table(title="forecast beyond the data: median [90% band]")
        for c in ("series", "period", "forecast"):
            fc.add_column(c, justify="right" if c == "forecast" else "left")
        for r in bt.forecast.itertuples(index=False):
            fc.add_row(r.series, f"{r[1]}..{r.date}" if r[1] else r.date,
                       f"{r.median:,.0f} [{r.low:,.0f}–{r.high:,.0f}]")
        console.print(fc)
    else:
        console.print(f"no forecast beyond the data: {no_forecast_reason(bt)}")
    test = bt.facts[bt.facts["split"] == "test"]
    if len(test):
        ft = Table(title=f"facts dated after {bt.until} (not trained on)")
        for c in ("fact", "end", "bound", "median [90%]", "holds", "runs holding", "score"):
            ft.add_column(c)
        for r in test.itertuples(index=False):
            ft.add_row(r.id, r.end, r.bound, f"{r.median:,.4g} [{r.low:,.4g}–{r.high:,.4g}]",
                       "yes" if r.holds_median else "no", f"{r.share_holding:.0%}", f"{r.score:.2f}")
        console.print(ft)
    s = bt.summary
    for split in ("train", "test"):
        x = s[split]
        ard = "–" if x["ard"] is None else f"{x['ard']:.3f}"
        cov = "–" if x["coverage"] is None else f"{x['coverage']:.0%}"
        console.print(f"{split}: {x['points']} series points, ARD of the median {ard}, 90% coverage {cov}; "
                      f"{x['facts']} facts, "
                      f"{x['facts_holding_median']} holding in the median run")
        if len(x.get("series", {})) > 1:
            for name, y in x["series"].items():
                console.print(f"  {name}: {y['points']} points, ARD of the median {y['ard']:.3f}, 90% coverage "
                              f"{y['coverage']:.0%}")
    if "skill" in s:
        from refuge.inference.heldout import print_skill

        print_skill(s["skill"], console)
    if "seconds" in s:
        console.print(f"{s['seconds']:.0f} s ({s['fit_seconds']:.0f} s fitting, {s['simulations']:,} "
                      f"simulations)" + (f"; wrote {bt.experiment}" if bt.experiment else ""))


def report_section(exp: Any) -> dict | None:
    """What `refuge report` shows of a backtest, for the posterior runs of its calibration (or None)."""
    import base64

    from refuge.sim.mechanisms.drift import describe_drifts

    post = (exp.meta or {}).get("posterior")
    if not post:
        return None
    folder = Path(post["experiment"]).parent
    if not (folder / JSON_NAME).exists():
        return None
    doc = load(folder)
    fig = folder / FIGURE_NAME
    uri = ("data:image/png;base64," + base64.b64encode(fig.read_bytes()).decode("ascii")) if fig.exists() else ""
    drift = describe_drifts(exp.scenario, doc["summary"].get("drift_sizes") or doc["summary"].get("values") or {})
    return {"path": str(folder), "summary": doc["summary"], "points": doc["points"], "forecast": doc["forecast"],
            "facts": [f for f in doc["facts"] if f["split"] == "test"], "figure": uri, "drift": drift}
