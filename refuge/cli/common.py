"""What every `refuge` command shares: the Typer app, its root options, loading a scenario, short error
messages, the common options (--workers, --cluster, --format) and printing tables for programs."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Literal, Optional

import typer

__all__: list[str] = []  # the command's parts, not an API: the command is `refuge.cli.app`

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


# The API names a bad argument as the API does (`runs: ...`); the command names its option.
OPTION_OF = {"runs": "--runs", "seed": "--seed", "overrides": "--set", "sweep": "--sweep", "cluster": "--cluster",
             "workers": "--workers", "variants": "--variant", "draws": "--posterior", "until": "--until"}


def message(exc: BaseException) -> str:
    """A user's error as text (an API argument's error under the command's option name); a file-system error as
    one line: the path, what went wrong, what to do."""
    from refuge.errors import ArgumentError

    if isinstance(exc, ArgumentError):
        return f"{OPTION_OF.get(exc.argument, exc.argument)}: {exc.detail}"
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
        typer.echo("first run: compiling the engine with Numba (about 5 minutes on 2 idle cores, once; "
                   "later runs start at once)",
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
        fail(f"{option}: expected a date YYYY-MM-DD; found {text!r}{_why_not_a_date(text)}")


def _why_not_a_date(text: str) -> str:
    """' (February 2023 has 28 days)' for a well-formed date that is not on the calendar, else ''."""
    import calendar
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if m is None:
        return ""
    year, month, day = (int(x) for x in m.groups())
    if not 1 <= month <= 12:
        return f" (there is no month {month})"
    days = calendar.monthrange(year, month)[1]
    return f" ({calendar.month_name[month]} {year} has {days} days)" if day > days or day < 1 else ""


def workers_option() -> Any:
    """`--workers`, as every command that runs an ensemble takes it."""
    return typer.Option(None, "--workers", min=1, help="local worker processes (default: one per core)")


def cluster_option() -> Any:
    """`--cluster`, as every command that runs an ensemble takes it."""
    return typer.Option(None, "--cluster", help="address of a Dask scheduler to run on")


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
