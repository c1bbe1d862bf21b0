"""`refuge check`: how well a scenario reproduces the facts it cites."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import (
    DEFAULT_SCENARIO,
    Format,
    app,
    cluster_option,
    complete_scenario,
    fail,
    guarded,
    load_model,
    message,
    workers_option,
)

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


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
    from refuge.evidence.check import to_json
    from refuge.evidence.check_text import print_report
    from refuge.experiments.check import check
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
