"""`refuge backtest`: calibrate up to a date, score and forecast what comes after (or a quick fit before a cut)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import (
    DEFAULT_SCENARIO,
    app,
    cluster_option,
    complete_scenario,
    fail,
    load_model,
    parse_date,
    workers_option,
)

SEARCH_SEEDS = 20  # forecast seeds of a search backtest (--cut) when --seeds is not given

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


@app.command("backtest")
def backtest_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    train_until: Optional[str] = typer.Option(None, "--train-until", help="calibrate (ABC-SMC) on the evidence "
                                              "dated up to this day (YYYY-MM-DD), run the posterior forward and "
                                              "score what comes after"),
    cut: Optional[str] = typer.Option(None, "--cut", help="without --train-until: fit by a search over the "
                                      "priors on the days before DATE (default: two thirds of the days), "
                                      "forecast from it"),
    group: Optional[str] = typer.Option(None, "--group", help="with --cut: series group to score (default: the "
                                        "first)"),
    draws: int = typer.Option(48, "--draws", help="with --cut: parameter draws from the priors"),
    seeds: Optional[int] = typer.Option(None, "--seeds", min=1, help="with --cut or --rolling: seeds of each "
                                        "forecast (default: 20 with --cut, 30 with --rolling)"),
    out: Optional[Path] = typer.Option(None, "--out", help="directory for the calibration, tables and figure "
                                       "(default: backtest; with --cut, written only when given)"),
    runs: int = typer.Option(200, "--runs", min=1, help="posterior runs scored and forecast"),
    budget: int = typer.Option(6000, "--budget", min=1, help="most simulations of the calibration"),
    population: int = typer.Option(100, "--population", min=10, help="particles per generation"),
    generations: int = typer.Option(10, "--generations", min=1, help="most generations"),
    seed: int = typer.Option(0, "--seed", help="the same seed gives the same backtest"),
    workers: Optional[int] = workers_option(),
    cluster: Optional[str] = cluster_option(),
    weights: str = typer.Option("reach", "--weights", help="`reach`: a fact's miss is weighed by the best share "
                                "of runs any rate could give it (one-off counts weigh less); `equal`: all alike"),
    series_tolerance: float = typer.Option(0.1, "--series-tolerance", min=0.0, help="a series data point counts "
                                           "as met within this relative distance of the data"),
    as_of_cut: bool = typer.Option(False, "--as-of-cut", help="with --train-until or --rolling: forecast with "
                                   "nothing dated after the cut (every schedule held at its value then, a route "
                                   "network's spawning at its level over the 8 weeks before; drifts declared "
                                   "for beyond the data start at the cut)"),
    format_: str = typer.Option("table", "--format", help="table, json (everything) or csv (the series points)"),
    rolling_: bool = typer.Option(False, "--rolling", help="rolling origins: a search backtest at several cuts "
                                  "(each 31 December from 40% of the record, or every n-th data date), in "
                                  "parallel and resumable, scores pooled by horizon (writes --out, default "
                                  "backtest-rolling)"),
    every: Optional[int] = typer.Option(None, "--every", min=1, help="with --rolling: a cut at every n-th data "
                                        "date from 40% of the record"),
    horizon: Optional[str] = typer.Option(None, "--horizon", help="forecast past the scenario's end, to this day "
                                          "(YYYY-MM-DD); schedules and drifts carry on as declared"),
) -> None:
    """Calibrate on the evidence up to --train-until, run the posterior forward, score the facts and series
    data after it (ARD, 90% coverage, bounds) and forecast each series beyond its data, with 90% bands.
    Without --train-until: a quick fit by a search over the priors on the days before --cut, scored by ARD."""
    import os

    from refuge.inference.calibrate import Settings

    until_horizon = parse_date(horizon, "--horizon") if horizon else None
    if rolling_:
        if train_until is not None or cut is not None:
            fail("--rolling: the cuts are chosen for you (--every N to thin them); leave out --train-until and --cut")
        backtest_rolling(scenario, out or Path("backtest-rolling"), every, seeds, workers, as_of_cut)
        return
    if train_until is None:
        if as_of_cut:
            fail("--as-of-cut: with --train-until or --rolling (the forecast from the cut)")
        backtest_search(scenario, cut, group, draws, SEARCH_SEEDS if seeds is None else seeds, out, until_horizon)
        return
    out = out or Path("backtest")
    if cut is not None:
        fail("--cut: give --train-until or --cut, not both")
    if format_ not in ("table", "json", "csv"):
        fail(f"--format: expected table, json or csv; found {format_!r}")
    model = load_model(scenario)
    until = parse_date(train_until, "--train-until")
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")
    settings = Settings(population=population, budget=budget, generations=generations, seed=seed,
                        weights=weights, series_tolerance=series_tolerance)
    backtest_posterior(model, until, out, format_, settings, runs=runs, seed=seed, workers=workers,
                       cluster=cluster, horizon=until_horizon, as_of_cut=as_of_cut)


def backtest_posterior(model: object, until: dt.date, out: Path, format_: str, settings: object, *, runs: int,
                       seed: int, workers: Optional[int], cluster: Optional[str],
                       horizon: Optional[dt.date], as_of_cut: bool = False) -> None:
    """Calibrate up to `until`, run the posterior forward, print (or write out) the tables."""
    import contextlib
    import json

    from refuge.errors import RefugeError
    from refuge.inference.backtest_posterior import backtest, load, print_tables
    from refuge.inference.calibrate import ConsoleProgress

    try:
        with (ConsoleProgress() if format_ == "table" else contextlib.nullcontext()) as progress:
            bt = backtest(model.scenario, until, out, runs=runs, seed=seed, settings=settings, workers=workers,
                          cluster=cluster, progress=progress, origin=model.origin, horizon=horizon,
                          as_of_cut=as_of_cut)
    except RefugeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: the calibration's finished generations are kept in {out}; the same command "
             "continues", code=130)
    if format_ == "table":
        print_tables(bt)
    elif format_ == "json":
        sys.stdout.write(json.dumps(load(out), indent=2) + "\n")
    else:
        sys.stdout.write(bt.points.to_csv(index=False))


def backtest_rolling(scenario: Optional[str], out: Path, every: Optional[int], seeds: Optional[int],
                     workers: Optional[int], as_of_cut: bool = False) -> None:
    """Backtests at several cuts, pooled by horizon; the per-cut and pooled tables and the verdict. `seeds`:
    the forecast seeds of each cut (None: the rolling default, `refuge.inference.rolling.DEFAULT_SEARCH`)."""
    from refuge.errors import RefugeError
    from refuge.inference.rolling import print_rolling, rolling

    model = load_model(scenario)
    try:
        r = rolling(model, out, every=every, workers=workers, progress=sys.stderr.isatty(),
                    **({} if seeds is None else {"forecast_seeds": seeds}),
                    **({"as_of_cut": True} if as_of_cut else {}))
    except RefugeError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: finished cuts are kept in {out}; the same command goes on from them", code=130)
    print_rolling(r)


def backtest_search(scenario: Optional[str], cut: Optional[str], group: Optional[str], draws: int,
                    seeds: int, out: Optional[Path] = None, horizon: Optional[dt.date] = None) -> None:
    """Fit the parameters that have a prior on the days before a cut, then score the forecast after it (ARD)."""
    from refuge.errors import RefugeError
    from refuge.inference.backtest import backtest

    model = load_model(scenario)
    try:
        r = backtest(model, cut=parse_date(cut, "--cut"), group=group, draws=draws, forecast_seeds=seeds,
                     progress=sys.stderr.isatty(), out=out, horizon=horizon)
    except RefugeError as exc:
        fail(str(exc))
    typer.echo(f"{model.scenario.name}: fitted on {model.start}..{r.cut - dt.timedelta(days=1)} "
               f"({r.draws} draws, {r.simulations} simulations); group `{r.group}`, ARD normal / rescaled")
    typer.echo(f"  fit, days before the cut:   fitted {r.train[0]:.3f} / {r.train[1]:.3f}   "
               f"scenario's values {r.baseline_train[0]:.3f} / {r.baseline_train[1]:.3f}")
    typer.echo(f"  forecast, from {r.cut}: fitted {r.forecast[0]:.3f} / {r.forecast[1]:.3f}   "
               f"scenario's values {r.baseline[0]:.3f} / {r.baseline[1]:.3f}")
    typer.echo("  fitted values: " + ", ".join(f"{k} = {v:.4g}" for k, v in r.values.items()))
    if out is not None:
        typer.echo(f"  wrote {out} (backtest.json, points.csv, forecast.csv, facts.csv, forecast.png)")
    typer.echo(f"  verdict: {r.table.summary['skill']['verdict']}")
