"""Flee's settings file (simsetting.yml): the movement and spawning rules refuge uses, Flee's defaults for the
others, and a refusal naming the key for a rule refuge does not model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refuge.interop.flee.csvread import FleeInputError, Notes, text
from refuge.scenario.format import load_yaml
from refuge.scenario.limits import MAX_DAYS, MAX_FILE_BYTES, MAX_PARAMETER, MAX_PEOPLE

SQRT_TEN = 3.16227766017

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
_UNSUPPORTED_SPAWN = {"flood_driven_spawn_mode": None, "starvation_driven_spawning": False,
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
    conflict_driven: tuple[str, float] | None = None  # Flee's conflict_driven_spawning: (spawn mode, per day)
    take_from_population: bool = False


def read_settings(path: Path | None, notes: Notes | None = None) -> Settings:
    """Flee's simsetting.yml (the settings refuge uses), or the defaults without one; what is read as Flee
    reads it, though written otherwise, is noted."""
    s = Settings()
    if path is None:
        return s
    s.file = path.name
    r = _Reader(path, notes if notes is not None else Notes())
    move, spawn, opt = r.section("move_rules"), r.section("spawn_rules"), r.section("optimisations")
    for key, value in move.items():
        _move_rule(r, s, key, value)
    for key, value in spawn.items():
        _spawn_rule(r, s, key, value)
    s.hasten = int(r.number("optimisations", "hasten", opt.get("hasten", 1) or 1, 1, MAX_PEOPLE, integer=True))
    return s


class _Reader:
    """A settings file's YAML, with the line of a key for messages."""

    def __init__(self, path: Path, notes: Notes):
        import yaml

        self.path, self.notes = path, notes
        if not path.is_file():
            raise FleeInputError(path, None, None, "a Flee settings file (YAML)", "no such file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FleeInputError(path, None, None, f"a settings file of at most {MAX_FILE_BYTES / 2**20:g} MB",
                                 f"{path.stat().st_size / 2**20:,.1f} MB")
        source = text(path)
        try:  # the scenario format's hardened safe loader: no Python objects, nesting and aliases bounded
            data = load_yaml(source) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise FleeInputError(path, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                                 "valid YAML", str(getattr(exc, "problem", exc))) from None
        self.lines = source.splitlines()
        if not isinstance(data, dict):
            raise FleeInputError(path, 1, None, "a mapping of sections (move_rules, spawn_rules, ...)",
                                 type(data).__name__)
        self.data = data

    def where(self, key: str) -> int | None:
        """The first line that sets the key."""
        return next((i + 1 for i, ln in enumerate(self.lines) if ln.strip().startswith(f"{key}:")), None)

    def error(self, key: str, expected: str, value: Any) -> FleeInputError:
        return FleeInputError(self.path, self.where(key), None, expected, repr(value))

    def number(self, section_name: str, key: str, value: Any, low: float, high: float,
               integer: bool = False) -> float:
        what = f"{'a whole number' if integer else 'a number'} from {low:g} to {high:g} for {section_name}.{key}"
        try:
            x = float(value)
        except (TypeError, ValueError, OverflowError):
            raise self.error(key, what, value) from None
        if isinstance(value, bool) or not math.isfinite(x) or not low <= x <= high or (integer and x != int(x)):
            raise self.error(key, what, value)
        return x

    def section(self, name: str) -> dict:
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            raise self.error(name, f"a mapping under `{name}`", value)
        return value


def _move_rule(r: _Reader, s: Settings, key: str, value: Any) -> None:
    """One key of move_rules."""
    lk = key.lower()
    if lk in _MOVE:
        fname = _MOVE[lk][0]
        s.move[fname] = r.number("move_rules", key, value, 0.0, 1.0 if "movechance" in lk else MAX_PARAMETER)
        s.keys[fname] = f"move_rules.{key}"
    elif lk in _MOVE_FLAGS:
        s.flags[lk] = bool(value)
    elif lk == "awareness_level":
        level = int(r.number("move_rules", key, value, 0, 8))  # Flee reads it with int()
        if level != value:
            r.notes.add(r.path, r.where(key), f"awareness_level {value!r}: Flee reads it as a whole number, "
                        f"{level}; so does refuge")
        s.awareness = level
    elif lk == "pruning_threshold":
        if r.number("move_rules", key, value, 0.0, MAX_PARAMETER) > 1.001:
            raise r.error(key, "no route pruning (pruning_threshold 1)", value)
    elif lk in _UNSUPPORTED_MOVE and value not in (_UNSUPPORTED_MOVE[lk], None, 0, False, []):
        raise r.error(key, f"move_rules.{key} off (refuge does not model it)", value)
    elif lk == "use_v1_rules" and value:
        s.move.update(speed=200.0, camp_weight=2.0, conflict_weight=0.25)
        s.flags.update(start_on_foot=False, avoid_short_stints=False)
        for f in ("speed", "camp_weight", "conflict_weight"):
            s.keys[f] = f"move_rules.{key}"


def _spawn_rule(r: _Reader, s: Settings, key: str, value: Any) -> None:
    """One key of spawn_rules."""
    lk = key.lower()
    if lk in _UNSUPPORTED_SPAWN and value not in (_UNSUPPORTED_SPAWN[lk], None, False):
        raise r.error(key, f"spawn_rules.{key} off (refuge spawns from the camp data's daily increase)", value)
    if lk == "conflict_spawn_decay" and value is not None:
        if not isinstance(value, list) or not value:
            raise r.error(key, "a list of factors", value)
        s.decay = [r.number("spawn_rules", key, x, 0.0, MAX_PARAMETER) for x in value]
    elif lk == "conflict_spawn_decay_interval":
        s.decay_interval = int(r.number("spawn_rules", key, value, 1, MAX_DAYS, integer=True))
    elif lk == "sum_from_camps":
        s.sum_from_camps = bool(value)
    elif lk == "take_from_population":
        s.take_from_population = bool(value)
    elif lk == "conflict_driven_spawning" and value is not None:
        s.conflict_driven = _conflict_driven(r, key, value)
    elif lk == "insert_day0":
        s.insert_day0 = bool(value)
    elif lk == "empty_camps_on_day0":
        s.empty_camps_on_day0 = bool(value)


def _conflict_driven(r: _Reader, key: str, value: Any) -> tuple[str, float]:
    """spawn_rules.conflict_driven_spawning (a mapping; Flee turns it on whenever the key holds anything): its
    spawn mode and people (or, pop_ratio, share of the population) a day, Flee's defaults for those left out.
    Flee reads the number of the constant and poisson modes as a whole number; so does refuge (with a note)."""
    if not isinstance(value, dict):
        raise r.error(key, "a mapping (spawn_mode, displaced_per_conflict_day) under "
                      "spawn_rules.conflict_driven_spawning", value)
    mode = value.get("spawn_mode", "constant")
    mode = mode.lower() if isinstance(mode, str) and mode.lower() == "poisson" else mode
    if mode not in ("constant", "pop_ratio", "poisson"):
        raise r.error("spawn_mode", "spawn_rules.conflict_driven_spawning.spawn_mode constant, pop_ratio or Poisson",
                      mode)
    what = "displaced_per_conflict_day"
    raw = value.get(what, 0.01 if mode == "pop_ratio" else 500)
    if mode == "pop_ratio":
        return mode, r.number("spawn_rules.conflict_driven_spawning", what, raw, 0.0, 1.0)
    x = r.number("spawn_rules.conflict_driven_spawning", what, raw, 0.0, 1e7)
    if x != int(x):
        r.notes.add(r.path, r.where(what), f"{what} {raw!r}: Flee reads it as a whole number in spawn mode {mode}, "
                    f"{int(x)}; so does refuge")
    return mode, float(int(x))
