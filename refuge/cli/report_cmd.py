"""`refuge report` (an HTML report of an experiment) and `refuge app` (the live what-if page)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from refuge.cli.common import app, fail, message

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`


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

    pointed, ran = experiment, ""
    if (experiment / "rolling.json").exists():  # a rolling backtest: its own page, written again
        _rolling_page(experiment, out or experiment / "report.html")
        return
    if (experiment / "backtest.json").exists():  # a backtest: report its calibration's posterior runs
        ran = _backtest_runs(experiment)
        experiment = experiment / "calibration"
    if (experiment / "calibration.json").exists() and (experiment / "predictive" / "experiment.json").exists():
        experiment = experiment / "predictive"  # a calibration: report its posterior predictive runs
    if out is None:
        out = pointed / "report.html"  # where the user pointed, not a folder inside the calibration
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
    if experiment != pointed:
        from refuge.experiments.store import Experiment

        n = Experiment(experiment).n_runs
        typer.echo(f"it shows {n} posterior-predictive runs of the calibration ({experiment}){ran}")


def _rolling_page(folder: Path, out: Path) -> None:
    """A rolling backtest's page (`refuge.inference.rolling.html_page`) from its rolling.json and rolling.png."""
    from refuge.errors import RefugeError
    from refuge.inference.rolling import FIGURE_NAME, from_json, html_page
    from refuge.results.files import atomic_write

    try:
        r, drift = from_json(folder)
        if not (folder / FIGURE_NAME).exists():
            raise RefugeError(f"{folder}: no {FIGURE_NAME} (run the same `refuge backtest --rolling` again)")
        atomic_write(out, lambda p: p.write_text(html_page(r, drift), encoding="utf-8"))
    except (RefugeError, OSError, KeyError, ValueError) as exc:
        fail(f"{folder}: not a complete rolling backtest ({message(exc) if isinstance(exc, RefugeError) else exc})")
    typer.echo(f"wrote {out}: the rolling backtest of {r.scenario} over {len(r.cuts)} cuts (fan chart per cut, "
               "scores by horizon)")


def _backtest_runs(path: Path) -> str:
    """', and the backtest's scores of its N posterior runs' from a backtest's backtest.json ('' if unreadable)."""
    import json

    try:
        runs = json.loads((path / "backtest.json").read_text(encoding="utf-8"))["summary"]["runs"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return f", and the backtest's scores and forecast of its {runs} posterior runs over the whole period"


@app.command("app")
def app_command(
    scenario: Optional[str] = typer.Argument(None, help="scenario YAML file or built-in name (default: the flagship)"),
    port: int = typer.Option(8050, "--port", help="port to listen on (0: any free port)"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on; 127.0.0.1 keeps the page to this "
                             "machine, 0.0.0.0 opens it to the network"),
    runs: int = typer.Option(50, "--runs", help="runs per change, as the page starts"),
    workers: Optional[int] = typer.Option(None, "--workers", help="worker processes (default: one per core)"),
    posterior: Optional[Path] = typer.Option(None, "--posterior", help="a calibration experiment (`refuge "
                                             "calibrate --out DIR`): run r of the scenario and of every change "
                                             "takes posterior draw r"),
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
        serve(scenario, port=port, host=host, workers=workers, runs=runs, ready=ready, posterior=posterior)
    except RefugeError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--port {port}: cannot listen on {host} ({exc.strerror or exc})")
    except KeyboardInterrupt:
        typer.echo("refuge app: stopped", err=True)
