"""`refuge sensitivity`: global sensitivity of outputs to the parameters (SALib)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from refuge.cli.common import (
    DEFAULT_SCENARIO,
    app,
    cluster_option,
    complete_scenario,
    fail,
    guarded,
    load_model,
    message,
    workers_option,
)
from refuge.console import print_table
from refuge.numbers import num

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


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
