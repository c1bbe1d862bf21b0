"""Every number within the range its meaning allows, on every day: after schedules, and whatever rules do.

A parameter slot (a named parameter, or a number written in place) is used in places with a
meaning: a split's probability, a daily hazard, a duration, a site's room. Each meaning has a
range (`ROLES`, from the limits in `refuge.scenario.limits`). The compiler checks

1. each use against the slot's value on every day of the period, schedules applied: an error
   names the schedule point and its date when a schedule takes the value out of range;
2. each rule action against every use of its target: what the action can make of the target
   (the value it sets; the target's range times the factor), on top of what earlier rules may
   have done, since rules can be on together. The error names the action and the rule.

So the engine never meets a NaN, a negative duration or a probability of 7: what it would
have had to clamp or ignore is refused before the run, with the field and the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from refuge.scenario import limits as L


@dataclass(frozen=True)
class Role:
    low: float
    high: float
    what: str
    open_low: bool = False  # low itself is not allowed (a mean of 0 days)

    def holds(self, x: np.ndarray) -> np.ndarray:
        """Which values lie in the range."""
        above = x > self.low if self.open_low else x >= self.low
        return above & (x <= self.high)  # NaN fails both

    def text(self) -> str:
        """The range in words, for messages: `at least 0 and at most 1`."""
        lo = f"above {self.low:g}" if self.open_low else f"at least {self.low:g}"
        return f"{self.what}: finite, {lo} and at most {self.high:,.10g}"


ROLES = {
    "value": Role(0.0, L.MAX_PARAMETER, "a value"),
    "any": Role(-L.MAX_PARAMETER, L.MAX_PARAMETER, "a value"),
    "people": Role(0.0, L.MAX_PEOPLE, "a number of people"),
    "tracked people": Role(0.0, L.MAX_TRACKED_PEOPLE, "people at the start of a state whose exits depend on time "
                           "in state (each is tracked; give the state constant-rate exits to count them instead)"),
    "capacity": Role(0.0, L.MAX_PEOPLE, "room for people"),
    "served": Role(0.0, L.MAX_PEOPLE, "people served (a transition's capacity)"),
    "rate": Role(0.0, L.MAX_RATE, "a daily hazard"),
    "arrival rate": Role(0.0, L.MAX_ARRIVAL_RATE, "people (or groups) arriving per day"),
    "tracked arrival rate": Role(0.0, L.MAX_TRACKED_ARRIVAL_RATE, "groups arriving per day straight into a state "
                                 "whose exits depend on time in state (each is tracked)"),
    "probability": Role(0.0, 1.0, "a probability"),
    "spawn scale": Role(0.0, L.MAX_SPAWN_SCALE, "a multiplier of a network's spawning total"),
    "days": Role(0.0, L.MAX_DAYS_VALUE, "a number of days"),
    "positive days": Role(0.0, L.MAX_DAYS_VALUE, "a number of days", open_low=True),
    "sigma": Role(0.0, L.MAX_SIGMA, "a lognormal sigma"),
    "group size": Role(0.0, L.MAX_GROUP_SIZE, "a group size"),
    "mean group size": Role(0.0, L.MAX_GROUP_SIZE / 100, "a group size's mean, median or sd", open_low=True),
    "group sigma": Role(0.0, 1.0, "a group size's lognormal sigma"),
    "group arrival rate": Role(0.0, L.MAX_GROUPS_PER_DAY / 100, "groups arriving per day (each group's size is "
                               "drawn)"),
    "level": Role(-L.MAX_LEVEL, L.MAX_LEVEL, "a signal level"),
    "factor": Role(0.0, L.MAX_FACTOR, "a factor"),
}


def role(name: str | None) -> Role:
    """The range a value must lie in for its use (`value` by default)."""
    return ROLES.get(name or "value", ROLES["value"])


def check_ranges(c: Any, pbase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Report every use out of range (on `c`, the compiler); return each slot's lowest and highest value."""
    if pbase.shape[0] == 0 or pbase.shape[1] == 0:
        return np.zeros(pbase.shape[1]), np.zeros(pbase.shape[1])
    with np.errstate(invalid="ignore"):
        lo, hi = pbase.min(axis=0), pbase.max(axis=0)
    seen: set[tuple] = set()
    for idx, path, name, day0 in c.uses:
        r = role(name)
        col = pbase[:1, idx] if day0 else pbase[:, idx]
        bad = np.flatnonzero(~r.holds(col))
        if bad.size and (idx, name) not in seen:
            seen.add((idx, name))
            _report_base(c, idx, path, r, float(col[bad[0]]), int(bad[0]))
    for act in c.actions:
        nlo, nhi = _action_range(act, lo, hi)
        for idx, path, name, day0 in c.uses:
            if idx != act.target or day0:
                continue
            r = role(name)
            if not (r.holds(np.array([nlo, nhi])).all()):
                pname = c.pnames[act.target]
                worst = nhi if not r.holds(np.array([nhi]))[0] else nlo
                field = "value" if act.kind == "set" else "by"
                c.err(f"{act.path}.{act.kind}.{field}",
                      f"a {'value' if act.kind == 'set' else 'factor'} that keeps `{pname}` within the range of "
                      f"{r.text()} (`{pname}` is used at {path}) while rule `{act.rule}` is on",
                      f"`{pname}` would reach {worst:g}")
                break
        with np.errstate(invalid="ignore"):
            lo[act.target] = np.fmin(lo[act.target], nlo)
            hi[act.target] = np.fmax(hi[act.target], nhi)
    return lo, hi


def ceilings(c: Any, slots: int) -> np.ndarray:
    """The highest value each parameter slot may take by the ranges of all its uses (`value`'s for an unused
    one): what a random drift of the slot (`refuge.sim.mechanisms.drift`) is capped at."""
    out = np.full(slots, ROLES["value"].high)
    for idx, _path, name, _day0 in c.uses:
        out[idx] = min(out[idx], role(name).high)
    return out


def check_group_draws(c: Any, trans: list, lo: np.ndarray, hi: np.ndarray) -> None:
    """Groups are drawn one by one: refuse a group transition that could set off millions a day."""
    from refuge.model.codes import T_GRP, T_IS_DUR, T_RATE, T_SRC

    people = float(sum(max(hi[i], 0.0) for i in c.initial_slots))
    people += 365.0 * float(sum(max(hi[r], 0.0) for r in c.arrival_rate_slots))  # a year of arrivals
    for j, row in enumerate(trans):
        if row[T_GRP] < 0 or row[T_IS_DUR] or row[T_SRC] < 0:
            continue
        groups = min(float(hi[row[T_RATE]]), 1.0) * people
        if groups > L.MAX_GROUPS_PER_DAY:
            c.err(f"transitions[{j}].rate", f"a rate that sets off at most {L.MAX_GROUPS_PER_DAY:,} groups a day "
                  "(each is drawn; with this rate and the people the scenario holds it could be more): lower it, or "
                  "drop `group_size` to move people as counts", f"{hi[row[T_RATE]]:g} for up to {people:,.0f} people")


def _action_range(act, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    if act.kind == "set":
        return float(lo[act.value]), float(hi[act.value])
    with np.errstate(invalid="ignore", over="ignore"):
        prods = np.array([lo[act.target] * lo[act.value], lo[act.target] * hi[act.value],
                          hi[act.target] * lo[act.value], hi[act.target] * hi[act.value]])
    if np.isnan(prods).any():
        return float("nan"), float("nan")
    return float(prods.min()), float(prods.max())


def _report_base(c, idx: int, path: str, r, value: float, day: int) -> None:
    """Name where the value comes from: the number itself, a parameter, or a schedule point and its date."""
    named = idx < len(c.sc.parameters)
    pname = c.pnames[idx]
    if named:
        for i, sch in enumerate(c.sc.schedules):
            if sch.parameter != pname:
                continue
            for k, pt in enumerate(sch.points or []):  # a monthly profile has no points
                v = pt.value if not isinstance(pt.value, str) else c.sc.parameters.get(pt.value).value \
                    if pt.value in c.sc.parameters else None
                if v is not None and (v == value or (np.isnan(value) and np.isnan(v))) and day > 0:
                    c.err(f"schedules[{i}].points[{k}].value", f"{r.text()} (`{pname}` is used at {path})",
                          f"{value:g} from {pt.date}")
                    return
        c.err(path, r.text(), f"{value:g} (parameter `{pname}`)")
        return
    c.err(path, r.text(), f"{value:g}")


def check_sizes(sc: Any, origin: str) -> None:
    """Refuse a scenario too big to run in seconds and a few hundred MB, before any array is made."""
    from refuge.errors import Problem, ScenarioError

    problems = []
    days = sc.days
    if days > L.MAX_DAYS:
        problems.append(Problem("end", f"a period of at most {L.MAX_DAYS:,} days (about 100 years) after `start`; "
                                "model a shorter period, or split the study into consecutive scenarios",
                                f"{days:,} days ({sc.start}..{sc.end})"))
    for what, items, most in (("states", sc.states, L.MAX_STATES), ("transitions", sc.transitions, L.MAX_TRANSITIONS),
                              ("sites", sc.sites, L.MAX_ENTRIES), ("arrivals", sc.arrivals, L.MAX_ENTRIES),
                              ("rules", sc.rules, L.MAX_ENTRIES), ("evidence", sc.evidence, L.MAX_ENTRIES),
                              ("schedules", sc.schedules, L.MAX_ENTRIES), ("variants", sc.variants, L.MAX_ENTRIES),
                              ("parameters", sc.parameters, L.MAX_ENTRIES)):
        if len(items) > most:
            problems.append(Problem(what, f"at most {most:,} entries; merge similar ones (e.g. states of one kind "
                                    "into one) or split the scenario", f"{len(items):,}"))
    names = [(f"states[{i}].name", s.name) for i, s in enumerate(sc.states)] + \
        [(f"sites[{i}].name", s.name) for i, s in enumerate(sc.sites)] + \
        [(f"transitions[{i}].name", t.name) for i, t in enumerate(sc.transitions)] + \
        [(f"arrivals[{i}].name", a.name) for i, a in enumerate(sc.arrivals)] + \
        [(f"rules[{i}].name", r.name) for i, r in enumerate(sc.rules)] + \
        [(f"evidence[{i}].id", e.id) for i, e in enumerate(sc.evidence)] + \
        [(f"parameters.{n[:40]}", n) for n in sc.parameters] + [("name", sc.name)]
    for path, n in names:
        if len(n) > L.MAX_NAME:
            problems.append(Problem(path, f"a name of at most {L.MAX_NAME} characters (put the rest in "
                                    "`description`)", f"{len(n):,} characters ({n[:20]}...)"))
            break
    if not problems:
        edges = sum(len(t.split or []) + 2 for t in sc.transitions)
        slots = len(sc.parameters) + 4 * (len(sc.transitions) + len(sc.arrivals) + len(sc.states) + len(sc.sites)) \
            + 3 * len(sc.rules) + sum(len(r.actions) for r in sc.rules)
        cells = days * (2 * len(sc.states) + edges + 2 * len(sc.sites) + len(sc.arrivals) + 2 * slots + len(sc.rules))
        if cells > L.MAX_TABLE_CELLS:
            problems.append(Problem("", f"daily tables of at most {L.MAX_TABLE_CELLS:,} cells (days x (states, "
                                    "transitions, numbers)); shorten the period or use fewer states and numbers",
                                    f"about {cells:,}"))
    if problems:
        raise ScenarioError(origin, problems)
