"""`refuge calibrate`: the posterior of the parameters with a prior (ABC-SMC)."""

from __future__ import annotations

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
    message,
    workers_option,
)
from refuge.console import print_table
from refuge.numbers import band, interval, num

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


@app.command("calibrate")
def calibrate_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    out: Path = typer.Option(Path("calibration"), "--out", help="experiment directory; the same command "
                             "again continues an interrupted or stopped calibration"),
    budget: int = typer.Option(12000, "--budget", min=1, help="most simulations in all generations"),
    population: int = typer.Option(150, "--population", min=10, help="particles per generation"),
    generations: int = typer.Option(12, "--generations", min=1, help="most generations"),
    min_acceptance: float = typer.Option(0.02, "--min-acceptance", min=0.0, max=1.0,
                                         help="stop when a generation accepts fewer candidates than this"),
    seed: int = typer.Option(0, "--seed", help="the same seed gives the same posterior on any backend"),
    workers: Optional[int] = workers_option(),
    cluster: Optional[str] = cluster_option(),
    restart: bool = typer.Option(False, "--restart", help="discard a calibration stored in --out"),
    exclude: list[str] = typer.Option([], "--exclude", metavar="ID",
                                      help="an evidence id (or pattern, e.g. 'japan-*') to leave out of the distance; "
                                           "still measured and reported (repeatable)"),
    predictive_runs: int = typer.Option(200, "--predictive-runs", min=1, help="runs of the posterior "
                                        "predictive evidence check"),
    series_tolerance: float = typer.Option(0.1, "--series-tolerance", min=0.0, help="a series data point counts "
                                           "as met within this relative distance of the data"),
) -> None:
    """Infer the parameters that have a prior from the evidence (ABC-SMC); write the posterior to --out."""
    import os

    from refuge.errors import RefugeError
    from refuge.inference.calibrate import ConsoleProgress, Settings, calibrate

    model = load_model(scenario)
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")  # pyabc logs every generation at INFO when imported
    settings = Settings(population=population, budget=budget, generations=generations,
                        min_acceptance=min_acceptance, seed=seed, exclude=tuple(exclude),
                        series_tolerance=series_tolerance)
    try:
        with ConsoleProgress() as progress:
            cal = calibrate(model.scenario, out, settings, workers=workers, cluster=cluster, restart=restart,
                            progress=progress, predictive_runs=predictive_runs, origin=model.origin)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: finished generations and simulations are kept in {out}; "
             "the same command continues the calibration", code=130)
    print_calibration(cal, scenario or DEFAULT_SCENARIO)


def print_calibration(cal, scenario: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"posterior of {cal.scenario.name} ({len(cal.generations)} generations; {cal.stopped})")
    for col in ("parameter", "prior", "prior 90%", "scenario value", "posterior median", "posterior 90%"):
        table.add_column(col, justify="left" if col in ("parameter", "prior") else "right",
                         no_wrap=col in ("parameter", "prior"))
    for r in cal.summary.itertuples():
        table.add_row(r.parameter, r.prior, interval(r.prior_low, r.prior_high), num(r.default), num(r.median),
                      interval(r.low, r.high))
    print_table(table, console)
    ev = Table(title=f"evidence under the posterior predictive ({cal.predictive_runs} runs)")
    for col in ("fact", "bound", "median [90%]", "holds in", "score"):
        ev.add_column(col, justify="left" if col in ("fact", "bound") else "right")
    for r in cal.predictive.itertuples():
        mark = "[green]" if r.share_holding >= 0.5 else "[red]"
        ev.add_row(r.id, r.bound, band(r.median, r.low, r.high), f"{mark}{r.share_holding:.0%}", num(r.score))
    print_table(ev, console)
    for d in cal.diagnosis:
        console.print(f"[red]{d['id']}[/red] holds in {d['share_holding']:.0%} of posterior runs: {d['reason']}")
    reused = f", {cal.reused:,} reused from an interrupted generation" if cal.reused else ""
    typer.echo(f"{cal.simulations:,} simulations this session{reused}. wrote {cal.experiment}; "
               f"`refuge report {cal.experiment}` makes an HTML report; "
               f"`refuge run {scenario} --posterior {cal.experiment}` runs with posterior parameters")
