"""Flee's own error on a case, from the output of Flee's runs (`refuge import flee --flee-output out.csv ...`).

Flee writes, for each day of a run, each camp's simulated count and its data (`NAME sim`, `NAME data`). Each
day's error is computed from them on refuge's measure, the one `refuge check` calls the run ARD of group
`camps`: sum over the camps of |sim - data| / max(1, sum of data). (Flee's own `Total error` column divides by
another total, its `raw UNHCR refugee count`, and is not comparable.) The mean over the runs given, day by day,
goes into the case's data folder (`flee-error.csv`) and the scenario's first camp says it as `other_error` of
group `camps`: `refuge check` and `refuge backtest` then name Flee's own error beside refuge's
(`refuge.evidence.other_error`).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

from refuge.interop.flee.csvread import FleeInputError
from refuge.interop.flee.writer import FLEE_NOTICE, FleeCase, q

MOST_DAYS = 36_600


def read_output(path: Path) -> dict[int, float]:
    """Day -> the daily error of one run's output file (Flee's out.csv: Day, then `NAME sim` and `NAME data` for
    each camp): sum |sim - data| / max(1, sum data) over the camps."""
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise FleeInputError(path, None, None, "Flee's output (a CSV text file)", str(exc)) from None
    head = rows[0] if rows else []
    camps = [c[:-4] for c in head if c.endswith(" sim") and f"{c[:-4]} data" in head]
    if "Day" not in head or not camps:
        raise FleeInputError(path, 1, None, "a header with Day and a `NAME sim`, `NAME data` pair per camp "
                             "(Flee's out.csv)", ", ".join(head[:6]) if head else "an empty file")
    day_col = head.index("Day")
    cols = [(head.index(f"{c} sim"), head.index(f"{c} data")) for c in camps]
    out: dict[int, float] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            day = int(row[day_col])
            pairs = [(float(row[i]), float(row[j])) for i, j in cols]
        except (ValueError, IndexError):
            raise FleeInputError(path, line, None, "a whole day number and numbers of people", ",".join(row[:4])
                                 ) from None
        if not 0 <= day < MOST_DAYS or not all(math.isfinite(x) and x >= 0 for p in pairs for x in p):
            raise FleeInputError(path, line, None, f"a day 0-{MOST_DAYS - 1} and finite counts >= 0",
                                 ",".join(row[:4]))
        out[day] = sum(abs(s - d) for s, d in pairs) / max(1.0, sum(d for _, d in pairs))
    if not out:
        raise FleeInputError(path, None, None, "at least one day of Flee's output", "none")
    return out


def mean_error(paths: list[Path]) -> dict[int, float]:
    """Day -> the mean over the runs of Flee's daily error, on the days every run has."""
    runs = [read_output(Path(p)) for p in paths]
    days = sorted(set.intersection(*(set(r) for r in runs)))
    if not days:
        raise FleeInputError(paths[0], None, None, "Flee's outputs with days in common", "none")
    return {d: sum(r[d] for r in runs) / len(runs) for d in days}


def with_own_error(case: FleeCase, paths: list[Path], start: dt.date, data_dir: str, by: str) -> FleeCase:
    """The case with Flee's own daily error of these runs as `other_error` of its camps (day d of Flee's output
    is day d of the scenario)."""
    err = mean_error(paths)
    rel = f"{data_dir}/flee-error.csv"
    rows = "\n".join(f"{start + dt.timedelta(days=d)},{v:.6g}" for d, v in err.items())
    names = ", ".join(Path(p).name for p in paths)
    case.files[rel] = (f"# Flee's own daily error of its runs of this case: sum |sim - data| / max(1, sum data) "
                       f"over the camps of {names}, the mean over the runs; day 0 is the scenario's start. "
                       f"{FLEE_NOTICE}\ndate,value\n{rows}\n")
    whole = sum(err.values()) / len(err)
    line = (f"    other_error: {{by: {q(by)}, ard: {whole:.4f}, daily: {{file: {rel}}}, source: {{file: {q(names)}, "
            f"fact: {q(f'each camp sim and data of each day, {len(paths)} runs')}}}}}")
    marker = "    group: camps\n"
    if marker not in case.text:
        raise FleeInputError(paths[0], None, None, "a case with camp data (--validation) to compare Flee's error "
                             "with", "no camps in the evidence")
    case.text = case.text.replace(marker, marker + line + "\n", 1)
    return case
