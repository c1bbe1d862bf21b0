"""Flee's `closures.csv`: routes shut between two countries, every route of a location, or one route; camps
closed as camps (working as towns)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from refuge.errors import suggest
from refuge.interop.flee.csvread import FleeInputError, Notes, need, number, rows
from refuge.interop.flee.locations import FleeLocation
from refuge.scenario.limits import MAX_DAYS


def read_closures(path: Path, locs: list[FleeLocation], routes: Any, notes: Notes) -> list[dict]:
    """Flee's closures.csv: closures of locations and routes with their periods. A closure naming a location
    or a country that is not in the graph, or a link that is not a route, is left out with a warning (Flee
    does nothing for it)."""
    names = {loc.name for loc in locs}
    camps = {loc.name: loc.kind for loc in locs if loc.kind in ("camp", "idpcamp")}
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
            item: dict = {"countries": [a, b]}
            unknown = [n for n in (a, b) if n not in countries]
            what, options = "country", countries
        elif kind in ("camp", "idpcamp"):
            # Flee makes the place a town for the period, and at its end a camp (an IDP camp for `idpcamp`)
            item, unknown, what, options = {"camp": a}, [a] if a not in names else [], "camp", set(camps)
            if a in names and a not in camps:
                notes.add(path, line, f"a {kind} closure of `{a}`, which is not a camp: Flee makes it a camp when "
                          "the closure ends; refuge leaves it out")
                continue
            if a in camps and camps[a] != kind:
                notes.add(path, line, f"a {kind} closure of the {camps[a]} `{a}`: Flee makes it an {kind} when the "
                          f"closure ends; refuge keeps it a {camps[a]}")
        elif kind == "location":
            item, unknown, what, options = {"location": a}, [a] if a not in names else [], "location", names
        elif kind == "link":
            item = {"route": [b, a], "one_way": True}  # Flee's code shuts name2 -> name1 only
            unknown, what, options = [n for n in (a, b) if n not in names], "location", names
            if not unknown and frozenset((a, b)) not in joined:
                notes.add(path, line, f"a link closure of `{a}`-`{b}`, which routes.csv does not join: Flee does "
                          "nothing for it; refuge leaves it out")
                continue
        else:
            raise FleeInputError(path, line, "1 (closure_type)", "country, location, link, camp, idpcamp or "
                                 "remove_forced_redirection", f"`{cells[0]}`")
        if unknown:
            listed = ", ".join(f"`{n}`{suggest(n, sorted(options))}" for n in unknown)
            notes.add(path, line, f"a {kind} closure naming {listed}, no {what} of the graph: Flee does nothing "
                      "for it; refuge leaves it out")
            continue
        out.append({**item, "start": d0, "end": d1, "line": line})
    return out
