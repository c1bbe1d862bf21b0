"""Flee's `closures.csv`: routes shut between two countries, every route of a location, or one route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from refuge.errors import suggest
from refuge.interop.flee.csvread import FleeInputError, known, need, number, rows
from refuge.interop.flee.locations import FleeLocation
from refuge.scenario.limits import MAX_DAYS


def read_closures(path: Path, locs: list[FleeLocation], routes: Any) -> list[dict]:
    """Flee's closures.csv: closures of locations and routes with their periods."""
    names = {loc.name for loc in locs}
    countries = {loc.country for loc in locs}
    joined = {frozenset((a, b)) for a, b, _, _ in routes}
    out = []
    for line, cells in rows(path, required=False):
        need(path, line, cells, 5, "closure_type,name1,name2,closure_start,closure_end")
        kind, a, b = cells[0].lower(), cells[1], cells[2]
        d0 = int(number(path, line, 4, "closure_start", cells[3], integer=True, minimum=-MAX_DAYS, maximum=MAX_DAYS))
        d1 = int(number(path, line, 5, "closure_end", cells[4], integer=True, minimum=-MAX_DAYS, maximum=MAX_DAYS))
        if kind == "remove_forced_redirection":
            continue  # forced redirection does not change where Flee's agents go
        if kind == "country":
            for col, n in ((2, a), (3, b)):
                if n not in countries:
                    raise FleeInputError(path, line, f"{col} (name{col - 1})", "the country of a location",
                                         f"`{n}`{suggest(n, sorted(countries))}")
            item: dict = {"countries": [a, b]}
        elif kind == "location":
            known(path, line, 2, "name1", a, names)
            item = {"location": a}
        elif kind == "link":
            known(path, line, 2, "name1", a, names)
            known(path, line, 3, "name2", b, names)
            if frozenset((a, b)) not in joined:
                raise FleeInputError(path, line, "3 (name2)", f"a location joined to {a} in routes.csv", f"`{b}`")
            item = {"route": [b, a], "one_way": True}  # Flee's code shuts name2 -> name1 only
        else:
            raise FleeInputError(path, line, "1 (closure_type)", "country, location, link or "
                                 "remove_forced_redirection (camp closures are not supported)", f"`{cells[0]}`")
        out.append({**item, "start": d0, "end": d1, "line": line})
    return out
