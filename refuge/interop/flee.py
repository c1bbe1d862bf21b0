"""Import a Flee case (an input folder, optionally its validation folder and a settings file) as a scenario.

    from refuge.interop.flee import import_flee
    case = import_flee("mali2012/input", validation="mali2012/validation", settings="validation-modern125.yml")
    case.write("mali2012.yaml")      # the scenario, and its data files in mali2012-data/

What becomes what (Flee's rules as its code at 02cd2cbd applies them):

- each row of `locations.csv` becomes a state and a network location: conflict zones are `origin` states,
  towns and forwarding hubs `other`, camps `destination`; a camp's last column is its capacity, other places'
  their population. Locations outside the first row's country are foreign.
- `routes.csv` rows become routes (both directions); `closures.csv` rows closures of routes between two
  countries, of every route of a location, or of one route, from the start day to the day before the end day
  (an end at or before the start: closed to the end). A `link` closure shuts only name2 -> name1, as Flee's
  code does (its `remove_link` with `twoway` removes the reverse direction alone).
- `conflicts.csv` (intensity by day) gives conflict periods: a period begins when the intensity becomes
  positive, at that day's intensity, and ends when it falls to zero (Flee ignores changes in between).
  Without it, a conflict zone's `conflict_date` starts a conflict of intensity 1 that lasts to the end.
- the validation folder's `data_layout.csv` names a data file per camp (and first the total; a row naming
  several files sums them on the union of their dates, each interpolated: Flee's own sum holds one file's
  last count instead of interpolating it, a difference only between dated counts): each camp
  becomes time-series evidence (group `camps`), its counts corrected as `registration_corrections.csv` says
  (points before a date scaled by the ratio of the count on that date to the one before). People spawn each
  day as many as the sum of the camps' whole-number interpolated counts grew (Flee's `sum_from_camps`);
  camps start with their count on the first day, and their capacity is reduced by it, as Flee does.
- the settings file's movement and spawning rules become parameters (cited to the file and key).

Every problem names the file, the line and the column; nothing is written when there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refuge.errors import RefugeError, suggest
from refuge.scenario.format import load_yaml
from refuge.scenario.limits import MAX_DAYS, MAX_FILE_BYTES, MAX_PARAMETER, MAX_PEOPLE

FLEE_NOTICE = ("Flee (djgroen/flee) is BSD-3-Clause licensed; data from a Flee case keep that licence "
               "(see LICENSE.flee beside the data).")
SQRT_TEN = 3.16227766017


class FleeInputError(RefugeError):
    """A problem in a Flee file: the file, line and column, what was expected and what was found."""

    def __init__(self, path: Path | str, line: int | None, column: int | str | None, expected: str, found: str):
        where = str(path)
        if line is not None:
            where += f" line {line}"
        if column is not None:
            where += f", column {column}" if line is not None else f" column {column}"
        super().__init__(f"{where}: expected {expected}; found {found}")


# --- reading CSV files ------------------------------------------------------------------------------------


def _rows(path: Path, required: bool = True) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a CSV file, without blank lines and lines starting with '#'."""
    if not path.exists():
        if required:
            raise FleeInputError(path, None, None, "a file of a Flee case", "no such file")
        return []
    out = []
    reader = csv.reader(_text(path).splitlines())
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not cells or all(not c for c in cells) or cells[0].startswith("#"):
            continue
        out.append((line, cells))
    return out


def _text(path: Path) -> str:
    """A file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FleeInputError(path, None, None, "UTF-8 text", str(exc)) from None


def _header(path: Path) -> tuple[int, list[str]] | None:
    """The first line of a file when it is a comment header (`#name,...`)."""
    if not path.exists():
        return None
    reader = csv.reader(_text(path).splitlines())
    for cells in reader:
        if cells and cells[0].strip().startswith("#"):
            return reader.line_num, [c.strip().lstrip("#").strip() for c in cells]
        if cells and any(c.strip() for c in cells):
            return None
    return None


def _number(path: Path, line: int, col: int, name: str, text: str, *, integer: bool = False,
            minimum: float | None = None, maximum: float | None = None) -> float:
    try:
        value = float(text)
        if not math.isfinite(value) or (integer and value != int(value)):
            raise ValueError
    except ValueError:
        raise FleeInputError(path, line, f"{col} ({name})", "a whole number" if integer else "a number",
                             f"`{text}`") from None
    if minimum is not None and value < minimum:
        raise FleeInputError(path, line, f"{col} ({name})", f"a value >= {minimum:g}", text)
    if maximum is not None and value > maximum:
        raise FleeInputError(path, line, f"{col} ({name})", f"a value <= {maximum:g}", text)
    return value


def _date(path: Path, line: int, col: int, name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FleeInputError(path, line, f"{col} ({name})", "a date YYYY-MM-DD", f"`{text}`") from None


def _need(path: Path, line: int, cells: list[str], n: int, names: str) -> None:
    if len(cells) < n:
        raise FleeInputError(path, line, None, f"{n} columns ({names})", f"{len(cells)}: {','.join(cells)}")


def _known(path: Path, line: int, col: int, what: str, name: str, options) -> None:
    if name not in options:
        raise FleeInputError(path, line, f"{col} ({what})", "the name of a location in locations.csv",
                             f"`{name}`{suggest(name, list(options))}")


# --- the parts of a case ----------------------------------------------------------------------------------


@dataclass
class FleeLocation:
    name: str
    country: str
    kind: str  # conflict_zone, town, camp, idpcamp, forward
    conflict_date: int | None
    number: int  # capacity of a camp, population elsewhere
    line: int


def read_period(path: Path) -> tuple[dt.date, int]:
    """Flee's simulation period file: (start date, number of days)."""
    start, length = None, None
    for line, cells in _rows(path):
        _need(path, line, cells, 2, "key,value")
        key = cells[0].lower()
        if key == "startdate":
            start = _date(path, line, 2, "StartDate", cells[1])
        elif key == "length":
            length = int(_number(path, line, 2, "Length", cells[1], integer=True, minimum=1, maximum=MAX_DAYS))
    if start is None or length is None:
        raise FleeInputError(path, None, None, "lines `StartDate,YYYY-MM-DD` and `Length,DAYS`",
                             ("start date" if start is None else "length") + " missing")
    if (dt.date.max - start).days < length:
        raise FleeInputError(path, None, None, "a period ending before the year 10000", f"{start} + {length} days")
    return start, length


def period_file(idir: Path) -> Path:
    """The case's period file: `sim_period.csv`, or `conflict_period.csv`, its name in older Flee cases."""
    new, old = idir / "sim_period.csv", idir / "conflict_period.csv"
    return old if old.exists() and not new.exists() else new


_KINDS = (("idpcamp", "idpcamp"), ("camp", "camp"), ("conflict", "conflict_zone"), ("forward", "forward"),
          ("town", "town"), ("default", "town"))


def read_locations(path: Path) -> list[FleeLocation]:
    """Flee's locations.csv: one FleeLocation per row."""
    out: list[FleeLocation] = []
    names: set[str] = set()
    for line, cells in _rows(path):
        _need(path, line, cells, 8, "name,region,country,latitude,longitude,location_type,conflict_date,population")
        name, country, ltype = cells[0], cells[2], cells[5].lower()
        if not name:
            raise FleeInputError(path, line, "1 (name)", "a location name", "an empty cell")
        if name in names:
            raise FleeInputError(path, line, "1 (name)", "a name not used before", f"`{name}` again")
        names.add(name)
        kind = next((k for key, k in _KINDS if key in ltype), None)
        if kind is None:
            raise FleeInputError(path, line, "6 (location_type)", "conflict_zone, town, camp, idpcamp or "
                                 "forwarding_hub (markers and flood zones are not supported)", f"`{cells[5]}`")
        cdate = None
        if kind == "conflict_zone":
            cdate = int(_number(path, line, 7, "conflict_date", cells[6] or "?", integer=True, minimum=-MAX_DAYS,
                                maximum=MAX_DAYS))
        number = int(_number(path, line, 8, "population", cells[7], integer=True, minimum=0,
                             maximum=MAX_PEOPLE)) if cells[7] else 0
        out.append(FleeLocation(name, country or "unknown", kind, cdate, number, line))
    if not out:
        raise FleeInputError(path, None, None, "at least one location", "none")
    return out


def read_routes(path: Path, names: set[str]) -> list[tuple[str, str, float, int]]:
    """Flee's routes.csv: (from, to, km, forced redirection) per row, between known locations."""
    out = []
    for line, cells in _rows(path):
        _need(path, line, cells, 3, "name1,name2,distance")
        a, b = cells[0], cells[1]
        _known(path, line, 1, "name1", a, names)
        _known(path, line, 2, "name2", b, names)
        if a == b:
            raise FleeInputError(path, line, "2 (name2)", "a location other than name1", f"`{b}`")
        km = _number(path, line, 3, "distance", cells[2], minimum=0, maximum=MAX_PARAMETER)
        forced = cells[3] if len(cells) > 3 else ""
        if forced not in ("", "0", "1", "2"):
            raise FleeInputError(path, line, "4 (forced_redirection)", "0, 1, 2 or nothing", f"`{forced}`")
        out.append((a, b, km, line))
    if not out:
        raise FleeInputError(path, None, None, "at least one route", "none")
    return out


def read_closures(path: Path, locs: list[FleeLocation], routes: Any) -> list[dict]:
    """Flee's closures.csv: closures of locations and routes with their periods."""
    names = {loc.name for loc in locs}
    countries = {loc.country for loc in locs}
    joined = {frozenset((a, b)) for a, b, _, _ in routes}
    out = []
    for line, cells in _rows(path, required=False):
        _need(path, line, cells, 5, "closure_type,name1,name2,closure_start,closure_end")
        kind, a, b = cells[0].lower(), cells[1], cells[2]
        d0 = int(_number(path, line, 4, "closure_start", cells[3], integer=True, minimum=-MAX_DAYS, maximum=MAX_DAYS))
        d1 = int(_number(path, line, 5, "closure_end", cells[4], integer=True, minimum=-MAX_DAYS, maximum=MAX_DAYS))
        if kind == "remove_forced_redirection":
            continue  # forced redirection does not change where Flee's agents go
        if kind == "country":
            for col, n in ((2, a), (3, b)):
                if n not in countries:
                    raise FleeInputError(path, line, f"{col} (name{col - 1})", "the country of a location",
                                         f"`{n}`{suggest(n, sorted(countries))}")
            item = {"countries": [a, b]}
        elif kind == "location":
            _known(path, line, 2, "name1", a, names)
            item = {"location": a}
        elif kind == "link":
            _known(path, line, 2, "name1", a, names)
            _known(path, line, 3, "name2", b, names)
            if frozenset((a, b)) not in joined:
                raise FleeInputError(path, line, "3 (name2)", f"a location joined to {a} in routes.csv", f"`{b}`")
            item = {"route": [b, a], "one_way": True}  # Flee's code shuts name2 -> name1 only
        else:
            raise FleeInputError(path, line, "1 (closure_type)", "country, location, link or "
                                 "remove_forced_redirection (camp closures are not supported)", f"`{cells[0]}`")
        out.append({**item, "start": d0, "end": d1, "line": line})
    return out


def read_conflicts(path: Path, names: set[str], days: int) -> dict[str, list[float]] | None:
    """Intensity per location per day (row order), or None without the file."""
    if not path.exists():
        return None
    head = _header(path)
    if head is None:
        raise FleeInputError(path, 1, None, "a header `#Day,<location>,...`", "no header line")
    hline, cols = head
    series: dict[str, list[float]] = {n: [] for n in cols[1:] if n}
    for line, cells in _rows(path):
        for k, n in enumerate(cols[1:], start=2):
            if not n:
                continue
            if k > len(cells) or cells[k - 1] == "":
                raise FleeInputError(path, line, f"{k} ({n})", "an intensity", "an empty cell")
            series[n].append(_number(path, line, k, n, cells[k - 1], minimum=0, maximum=MAX_PARAMETER))
    if series and min(len(v) for v in series.values()) == 0:
        raise FleeInputError(path, None, None, "one row per day", "no rows")
    return series  # columns naming no location are kept here and left out by the caller (Flee ignores them)


def read_corrections(path: Path, camps: set[str]) -> list[tuple[str, dt.date, int]]:
    """Flee's registration corrections: (camp, date, people) per row."""
    out = []
    for line, cells in _rows(path, required=False):
        _need(path, line, cells, 2, "camp,date")
        if cells[0] not in camps:
            raise FleeInputError(path, line, "1 (camp)", "a camp named in data_layout.csv",
                                 f"`{cells[0]}`{suggest(cells[0], sorted(camps))}")
        out.append((cells[0], _date(path, line, 2, "date", cells[1]), line))
    return out


def read_counts(path: Path) -> list[tuple[dt.date, float]]:
    """A camp's data file: date,count rows (a first line naming the columns is skipped)."""
    out = []
    for line, cells in _rows(path):
        if len(cells) < 2 or cells[1] == "":
            continue  # Flee skips rows without a count
        try:
            date = dt.date.fromisoformat(cells[0])
        except ValueError:
            if not out and line == _rows(path)[0][0]:
                continue  # column names
            raise FleeInputError(path, line, "1 (date)", "a date YYYY-MM-DD", f"`{cells[0]}`") from None
        value = _number(path, line, 2, "count", cells[1], minimum=0, maximum=MAX_PEOPLE)
        if out and date <= out[-1][0]:
            raise FleeInputError(path, line, "1 (date)", f"a date after {out[-1][0]}", str(date))
        out.append((date, value))
    if not out:
        raise FleeInputError(path, None, None, "rows of date,count", "none")
    return out


def read_layout(vdir: Path, names: set[str], camp_names: set[str]) -> list[tuple[str, list[Path], int]]:
    """Flee's validation data_layout.csv: (location, its data files, line) per row; a row naming several
    files (as Flee's CAR case does) means the camp's count is their sum."""
    path = vdir / "data_layout.csv"
    out = []
    for i, (line, cells) in enumerate(_rows(path)):
        _need(path, line, cells, 2, "name,file")
        name = cells[0]
        if i > 0 or name != "total":
            if name not in names:
                raise FleeInputError(path, line, "1 (name)", "the name of a camp in locations.csv",
                                     f"`{name}`{suggest(name, sorted(names))}")
            if name not in camp_names:
                raise FleeInputError(path, line, "1 (name)", "a camp (this location is not one)", f"`{name}`")
        if any(name == n for n, _, _ in out):
            raise FleeInputError(path, line, "1 (name)", "a camp not listed before", f"`{name}` again")
        files = []
        for col, cell in enumerate(cells[1:], start=2):
            if not cell:
                continue
            if not (vdir / cell).is_file():
                raise FleeInputError(path, line, f"{col} (file)", "a data file in the validation folder", f"`{cell}`")
            files.append(vdir / cell)
        if not files:
            raise FleeInputError(path, line, "2 (file)", "a data file in the validation folder", "an empty cell")
        out.append((name, files, line))
    if not out:
        raise FleeInputError(path, None, None, "a row per camp", "none")
    return out


def summed_counts(files: list[Path], start: dt.date) -> list[tuple[int, float]]:
    """(day, count) of one camp from its data files: one file's rows as they are; several files summed on the
    union of their dates, each file linearly interpolated between its dates and held flat outside them
    (so the sum, read as a line through its points, is the sum of the files read the same way)."""
    tables = [[((d - start).days, v) for d, v in read_counts(f)] for f in files]
    if len(tables) == 1:
        return tables[0]
    import numpy as np

    days = sorted({d for t in tables for d, _ in t})
    total = np.zeros(len(days))
    for t in tables:
        total += np.interp(days, [d for d, _ in t], [v for _, v in t])
    return [(d, float(v)) for d, v in zip(days, total)]


# --- settings ------------------------------------------------------------------------------------------------

# Flee setting (move_rules) -> movement field, Flee's default
_MOVE = {
    "max_move_speed": ("speed", 360.0), "max_walk_speed": ("walk_speed", 35.0),
    "conflict_movechance": ("move_chance_conflict", 1.0), "default_movechance": ("move_chance_town", 0.3),
    "camp_movechance": ("move_chance_camp", 0.001), "idpcamp_movechance": ("move_chance_idpcamp", 0.1),
    "softening": ("distance_softening", 10.0), "distance_power": ("distance_power", 1.0),
    "weight_softening": ("weight_softening", 0.0), "weight_power": ("weight_power", 1.0),
    "camp_weight": ("camp_weight", 1.0), "conflict_weight": ("conflict_weight", 1.0 / SQRT_TEN),
    "foreign_weight": ("foreign_weight", 1.0), "capacity_buffer": ("capacity_buffer", 0.9),
    "capacity_scaling": ("capacity_scaling", 1.0),
}
_MOVE_FLAGS = {"start_on_foot": False, "avoid_short_stints": False}
# rules refuge does not model, with the value at which they are off
_UNSUPPORTED_MOVE = {"stay_close_to_home": False, "use_pop_for_loc_weight": False, "movechance_pop_scale_factor": 0,
                     "fixed_routes": False, "two_system_decision_making": False, "use_economic_pull": False,
                     "flee_when_starving": False, "avoid_food_deprived_locations": False, "flood_rules": None,
                     "womenavoidhazards": False, "childrenavoidhazards": False, "elderlyavoidhazards": False,
                     "boystakerisk": False, "matchcampethnicity": False, "matchtownethnicity": False,
                     "matchconflictethnicity": False, "matchcampreligion": False, "harvest_months": []}
_UNSUPPORTED_SPAWN = {"take_from_population": False, "conflict_driven_spawning": None,
                      "flood_driven_spawn_mode": None, "starvation_driven_spawning": False,
                      "read_from_agents_csv_file": False, "camps_are_sicks": False}


@dataclass
class Settings:
    file: str = ""
    move: dict[str, float] = field(default_factory=lambda: {f: d for f, d in _MOVE.values()})
    keys: dict[str, str] = field(default_factory=dict)  # movement field -> the Flee key it came from
    flags: dict[str, bool] = field(default_factory=lambda: dict(_MOVE_FLAGS))
    awareness: int = 1
    decay: list[float] = field(default_factory=lambda: [1.0])
    decay_interval: int = 30
    sum_from_camps: bool = True
    insert_day0: bool = True
    empty_camps_on_day0: bool = False
    hasten: int = 1


def read_settings(path: Path | None) -> Settings:
    """Flee's simsetting.yml (the settings refuge uses), or the defaults without one."""
    import yaml

    s = Settings()
    if path is None:
        return s
    s.file = path.name
    if not path.is_file():
        raise FleeInputError(path, None, None, "a Flee settings file (YAML)", "no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise FleeInputError(path, None, None, f"a settings file of at most {MAX_FILE_BYTES / 2**20:g} MB",
                             f"{path.stat().st_size / 2**20:,.1f} MB")
    text = _text(path)
    try:  # the scenario format's hardened safe loader: no Python objects, nesting and aliases bounded
        data = load_yaml(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FleeInputError(path, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                             "valid YAML", str(getattr(exc, "problem", exc))) from None
    lines = text.splitlines()
    if not isinstance(data, dict):
        raise FleeInputError(path, 1, None, "a mapping of sections (move_rules, spawn_rules, ...)",
                             type(data).__name__)

    def where(key: str) -> int | None:
        return next((i + 1 for i, ln in enumerate(lines) if ln.strip().startswith(f"{key}:")), None)

    def number(section_name: str, key: str, value: Any, low: float, high: float, integer: bool = False) -> float:
        what = f"{'a whole number' if integer else 'a number'} from {low:g} to {high:g} for {section_name}.{key}"
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            raise FleeInputError(path, where(key), None, what, repr(value)) from None
        if isinstance(value, bool) or not math.isfinite(x) or not low <= x <= high or (integer and x != int(x)):
            raise FleeInputError(path, where(key), None, what, repr(value))
        return x

    def section(name: str) -> dict:
        value = data.get(name) or {}
        if not isinstance(value, dict):
            raise FleeInputError(path, where(name), None, f"a mapping under `{name}`", repr(value))
        return value

    move, spawn, opt = section("move_rules"), section("spawn_rules"), section("optimisations")
    for key, value in move.items():
        lk = key.lower()
        if lk in _MOVE:
            fname = _MOVE[lk][0]
            s.move[fname] = number("move_rules", key, value, 0.0, 1.0 if "movechance" in lk else MAX_PARAMETER)
            s.keys[fname] = f"move_rules.{key}"
        elif lk in _MOVE_FLAGS:
            s.flags[lk] = bool(value)
        elif lk == "awareness_level":
            if value not in (0, 1):
                raise FleeInputError(path, where(key), None, "move_rules.awareness_level 0 or 1 (routes of several "
                                     "steps are not supported)", repr(value))
            s.awareness = int(value)
        elif lk == "pruning_threshold":
            if number("move_rules", key, value, 0.0, MAX_PARAMETER) > 1.001:
                raise FleeInputError(path, where(key), None, "no route pruning (pruning_threshold 1)", repr(value))
        elif lk in _UNSUPPORTED_MOVE and value not in (_UNSUPPORTED_MOVE[lk], None, 0, False, []):
            raise FleeInputError(path, where(key), None, f"move_rules.{key} off (refuge does not model it)",
                                 repr(value))
        elif lk == "use_v1_rules" and value:
            s.move.update(speed=200.0, camp_weight=2.0, conflict_weight=0.25)
            s.flags.update(start_on_foot=False, avoid_short_stints=False)
            for f in ("speed", "camp_weight", "conflict_weight"):
                s.keys[f] = f"move_rules.{key}"
    for key, value in spawn.items():
        lk = key.lower()
        if lk in _UNSUPPORTED_SPAWN and value not in (_UNSUPPORTED_SPAWN[lk], None, False):
            raise FleeInputError(path, where(key), None, f"spawn_rules.{key} off (refuge spawns from the camp "
                                 "data's daily increase)", repr(value))
        if lk == "conflict_spawn_decay" and value is not None:
            if not isinstance(value, list) or not value:
                raise FleeInputError(path, where(key), None, "a list of factors", repr(value))
            s.decay = [number("spawn_rules", key, x, 0.0, MAX_PARAMETER) for x in value]
        elif lk == "conflict_spawn_decay_interval":
            s.decay_interval = int(number("spawn_rules", key, value, 1, MAX_DAYS, integer=True))
        elif lk == "sum_from_camps":
            s.sum_from_camps = bool(value)
        elif lk == "insert_day0":
            s.insert_day0 = bool(value)
        elif lk == "empty_camps_on_day0":
            s.empty_camps_on_day0 = bool(value)
    s.hasten = int(number("optimisations", "hasten", opt.get("hasten", 1) or 1, 1, MAX_PEOPLE, integer=True))
    return s


# --- the case ----------------------------------------------------------------------------------------------


def _interp_int(points: list[tuple[int, float]], day: int) -> int:
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


def _conflict_periods(values: list[float], days: int) -> list[tuple[int, int | None, float]]:
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


@dataclass
class FleeCase:
    """An imported case: the scenario's text and the data files it cites (relative path -> CSV text)."""

    name: str
    text: str
    files: dict[str, str]

    def write(self, out: str | Path) -> Path:
        """Write the scenario and its data folder; all or nothing (files land only when all are written)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".refuge-import-", dir=out.parent))
        try:
            for rel, text in self.files.items():
                p = tmp / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text, encoding="utf-8")
            (tmp / out.name).write_text(self.text, encoding="utf-8")
            for rel in self.files:
                target = out.parent / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / rel, target)
            os.replace(tmp / out.name, out)
        finally:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return out


def _q(text: str) -> str:
    """A YAML scalar for a name (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def import_flee(input_dir: str | Path, validation: str | Path | None = None, settings: str | Path | None = None,
                name: str | None = None, data_dir: str | None = None) -> FleeCase:
    """Read a Flee case and build the scenario (FleeInputError on the first problem found)."""
    idir = Path(input_dir)
    if not idir.is_dir():
        raise FleeInputError(idir, None, None, "a folder of Flee input files", "no such folder")
    vdir = Path(validation) if validation is not None else None
    if vdir is not None and not vdir.is_dir():
        raise FleeInputError(vdir, None, None, "a Flee validation folder", "no such folder")
    spath = Path(settings) if settings is not None else None
    st = read_settings(spath)
    period = period_file(idir)
    start, length = read_period(period)
    locs = read_locations(idir / "locations.csv")
    names = {loc.name for loc in locs}
    routes = read_routes(idir / "routes.csv", names)
    closures = read_closures(idir / "closures.csv", locs, routes)
    conflicts = read_conflicts(idir / "conflicts.csv", names, length)
    camps = [loc for loc in locs if loc.kind in ("camp", "idpcamp")]
    camp_names = {c.name for c in camps}
    case = name or (idir.parent.name if idir.name == "input" else idir.name)
    data_dir = data_dir or f"{case}-data"

    # camp data: read, corrected, as Flee's day numbers
    series: dict[str, list[tuple[int, float]]] = {}
    layout: list[tuple[str, list[Path], int]] = []
    if vdir is not None:
        layout = read_layout(vdir, names, camp_names)
        for n, fs, _ in layout:
            series[n] = summed_counts(fs, start)
        for camp, date, line in read_corrections(idir / "registration_corrections.csv", set(series) - {"total"}):
            pts = series[camp]
            day = (date - start).days
            if day < 0:
                continue
            hit = [i for i, (d, _) in enumerate(pts) if d == day]
            if not hit:
                raise FleeInputError(idir / "registration_corrections.csv", line, "2 (date)",
                                     f"a date of a count in {camp}'s data file", str(date))
            i = hit[0]
            if i > 0:
                if pts[i - 1][1] < 1:
                    raise FleeInputError(idir / "registration_corrections.csv", line, "2 (date)",
                                         "a count before this date of at least 1", _num(pts[i - 1][1]))
                f = pts[i][1] / pts[i - 1][1]
                series[camp] = [(d, v * f) for d, v in pts[:i]] + pts[i:]
    data_camps = [n for n, _, _ in layout if n != "total" or n in names]
    total_key = layout[0][0] if layout else None
    spawn_camps = [n for n, _, _ in layout[1:]]  # Flee sums every row but the first

    day0 = {n: (_interp_int(series[n], 0) if st.insert_day0 and not st.empty_camps_on_day0 else 0)
            for n in data_camps}
    files: dict[str, str] = {}
    out: list[str] = []
    w = out.append
    hint = f" --validation {vdir}" if vdir else ""
    w(f"# {case}: imported from the Flee case in {idir}{hint}"
      f"{' --settings ' + str(spath) if spath else ''} by `refuge import flee`.")
    w(f"# {FLEE_NOTICE}")
    w("# Each part says the file (and line) it came from. Flee's rules as its code applies them are described")
    w("# in refuge/interop/flee.py and refuge/sim/mechanisms/network/.")
    if st.hasten != 1:
        w(f"# The settings' `hasten: {st.hasten}` (one Flee agent per {st.hasten} people) is not used: refuge "
          "simulates every person.")
    w(f"name: {_q(case)}")
    w(f"title: {_q(f'{case}: a Flee case')}")
    end = start + dt.timedelta(days=length - 1)
    w(f"start: {start}   # {period.name}: StartDate")
    w(f"end: {end}     # {period.name}: Length {length} days")
    w("states:")
    w("  # one per row of locations.csv: conflict zones are origins, towns and hubs `other`, camps destinations")
    for loc in locs:
        kind = {"conflict_zone": "origin", "camp": "destination", "idpcamp": "destination"}.get(loc.kind, "other")
        init = f", initial: {day0[loc.name]}" if day0.get(loc.name) else ""
        note = f"  # locations.csv line {loc.line}" + (
            f"; {day0[loc.name]:,} on the first day ({loc.name}'s data)" if day0.get(loc.name) else "")
        w(f"  - {{name: {_q(loc.name)}, kind: {kind}{init}}}{note}")
    en_route = "en_route"
    while en_route in names:
        en_route += "_"
    w(f"  - {{name: {en_route}, kind: transit}}  # people travelling along a route")

    # parameters: the movement rules, cited to the settings file
    src_file = st.file or "Flee's defaults (no settings file)"
    w("parameters:")
    w("  # values: the settings file's (or Flee's defaults). Priors, for `refuge calibrate` and `refuge backtest`, are")
    w("  # this importer's assumptions, not Flee's: wide ranges around the values Flee's settings files use")
    # the movement numbers calibration may move, with the importer's prior for each (assumptions)
    priors = {"move_chance_town": ("{dist: uniform, low: 0.05, high: 0.95}", "a town is left on 1 day in 20 to "
                                   "almost every day (Flee's settings use 0.3 and 0.5)"),
              "move_chance_camp": ("{dist: loguniform, low: 0.0001, high: 0.05}", "a camp is left on 1 day in "
                                   "10,000 to 1 in 20 (Flee's settings use 0.0005 and 0.001); moves between camps, "
                                   "the only way into a camp that no other place leads to"),
              "distance_power": ("{dist: uniform, low: 0.25, high: 1.5}", "around Flee's 0.75 and 1"),
              "camp_weight": ("{dist: loguniform, low: 0.5, high: 10}", "around Flee's 1, 2 and 5"),
              "conflict_weight": ("{dist: uniform, low: 0.05, high: 1}", "around Flee's 0.25 and 1/sqrt(10)"),
              "capacity_scaling": ("{dist: uniform, low: 0.8, high: 2}", "around Flee's 1 and 1.25"),
              "speed": ("{dist: uniform, low: 100, high: 600}", "km a day, around Flee's 200, 360 and 400")}
    units = {"speed": "km/day", "walk_speed": "km/day", "distance_softening": "km"}
    for fname, value in st.move.items():
        key = st.keys.get(fname)
        fact = f"{key}: {_num(value)}" if key else f"not set; Flee's default {_num(value)}"
        prior = (f", prior: {priors[fname][0]}, description: {_q('prior: an assumption; ' + priors[fname][1])}"
                 if fname in priors else "")
        unit = f", unit: {units[fname]}" if fname in units else ""
        w(f"  {fname}: {{value: {_num(value)}{unit}, source: {{file: {_q(src_file)}, fact: {_q(fact)}}}{prior}}}")

    w("network:")
    w(f"  en_route: {en_route}")
    home = locs[0].country
    w(f"  home_country: {_q(home)}   # the country of the first location (Flee: others are foreign)")
    fact = f"{len(locs)} locations and {len(routes)} routes of the Flee case"
    w(f"  source: {{file: locations.csv, fact: {_q(fact)}}}")
    w("  locations:")
    for loc in locs:
        typ = {"conflict_zone": "town", "forward": "forward"}.get(loc.kind, loc.kind)
        fields = [f"state: {_q(loc.name)}", f"type: {typ}", f"country: {_q(loc.country)}"]
        note = f"locations.csv line {loc.line}"
        if loc.kind in ("camp", "idpcamp"):
            cap = loc.number - day0.get(loc.name, 0)
            fields.append(f"capacity: {cap}")
            if day0.get(loc.name):
                note += f": capacity {loc.number:,} less the {day0[loc.name]:,} there on the first day (as Flee)"
        else:
            fields.append(f"population: {loc.number}")
        if loc.kind == "conflict_zone":
            note += f"; conflict zone (conflict_date {loc.conflict_date})"
        w(f"    - {{{', '.join(fields)}}}  # {note}")
    w("  routes:")
    for a, b, km, line in routes:
        w(f"    - {{between: [{_q(a)}, {_q(b)}], km: {_num(km)}}}  # routes.csv line {line}")
    w("  conflicts:")
    periods = []
    if conflicts is not None:
        ignored = [n for n in conflicts if n not in names]
        if ignored:
            listed = ", ".join(ignored)
            out[-1:] = [f"  # conflicts.csv columns naming no location, ignored as Flee ignores them: {listed}",
                        out[-1]]
        for n, vals in conflicts.items():
            if n not in names:
                continue
            for d0, d1, level in _conflict_periods(vals, length):
                periods.append((n, d0, d1, level, "conflicts.csv"))
        # Flee makes a conflict-zone row with conflict_date <= 0 a conflict zone when it reads locations.csv
        # (intensity 1, begun the day before the first); conflicts.csv only ends it or begins it anew (from its
        # first positive day), so it is one until then even where conflicts.csv has no column or says 0
        for loc in locs:
            if loc.kind != "conflict_zone" or (loc.conflict_date or 0) > 0:
                continue
            vals = conflicts.get(loc.name)
            if vals is not None and vals and vals[0] > 1e-6:
                continue
            first = next((t for t, v in enumerate((vals or [])[:length]) if v > 1e-6), None)
            if first != 0:
                periods.append((loc.name, -1, None if first is None else first - 1, 1.0,
                                f"locations.csv line {loc.line}: a conflict zone from the start (conflict_date "
                                f"{loc.conflict_date}), as Flee reads it"))
    else:
        for loc in locs:
            if loc.kind == "conflict_zone" and loc.conflict_date is not None and loc.conflict_date < length:
                periods.append((loc.name, max(loc.conflict_date, 0), None, 1.0, f"locations.csv line {loc.line}"))
    periods.sort(key=lambda p: (p[1], p[0]))
    for n, d0, d1, level, src in periods:
        to = f", to: {start + dt.timedelta(days=d1)}" if d1 is not None else ""
        w(f"    - {{location: {_q(n)}, from: {start + dt.timedelta(days=d0)}{to}, intensity: {_num(level)}}}"
          f"  # {src}: day {d0}" + (f" to {d1}" if d1 is not None else " on"))
    if not periods:
        src = idir / "conflicts.csv" if conflicts is not None else idir / "locations.csv"
        raise FleeInputError(src, None, None, f"a conflict zone whose conflict begins within the {length} days of "
                             "the period (people are spawned there)", "none")
    w("  closures:")
    for cl in closures:
        item = next(f"{k}: [{_q(cl[k][0])}, {_q(cl[k][1])}]" if isinstance(cl[k], list) else f"{k}: {_q(cl[k])}"
                    for k in ("countries", "location", "route") if k in cl)
        if cl.get("one_way"):
            item += ", one_way: true"
        d0, d1 = cl["start"], cl["end"]
        to = f", to: {start + dt.timedelta(days=d1 - 1)}" if d1 > d0 else ""
        w(f"    - {{{item}, from: {start + dt.timedelta(days=max(d0, 0))}{to}}}  # closures.csv line {cl['line']}: "
          f"days {d0} to {d1}" + ("" if d1 > d0 else " (no reopening)"))
    if not closures:
        out[-1] = "  closures: []"
    if layout:
        # Flee's daily spawn: the growth of the camps' whole-number counts (or of the total's)
        T = length
        if st.sum_from_camps:
            daily = [sum(_interp_int(series[n], t) for n in spawn_camps) for t in range(T)]
        else:
            daily = [_interp_int(series[total_key], t) for t in range(T)]
        if not st.insert_day0:  # Flee then spawns on day 0 what every data row holds on day 0
            day0_all = sum(_interp_int(series[n], 0) for n, _, _ in layout) if st.sum_from_camps else daily[0]
            daily = [d - daily[0] + day0_all for d in daily]
        rows = "\n".join(f"{start + dt.timedelta(days=t)},{v}" for t, v in enumerate(daily))
        what = ("the sum of the camps' counts (" + ", ".join(spawn_camps) + ")") if st.sum_from_camps else \
            f"the total ({' + '.join(f.name for f in layout[0][1])})"
        files[f"{data_dir}/spawn_total.csv"] = (
            f"# {case}: people displaced so far, each day: {what}, each interpolated linearly between its dated "
            f"counts and cut to a whole number, as Flee reads them. {FLEE_NOTICE}\ndate,value\n{rows}\n")
        w("  spawning:")
        w(f"    total: {{file: {data_dir}/spawn_total.csv}}  # daily, from the validation folder's camp counts")
        w(f"    first_day: {str(not st.insert_day0).lower()}")
        w(f"    decay_interval: {st.decay_interval}  # settings: spawn_rules.conflict_spawn_decay_interval")
        w(f"    decay: [{', '.join(_num(x) for x in st.decay)}]  # settings: spawn_rules.conflict_spawn_decay")
    w("  movement:")
    for fname in st.move:
        w(f"    {fname}: {fname}")
    w(f"    start_on_foot: {str(st.flags['start_on_foot']).lower()}   # {src_file}")
    w(f"    avoid_short_stints: {str(st.flags['avoid_short_stints']).lower()}")
    w(f"    awareness: {st.awareness}")
    if layout:
        w("evidence:")
        w("  # camp counts, corrected as registration_corrections.csv says; scored with Flee's ARD (group `camps`)")
        for n, fs, line in layout:
            if n == "total" and n not in names:
                continue
            rel = f"{data_dir}/{_file_name(n)}.csv"
            rows = "\n".join(f"{start + dt.timedelta(days=d)},{_num(round(v, 3))}" for d, v in series[n])
            fnames = " + ".join(f.name for f in fs)
            summed = " (the sum of these files, each read as a line through its dated counts)" if len(fs) > 1 else ""
            files[rel] = (f"# {n}: {fnames} of the Flee case{summed}{_corrected(n, idir)}. {FLEE_NOTICE}\n"
                          f"date,value\n{rows}\n")
            w(f"  - id: {_q('camp-' + n)}")
            fact = f"registered refugees in {n} (UNHCR), as in the Flee case"
            w(f"    source: {{file: {_q(fnames)}, fact: {_q(fact)}}}"
              f"  # data_layout.csv line {line}")
            w(f"    measure: {{stock: [{_q(n)}]}}")
            w(f"    series: {{file: {rel}}}")
            w("    group: camps")
    return FleeCase(name=case, text="\n".join(out) + "\n", files=files)


def _corrected(camp: str, idir: Path) -> str:
    for _, cells in _rows(idir / "registration_corrections.csv", required=False):
        if cells and cells[0] == camp:
            return f", counts before {cells[1]} scaled as registration_corrections.csv says"
    return ""


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def main_import(input_dir: str, out: str, validation: str | None = None, settings: str | None = None,
                name: str | None = None) -> Path:
    """Import, check that the scenario compiles, then write it (nothing is written on any problem)."""
    from refuge.model.compiler import compile_scenario
    from refuge.scenario import read

    case = import_flee(input_dir, validation, settings, name, data_dir=f"{Path(out).stem}-data")
    with tempfile.TemporaryDirectory() as tmp:
        probe = case.write(Path(tmp) / Path(out).name)
        try:
            compile_scenario(read(probe), str(probe))
        except RefugeError as exc:  # a limit of refuge's format that no line of the Flee files breaks alone
            text = str(exc).replace(str(probe), Path(out).name)
            raise FleeInputError(input_dir, None, None, "a case within refuge's limits; the scenario it makes "
                                 "would not load", text) from None
    return case.write(out)

