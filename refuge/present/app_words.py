"""The page's words for a field: a problem with a change is named as the page shows the field ("room (people) in
centre", a parameter by its name, "capacity of interview"), not by its path in the scenario file
(`sites[0].capacity`) or in the page's request (`sites.centre.capacity`)."""

from __future__ import annotations

import re
from typing import Any

from refuge.errors import Problem, RefugeError, ScenarioError

ROOM = "room (people)"  # the label of a site's capacity input on the page

_PARAMETER = re.compile(r"\s*\(parameter `([^`]+)`\)$")


def site_words(scenario: Any, name: str) -> str:
    """A site's capacity input as the page labels it."""
    site = next((s for s in scenario.sites if s.name == name), None)
    return f"{ROOM} in {site.title if site is not None else name}"


def closure_words(scenario: Any, name: str, k: int, end: str = "") -> str:
    """A closure's date input as the page labels it: `closed from` / `to` of closure k + 1 of the site."""
    site = next((s for s in scenario.sites if s.name == name), None)
    which = {"from": "closed from, ", "to": "closed to, "}.get(end, "")
    return f"{which}closure {k + 1} of {site.title if site is not None else name}"


def _title(items: list, i: str) -> str:
    k = int(i)
    return items[k].title if 0 <= k < len(items) else f"#{k + 1}"


def _state_title(scenario: Any, name: str) -> str:
    return next((s.title for s in scenario.states if s.name == name), name)


def field_words(scenario: Any, path: str) -> str:
    """A field path of the scenario file in the page's words (the path itself when the page has no word for it)."""
    sc = scenario
    m = re.match(r"^sites\[(\d+)\](.*)$", path)
    if m:
        rest, title = m.group(2), _title(sc.sites, m.group(1))
        c = re.match(r"^\.closed\[(\d+)\](?:\.(from|to))?", rest)
        if c:
            return closure_words(sc, sc.sites[int(m.group(1))].name, int(c.group(1)), c.group(2) or "")
        return f"{ROOM} in {title}" if rest.startswith(".capacity") else f"site {title}"
    m = re.match(r"^transitions\[(\d+)\](.*)$", path)
    if m:
        k, rest = int(m.group(1)), m.group(2)
        title = _title(sc.transitions, m.group(1))
        s = re.match(r"^\.split\[(\d+)\]", rest)
        if s and k < len(sc.transitions) and sc.transitions[k].split and int(s.group(1)) < len(sc.transitions[k].split):
            return f"share of {title} going to {_state_title(sc, sc.transitions[k].split[int(s.group(1))].to)}"
        for field, words in ((".capacity", "capacity of"), (".split", "shares of"), (".duration", "days of"),
                             (".rate", "daily rate of"), (".group_size", "group size of")):
            if rest.startswith(field):
                return f"{words} {title}"
        return f"transition {title}"
    m = re.match(r"^(states|arrivals|rules)\[(\d+)\]", path)
    if m:
        items = getattr(sc, m.group(1))
        k = int(m.group(2))
        name = items[k].title if m.group(1) == "states" and k < len(items) else (
            items[k].name if k < len(items) else f"#{k + 1}")
        return {"states": "state", "arrivals": "arrivals", "rules": "rule"}[m.group(1)] + f" {name}"
    m = re.match(r"^parameters\.([^.]+)", path)
    return m.group(1) if m else path


def problem_words(scenario: Any, p: Problem) -> str:
    """One problem as the page says it: led by the input the user moved (a parameter by its name) when the
    problem comes from a parameter's value, then the field it sets in the page's words."""
    where, found = field_words(scenario, p.path), str(p.found)
    m = _PARAMETER.search(found)
    if m:
        found = found[: m.start()]
        where = f"{m.group(1)} (sets {where})" if where != m.group(1) else where
    return f"{where}: expected {p.expected}; found {found}"


def page_error(scenario: Any, exc: ScenarioError) -> RefugeError:
    """A changed scenario's problems, one line each in the page's words (for the page's message box)."""
    lines = [problem_words(scenario, p) for p in exc.problems[:10]]
    more = len(exc.problems) - len(lines)
    head = "The change does not fit the scenario" + (f" ({len(exc.problems)} problems)" if len(lines) > 1 else "")
    return RefugeError(head + ": " + "; ".join(lines) + (f"; and {more} more" if more > 0 else ""))
