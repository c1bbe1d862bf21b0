"""Flee's `locations.csv`: one location per row (name, region, country, position, type, conflict date, number)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from refuge.interop.flee.csvread import FleeInputError, Notes, need, number, rows
from refuge.scenario.limits import MAX_DAYS, MAX_PEOPLE


@dataclass
class FleeLocation:
    name: str
    country: str
    kind: str  # conflict_zone, town, camp, idpcamp, forward, marker, flood_zone
    conflict_date: int | None
    number: int  # capacity of a camp, population elsewhere
    line: int


_KINDS = (("idpcamp", "idpcamp"), ("camp", "camp"), ("conflict", "conflict_zone"), ("forward", "forward"),
          ("marker", "marker"), ("flood_zone", "flood_zone"), ("town", "town"), ("default", "town"))


def read_locations(path: Path, notes: Notes) -> list[FleeLocation]:
    """Flee's locations.csv: one FleeLocation per row. A name used again replaces the earlier row (with a
    warning): Flee keeps both, but its routes, closures and data find the last."""
    out: list[FleeLocation] = []
    names: dict[str, int] = {}
    for line, cells in rows(path):
        need(path, line, cells, 8, "name,region,country,latitude,longitude,location_type,conflict_date,population")
        name, country, ltype = cells[0], cells[2], cells[5].lower()
        if not name:
            raise FleeInputError(path, line, "1 (name)", "a location name", "an empty cell")
        if name in names:
            notes.add(path, line, f"`{name}` again (first on line {names[name]}): Flee keeps both rows and attaches "
                      "routes, closures, conflicts and data to this last one, leaving the first a place no route "
                      "reaches; refuge keeps this row only")
            out = [loc for loc in out if loc.name != name]
        names[name] = line
        kind = next((k for key, k in _KINDS if key in ltype), None)
        if kind is None:
            raise FleeInputError(path, line, "6 (location_type)", "conflict_zone, town, camp, idpcamp, "
                                 "forwarding_hub, marker or flood_zone", f"`{cells[5]}`")
        cdate = None
        if kind == "conflict_zone":
            cdate = int(number(path, line, 7, "conflict_date", cells[6] or "?", integer=True, minimum=-MAX_DAYS,
                               maximum=MAX_DAYS))
        people = int(number(path, line, 8, "population", cells[7], integer=True, minimum=0,
                            maximum=MAX_PEOPLE)) if cells[7] else 0
        out.append(FleeLocation(name, country or "unknown", kind, cdate, people, line))
    if not out:
        raise FleeInputError(path, None, None, "at least one location", "none")
    return out
