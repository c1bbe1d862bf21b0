"""Backtest: calibrate on the evidence dated up to a day, run the posterior forward, score what came after.

Forecast skill, not in-sample fit, is what earns a model trust. `backtest(scenario, until, out)`:

1. calibrates the scenario (ABC-SMC, `refuge.inference.calibrate`) on the facts and series data points dated
   up to `until` (a fact is dated by the last day it speaks of); facts and points after it are left out of the
   distance;
2. runs `runs` draws of that posterior over the whole scenario period (run r: draw r, seed seed + r);
3. scores every fact and every series data point, each marked `train` (dated up to `until`) or `test`:
   for a series, the posterior median and central 90% interval at each point, its relative error, whether
   the data fall inside the interval; ARD (Flee's averaged relative difference, of the posterior median)
   and interval coverage, over the train and the test points; for a fact, the median and interval,
   whether its bound holds, the share of runs holding and the probability score (`refuge.evidence.scores`);
4. forecasts each series beyond its last data point, period by period of the same length (for annual
   totals: each calendar year to the end of the scenario), with 90% bands.

Writes to `out`: calibration/ (the calibration experiment), backtest.json (settings, summary, every table),
facts.csv, points.csv, forecast.csv and forecast.png (bands against the data, the training cut marked).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.scenario import Scenario

LEVEL = 0.90
# Calibration settings of a backtest unless given: a smaller population than `refuge calibrate`'s default
# (the backtest must fit in minutes), and one-off counts weighed by the best share any rate could reach.
DEFAULT_SETTINGS = {"population": 60, "budget": 3000, "generations": 8, "weights": "reach"}
JSON_NAME = "backtest.json"
FIGURE_NAME = "forecast.png"
CALIBRATION_DIR = "calibration"


@dataclass
class Backtest:
    """A finished backtest: where it lives, what was trained on, and every score."""

    experiment: Path
    scenario: Scenario
    until: dt.date
    runs: int
    facts: Any  # DataFrame: one row per fact
    points: Any  # DataFrame: one row per series data point
    forecast: Any  # DataFrame: one row per series and forecast period
    summary: dict = field(default_factory=dict)
    calibration: Any = None


# --- the forward runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Forward:
    scenario: Scenario
    draws: tuple
    seed: int
    ahead: tuple  # per series: (ends, starts) of the forecast periods


_MODELS: dict[tuple, Any] = {}


def _forward(spec: _Forward, r: int) -> dict[str, np.ndarray]:
    """Run r of the posterior: its facts, its values at the series points and at the forecast periods."""
    from refuge.api import simulate
    from refuge.evidence.measures import measure_all
    from refuge.evidence.series import simulate_series
    from refuge.inference.simulator import series_values
    from refuge.model.compiler import compile_scenario

    draw = spec.draws[r]
    key = tuple(sorted(draw.items()))
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) > 64:
            _MODELS.clear()
        model = _MODELS[key] = compile_scenario(spec.scenario.with_values(draw))
    run = simulate(model, seed=spec.seed + r)
    ahead = [simulate_series(run, dict(s, grid=np.asarray(ends, np.int64), starts=np.asarray(starts, np.int64)))
             for s, (ends, starts) in zip(model.series, spec.ahead)]
    return {"facts": measure_all(run), "points": series_values(run),
            "ahead": np.concatenate(ahead) if ahead else np.zeros(0)}


def forecast_periods(model: Any, s: dict) -> tuple[list[int], list[int]]:
    """The periods after a series' last data point, each as long as the last one (for annual totals: the
    following calendar years), up to the scenario's end: (last days, first days)."""
    last = int(s["grid"][s["obs"][-1]]) if len(s["obs"]) else -1
    if last < 0:
        return [], []
    end_date = model.start + dt.timedelta(days=last)
    if s["kind"] == "flow":
        first = int(s["starts"][s["obs"][-1]])
        start_date = model.start + dt.timedelta(days=first)
        years = round((end_date - start_date).days / 365.25) or 0
    else:
        years = 1
    ends, starts = [], []
    k, prev = 1, last
    while True:
        if years >= 1:
            try:
                nxt = end_date.replace(year=end_date.year + k * years)
            except ValueError:  # 29 February
                nxt = end_date.replace(year=end_date.year + k * years, day=28)
            day = (nxt - model.start).days
        else:
            day = last + k * (last - first + 1)
        if day >= model.days:
            break
        ends.append(day)
        starts.append(prev + 1)
        prev, k = day, k + 1
    return ends, starts


# --- the backtest ---------------------------------------------------------------------------------------


def backtest(scenario: Scenario, until: dt.date, out: str | Path, *, runs: int = 200, seed: int = 0,
             settings: Any=None, workers: int | None = None, cluster: str | None = None, progress: Any=None,
             origin: str = "", level: float = LEVEL) -> Backtest:
    """Calibrate on the evidence dated up to `until`, forecast with the posterior, score both sides."""
    from refuge.experiments.ensemble import map_runs
    from refuge.inference.calibrate import Settings, calibrate
    from refuge.inference.posterior import sample_posterior
    from refuge.model.compiler import compile_scenario

    t0 = time.perf_counter()
    out = Path(out)
    model = compile_scenario(scenario, origin or None)
    if not model.start <= until < model.start + dt.timedelta(days=model.days - 1):
        raise RefugeError(f"--train-until: expected a date from {model.start} to the day before the scenario's end "
                          f"{model.start + dt.timedelta(days=model.days - 1)}; found {until}")
    settings = settings or Settings(**DEFAULT_SETTINGS)
    settings.until = until
    cal = calibrate(model.scenario, out / CALIBRATION_DIR, settings, workers=workers, cluster=cluster,
                    progress=progress, predictive_runs=min(runs, 20), origin=origin)
    t_cal = time.perf_counter() - t0
    draws = sample_posterior(out / CALIBRATION_DIR, runs, seed=seed)
    ahead = tuple(forecast_periods(model, s) for s in model.series)
    spec = _Forward(model.scenario, tuple(draws), int(seed), ahead)
    res = map_runs(partial(_forward, spec), range(runs), workers=workers, cluster=cluster,
                   progress="backtest: posterior runs" if progress else False)
    facts = np.array([r["facts"] for r in res], float).reshape(runs, len(model.evidence))
    points = np.array([r["points"] for r in res], float).reshape(runs, -1)
    fut = np.array([r["ahead"] for r in res], float).reshape(runs, -1)
    bt = Backtest(out, model.scenario, until, runs,
                  facts=fact_table(model, facts, until, level), points=point_table(model, points, until, level),
                  forecast=forecast_table(model, ahead, fut, level), calibration=cal)
    bt.summary = summarise(bt, level) | {"seconds": time.perf_counter() - t0, "calibration_seconds": t_cal,
                                         "simulations": cal.simulations, "seed": seed, "level": level,
                                         "settings": {k: str(v) if isinstance(v, dt.date) else v
                                                      for k, v in vars(settings).items()}}
    write(bt)
    return bt


def _split(date: dt.date, until: dt.date) -> str:
    return "train" if date <= until else "test"


def fact_table(model: Any, values: np.ndarray, until: dt.date, level: float = LEVEL) -> Any:
    """The evidence table of the forward runs, each fact marked train or test by the last day it speaks of."""
    from refuge.evidence.measures import evaluate
    from refuge.inference.calibrate import fact_end

    df = evaluate(model, values, level=level)
    ends = [fact_end(model, f) for f in model.evidence]
    df.insert(1, "split", [_split(e, until) for e in ends])
    df.insert(2, "end", [str(e) for e in ends])
    return df


def point_table(model: Any, values: np.ndarray, until: dt.date, level: float = LEVEL) -> Any:
    """One row per series data point: data, posterior median and interval, relative error, inside or not."""
    import pandas as pd

    from refuge.inference.simulator import series_points

    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for k, p in enumerate(series_points(model)):
        col = values[:, k]
        col = col[~np.isnan(col)]
        med, lo, hi = (float(np.median(col)), *map(float, np.quantile(col, [lo_q, hi_q]))) if col.size else \
            (math.nan,) * 3
        rows.append({"series": p["series"], "date": str(p["date"]), "split": _split(p["date"], until),
                     "data": p["value"], "median": med, "low": lo, "high": hi,
                     "error": abs(med - p["value"]) / max(p["value"], 1.0),
                     "inside": bool(lo - 1e-9 <= p["value"] <= hi + 1e-9)})
    return pd.DataFrame(rows, columns=["series", "date", "split", "data", "median", "low", "high", "error",
                                       "inside"])


def forecast_table(model: Any, ahead: tuple, values: np.ndarray, level: float = LEVEL) -> Any:
    """One row per series and forecast period (beyond the data): its end date, median and interval."""
    import pandas as pd

    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows, k = [], 0
    for s, (ends, starts) in zip(model.series, ahead):
        for end, start in zip(ends, starts):
            col = values[:, k]
            col = col[~np.isnan(col)]
            k += 1
            rows.append({"series": s["id"], "from": str(model.start + dt.timedelta(days=int(start))) if
                         s["kind"] == "flow" else "", "date": str(model.start + dt.timedelta(days=int(end))),
                         "median": float(np.median(col)), "low": float(np.quantile(col, lo_q)),
                         "high": float(np.quantile(col, hi_q))})
    return pd.DataFrame(rows, columns=["series", "from", "date", "median", "low", "high"])


def summarise(bt: Backtest, level: float = LEVEL) -> dict:
    """ARD and coverage of the series points, and the facts holding, on each side of the training cut."""
    out: dict[str, Any] = {"train_until": str(bt.until), "runs": bt.runs}
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
        }
    return out


# --- files, tables and the figure -----------------------------------------------------------------------


def write(bt: Backtest) -> None:
    """Write a backtest's tables and figure to its directory."""
    from refuge.results.files import atomic_write, write_frame
    from refuge.numbers import json_ready

    e = bt.experiment
    for name, df in (("facts", bt.facts), ("points", bt.points), ("forecast", bt.forecast)):
        write_frame(df, e / f"{name}.csv")
    doc = {"scenario": bt.scenario.name, "summary": bt.summary, "facts": bt.facts.to_dict(orient="records"),
           "points": bt.points.to_dict(orient="records"), "forecast": bt.forecast.to_dict(orient="records")}
    atomic_write(e / JSON_NAME, lambda p: p.write_text(json.dumps(json_ready(doc), indent=2), encoding="utf-8"))
    plot(bt, e / FIGURE_NAME)



def load(experiment: str | Path) -> dict:
    """A stored backtest (backtest.json) as a dict."""
    p = Path(experiment) / JSON_NAME
    if not p.exists():
        raise RefugeError(f"{experiment}: not a backtest (no {JSON_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))


def plot(bt: Backtest, path: Path) -> Path:
    """Per series: the posterior median and 90% band at the data points and beyond, the data, the training cut."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from refuge.results.files import save_figure

    names = list(dict.fromkeys(bt.points["series"]))
    fig, axes = plt.subplots(len(names) or 1, 1, figsize=(8, 3.2 * max(len(names), 1)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        pts = bt.points[bt.points["series"] == name]
        fc = bt.forecast[bt.forecast["series"] == name]
        both = pd.concat([pts[["date", "median", "low", "high"]], fc[["date", "median", "low", "high"]]])
        x = pd.to_datetime(both["date"])
        ax.fill_between(x, both["low"], both["high"], alpha=0.3, color="tab:blue", label="posterior 90% band")
        ax.plot(x, both["median"], color="tab:blue", label="posterior median")
        ax.plot(pd.to_datetime(pts["date"]), pts["data"], "o", color="black", label="data")
        ax.axvline(pd.Timestamp(bt.until), color="tab:red", ls="--", label=f"trained up to {bt.until}")
        ax.set_title(name)
        ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def print_tables(bt: Backtest, console: Any=None) -> None:
    """Print a backtest's tables for a terminal."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console(width=160)
    pts = Table(title=f"{bt.scenario.name}: series data against the posterior trained up to {bt.until} "
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
        console.print(f"{split}: {x['points']} series points, ARD {ard}, 90% coverage {cov}; {x['facts']} facts, "
                      f"{x['facts_holding_median']} holding in the median run")
    console.print(f"{s['seconds']:.0f} s ({s['calibration_seconds']:.0f} s calibrating, {s['simulations']:,} "
                  f"simulations); wrote {bt.experiment}")


def report_section(exp: Any) -> dict | None:
    """What `refuge report` shows of a backtest, for the posterior runs of its calibration (or None)."""
    import base64

    post = (exp.meta or {}).get("posterior")
    if not post:
        return None
    folder = Path(post["experiment"]).parent
    if not (folder / JSON_NAME).exists():
        return None
    doc = load(folder)
    fig = folder / FIGURE_NAME
    uri = ("data:image/png;base64," + base64.b64encode(fig.read_bytes()).decode("ascii")) if fig.exists() else ""
    return {"path": str(folder), "summary": doc["summary"], "points": doc["points"], "forecast": doc["forecast"],
            "facts": [f for f in doc["facts"] if f["split"] == "test"], "figure": uri}
