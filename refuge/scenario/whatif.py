"""What-ifs beyond a parameter's value: a value from a date on, and a schedule point moved to another date.

A variant (or `Scenario.with_values`) sets, besides `parameter: number`:

- `parameter@YYYY-MM-DD: number` — from that date on, the parameter takes the number (a policy change from
  a date, with no stand-in parameter): a step schedule starting that day is added after the scenario's own,
  so it holds from then to the end (rules still act on top).
- `point_name: YYYY-MM-DD` — the schedule point named `point_name` (`points: [{date: ..., value: ...,
  name: point_name}]`) moves to that date: the same policy, earlier or later.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

DATED = re.compile(r"^(?P<name>[^@\s]+)@(?P<date>\d{4}-\d{2}-\d{2})$")


def point_names(scenario: Any) -> dict[str, tuple[int, int]]:
    """Named schedule points: name -> (schedule index, point index)."""
    return {pt.name: (i, k) for i, sch in enumerate(scenario.schedules) for k, pt in enumerate(sch.points or [])
            if getattr(pt, "name", None)}


def split_values(scenario: Any, values: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """(plain parameter values, dated values and moved points) of a values mapping."""
    points = point_names(scenario)
    plain = {k: v for k, v in values.items() if k not in points and not DATED.match(k)}
    return plain, {k: v for k, v in values.items() if k not in plain}


def as_date(value: Any) -> dt.date | None:
    """A date from a date or YYYY-MM-DD text; None otherwise."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def change_problem(scenario: Any, key: str, value: Any) -> str:
    """'' for a valid dated value or point move, else what is wrong (for one-line errors)."""
    points = point_names(scenario)
    if key in points:
        when = as_date(value)
        if when is None:
            return f"{key}: expected a date YYYY-MM-DD (the new date of the schedule point `{key}`); found {value!r}"
        if not scenario.start <= when <= scenario.end:
            return f"{key}: expected a date within the scenario ({scenario.start} to {scenario.end}); found {when}"
        return ""
    m = DATED.match(key)
    if m is None:
        return ""
    if m["name"] not in scenario.parameters:
        from refuge.errors import suggest

        return (f"{key}: expected PARAMETER@DATE with a parameter of the scenario; found `{m['name']}`"
                f"{suggest(m['name'], scenario.parameters)}")
    when = as_date(m["date"])
    if when is None or not scenario.start <= when <= scenario.end:
        return f"{key}: expected a date within the scenario ({scenario.start} to {scenario.end}); found {m['date']}"
    try:
        float(value)
    except (TypeError, ValueError):
        return f"{key}: expected a number (the value from {when} on); found {value!r}"
    return ""


def apply_changes(scenario: Any, changes: dict[str, Any]) -> Any:
    """A copy of the scenario with dated values added as schedules and named points moved."""
    if not changes:
        return scenario
    from refuge.errors import Problem, ScenarioError

    problems = [p for p in (change_problem(scenario, k, v) for k, v in changes.items()) if p]
    if problems:
        raise ScenarioError(scenario.name, [Problem("variants", "a valid change", p) for p in problems])
    points = point_names(scenario)
    schedules = list(scenario.schedules)
    for key, value in changes.items():
        if key in points:
            i, k = points[key]
            sch = schedules[i]
            moved = [pt.model_copy(update={"date": as_date(value)}) if j == k else pt
                     for j, pt in enumerate(sch.points)]
            schedules[i] = sch.model_copy(update={"points": sorted(moved, key=lambda pt: pt.date)})
    for key, value in sorted((k, v) for k, v in changes.items() if k not in points):
        m = DATED.match(key)
        schedules.append(_schedule(m["name"], as_date(m["date"]), float(value)))
    return scenario.model_copy(update={"schedules": schedules})


def _schedule(parameter: str, when: dt.date, value: float) -> Any:
    from refuge.scenario.parameters import Schedule, SchedulePoint

    return Schedule(parameter=parameter, points=[SchedulePoint(date=when, value=value)], assumption=True)


def show_value(value: Any) -> str:
    """A variant's value as people read it: 30, 0.5, 2016-06-01."""
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def variant_problems(scenario: Any) -> list[tuple[str, str, str]]:
    """(field path, expected, found) for each value of a declared variant that cannot be applied: an unknown
    name, a text that names no parameter, a date that is not within the scenario."""
    from refuge.errors import suggest

    points = point_names(scenario)
    out = []
    for i, v in enumerate(scenario.variants):
        for key, value in v.set.items():
            path = f"variants[{i}].set.{key}"
            problem = change_problem(scenario, key, value)
            if problem:
                out.append((path, "a valid change", problem.split(": ", 1)[1]))
            elif key in points or DATED.match(key):
                continue
            elif key not in scenario.parameters:
                names = list(scenario.parameters) + list(points)
                out.append((path, "a parameter or a named schedule point", f"`{key}`{suggest(key, names)}"))
            elif isinstance(value, str) and value not in scenario.parameters:
                out.append((path, "a number or the name of a parameter",
                            f"`{value}`{suggest(value, scenario.parameters)}"))
            elif isinstance(value, dt.date):
                out.append((path, "a number or the name of a parameter (a date moves a named schedule point)",
                            str(value)))
    return out
