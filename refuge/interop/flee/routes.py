"""Flee's `routes.csv`: routes between two locations, with their length in km."""

from __future__ import annotations

from pathlib import Path

from refuge.interop.flee.csvread import FleeInputError, Notes, known, need, number, rows
from refuge.scenario.limits import MAX_PARAMETER


def read_routes(path: Path, names: set[str], notes: Notes, as_flee: bool = False) -> list[tuple[str, str, float, int]]:
    """Flee's routes.csv: (from, to, km, line) per row, between known locations. A route from a place to
    itself is left out (with a warning).

    The fourth column, `forced_redirection`, marks a route Flee flags (1: from name1, 2: from name2); its
    movement rules never read the flag, so refuge ignores it. But Flee's loader links a route marked 1 twice
    (the test for 2 is not an `else` of the test for 1): both places then list it twice, and route choice
    weighs it double. That is an accident; refuge links it once and says so, and `as_flee` links it twice."""
    out = []
    for line, cells in rows(path):
        need(path, line, cells, 3, "name1,name2,distance")
        a, b = cells[0], cells[1]
        known(path, line, 1, "name1", a, names)
        known(path, line, 2, "name2", b, names)
        km = number(path, line, 3, "distance", cells[2], minimum=0, maximum=MAX_PARAMETER)
        if a == b:
            notes.add(path, line, f"a route from `{a}` to itself: Flee accepts it (people may take it and arrive "
                      "where they set out, a day's travel lost); refuge leaves it out")
            continue
        forced = cells[3].strip() if len(cells) > 3 else ""
        if forced not in ("", "0", "1", "2"):
            raise FleeInputError(path, line, "4 (forced_redirection)", "0, 1, 2 or nothing", f"`{forced}`")
        out.append((a, b, km, line))
        if forced == "1":
            notes.add(path, line, f"forced_redirection 1 on the route `{a}`-`{b}`: Flee's loader links it twice, so "
                      "its route choice weighs it double (the flag itself changes nothing); refuge "
                      + ("does as Flee does (--as-flee)" if as_flee else "links it once (--as-flee: twice, as Flee)"))
            if as_flee:
                out.append((a, b, km, line))
    if not out:
        raise FleeInputError(path, None, None, "at least one route", "none")
    return out
