"""`refuge run`: one run, an ensemble (--runs, --sweep) or runs drawn from a posterior."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import (
    DEFAULT_SCENARIO,
    FORMAT_HELP,
    Format,
    app,
    check_counts,
    cluster_option,
    complete_scenario,
    fail,
    guarded,
    interrupted,
    load_model,
    message,
    parse_date,
    parse_sets,
    print_frame,
    settings_text,
    workers_option,
)
from refuge.console import print_table
from refuge.numbers import band, num
from refuge.scenario.whatif import show_value

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


@app.command()
def run(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    seed: int = typer.Option(0, "--seed", help="random seed; the same seed gives the same result"),
    until: Optional[str] = typer.Option(None, "--until", metavar="YYYY-MM-DD", help="stop after this date"),
    out: Path = typer.Option(Path("out"), "--out", help="directory for stocks/flows (CSV and Parquet)"),
    runs: int = typer.Option(1, "--runs", min=1, help="replicates: more than 1 runs an ensemble into an "
                             "experiment store in --out (run r uses seed + r; resumable)"),
    workers: Optional[int] = workers_option(),
    set_: list[str] = typer.Option([], "--set", metavar="NAME=VALUE",
                                   help="override a parameter: name=value (repeatable)"),
    sweep: Optional[Path] = typer.Option(None, "--sweep", help="CSV or YAML file of parameter sets: "
                                         "--runs replicates of each"),
    cluster: Optional[str] = cluster_option(),
    posterior: Optional[Path] = typer.Option(None, "--posterior", help="a calibration experiment: draw the "
                                             "calibrated parameters from its posterior (run r takes draw r)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="one run: replace the run files in --out even if "
                                   "they hold another run"),
    format_: Format = typer.Option("table", "--format", help="ensembles: " + FORMAT_HELP),
) -> None:
    """Run one realisation of a scenario (or an ensemble with --runs/--sweep), write results, print a summary."""
    from refuge.api import simulate

    check_counts(runs, seed)
    model = load_model(scenario)
    stop = parse_date(until, "--until")
    if stop is not None and not model.start <= stop:
        fail(f"--until: expected a date on or after the scenario start {model.start}; found {stop}")
    overrides = parse_sets(set_)
    if posterior is not None:
        run_posterior_command(model, posterior, runs, seed, workers, overrides, sweep, cluster, stop, out, overwrite,
                              format_)
        return
    if runs > 1 or sweep is not None or cluster is not None:
        run_ensemble_command(model, runs, seed, workers, overrides, sweep, cluster, stop, out, format_)
        return
    if overrides:
        model = with_overrides(model, overrides)
    result = guarded(simulate, model, seed=seed, until=stop)
    warn_idle(result)
    write_single(result, out, overrides, overwrite)


def warn_idle(result) -> None:
    """A `note:` line per queue that held people while its capacity went unused (`refuge.results.idle`)."""
    import warnings

    from refuge.errors import RefugeWarning
    from refuge.results.idle import idle_notes

    for note in idle_notes(result):
        warnings.warn(note, RefugeWarning, stacklevel=2)


def write_single(result, out: Path, overrides: dict[str, float], overwrite: bool) -> None:
    from refuge.results.files import write_run

    files = guarded(write_run, result, out, overrides=overrides, overwrite=overwrite)
    print_summary(result)
    typer.echo(f"wrote {len(files)} files to {out} (stocks, flows, sites, stays as CSV and Parquet; run.json: "
               "how the run was made)")


def run_posterior_command(model, posterior, runs, seed, workers, overrides, sweep, cluster, stop, out,
                          overwrite: bool = False, format_: str = "table") -> None:
    from refuge.api import simulate
    from refuge.errors import RefugeError
    from refuge.inference.posterior import check_posterior, posterior_model, run_posterior_ensemble

    if sweep is not None:
        fail("--posterior: give --posterior or --sweep, not both")
    try:
        for note in check_posterior(model.scenario, posterior):
            typer.echo(note, err=True)
        if runs > 1 or cluster is not None:
            exp = run_posterior_ensemble(model.scenario, model.origin, posterior, runs, seed, out, workers, cluster,
                                         overrides, stop, progress=True)
            print_experiment(exp, format_)
            return
        model, draw = posterior_model(model, posterior, seed, overrides)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    typer.echo("drawn from the posterior: " + ", ".join(f"{k}={v:.4g}" for k, v in draw.items()))  # values as set
    result = guarded(simulate, model, seed=seed, until=stop)
    write_single(result, out, {**overrides, **draw}, overwrite)


def with_overrides(model, overrides: dict[str, float]):
    from refuge.errors import RefugeError
    from refuge.model.compiler import compile_scenario

    try:
        return compile_scenario(model.scenario.with_values(overrides), model.origin)
    except (RefugeError, OSError) as exc:
        fail(f"--set: {message(exc)}")


def run_ensemble_command(model, runs, seed, workers, overrides, sweep, cluster, stop, out, format_="table") -> None:
    from refuge.errors import RefugeError
    from refuge.experiments.ensemble import run_ensemble

    try:
        exp = run_ensemble(model, runs=runs, seed=seed, workers=workers, overrides=overrides, sweep=sweep,
                           store=out, cluster=cluster, until=stop, progress=True)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except KeyboardInterrupt:
        interrupted(out)
    print_experiment(exp, format_)


def print_experiment(exp, format_: str = "table") -> None:
    """Outcomes per variant: median [90% interval]; with many variants (a sweep), one row per variant."""
    from rich.table import Table

    summary = exp.summary()
    done = f"wrote {exp.path} ({sum(len(exp.finished(v)) for v in exp.variants)} runs)"
    if format_ != "table":
        print_frame(summary, format_)
        typer.echo(done, err=True)
        return
    base = exp.meta.get("set") or {}
    title = (f"{exp.meta['scenario_title'] or exp.meta['scenario_name']}"
             + (f" with {settings_text(base)} (--set)" if base else "")
             + f" — {exp.n_runs} runs per variant, seeds {exp.meta['seed']}..{exp.meta['seed'] + exp.n_runs - 1}: "
             "median")
    if len(exp.variants) <= 4:
        table = Table(title=title + " [90% interval]")
        table.add_column("outcome", no_wrap=True)
        for v in exp.variants:
            # the one variant of `--set` is the scenario with those values, not the scenario as written
            table.add_column(settings_text(base) if v == "baseline" and base else v, justify="right")
        for _, rows in summary.groupby("outcome", sort=False):
            first = rows.iloc[0]
            table.add_row(f"{first.label} ({first.unit})",
                          *[band(r.median, r.low, r.high) for r in rows.itertuples()])
    else:
        table = Table(title=title)
        values = {v: " ".join(f"{k}={show_value(x)}" for k, x in exp.variant_set(v).items()) for v in exp.variants}
        table.add_column("variant", no_wrap=True)
        table.add_column("parameters", min_width=min(40, max(len(t) for t in values.values())))
        for o in exp.model().outcomes:
            table.add_column(f"{o['label']} ({o['unit']})", justify="right")
        for v, rows in summary.groupby("variant", sort=False):
            table.add_row(v, values[v], *[num(r.median) for r in rows.itertuples()])
    print_table(table)
    typer.echo(f"{done}; `refuge report {exp.path}` makes an HTML report")


def print_summary(result) -> None:
    from rich.table import Table

    m = result.model
    table = Table(title=f"{m.scenario.title or m.scenario.name} — seed {result.seed}, "
                        f"{m.start} to {m.dates[result.days - 1].date()}")
    for col in ("state", "kind", "start", "end", "peak", "peak date"):
        table.add_column(col, justify="left" if col in ("state", "kind") else "right")
    for row in result.summary().itertuples(index=False):
        table.add_row(row.state, row.kind, f"{row.start:,}", f"{row.end:,}", f"{row.peak:,}", str(row.peak_date))
    print_table(table)
