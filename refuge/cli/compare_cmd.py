"""`refuge compare`: what-ifs with common random numbers, as paired differences."""

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
    interrupted,
    load_model,
    message,
    parse_sets,
    print_frame,
    workers_option,
)
from refuge.console import print_table
from refuge.numbers import band, num
from refuge.scenario.whatif import show_value

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


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
    posterior: Optional[Path] = typer.Option(None, "--posterior", help="a calibration experiment (`refuge "
                                             "calibrate --out DIR`): run r of every variant takes posterior draw r"),
) -> None:
    """What if? Run the baseline and each variant with common random numbers; print paired differences. With
    --posterior, every variant runs under the same draws of the calibrated parameters."""
    from refuge.errors import RefugeError
    from refuge.experiments.compare import compare as run_compare
    from refuge.experiments.compare import parse_variant

    check_counts(runs, seed)
    model = load_model(scenario)
    overrides = parse_sets(set_)
    try:
        variants = [parse_variant(text, model.scenario) for text in variant] or None
        result = run_compare(model, variants=variants, runs=runs, seed=seed, workers=workers, store=out,
                             cluster=cluster, overrides=overrides, progress=True, posterior=posterior)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except KeyboardInterrupt:
        interrupted(out)
    print_differences(result, format_)


def narrower(ratio: float) -> str:
    """A `spread_ratio` as the table shows it: how many times narrower the paired interval is."""
    if ratio != ratio:  # nan: no spread in either arm
        return "-"
    if ratio == float("inf"):
        return "exact"
    return f"{ratio:.1f}x narrower" if ratio >= 1 else f"{1 / ratio:.1f}x wider"


def print_differences(result, format_: str = "table") -> None:
    from rich.console import Console
    from rich.table import Table

    from refuge.experiments.compare import median_ratio
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
        changes = ", ".join(f"{k}={show_value(x)}" for k, x in sets.items()
                            if x != exp.variant_set(exp.variants[0]).get(k))
        table = Table(title=f"{name}{' — ' + desc if desc else ''} ({changes or 'no change'}), "
                            f"{int(rows.runs.iloc[0])} paired runs")
        for col in ("outcome", "baseline", name, "Δ median [90% of runs]", "Δ mean [95% CI]", "paired vs unpaired"):
            table.add_column(col, justify="left" if col == "outcome" else "right", no_wrap=col == "outcome")
        for r in rows.itertuples():
            table.add_row(f"{r.label} ({r.unit})", num(r.baseline), num(r.value),
                          band(r.difference, r.low, r.high, signed=True),
                          band(r.mean_difference, r.mean_low, r.mean_high, signed=True), narrower(r.narrower))
        print_table(table, console)
    console.print(f"Common random numbers: paired intervals are {narrower(median_ratio(df.narrower))} than they "
                  f"would be with independent runs (median over {df.narrower.notna().sum()} outcome x variant pairs; "
                  "'exact': every paired run differs by the same amount)", markup=False, highlight=False)
    typer.echo(f"wrote {path}; `refuge report {exp.path}` makes an HTML report")
