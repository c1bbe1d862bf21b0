"""Titles: what tables, panels, `refuge check` and the page call each site, state and transition — its `label`,
else its name. Two of a kind may not share a title (a reader could not tell their panels apart)."""

from __future__ import annotations

from typing import Any

from refuge.errors import Problem


def title_problems(sc: Any) -> list[Problem]:
    """A problem for each label that is another site's, state's or transition's title (its label or name)."""
    problems = []
    for what, items in (("sites", sc.sites), ("states", sc.states), ("transitions", sc.transitions)):
        titles = {x.name: x.name for x in items}  # title -> whose
        for i, x in enumerate(items):
            if x.label and titles.setdefault(x.label, x.name) != x.name:
                problems.append(Problem(f"{what}[{i}].label", f"a title no other of the {what} has",
                                        f"`{x.label}`, the title of `{titles[x.label]}` too"))
    return problems
