"""Flee's `conflicts.csv`: conflict intensity by location (columns) and day (rows)."""

from __future__ import annotations

from pathlib import Path

from refuge.interop.flee.csvread import FleeInputError, header, number, rows
from refuge.scenario.limits import MAX_PARAMETER


def read_conflicts(path: Path) -> dict[str, list[float]] | None:
    """Intensity per location per day (row order), or None without the file."""
    if not path.exists():
        return None
    head = header(path)
    if head is None:
        raise FleeInputError(path, 1, None, "a header `#Day,<location>,...`", "no header line")
    _, cols = head
    series: dict[str, list[float]] = {n: [] for n in cols[1:] if n}
    for line, cells in rows(path):
        for k, n in enumerate(cols[1:], start=2):
            if not n:
                continue
            if k > len(cells) or cells[k - 1] == "":
                raise FleeInputError(path, line, f"{k} ({n})", "an intensity", "an empty cell")
            series[n].append(number(path, line, k, n, cells[k - 1], minimum=0, maximum=MAX_PARAMETER))
    if series and min(len(v) for v in series.values()) == 0:
        raise FleeInputError(path, None, None, "one row per day", "no rows")
    return series  # columns naming no location are kept here and left out by the caller (Flee ignores them)


def conflict_periods(values: list[float], days: int) -> list[tuple[int, int | None, float]]:
    """(first day, last day or None for 'to the end', intensity) of each run of positive intensity."""
    out = []
    start, level = None, 0.0
    vals = list(values[:days]) + [values[-1]] * max(0, days - len(values))
    for t, v in enumerate(vals):
        if v > 1e-6 and start is None:
            start, level = t, v
        elif v <= 1e-6 and start is not None:
            out.append((start, t - 1, level))
            start = None
    if start is not None:
        out.append((start, None, level))
    return out
