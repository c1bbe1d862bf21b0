"""Flee's validation folder: `data_layout.csv` (a data file per camp, the total first), the camps' `date,count`
files, and the input folder's `registration_corrections.csv`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from refuge.errors import suggest
from refuge.interop.flee.csvread import FleeInputError, Notes, date, need, number, rows
from refuge.scenario.limits import MAX_PEOPLE

Layout = list[tuple[str, list[Path], int]]  # (location, its data files, line of data_layout.csv)


def read_counts(path: Path, notes: Notes) -> list[tuple[dt.date, float]]:
    """A camp's data file: date,count rows (a first line naming the columns is skipped). A row dated at or
    before the row above it is left out, with a warning: Flee keeps it and reads the days around it wrongly."""
    out: list[tuple[dt.date, float]] = []
    table = rows(path)
    dropped: list[str] = []
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
            dropped.append(f"{line} ({when})")
            continue
        out.append((when, value))
    if dropped:
        notes.add(path, None, f"{len(dropped)} row(s) dated at or before the row above them, line(s) "
                  f"{', '.join(dropped[:8])}{' ...' if len(dropped) > 8 else ''}: Flee keeps them and interpolates "
                  "the days around them from them (its search stops at the first later date); refuge leaves them "
                  "out")
    if not out:
        raise FleeInputError(path, None, None, "rows of date,count", "none")
    return out


def read_layout(vdir: Path, kinds: dict[str, str], notes: Notes, sums: bool = True,
                as_flee: bool = False, flood: bool = False) -> tuple[Layout, Layout]:
    """Flee's validation data_layout.csv: (location, its data files, line) per row; a row naming several
    files (as Flee's CAR case does) means the camp's count is their sum. Returns the rows read (the first is
    the total) and the rows only Flee's spawn total reads: a row naming no camp, which Flee adds to the total
    when it sums the camps (`sum_from_camps`), and a camp listed again, whose first row's counts Flee adds a
    second time. Those are left out with a warning, or, `as_flee`, kept for the spawn total as Flee does."""
    path = vdir / "data_layout.csv"
    out: Layout = []
    extra: Layout = []
    for i, (line, cells) in enumerate(rows(path)):
        need(path, line, cells, 2, "name,file")
        name = cells[0]
        if i == 0 and name == "total":
            out.append((name, layout_files(vdir, path, line, cells), line))
            continue
        first = next((r for r in out if r[0] == name), None)
        if name in kinds and kinds[name] in ("camp", "idpcamp") and first is None:
            out.append((name, layout_files(vdir, path, line, cells), line))
            continue
        if first is not None:
            what, files = f"`{name}` again (first on line {first[2]}): Flee adds the first row's counts to its spawn " \
                "total once more", first[1]
        else:
            known = f"a {kinds[name].replace('_', ' ')}" if name in kinds else \
                f"not in locations.csv{suggest(name, sorted(kinds))}"
            what, files = f"`{name}`, {known}, not a camp: Flee adds its counts to its spawn total", None
        if not sums or flood:
            why = "with flood rules, nobody spawns from data" if flood else "it spawns from the total, not the camps"
            notes.add(path, line, f"{what.split(':')[0]}: Flee ignores the row ({why}); so does refuge")
            continue
        if as_flee:
            extra.append((name, files or layout_files(vdir, path, line, cells), line))
        notes.add(path, line, f"{what} (and scores nothing against it); refuge "
                  + ("does as Flee does (--as-flee)" if as_flee else "leaves the row out (--as-flee: as Flee)"))
    if not [n for n, _, _ in out if n != "total" or n in kinds]:
        raise FleeInputError(path, None, None, "a row naming a camp of locations.csv", "none")
    return out, extra


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


def summed_counts(files: list[Path], start: dt.date, notes: Notes) -> list[tuple[int, float]]:
    """(day, count) of one camp from its data files: one file's rows as they are; several files summed on the
    union of their dates, each file linearly interpolated between its dates and held flat outside them
    (so the sum, read as a line through its points, is the sum of the files read the same way)."""
    tables = [[((d - start).days, v) for d, v in read_counts(f, notes)] for f in files]
    if len(tables) == 1:
        return tables[0]
    import numpy as np

    days = sorted({d for t in tables for d, _ in t})
    total = np.zeros(len(days))
    for t in tables:
        total += np.interp(days, [d for d, _ in t], [v for _, v in t])
    return [(d, float(v)) for d, v in zip(days, total)]


def read_corrections(path: Path, camps: set[str], ignored: set[str]) -> list[tuple[str, dt.date, int]]:
    """Flee's registration corrections: (camp, date, line) per row (none for the `ignored` rows' names)."""
    out = []
    for line, cells in rows(path, required=False):
        need(path, line, cells, 2, "camp,date")
        if cells[0] in ignored and cells[0] not in camps:
            continue
        if cells[0] not in camps:
            raise FleeInputError(path, line, "1 (camp)", "a camp named in data_layout.csv",
                                 f"`{cells[0]}`{suggest(cells[0], sorted(camps))}")
        out.append((cells[0], date(path, line, 2, "date", cells[1]), line))
    return out


def apply_corrections(path: Path, series: dict[str, list[tuple[int, float]]], start: dt.date,
                      ignored: set[str]) -> None:
    """Scale each corrected camp's counts before the correction's date by the ratio of the count on that date
    to the one before (in place), as Flee's registration corrections do."""
    for camp, when, line in read_corrections(path, set(series) - {"total"}, ignored):
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
