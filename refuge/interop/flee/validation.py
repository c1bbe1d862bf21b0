"""Flee's validation folder: `data_layout.csv` (a data file per camp, the total first), the camps' `date,count`
files, and the input folder's `registration_corrections.csv`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from refuge.errors import suggest
from refuge.interop.flee.csvread import FleeInputError, date, need, number, rows
from refuge.scenario.limits import MAX_PEOPLE

Layout = list[tuple[str, list[Path], int]]  # (location, its data files, line of data_layout.csv)


def read_counts(path: Path) -> list[tuple[dt.date, float]]:
    """A camp's data file: date,count rows (a first line naming the columns is skipped)."""
    out: list[tuple[dt.date, float]] = []
    table = rows(path)
    for line, cells in table:
        if len(cells) < 2 or cells[1] == "":
            continue  # Flee skips rows without a count
        try:
            when = dt.date.fromisoformat(cells[0])
        except ValueError:
            if not out and line == table[0][0]:
                continue  # column names
            raise FleeInputError(path, line, "1 (date)", "a date YYYY-MM-DD", f"`{cells[0]}`") from None
        value = number(path, line, 2, "count", cells[1], minimum=0, maximum=MAX_PEOPLE)
        if out and when <= out[-1][0]:
            raise FleeInputError(path, line, "1 (date)", f"a date after {out[-1][0]}", str(when))
        out.append((when, value))
    if not out:
        raise FleeInputError(path, None, None, "rows of date,count", "none")
    return out


def read_layout(vdir: Path, names: set[str], camp_names: set[str]) -> Layout:
    """Flee's validation data_layout.csv: (location, its data files, line) per row; a row naming several
    files (as Flee's CAR case does) means the camp's count is their sum."""
    path = vdir / "data_layout.csv"
    out: Layout = []
    for i, (line, cells) in enumerate(rows(path)):
        need(path, line, cells, 2, "name,file")
        name = cells[0]
        if i > 0 or name != "total":
            if name not in names:
                raise FleeInputError(path, line, "1 (name)", "the name of a camp in locations.csv",
                                     f"`{name}`{suggest(name, sorted(names))}")
            if name not in camp_names:
                raise FleeInputError(path, line, "1 (name)", "a camp (this location is not one)", f"`{name}`")
        if any(name == n for n, _, _ in out):
            raise FleeInputError(path, line, "1 (name)", "a camp not listed before", f"`{name}` again")
        out.append((name, layout_files(vdir, path, line, cells), line))
    if not out:
        raise FleeInputError(path, None, None, "a row per camp", "none")
    return out


def layout_files(vdir: Path, path: Path, line: int, cells: list[str]) -> list[Path]:
    """The data files a row of data_layout.csv names (every one must exist)."""
    files = []
    for col, cell in enumerate(cells[1:], start=2):
        if not cell:
            continue
        if not (vdir / cell).is_file():
            raise FleeInputError(path, line, f"{col} (file)", "a data file in the validation folder", f"`{cell}`")
        files.append(vdir / cell)
    if not files:
        raise FleeInputError(path, line, "2 (file)", "a data file in the validation folder", "an empty cell")
    return files


def summed_counts(files: list[Path], start: dt.date) -> list[tuple[int, float]]:
    """(day, count) of one camp from its data files: one file's rows as they are; several files summed on the
    union of their dates, each file linearly interpolated between its dates and held flat outside them
    (so the sum, read as a line through its points, is the sum of the files read the same way)."""
    tables = [[((d - start).days, v) for d, v in read_counts(f)] for f in files]
    if len(tables) == 1:
        return tables[0]
    import numpy as np

    days = sorted({d for t in tables for d, _ in t})
    total = np.zeros(len(days))
    for t in tables:
        total += np.interp(days, [d for d, _ in t], [v for _, v in t])
    return [(d, float(v)) for d, v in zip(days, total)]


def read_corrections(path: Path, camps: set[str]) -> list[tuple[str, dt.date, int]]:
    """Flee's registration corrections: (camp, date, line) per row."""
    out = []
    for line, cells in rows(path, required=False):
        need(path, line, cells, 2, "camp,date")
        if cells[0] not in camps:
            raise FleeInputError(path, line, "1 (camp)", "a camp named in data_layout.csv",
                                 f"`{cells[0]}`{suggest(cells[0], sorted(camps))}")
        out.append((cells[0], date(path, line, 2, "date", cells[1]), line))
    return out


def apply_corrections(path: Path, series: dict[str, list[tuple[int, float]]], start: dt.date) -> None:
    """Scale each corrected camp's counts before the correction's date by the ratio of the count on that date
    to the one before (in place), as Flee's registration corrections do."""
    for camp, when, line in read_corrections(path, set(series) - {"total"}):
        pts = series[camp]
        day = (when - start).days
        if day < 0:
            continue
        hit = [i for i, (d, _) in enumerate(pts) if d == day]
        if not hit:
            raise FleeInputError(path, line, "2 (date)", f"a date of a count in {camp}'s data file", str(when))
        i = hit[0]
        if i > 0:
            if pts[i - 1][1] < 1:
                raise FleeInputError(path, line, "2 (date)", "a count before this date of at least 1",
                                     num(pts[i - 1][1]))
            f = pts[i][1] / pts[i - 1][1]
            series[camp] = [(d, v * f) for d, v in pts[:i]] + pts[i:]


def corrected_note(camp: str, path: Path) -> str:
    """How a camp's counts were corrected, for its data file's header ('' when they were not)."""
    for _, cells in rows(path, required=False):
        if cells and cells[0] == camp:
            return f", counts before {cells[1]} scaled as registration_corrections.csv says"
    return ""


def interp_int(points: list[tuple[int, float]], day: int) -> int:
    """Flee's reading of a count on a day: linear between points, flat outside, cut to a whole number."""
    days = [d for d, _ in points]
    if day <= days[0]:
        return int(points[0][1])
    for i in range(1, len(points)):
        if day < days[i]:
            d0, v0 = points[i - 1]
            d1, v1 = points[i]
            return int(v0 + (day - d0) / (d1 - d0) * (v1 - v0))
    return int(points[-1][1])


def num(x: float) -> str:
    """A number as the scenario writes it: whole numbers without a decimal point."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))
