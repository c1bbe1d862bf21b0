"""The `refuge` command: a thin layer over the Python API.

Each command imports what it needs when it runs, so `refuge --help` stays fast.
Errors in user input are printed as short messages (file, field, expected, found), never tracebacks.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate asylum pathways with uncertainty, traced to sources.")

DEFAULT_SCENARIO = "north-korea-china"


def fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_model(scenario: Optional[str]):
    """Compile a scenario file or built-in name; user errors become a short message and exit code 2."""
    from refuge.api import load
    from refuge.errors import RefugeError

    try:
        return load(scenario or DEFAULT_SCENARIO)
    except RefugeError as exc:
        fail(str(exc))


def parse_date(text: Optional[str], option: str) -> Optional[dt.date]:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD; found {text!r}")


@app.command()
def run(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name "
                                             f"(default: {DEFAULT_SCENARIO})"),
    seed: int = typer.Option(0, "--seed", help="random seed; the same seed gives the same result"),
    until: Optional[str] = typer.Option(None, "--until", help="stop after this date (YYYY-MM-DD)"),
    out: Path = typer.Option(Path("out"), "--out", help="directory for stocks/flows (CSV and Parquet)"),
) -> None:
    """Run one realisation of a scenario, write daily stocks and flows, print a summary."""
    from refuge.api import simulate
    from refuge.io import write_run

    model = load_model(scenario)
    stop = parse_date(until, "--until")
    if stop is not None and not model.start <= stop:
        fail(f"--until: expected a date on or after the scenario start {model.start}; found {stop}")
    result = simulate(model, seed=seed, until=stop)
    files = write_run(result, out)
    print_summary(result)
    typer.echo("wrote " + ", ".join(str(f) for f in files))


def print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    m = result.model
    table = Table(title=f"{m.scenario.title or m.scenario.name} — seed {result.seed}, "
                        f"{m.start} to {m.dates[result.days - 1].date()}")
    for col in ("state", "kind", "start", "end", "peak", "peak date"):
        table.add_column(col, justify="left" if col in ("state", "kind") else "right")
    for row in result.summary().itertuples(index=False):
        table.add_row(row.state, row.kind, f"{row.start:,}", f"{row.end:,}", f"{row.peak:,}", str(row.peak_date))
    Console().print(table)


@app.command()
def validate(scenario: str = typer.Argument(..., help="scenario YAML file")) -> None:
    """Check a scenario file: every field, name, date and split. Prints the problems found."""
    model = load_model(scenario)
    sc = model.scenario
    typer.echo(f"{scenario}: ok — {len(sc.states)} states, {len(sc.transitions)} transitions, "
               f"{len(sc.parameters)} parameters, {len(sc.rules)} rules, {len(sc.evidence)} evidence entries")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editors: validation and autocompletion)."""
    import json

    from refuge.scenario import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
