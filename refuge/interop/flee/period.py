"""Flee's simulation period: `sim_period.csv` (or `conflict_period.csv`, its older name)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from refuge.interop.flee.csvread import FleeInputError, date, need, number, rows
from refuge.scenario.limits import MAX_DAYS


def read_period(path: Path) -> tuple[dt.date, int]:
    """Flee's simulation period file: (start date, number of days)."""
    start, length = None, None
    for line, cells in rows(path):
        need(path, line, cells, 2, "key,value")
        key = cells[0].lower()
        if key == "startdate":
            start = date(path, line, 2, "StartDate", cells[1])
        elif key == "length":
            length = int(number(path, line, 2, "Length", cells[1], integer=True, minimum=1, maximum=MAX_DAYS))
    if start is None or length is None:
        raise FleeInputError(path, None, None, "lines `StartDate,YYYY-MM-DD` and `Length,DAYS`",
                             ("start date" if start is None else "length") + " missing")
    check_period(path, start, length)
    return start, length


def check_period(where: Path | str, start: dt.date, length: int) -> None:
    """A period of 1 to MAX_DAYS days that ends before the year 10000."""
    if not 1 <= length <= MAX_DAYS:
        raise FleeInputError(where, None, None, f"a period of 1 to {MAX_DAYS} days", f"{length}")
    if (dt.date.max - start).days < length:
        raise FleeInputError(where, None, None, "a period ending before the year 10000", f"{start} + {length} days")


def period_file(idir: Path) -> Path:
    """The case's period file: `sim_period.csv`, or `conflict_period.csv`, its name in older Flee cases."""
    new, old = idir / "sim_period.csv", idir / "conflict_period.csv"
    return old if old.exists() and not new.exists() else new
