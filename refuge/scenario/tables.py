"""A route network's long lists in CSV files beside the scenario: `network.locations_file` and
`network.routes_file` (a path relative to the scenario file), read as the scenario is read.

A locations file has the header `state,type,country,population,capacity` and a row per location (an empty cell
takes the field's default; a number cell is a number, any other a parameter name); a routes file the header
`a,b,km`. Their rows come after the `locations` and `routes` written in the scenario. These are data files, like
series files: they do not count against the scenario file's size limit, which is for a file written by hand
(`refuge import flee` writes a large network's lists here). Every problem names the field, the file and the line.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from refuge.errors import Problem
from refuge.scenario.limits import MAX_TABLE_BYTES

LOCATION_COLUMNS = ("state", "type", "country", "population", "capacity")
ROUTE_COLUMNS = ("a", "b", "km")
NUMBERS = ("population", "capacity", "km")  # cells read as a number when they are one (else a parameter name)


def needs_tables(sc: Any) -> bool:
    """Whether the scenario's network names a file whose rows are not read yet."""
    net = sc.network
    return net is not None and (net.locations_file is not None or net.routes_file is not None)


def attach_tables(sc: Any, base: Path, problems: list[Problem]) -> Any:
    """A copy of the scenario with its network's files read into `locations` and `routes` (the file fields then
    empty); unchanged after a problem (added to `problems`)."""
    from refuge.scenario.network import Location, Route

    net = sc.network
    if not needs_tables(sc):
        return sc
    update: dict = {"locations_file": None, "routes_file": None}
    for field, columns, model, into in (("locations_file", LOCATION_COLUMNS, Location, "locations"),
                                        ("routes_file", ROUTE_COLUMNS, Route, "routes")):
        name = getattr(net, field)
        if name is None:
            continue
        rows = _rows(base, name, columns, f"network.{field}", problems)
        if rows is None:
            return sc
        items = []
        for line, cells in rows:
            data = {c: _cell(v) if c in NUMBERS else v for c, v in zip(columns, cells) if v.strip() != ""}
            if model is Route:
                data = {"between": [data.pop("a", ""), data.pop("b", "")], **data}
            try:
                items.append(model.model_validate(data))
            except ValueError as exc:
                err = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
                col = ".".join(str(p) for p in err.get("loc", ()))
                problems.append(Problem(f"network.{field}", "rows the format accepts",
                                        f"{name} line {line}" + (f", {col}" if col else "") + f": {err['msg']}"))
                return sc
        update[into] = list(getattr(net, into)) + items
    return sc.model_copy(update={"network": net.model_copy(update=update)})


def _cell(text: str) -> float | str:
    """A number cell as a number (plain digits: Python's `1_000` is a name here); else a parameter name."""
    try:
        return float(text) if "_" not in text else text.strip()
    except ValueError:
        return text.strip()


def _rows(base: Path, name: str, columns: tuple[str, ...], where: str, problems: list[Problem]) \
        -> list[tuple[int, list[str]]] | None:
    """(line, cells) of each row of a table file after its header (which must be `columns`); None after a
    problem."""
    path = Path(name) if Path(name).is_absolute() else base / name
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            problems.append(Problem(where, f"a file of at most {MAX_TABLE_BYTES / 2**20:g} MB",
                                    f"{name}: {path.stat().st_size / 2**20:,.1f} MB"))
            return None
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(where, "an existing CSV file (a path relative to the scenario file)",
                                f"{name}: no such file"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(where, "a readable UTF-8 CSV file", f"{name}: {str(exc)[:200]}"))
        return None
    out: list[tuple[int, list[str]]] = []
    header = None
    try:
        for line, cells in enumerate(csv.reader(text.splitlines()), start=1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if header is None:
                header = tuple(c.strip() for c in cells)
                if header != columns:
                    problems.append(Problem(where, f"the header {','.join(columns)}",
                                            f"{name} line {line}: {','.join(header)[:200]}"))
                    return None
                continue
            if len(cells) != len(columns):
                problems.append(Problem(where, f"{len(columns)} cells a row ({','.join(columns)})",
                                        f"{name} line {line}: {len(cells)}"))
                return None
            out.append((line, cells))
    except csv.Error as exc:
        problems.append(Problem(where, "a CSV file", f"{name}: {exc}"))
        return None
    if header is None:
        problems.append(Problem(where, f"the header {','.join(columns)}", f"{name}: an empty file"))
        return None
    return out
