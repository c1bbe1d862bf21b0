"""Reading the CSV files of a Flee case: rows, cells as numbers and dates, and the error that names file, line and
column; `Notes` collects what was imported with a warning (a published quirk that Flee runs silently)."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Iterable

from refuge.errors import RefugeError, printable, suggest
from refuge.scenario.base import hostile


class FleeInputError(RefugeError):
    """A problem in a Flee file: the file, line and column, what was expected and what was found."""

    def __init__(self, path: Path | str, line: int | None, column: int | str | None, expected: str, found: str):
        where = str(path)
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}" if line is not None else f" column {column}"
        super().__init__(printable(f"{where}: expected {expected}; found {found}"))


class Notes(list):
    """Warnings of an import, one line each: the file (and line), what Flee would do silently, what was done."""

    def add(self, path: Path | str, line: int | None, text: str) -> None:
        """Note a warning about a file (and line), once."""
        note = f"{Path(path).name}{f' line {line}' if line is not None else ''}: {text}"
        if note not in self:
            self.append(note)


def rows(path: Path, required: bool = True) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a CSV file, without blank lines and lines starting with '#'."""
    if not path.exists():
        if required:
            raise FleeInputError(path, None, None, "a file of a Flee case", "no such file")
        return []
    out = []
    reader = csv.reader(text(path).splitlines())
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        plain(path, line, cells)
        out.append((line, cells))
    return out


def plain(path: Path, line: int, cells: list[str]) -> None:
    """Cells of a Flee file become names, sources and notes that reach terminals and pages: hostile text
    (control characters, line breaks, bidirectional overrides) is refused at its cell."""
    for k, cell in enumerate(cells, start=1):
        found = hostile(cell)
        if found:
            raise FleeInputError(path, line, k, "text without control characters or line breaks", found)


def text(path: Path) -> str:
    """A file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleeInputError(path, None, None, "UTF-8 text", str(exc)) from None


def header(path: Path) -> tuple[int, list[str]] | None:
    """The first line of a file when it is a comment header (`#name,...`)."""
    if not path.exists():
        return None
    reader = csv.reader(text(path).splitlines())
    for cells in reader:
        if cells and cells[0].strip().startswith("#"):
            names = [c.strip().lstrip("#").strip() for c in cells]
            plain(path, reader.line_num, names)
            return reader.line_num, names
        if cells and any(c.strip() for c in cells):
            return None
    return None


def number(path: Path, line: int, col: int, name: str, cell: str, *, integer: bool = False,
           minimum: float | None = None, maximum: float | None = None) -> float:
    """A cell as a finite number (a whole one when `integer`) within [minimum, maximum]."""
    try:
        value = float(cell)
        if not math.isfinite(value) or (integer and value != int(value)):
            raise ValueError
    except ValueError:
        raise FleeInputError(path, line, f"{col} ({name})", "a whole number" if integer else "a number",
                             f"`{cell}`") from None
    if minimum is not None and value < minimum:
        raise FleeInputError(path, line, f"{col} ({name})", f"a value >= {minimum:g}", cell)
    if maximum is not None and value > maximum:
        raise FleeInputError(path, line, f"{col} ({name})", f"a value <= {maximum:g}", cell)
    return value


def date(path: Path, line: int, col: int, name: str, cell: str) -> dt.date:
    """A cell as a date YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(cell)
    except ValueError:
        raise FleeInputError(path, line, f"{col} ({name})", "a date YYYY-MM-DD", f"`{cell}`") from None


def need(path: Path, line: int, cells: list[str], n: int, names: str) -> None:
    """At least n cells on the line."""
    if len(cells) < n:
        raise FleeInputError(path, line, None, f"{n} columns ({names})", f"{len(cells)}: {','.join(cells)}")


def known(path: Path, line: int, col: int, what: str, name: str, options: Iterable[str]) -> None:
    """A cell naming a location of locations.csv."""
    if name not in options:
        raise FleeInputError(path, line, f"{col} ({what})", "the name of a location in locations.csv",
                             f"`{name}`{suggest(name, list(options))}")
