"""Dated series cited as evidence: reading `date,value` CSV files that sit beside a scenario file.

`attach_series` fills each series' `points` from its `file` (a path relative to the scenario file), so
that a compiled scenario carries its data with it (to worker processes, into experiment stores).
Every problem names the scenario field, the data file, the line and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from refuge.errors import Problem
from refuge.scenario.evidence import SeriesPoint


class SeriesFileError(ValueError):
    """A problem in a series file: where (file, line, column) and what."""


def read_series_csv(path: Path) -> list[tuple[dt.date, float]]:
    """(date, value) rows of a CSV file: a date column then a value column; one header line is allowed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SeriesFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SeriesFileError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    rows: list[tuple[dt.date, float]] = []
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 2:
            raise SeriesFileError(f"{path} line {line_no}: expected two columns (date,value); found {len(row)}")
        date_text, value_text = row[0].strip(), row[1].strip()
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            if not rows and line_no == _first_line(text):
                continue  # a header line
            raise SeriesFileError(f"{path} line {line_no}, column 1 (date): expected a date YYYY-MM-DD; "
                                  f"found `{date_text}`") from None
        try:
            value = float(value_text)
        except ValueError:
            raise SeriesFileError(f"{path} line {line_no}, column 2 (value): expected a number; "
                                  f"found `{value_text}`") from None
        if not value >= 0:
            raise SeriesFileError(f"{path} line {line_no}, column 2 (value): expected a count >= 0; found {value_text}")
        if rows and date <= rows[-1][0]:
            raise SeriesFileError(f"{path} line {line_no}, column 1 (date): expected dates in increasing order; "
                                  f"{date} comes after {rows[-1][0]}")
        rows.append((date, value))
    if not rows:
        raise SeriesFileError(f"{path}: no data rows (expected lines date,value)")
    return rows


def _first_line(text: str) -> int:
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            return n
    return 1


def _load(series, base: Path, where: str, problems: list[Problem]):
    """The series with its points read from its file (unchanged without a file; None after a problem)."""
    if series is None or series.file is None:
        return series
    path = Path(series.file)
    if not path.is_absolute():
        path = base / path
    try:
        rows = read_series_csv(path)
    except SeriesFileError as exc:
        problems.append(Problem(where, "a CSV file of date,value rows", str(exc)))
        return None
    return series.model_copy(update={"points": [SeriesPoint(date=d, value=v) for d, v in rows]})


def needs_files(sc: Any) -> bool:
    """Whether some series of the scenario names a file whose points are not read yet."""
    spawn = sc.network.spawning if sc.network is not None else None
    others = [ev.other_error.daily for ev in sc.evidence if ev.other_error is not None]
    from refuge.scenario.tables import needs_tables

    series = [ev.series for ev in sc.evidence] + others + [spawn.total if spawn else None]
    return needs_tables(sc) or any(s is not None and s.file is not None and not s.points for s in series)


def attach_series(sc: Any, base: Path) -> tuple[Any, list]:
    """A copy of the scenario whose series files are read into points, and its network's table files into its
    lists (`refuge.scenario.tables`); (scenario, problems)."""
    from refuge.scenario.tables import attach_tables

    problems: list[Problem] = []
    evidence = list(sc.evidence)
    for i, ev in enumerate(evidence):
        if ev.series is not None and ev.series.file is not None:
            loaded = _load(ev.series, base, f"evidence[{i}].series.file", problems)
            if loaded is not None:
                evidence[i] = ev = ev.model_copy(update={"series": loaded})
        other = ev.other_error
        if other is not None and other.daily is not None and other.daily.file is not None:
            daily = _load(other.daily, base, f"evidence[{i}].other_error.daily.file", problems)
            if daily is not None:
                evidence[i] = ev.model_copy(update={"other_error": other.model_copy(update={"daily": daily})})
    update: dict = {"evidence": evidence}
    net = sc.network
    if net is not None and net.spawning is not None and net.spawning.total is not None \
            and net.spawning.total.file is not None:
        total = _load(net.spawning.total, base, "network.spawning.total.file", problems)
        if total is not None:
            update["network"] = net.model_copy(update={"spawning": net.spawning.model_copy(update={"total": total})})
    return attach_tables(sc.model_copy(update=update), base, problems), problems
