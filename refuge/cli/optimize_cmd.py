"""`refuge optimize`: a policy search (levers, objective, constraints with a probability)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import app, cluster_option, complete_scenario, fail, message, workers_option

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


@app.command("optimize")
def optimize_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name (default: the spec's "
                                             "`scenario`)", autocompletion=complete_scenario),
    spec: Path = typer.Option(..., "--spec", help="the search: levers, objective, constraints (YAML; examples in "
                              "docs/optimize/)"),
    out: Path = typer.Option(Path("optimize"), "--out", help="folder for the trials (Optuna's journal), trials.csv, "
                             "result.json and optimize.png; the same command again continues the search"),
    trials: Optional[int] = typer.Option(None, "--trials", min=1, help="candidates to try (default: the spec's)"),
    runs: Optional[int] = typer.Option(None, "--runs", min=2, help="runs per candidate (default: the spec's)"),
    check_runs: Optional[int] = typer.Option(None, "--check-runs", min=2, help="fresh seeds of the re-check"),
    until: Optional[str] = typer.Option(None, "--until", help="run to this date (YYYY-MM-DD), past the scenario's "
                                        "end"),
    workers: Optional[int] = workers_option(),
    cluster: Optional[str] = cluster_option(),
    format_: str = typer.Option("table", "--format", help="table, json (the answer) or csv (the trials)"),
) -> None:
    """Search policy levers for the best value under constraints with a probability (Optuna; candidates on
    common random numbers; the answer re-checked on fresh seeds)."""
    from types import SimpleNamespace

    from refuge.errors import RefugeError
    from refuge.inference.optimize import run_command

    if format_ not in ("table", "json", "csv"):
        fail(f"--format: expected table, json or csv; found {format_}")
    args = SimpleNamespace(scenario=scenario, spec=spec, out=str(out), trials=trials, runs=runs,
                           check_runs=check_runs, until=until, workers=workers, cluster=cluster, format=format_)
    try:
        run_command(args)
    except (RefugeError, OSError) as exc:
        fail(message(exc))
    except KeyboardInterrupt:
        fail(f"interrupted: finished trials are kept in {out}; the same command continues the search", code=130)
