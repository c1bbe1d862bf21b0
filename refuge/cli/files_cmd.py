"""Commands about scenario files: `refuge validate`, `refuge import flee` and `refuge schema`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import app, fail, load_model

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


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
