"""What the page of `refuge app` shows of a scenario (`describe`) and what a user may change (`Change`): parameter
values, declared variants, rules switched off, a site's room and closures; the changed scenario and its YAML."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refuge.errors import RefugeError
from refuge.present.app_words import closure_words, site_words
from refuge.scenario.extend import transition_words


def describe(scenario: Any, origin: str) -> dict:
    """What the page shows and lets a user change: title, period, every parameter (a slider over its prior's
    range when it has a prior, else a number), rules, variants, sites (capacity, closures), states and
    transitions (each may be drawn), all by their names in the scenario."""
    sc = scenario
    params = [_parameter(sc, name, p, _roles(sc).get(name, [])) for name, p in sc.parameters.items()]
    sites = []
    for s in sc.sites:
        cap = s.capacity
        value = sc.parameters[cap].value if isinstance(cap, str) and cap in sc.parameters else cap
        sites.append({"name": s.name, "title": s.title, "description": s.description, "capacity": value,
                      "capacity_parameter": cap if isinstance(cap, str) else None,
                      "closed": [{"from": str(c.start), "to": str(c.end)} for c in s.closed]})
    return {
        "name": sc.name, "title": sc.title or sc.name, "description": sc.description, "origin": Path(origin).name,
        "start": str(sc.start), "end": str(sc.end), "parameters": params,
        "rules": [{"name": r.name, "description": r.description} for r in sc.rules],
        "variants": [{"name": v.name, "description": v.description, "set": v.set} for v in sc.variants],
        "sites": sites,
        "states": [{"name": s.name, "kind": s.kind, "site": s.site, "title": s.title, "description": s.description}
                   for s in sc.states],
        "transitions": [{"name": t.name, "title": t.title, "from": t.source,
                         "to": [t.to] if t.to else [x.to for x in t.split or []],
                         "description": t.description} for t in sc.transitions],
        "evidence": len(sc.evidence),
    }


def _roles(sc: Any) -> dict[str, list[str]]:
    """Parameter name -> what it sets that people look for: a transition's capacity, a site's room."""
    roles: dict[str, list[str]] = {}
    for t in sc.transitions:
        cap = t.capacity.people if t.capacity is not None and hasattr(t.capacity, "people") else t.capacity
        if isinstance(cap, str):
            served = transition_words(t)  # what the mechanisms say of it (its service order, say)
            roles.setdefault(cap, []).append(f"capacity of {t.title}" + (f", {served}" if served else ""))
    for s in sc.sites:
        if isinstance(s.capacity, str):
            roles.setdefault(s.capacity, []).append(site_words(sc, s.name))
    return roles


def _parameter(sc: Any, name: str, p: Any, roles: list[str]) -> dict:
    """One parameter as the page offers it: with a prior, the slider's range; without one, a number input."""
    low = high = None
    pr = p.prior
    if pr is not None:
        if pr.dist in ("uniform", "loguniform"):
            low, high = float(pr.low), float(pr.high)
        else:
            low, high = max(0.0, float(pr.mean) - 3 * float(pr.sd)), float(pr.mean) + 3 * float(pr.sd)
        low, high = min(low, p.value), max(high, p.value)
    return {"name": name, "value": p.value, "low": low, "high": high, "prior": pr is not None,
            "log": pr is not None and pr.dist == "loguniform", "unit": p.unit, "description": p.description,
            "roles": roles, "assumption": p.assumption, "sources": [sc.cite(s) for s in p.all_sources()]}


def posterior_summary(experiment: Any, level: float = 0.90) -> dict[str, dict[str, float]]:
    """Per parameter of a stored posterior: its weighted median and central interval (what the page shows beside
    the parameter's input)."""
    from refuge.inference.posterior import read_posterior
    from refuge.numbers import weighted_quantile

    post = read_posterior(experiment)
    w = post["weight"].to_numpy(float)
    out = {}
    for name in post.columns.drop(["weight", "distance"], errors="ignore"):
        q = weighted_quantile(post[name].to_numpy(float), w, [0.5, (1 - level) / 2, (1 + level) / 2])
        out[str(name)] = {"median": float(q[0]), "low": float(q[1]), "high": float(q[2])}
    return out


@dataclass(frozen=True)
class Change:
    """A user's change to the scenario, checked against it."""

    values: tuple[tuple[str, float], ...] = ()
    variants: tuple[str, ...] = ()
    rules_off: tuple[str, ...] = ()
    sites: tuple[tuple[str, Any, tuple[tuple[str, str], ...] | None], ...] = ()  # (site, capacity, closures)

    @property
    def empty(self) -> bool:
        """Whether the change changes nothing."""
        return not (self.values or self.variants or self.rules_off or self.sites)

    @property
    def parameters_only(self) -> bool:
        """Whether only parameter values change (no rule switched off, no site changed)."""
        return not (self.rules_off or self.sites)


def parse_change(scenario: Any, data: Any) -> Change:
    """A Change from the page's JSON; a RefugeError naming the field for anything that does not fit."""
    if data is None:
        return Change()
    if not isinstance(data, dict):
        raise RefugeError("change: expected an object")
    values = []
    for name, x in (data.get("values") or {}).items():
        if name not in scenario.parameters:
            raise RefugeError(f"{name}: not a parameter of scenario `{scenario.name}`")
        values.append((name, _number(x, name)))
    declared = {v.name for v in scenario.variants}
    variants = tuple(v for v in data.get("variants") or [] if _known(v, declared, "variant"))
    rules = {r.name for r in scenario.rules}
    rules_off = tuple(r for r in data.get("rules_off") or [] if _known(r, rules, "rule"))
    site_names = {s.name for s in scenario.sites}
    sites = []
    for name, s in (data.get("sites") or {}).items():
        _known(name, site_names, "site")
        cap = s.get("capacity")
        room = site_words(scenario, name)
        if cap is not None:
            cap = _number(cap, room)
            if cap < 0:
                raise RefugeError(f"{room}: expected a number >= 0; found {cap:g}")
        closed = None
        if s.get("closed") is not None:
            closed = []
            for k, c in enumerate(s["closed"]):
                where = closure_words(scenario, name, k)
                a, b = _date(c.get("from"), closure_words(scenario, name, k, "from")), _date(
                    c.get("to"), closure_words(scenario, name, k, "to"))
                if b < a:
                    raise RefugeError(f"{where}: the closure ends ({b}) before it starts ({a})")
                if a < scenario.start or b > scenario.end:
                    raise RefugeError(f"{where}: expected dates within {scenario.start}..{scenario.end}; "
                                      f"found {a}..{b}")
                closed.append((str(a), str(b)))
            closed = tuple(closed)
        sites.append((name, cap, closed))
    return Change(tuple(sorted(values)), variants, rules_off, tuple(sorted(sites, key=lambda s: s[0])))


def _number(x: Any, where: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise RefugeError(f"{where}: expected a number; found {x!r}") from None
    if not math.isfinite(v):
        raise RefugeError(f"{where}: expected a finite number; found {x!r}")
    return v


def _date(x: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(x))
    except ValueError:
        raise RefugeError(f"{where}: expected a date (YYYY-MM-DD); found {x!r}") from None


def _known(name: str, names: set, where: str) -> bool:
    if name not in names:
        from refuge.errors import suggest

        raise RefugeError(f"{where}: no `{name}` in the scenario{suggest(name, names)}")
    return True


def page_values(scenario: Any, change: Change) -> dict[str, Any]:
    """The values a change sets: the page's numbers, then each variant switched on (a variant's value may name
    another parameter, start from a date or move a named schedule point, as in `refuge compare`)."""
    values: dict[str, Any] = dict(change.values)
    for v in scenario.variants:
        if v.name in change.variants:
            values.update(v.set)
    return values


def resolve(scenario: Any, values: dict[str, Any]) -> dict[str, Any]:
    """`values` with each value that names another parameter replaced by that parameter's value here."""
    from refuge.experiments.variants import resolve_values

    return resolve_values(scenario, values, "on the page")


def changed_data(scenario: Any, change: Change) -> tuple[dict, list[str]]:
    """The scenario as a mapping (for YAML) with the change applied, and notes on what was dropped with a rule."""
    values = page_values(scenario, change)
    if values:  # numbers, values from a date, moved schedule points: as `refuge compare` applies a variant's
        scenario = scenario.with_values(resolve(scenario, values))
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    notes = []
    for name, cap, closed in change.sites:
        site = next(s for s in data["sites"] if s["name"] == name)
        if cap is not None:
            site["capacity"] = cap
        if closed is not None:
            site["closed"] = [{"from": a, "to": b} for a, b in closed]
            if not closed:
                site.pop("closed", None)
    if change.rules_off:
        data["rules"] = [r for r in data.get("rules", []) if r["name"] not in change.rules_off]
        kept = []
        for e in data.get("evidence", []):
            if set(e.get("measure", {}).get("active") or []) & set(change.rules_off):
                notes.append(f"evidence `{e['id']}` measures a rule switched off; left out")
            else:
                kept.append(e)
        data["evidence"] = kept
        notes.insert(0, "rules switched off: " + ", ".join(change.rules_off))
    return data, notes


def changed_scenario(scenario: Any, origin: str, change: Change) -> Any:
    """The changed Scenario for running: values, variants and sites applied (rules stay: they are switched
    off in the compiled model, so evidence about them is still measured)."""
    from refuge.scenario import parse

    data, _ = changed_data(scenario, Change(change.values, change.variants, (), change.sites))
    return parse(data, f"{Path(origin).name} (changed on the page)")


def scenario_yaml(scenario: Any, change: Change) -> str:
    """The changed scenario as a YAML file's text (what the page offers to download)."""
    import yaml

    data, notes = changed_data(scenario, change)
    head = [f"# {scenario.name}, changed in `refuge app` on {dt.date.today()}"] + [f"# {n}" for n in notes]
    if change.values or change.variants:
        head.append("# parameters set: " + ", ".join(f"{k}={v:g}" for k, v in change.values) +
                    (("; variants applied: " + ", ".join(change.variants)) if change.variants else ""))
    return "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
