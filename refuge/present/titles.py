"""Names people read in figures, tables and the page."""

from __future__ import annotations


def _short(text: str, limit: int = 70) -> str:
    """The first clause of a description, cut at a word within `limit` characters."""
    text = " ".join(text.split())
    for stop in (". ", "; ", " ("):
        if stop in text:
            text = text[: text.index(stop)]
    if len(text) > limit:
        text = text[: text.rfind(" ", 0, limit)] + "…"
    return text


class Titles:
    """What panels, tables and the page call each state, site and transition: its `label` when the scenario
    declares one, else its name in the scenario file; the same everywhere. Its description goes to the caption
    (`key`), with the name the file uses when a label stands for it."""

    def __init__(self, scenario):
        self.descriptions: dict[tuple[str, str], str] = {}
        self.labels: dict[tuple[str, str], str] = {}
        sites = {s.name: s for s in scenario.sites}
        for kind, items in (("site", scenario.sites), ("state", scenario.states),
                            ("transition", scenario.transitions)):
            for x in items:
                label = getattr(x, "label", "") or ""
                if label:
                    self.labels[(kind, x.name)] = label
                text = " ".join((x.description or "").split())
                if kind == "state" and x.site:
                    where = sites[x.site].title if x.site in sites else x.site
                    text = f"in site {where}" + (f": {text}" if text else "")
                if label:
                    text = f"`{x.name}`" + (f" — {text}" if text else "")
                self.descriptions[(kind, x.name)] = text

    def state(self, name: str) -> str:
        """A state's title: its label, else its name."""
        return self.labels.get(("state", name), name)

    def site(self, name: str) -> str:
        """A site's title: its label, else its name."""
        return self.labels.get(("site", name), name)

    def transition(self, name: str) -> str:
        """A transition's title: its label, else its name."""
        return self.labels.get(("transition", name), name)

    def flow(self, label: str) -> str:
        """`transition->target` (perhaps `(redirected)`) as `transition → target`, each by its title."""
        redirected = label.endswith("(redirected)") or label.endswith("'")
        base = label.split(" (redirected)")[0].rstrip("'")
        trans, _, target = base.partition("->")
        return (self.transition(trans) + (f" → {self.state(target)}" if target else "")
                + (" (redirected)" if redirected else ""))

    def key(self, kind: str, names: list[str]) -> list[tuple[str, str]]:
        """(title, description) of the members shown that have one: a caption's key to its panels (a flow's
        panels share their transition's description)."""
        if kind == "flow":
            names = list(dict.fromkeys(n.split("->")[0] for n in names))
            kind = "transition"
        return [(self.labels.get((kind, n), n), self.descriptions[(kind, n)]) for n in names
                if self.descriptions.get((kind, n))]


def _wrap(text: str, width: int = 44) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1] + "…"]
    return "\n".join(lines)


def with_unit(label: str, unit: str) -> str:
    """`label (unit)`, unless the label already names the unit ("people landed" is in people)."""
    import re

    unit = (unit or "").strip()
    if not unit or re.search(rf"\b{re.escape(unit)}\b", label, flags=re.IGNORECASE):
        return label
    return f"{label} ({unit})"
