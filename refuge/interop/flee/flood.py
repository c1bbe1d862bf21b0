"""Flee's flood rules ("DFlee"): the settings that turn them on, and `flood_level.csv` (a flood level per location
and day), read as Flee's code at 02cd2cbd reads them, with a warning for what it does silently and a refusal, naming
the file and line, where its runner stops.

How Flee applies them (refuge's `network.floods`, see refuge/model/net_flood.py): with
`spawn_rules.flood_zone_spawning_only` and `spawn_rules.flood_driven_spawn_mode`, nobody spawns from the camp data
or at conflict zones; each day every location at a flood level above 0 spawns `displaced_per_flood_day[level]` x
the population it has left (`spawn_mode: pop_ratio`, its default) or that many people (`constant`), and the
spawned leave its population. `move_rules.flood_rules` gives the move chance that replaces a flooded place's own
(`flood_movechances[level]`) and the factor on a flooded place's score (`flood_loc_weights[level]`; a flood zone
takes it also at level 0, and twice when flooded). Flee reads row k of flood_level.csv as day k (its `#Day` column
is not read), each level cut to a whole number; a location missing from the file is at level 0; a column naming no
location is ignored. Flee's lists are read with an interpolation that fails at their last entry, so a level must
stay below the length of each list less one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refuge.interop.flee.csvread import FleeInputError, Notes, text

_SPAWN_MODES = {"pop_ratio": "share", "constant": "count"}


@dataclass
class FloodRules:
    """The flood settings of a case (Flee's names), where they were read."""

    move_chance: list[float]
    weight: list[float]
    spawn: list[float]
    spawn_mode: str  # Flee's: pop_ratio or constant
    keys: dict[str, str] = field(default_factory=dict)  # list -> the settings key it came from


def flood_settings(r: Any, move: dict, spawn: dict) -> FloodRules | None:
    """The flood rules of a settings file (`r`: its reader, `refuge.interop.flee.settings._Reader`), None when
    they are off; a refusal where Flee's runner stops or a rule refuge does not model is on."""
    rules = move.get("flood_rules")
    mode = spawn.get("flood_driven_spawn_mode")
    only = bool(spawn.get("flood_zone_spawning_only", False))
    if not rules and not (only and mode):
        return None
    if rules is not None and not isinstance(rules, dict):
        raise r.error("flood_rules", "a mapping of flood rules under move_rules.flood_rules", rules)
    if not (only and isinstance(mode, dict)):
        raise r.error("flood_rules" if rules else "flood_driven_spawn_mode", "flood rules with flood-driven "
                      "spawning (spawn_rules.flood_zone_spawning_only: True and spawn_rules.flood_driven_spawn_mode;"
                      " Flee's runner stops without them, as it reads flood levels only then)", mode)
    if spawn.get("conflict_zone_spawning_only", True):
        raise r.error("conflict_zone_spawning_only", "conflict_zone_spawning_only: False with flood-driven spawning "
                      "(Flee stops when both are on)", spawn.get("conflict_zone_spawning_only", True))
    if not spawn.get("take_from_population", False):
        raise r.error("take_from_population", "take_from_population: True with flood-driven spawning (Flee stops "
                      "without it)", spawn.get("take_from_population", False))
    if not rules:
        raise r.error("flood_driven_spawn_mode", "move_rules.flood_rules with flood_movechances and "
                      "flood_loc_weights (Flee stops at the first flooded place without them)", None)
    if rules.get("flood_forecaster"):
        raise r.error("flood_forecaster", "move_rules.flood_rules.flood_forecaster off (refuge does not model "
                      "the flood forecaster)", rules["flood_forecaster"])
    for key in mode:
        if key not in ("spawn_mode", "displaced_per_flood_day"):
            r.notes.add(r.path, r.where(key), f"spawn_rules.flood_driven_spawn_mode.{key}: not a key Flee reads "
                        f"(it reads spawn_mode, default pop_ratio); ignored, as Flee ignores it")
    how = mode.get("spawn_mode", "pop_ratio")
    if how not in _SPAWN_MODES:
        raise r.error("spawn_mode", "spawn_mode pop_ratio or constant (refuge does not model Flee's Poisson "
                      "flood spawning)", how)
    default = [0.0, 0.1, 0.2, 0.5, 0.9] if how == "pop_ratio" else [0, 100, 200, 300, 500]
    out = FloodRules(_levels(r, "flood_movechances", rules.get("flood_movechances"), 1.0),
                     _levels(r, "flood_loc_weights", rules.get("flood_loc_weights"), 1e9),
                     _levels(r, "displaced_per_flood_day", mode.get("displaced_per_flood_day", default),
                             1.0 if how == "pop_ratio" else 1e9), how)
    for key in rules:
        if key not in ("flood_movechances", "flood_loc_weights", "max_flood_level", "flood_forecaster") \
                and rules[key] not in (None, False, 0, []):
            raise r.error(key, f"move_rules.flood_rules.{key} off (refuge does not model it)", rules[key])
    return out


def _levels(r: Any, key: str, values: Any, high: float) -> list[float]:
    if not isinstance(values, list) or len(values) < 2:
        where = key if values is not None else ("flood_rules" if key.startswith("flood") else "flood_driven_spawn_mode")
        raise r.error(where, f"{key}: a list of at least two numbers from 0 to {high:g} (one per flood level)", values)
    return [r.number("flood rules", key, x, 0.0, high) for x in values]


def read_levels(path: Path, names: list[str], length: int, rules: FloodRules, notes: Notes) -> dict[str, list[int]]:
    """flood_level.csv: each location's whole flood level on each day of the period, as Flee reads it."""
    if not path.is_file():
        raise FleeInputError(path, None, None, "a flood_level.csv (Flee's runner reads it with flood rules on)",
                             "no such file")
    lines = list(csv.reader(text(path).splitlines()))
    if not lines or not lines[0]:
        raise FleeInputError(path, 1, None, "a header of location names (#Day, then one per column)", "nothing")
    header = [h.strip() for h in lines[0]]
    if any(not h for h in header):
        raise FleeInputError(path, 1, f"{header.index('') + 1}", "a name for every column (Flee stops on an "
                             "unnamed one)", "an empty cell")
    known = set(names)
    ignored = [h for h in header[1:] if h not in known]
    if ignored:
        notes.add(path, 1, f"columns naming no location of locations.csv ({', '.join(ignored)}): Flee ignores them; "
                  "so does refuge")
    data = [(i + 1, row) for i, row in enumerate(lines[1:], start=1) if row]  # blank lines: nothing for Flee
    if len(data) < length:
        raise FleeInputError(path, None, None, f"a row for each of the {length} days of the period (Flee stops "
                             "on the first day past the last row)", f"{len(data)} rows")
    limit = min(len(rules.move_chance), len(rules.weight), len(rules.spawn)) - 1
    levels: dict[str, list[int]] = {h: [] for h in header[1:] if h in known}
    odd_days = cut = None
    for day, (line, row) in enumerate(data[:length]):
        if len(row) != len(header):
            raise FleeInputError(path, line, None, f"{len(header)} values, one per column", f"{len(row)}")
        if odd_days is None and _number(path, line, 1, row[0]) != day:
            odd_days = line
        for col, (h, cell) in enumerate(zip(header[1:], row[1:]), start=2):
            x = _number(path, line, col, cell)
            if x < 0 or (int(x) > 0 and int(x) >= limit):
                raise FleeInputError(path, line, f"{col} ({h})", f"a flood level from 0 to {limit - 1} (below the "
                                     "length less one of every list of the flood rules: Flee's lookup fails past "
                                     "it)", cell)
            if x != int(x) and cut is None:
                cut = (line, h, cell)
            if h in levels:
                levels[h].append(int(x))
    if odd_days is not None:
        notes.add(path, odd_days, "the #Day column does not count the days from 0: Flee reads row k as day k "
                  "whatever it says; so does refuge")
    if cut is not None:
        notes.add(path, cut[0], f"level {cut[2]} of {cut[1]} (and any other not whole): Flee cuts it to a whole "
                  "number; so does refuge")
    return levels


def _number(path: Path, line: int, col: int, cell: str) -> float:
    try:
        x = float(cell.strip())
    except ValueError:
        raise FleeInputError(path, line, f"{col}", "a number", f"`{cell}`") from None
    if not math.isfinite(x):
        raise FleeInputError(path, line, f"{col}", "a finite number", f"`{cell}`")
    return x
