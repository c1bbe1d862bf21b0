"""The `refuge` command: a thin layer over the Python API.

Each command imports what it needs when it runs, so `refuge --help` stays fast.
Errors in user input are printed as short messages (file, field, expected, found), never tracebacks.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Literal, Optional

import typer

from refuge.console import print_table
from refuge.numbers import band, interval, num

__all__ = ["app", "main"]  # the command; the functions below are its parts, not an API

# Plain help (rich_markup_mode=None): it fits 80 columns, reads the same piped to a file, and shows
# boolean options as flags. Completion: `refuge --install-completion` (bash, zsh, fish, PowerShell).
app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Simulate asylum pathways with uncertainty, traced to sources.")

DEFAULT_SCENARIO = "north-korea-china"


def _show_notes() -> None:
    """Warnings meant for users (RefugeWarning) print as one `note:` line, without a source location."""
    import warnings

    from refuge.errors import RefugeWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RefugeWarning):
            typer.echo(f"note: {message}", err=True)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _print_version(value: bool) -> None:
    if value:
        from refuge import __version__

        typer.echo(f"refuge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """Simulate asylum pathways with uncertainty, traced to sources."""
    _show_notes()


def complete_scenario(incomplete: str) -> list[str]:
    """Shell completion for a scenario argument: built-in names and YAML files."""
    from refuge.scenario.format import builtin_names

    names = [n for n in builtin_names() if n.startswith(incomplete)]
    folder, _, stem = incomplete.rpartition("/")
    try:
        files = [str(p) for p in Path(folder or ".").iterdir()
                 if p.name.startswith(stem) and (p.suffix in (".yaml", ".yml") or p.is_dir())]
    except OSError:
        files = []
    return names + sorted(files)


def fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def guarded(fn, *args, **kwargs):
    """fn(...), with a user's error (bad input, a file-system error) as a short message and exit code 2."""
    from refuge.errors import RefugeError

    try:
        return fn(*args, **kwargs)
    except (RefugeError, OSError) as exc:
        fail(message(exc))


def message(exc: BaseException) -> str:
    """A user's error as text; a file-system error as one line: the path, what went wrong, what to do."""
    if not isinstance(exc, OSError):
        return str(exc)
    import errno

    where = exc.filename or ""
    what = exc.strerror or str(exc)
    hint = {errno.EROFS: "write to another --out", errno.EACCES: "check the permissions or use another --out",
            errno.ENOSPC: "free some space or use another --out", errno.ENOTDIR: "a path component is a file",
            errno.EISDIR: "expected a file", errno.EDQUOT: "free some space or use another --out"}.get(exc.errno, "")
    return f"{where}: {what}" + (f" ({hint})" if hint else "")


def load_model(scenario: Optional[str], simulates: bool = True):
    """Compile a scenario file or built-in name; user errors become a short message and exit code 2.
    A command that simulates says so when the engine must be compiled first (the first run on a machine)."""
    from refuge.api import engine_ready, load
    from refuge.errors import RefugeError

    try:
        model = load(scenario or DEFAULT_SCENARIO)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    if simulates and not engine_ready():
        typer.echo("first run: compiling the engine with Numba (about 20 s, once; later runs start at once)",
                   err=True)
    return model


Format = Literal["table", "json", "csv"]
FORMAT_HELP = "table (for people), json or csv (machine-readable, on stdout)"


def as_date(value: Optional[dt.datetime]) -> Optional[dt.date]:
    return None if value is None else value.date()


def parse_date(text: Optional[str], option: str) -> Optional[dt.date]:
    """A date option given as text (YYYY-MM-DD); a short message naming the option otherwise."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD; found {text!r}")


def workers_option() -> Any:
    """`--workers`, as every command that runs an ensemble takes it."""
    return typer.Option(None, "--workers", min=1, help="local worker processes (default: one per core)")


def cluster_option() -> Any:
    """`--cluster`, as every command that runs an ensemble takes it."""
    return typer.Option(None, "--cluster", help="address of a Dask scheduler to run on")


@app.command()
def run(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    seed: int = typer.Option(0, "--seed", help="random seed; the same seed gives the same result"),
    until: Optional[dt.datetime] = typer.Option(None, "--until", formats=["%Y-%m-%d"], metavar="YYYY-MM-DD",
                                                help="stop after this date"),
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
    stop = as_date(until)
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
    write_single(result, out, overrides, overwrite)


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


def check_counts(runs: int, seed: int) -> None:
    """--runs and --seed within what an ensemble can hold (run r uses seed + r, a 64-bit integer)."""
    from refuge.errors import RefugeError
    from refuge.experiments.ensemble import check_runs

    try:
        check_runs(runs, seed)
    except (RefugeError, OSError) as exc:
        fail(message(exc))


def parse_sets(texts: list[str], option: str = "--set") -> dict[str, float]:
    from refuge.errors import RefugeError
    from refuge.experiments.compare import parse_values

    values: dict[str, float] = {}
    for text in texts:
        try:
            values.update(parse_values(text, option))
        except (RefugeError, OSError) as exc:
            fail(message(exc))
    return values


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


def interrupted(out: Path) -> None:
    """Ctrl-C: finished runs are on disk; say how to go on."""
    from refuge.experiments.store import Experiment

    done = ""
    if (out / "experiment.json").exists():
        exp = Experiment(out)
        finished = sum(len(exp.finished(v)) for v in exp.variants)
        done = f"{finished} of {exp.n_runs * len(exp.variants)} runs are in {out}; "
    fail(f"interrupted: {done}run the same command again to finish (only missing runs are run)", code=130)


def print_frame(df, format_: str) -> None:
    """A result table on stdout for programs: CSV, or JSON records (NaN as null)."""
    import json

    from refuge.numbers import json_ready

    if format_ == "csv":
        sys.stdout.write(df.to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(json_ready(df.to_dict(orient="records")), indent=2, default=str) + "\n")


def settings_text(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={x:g}" for k, x in values.items())


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
        values = {v: " ".join(f"{k}={x:g}" for k, x in exp.variant_set(v).items()) for v in exp.variants}
        table.add_column("variant", no_wrap=True)
        table.add_column("parameters", min_width=min(40, max(len(t) for t in values.values())))
        for o in exp.model().outcomes:
            table.add_column(f"{o['label']} ({o['unit']})", justify="right")
        for v, rows in summary.groupby("variant", sort=False):
            table.add_row(v, values[v], *[num(r.median) for r in rows.itertuples()])
    print_table(table)
    typer.echo(f"{done}; `refuge report {exp.path}` makes an HTML report")


@app.command()
def compare(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    variant: list[str] = typer.Option([], "--variant", metavar="NAME[:NAME=VALUE,...]",
                                      help="NAME:name=value,... or the NAME of a variant declared in the scenario "
                                           "(repeatable; default: all declared)"),
    runs: int = typer.Option(100, "--runs", min=1, help="replicates of the baseline and of each variant"),
    seed: int = typer.Option(0, "--seed", help="base seed: replicate r of every variant uses seed + r"),
    workers: Optional[int] = workers_option(),
    set_: list[str] = typer.Option([], "--set", metavar="NAME=VALUE",
                                   help="override a parameter in every arm: name=value"),
    out: Path = typer.Option(Path("comparison"), "--out", help="experiment directory (resumable)"),
    cluster: Optional[str] = cluster_option(),
    format_: Format = typer.Option("table", "--format", help=FORMAT_HELP),
) -> None:
    """What if? Run the baseline and each variant with common random numbers; print paired differences."""
    from refuge.errors import RefugeError
    from refuge.experiments.compare import compare as run_compare
    from refuge.experiments.compare import parse_variant

    check_counts(runs, seed)
    model = load_model(scenario)
    overrides = parse_sets(set_)
    try:
        variants = [parse_variant(text, model.scenario) for text in variant] or None
        result = run_compare(model, variants=variants, runs=runs, seed=seed, workers=workers, store=out,
                             cluster=cluster, overrides=overrides, progress=True)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except KeyboardInterrupt:
        interrupted(out)
    print_differences(result, format_)


def print_differences(result, format_: str = "table") -> None:
    from rich.console import Console
    from rich.table import Table

    from refuge.results.files import write_frame


    exp, df = result.experiment, result.table
    path = write_frame(df, exp.path / "differences.csv")
    if format_ != "table":
        print_frame(df, format_)
        typer.echo(f"wrote {path}", err=True)
        return
    console = Console()
    for name, rows in df.groupby("variant", sort=False):
        desc = next((v["description"] for v in exp.meta["variants"] if v["name"] == name), "")
        sets = exp.variant_set(name)
        changes = ", ".join(f"{k}={x:g}" for k, x in sets.items() if x != exp.variant_set(exp.variants[0]).get(k))
        table = Table(title=f"{name}{' — ' + desc if desc else ''} ({changes or 'no change'}), "
                            f"{int(rows.runs.iloc[0])} paired runs")
        for col in ("outcome", "baseline", name, "Δ median [90% of runs]", "Δ mean [95% CI]"):
            table.add_column(col, justify="left" if col == "outcome" else "right", no_wrap=col == "outcome")
        for r in rows.itertuples():
            table.add_row(f"{r.label} ({r.unit})", num(r.baseline), num(r.value),
                          band(r.difference, r.low, r.high, signed=True),
                          band(r.mean_difference, r.mean_low, r.mean_high, signed=True))
        print_table(table, console)
    typer.echo(f"wrote {path}; `refuge report {exp.path}` makes an HTML report")


@app.command()
def report(
    experiment: Path = typer.Argument(..., help="experiment directory (from `refuge run --runs` or `refuge compare`)"),
    out: Optional[Path] = typer.Option(None, "--out", help="HTML file to write (default: EXPERIMENT/report.html); "
                                       "PNG figures go beside it in NAME-figures/"),
) -> None:
    """Write a self-contained HTML report of an experiment: bands, occupancy, waits, flows, time series against
    their data (ARD, coverage), evidence, parameters."""
    from refuge.errors import RefugeError
    from refuge.present.report import write_report

    if (experiment / "backtest.json").exists():  # a backtest: report its calibration's posterior runs
        experiment = experiment / "calibration"
    if (experiment / "calibration.json").exists() and (experiment / "predictive" / "experiment.json").exists():
        experiment = experiment / "predictive"  # a calibration: report its posterior predictive runs
    import duckdb
    import pyarrow as pa

    try:
        path = write_report(experiment, out)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except (pa.ArrowException, duckdb.Error) as exc:  # a run file damaged since it was written (read by DuckDB)
        fail(f"{experiment}: a run file cannot be read ({str(exc).splitlines()[0][:120]}); run the same command "
             "again to recompute damaged runs")
    typer.echo(f"wrote {path} (figures in {path.with_name(path.stem + '-figures')})")


@app.command("app")
def app_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name (default: the flagship)"),
    port: int = typer.Option(8050, "--port", help="port to listen on (0: any free port)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on; 127.0.0.1 keeps the page to this "
                             "machine, 0.0.0.0 opens it to the network"),
    runs: int = typer.Option(50, "--runs", help="runs per change, as the page starts"),
    workers: Optional[int] = typer.Option(None, "--workers", help="worker processes (default: one per core)"),
) -> None:
    """A live what-if page in the browser: move parameters, rules, capacities and closures; see bands, waits,
    flows, the evidence and paired differences from the baseline redrawn for an ensemble (offline)."""
    from refuge.errors import RefugeError
    from refuge.present.app import serve

    if not 1 <= runs <= 1000:
        fail(f"--runs: expected a whole number from 1 to 1000; found {runs}")
    if workers is not None and workers < 1:
        fail(f"--workers: expected a whole number >= 1; found {workers}")

    def ready(url: str) -> None:
        typer.echo(f"refuge app: {url}  (open it in a browser; Ctrl-C stops)", err=True)

    try:
        serve(scenario, port=port, host=host, workers=workers, runs=runs, ready=ready)
    except RefugeError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--port {port}: cannot listen on {host} ({exc.strerror or exc})")
    except KeyboardInterrupt:
        typer.echo("refuge app: stopped", err=True)


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
) -> None:
    """Infer the parameters that have a prior from the evidence (ABC-SMC); write the posterior to --out."""
    import os

    from refuge.errors import RefugeError
    from refuge.inference.calibrate import ConsoleProgress, Settings, calibrate

    model = load_model(scenario)
    os.environ.setdefault("ABC_LOG_LEVEL", "WARNING")  # pyabc logs every generation at INFO when imported
    settings = Settings(population=population, budget=budget, generations=generations,
                        min_acceptance=min_acceptance, seed=seed, exclude=tuple(exclude))
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
    seeds: int = typer.Option(20, "--seeds", help="with --cut: seeds of each forecast"),
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
    format_: str = typer.Option("table", "--format", help="table, json (everything) or csv (the series points)"),
) -> None:
    """Calibrate on the evidence up to --train-until, run the posterior forward, score the facts and series
    data after it (ARD, 90% coverage, bounds) and forecast each series beyond its data, with 90% bands.
    Without --train-until: a quick fit by a search over the priors on the days before --cut, scored by ARD."""
    import json
    import os

    from refuge.errors import RefugeError
    from refuge.inference.backtest_posterior import backtest, load, print_tables
    from refuge.inference.calibrate import ConsoleProgress, Settings

    if train_until is None:
        backtest_search(scenario, cut, group, draws, seeds, out)
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
    import contextlib

    try:
        with (ConsoleProgress() if format_ == "table" else contextlib.nullcontext()) as progress:
            bt = backtest(model.scenario, until, out, runs=runs, seed=seed, settings=settings, workers=workers,
                          cluster=cluster, progress=progress, origin=model.origin)
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


@app.command("sensitivity")
def sensitivity_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    output: list[str] = typer.Option(..., "--output", metavar="KIND:NAME",
                                     help="what to explain (repeatable): peak:PLACE, mean:PLACE, end:PLACE, "
                                     "wait:PLACE, longest:PLACE, arrivals[:NAME], flow:TRANSITION, or an evidence id"),
    method: Literal["morris", "sobol"] = typer.Option("morris", "--method", help="morris (screening, cheap) or "
                                                     "sobol (variance shares)"),
    samples: Optional[int] = typer.Option(None, "--samples", help="Morris trajectories (default 20) or Sobol "
                                          "base sample, a power of 2 (default 256)"),
    replicates: int = typer.Option(4, "--replicates", min=1, help="seeds per parameter point (their mean is used)"),
    seed: int = typer.Option(0, "--seed", help="seed of the design and of the replicates"),
    workers: Optional[int] = workers_option(),
    cluster: Optional[str] = cluster_option(),
    out: Path = typer.Option(Path("sensitivity"), "--out", help="directory for the table, design and plot"),
) -> None:
    """Global sensitivity of chosen outputs to the parameters that have a prior (SALib: Morris or Sobol)."""
    from refuge.errors import RefugeError
    from refuge.inference.sensitivity import analyse, write_outputs

    model = load_model(scenario)
    try:
        result = analyse(model.scenario, output, method=method, samples=samples, replicates=replicates, seed=seed,
                         workers=workers, cluster=cluster, progress=True)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    files = guarded(write_outputs, result, out)
    print_sensitivity(result)
    typer.echo("wrote " + ", ".join(str(f) for f in files))


def print_sensitivity(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    index = "μ* (Morris)" if result.method == "morris" else "total index (Sobol)"
    for o in result.outputs:
        rows = result.table[result.table.output == o.text]
        table = Table(title=f"{o.text}: parameters by effect ({result.runs:,} runs)")
        for col in ("rank", "parameter", index, "95% ±"):
            table.add_column(col, justify="left" if col == "parameter" else "right")
        for r in rows.itertuples():
            table.add_row(str(r.rank), r.parameter, num(r.importance), num(r.importance_conf))
        print_table(table, console)


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


@app.command("check")
def check_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})",
                                             autocompletion=complete_scenario),
    runs: int = typer.Option(200, "--runs", min=1, help="replicates (run r uses seed + r)"),
    seed: int = typer.Option(0, "--seed", help="seed of the first run"),
    workers: Optional[int] = workers_option(),
    cluster: Optional[str] = cluster_option(),
    format_: Format = typer.Option("table", "--format", help="table (for people), json (everything) or csv "
                                "(the evidence table)"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write evidence.csv, sites.csv and years.csv "
                                       "to this directory"),
) -> None:
    """How well a scenario reproduces the facts it cites: each fact's simulated median and 90% interval, whether
    its bound holds in the median run and in what share of runs; then per site and per year figures.
    Exits with 1 when a fact marked `required` fails in the median run."""
    import json

    from refuge.errors import RefugeError
    from refuge.evidence.check import check, print_report, to_json
    from refuge.results.files import write_frame

    model = load_model(scenario)
    try:
        shown = format_ == "table" and sys.stderr.isatty()
        result = check(model, runs=runs, seed=seed, workers=workers, cluster=cluster,
                       progress=f"{model.scenario.name}: check" if shown else False)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    if format_ == "table":
        print_report(result)
    elif format_ == "json":
        sys.stdout.write(json.dumps(to_json(result), indent=2) + "\n")
    else:
        sys.stdout.write(result.facts.to_csv(index=False))
    if out is not None:
        files = [guarded(write_frame, df, out / f"{name}.csv") for name, df in
                 (("evidence", result.facts), ("sites", result.sites), ("years", result.yearly))]
        typer.echo("wrote " + ", ".join(str(f) for f in files), err=format_ != "table")
    if result.failed_required:
        raise typer.Exit(1)


@app.command()
def validate(scenario: str = typer.Argument(..., help="scenario YAML file")) -> None:
    """Check a scenario file: every field, name, date and split. Prints the problems found."""
    model = load_model(scenario, simulates=False)
    sc = model.scenario
    typer.echo(f"{scenario}: ok — {len(sc.states)} states, {len(sc.transitions)} transitions, "
               f"{len(sc.parameters)} parameters, {len(sc.rules)} rules, {len(sc.evidence)} evidence entries")
    from refuge.evidence.outcomes import outcome_counts, outcome_text

    typer.echo("outcomes" + ("" if sc.outcomes else " (defaults by state kind; declare `outcomes:` to name your own)")
               + ":")
    for o in model.outcomes:
        typer.echo(f"  {o['name']}: {outcome_text(o)} — {outcome_counts(o)}")


def backtest_search(scenario: Optional[str], cut: Optional[str], group: Optional[str], draws: int,
                    seeds: int, out: Optional[Path] = None) -> None:
    """Fit the parameters that have a prior on the days before a cut, then score the forecast after it (ARD)."""
    from refuge.errors import RefugeError
    from refuge.inference.backtest import backtest

    model = load_model(scenario)
    try:
        r = backtest(model, cut=parse_date(cut, "--cut"), group=group, draws=draws, forecast_seeds=seeds,
                     progress=sys.stderr.isatty(), out=out)
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


import_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                         help="Bring another tool's case over as a refuge scenario.")
app.add_typer(import_app, name="import")


@import_app.command("flee")
def import_flee_command(
    input_dir: str = typer.Argument(..., help="Flee input folder (locations.csv, routes.csv, ...)"),
    out: str = typer.Option(..., "--out", help="scenario file to write (its data go in NAME-data/ beside it)"),
    validation: Optional[str] = typer.Option(None, "--validation", help="Flee validation folder "
                                             "(data_layout.csv and a date,count file per camp)"),
    settings: Optional[str] = typer.Option(None, "--settings", help="Flee settings file (YAML)"),
    name: Optional[str] = typer.Option(None, "--name", help="scenario name (default: the case folder's)"),
) -> None:
    """Import a Flee case as an ordinary scenario; nothing is written when a file has a problem."""
    from refuge.errors import RefugeError
    from refuge.interop.flee import main_import

    try:
        path = main_import(input_dir, out, validation, settings, name)
    except RefugeError as exc:
        fail(str(exc))
    typer.echo(f"wrote {path} (and its data in {Path(path).parent / (Path(path).stem + '-data')}); "
               f"try: refuge check {path} --runs 20")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editors: validation and autocompletion)."""
    import json

    from refuge.scenario import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def main() -> None:
    """Entry point of the `refuge` command (and of `python -m refuge`)."""
    app(prog_name="refuge")


if __name__ == "__main__":
    main()
