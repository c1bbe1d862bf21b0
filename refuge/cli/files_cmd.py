"""Commands about scenario files: `refuge validate`, `refuge import flee` and `refuge schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import app, fail, load_model, message

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


@app.command()
def validate(scenario: str = typer.Argument(..., help="scenario YAML file")) -> None:
    """Check a scenario file: every field, name, date and split, and one trial run (what the engine would refuse
    in a run, such as more groups tracked at once than its tables hold, is found here too). Prints the problems
    found."""
    model = load_model(scenario)
    from refuge.errors import RefugeError
    from refuge.results.simulate import simulate

    try:
        simulate(model, seed=0)
    except RefugeError as exc:
        fail(message(exc))
    sc = model.scenario
    from refuge.numbers import plural

    counts = [plural(len(sc.states), "state"), plural(len(sc.transitions), "transition"),
              plural(len(sc.parameters), "parameter"), plural(len(sc.rules), "rule"),
              plural(len(sc.evidence), "evidence entry", "evidence entries")]
    typer.echo(f"{scenario}: ok — {', '.join(counts)}")
    from refuge.evidence.outcomes import outcome_counts, outcome_text

    typer.echo("outcomes" + ("" if sc.outcomes else " (defaults by state kind; declare `outcomes:` to name your own)")
               + ":")
    for o in model.outcomes:
        typer.echo(f"  {o['name']}: {outcome_text(o)} — {outcome_counts(o)}")


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
    start: Optional[str] = typer.Option(None, "--start", help="first day, YYYY-MM-DD, for a case without "
                                        "sim_period.csv (with --days)"),
    days: Optional[int] = typer.Option(None, "--days", min=1, max=36_600, help="days to simulate (without "
                                       "sim_period.csv, with --start; with it, replaces its Length as Flee's "
                                       "runner's argument does)"),
    as_flee: bool = typer.Option(False, "--as-flee", help="do as Flee does where refuge's default differs, for "
                                 "side-by-side runs: a data_layout.csv row naming no camp or a camp again adds to "
                                 "the spawn total, a camp over capacity on the first day has no limit"),
    flee_output: Optional[list[str]] = typer.Option(None, "--flee-output", help="Flee's out.csv of a run of this "
                                                    "case (repeat for several runs): check and backtest name "
                                                    "Flee's own error beside refuge's"),
) -> None:
    """Import a Flee case as an ordinary scenario; nothing is written when a file has a problem. What Flee
    would do silently with a published quirk is printed as a `note:` line (file, line, what was done)."""
    from refuge.cli.common import parse_date
    from refuge.errors import RefugeError
    from refuge.interop.flee import main_import

    first = parse_date(start, "--start")
    try:
        path = main_import(input_dir, out, validation, settings, name, as_flee=as_flee, start=first, days=days,
                           flee_output=flee_output)
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
