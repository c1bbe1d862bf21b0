"""A scenario's outcomes, resolved to the states, edges and arrival streams they count.

A scenario names its outcomes in an `outcomes:` section (`refuge.scenario.Outcome`); without one it gets
defaults by state kind, so that a scenario with no `refuge` states never reports entries into refuge.
"""

from __future__ import annotations

from typing import Any

from refuge.model.evidence import flow_refs
from refuge.model.network import at_location
from refuge.scenario import Outcome, Scenario

TOTALS = ("into", "flow", "arrivals")  # summed over days (and shown per calendar year)


def tracked_states(sc: Scenario) -> set[str]:
    """States whose people keep their entry day: exits by duration, or `track_stays: true`."""
    return {s.name for s in sc.states if s.track_stays} | {t.source for t in sc.transitions if t.duration}


def default_outcomes(sc: Scenario) -> list[Outcome]:
    """Outcomes by state kind, for the kinds the scenario has."""
    def of(kind: str) -> list[str]:
        return [s.name for s in sc.states if s.kind == kind]

    out: list[Outcome] = []
    refuge = of("refuge")
    if refuge:
        out += [Outcome(name="entries", label="entries into refuge", into=refuge),
                Outcome(name="waiting_mean", label="in refuge, mean per day", mean=refuge),
                Outcome(name="waiting_peak", label="in refuge, peak day", peak=refuge)]
        tracked = [s for s in refuge if s in tracked_states(sc)]
        if tracked:
            out.append(Outcome(name="longest_wait", label="longest stay in refuge", longest_stay=tracked))
    for name, kind, label in (("arrivals", "destination", "arrivals at a destination"),
                              ("arrests", "custody", "entries into custody"),
                              ("returns", "returned", "returns")):
        if of(kind):
            out.append(Outcome(name=name, label=label, into=of(kind)))
    return out


def default_label(o: Outcome) -> str:
    """A label for an outcome declared without one, from what it counts."""
    names = ", ".join(getattr(o, o.kind))
    return {"into": f"entries into {names}", "flow": f"moved by {names}", "arrivals": f"arrivals by {names}",
            "mean": f"in {names}, mean per day", "peak": f"in {names}, peak day", "end": f"in {names} at the end",
            "longest_stay": f"longest stay in {names}"}[o.kind]


def compile_outcomes(c: Any, edges: list[tuple]) -> list[dict]:
    """Resolve the outcomes of the scenario being compiled by `c` (a `refuge.model.compiler._Compiler`),
    reporting unknown names as problems with field paths. Each: name, label, unit, kind, edges, arrivals,
    states, total, of (the names as written)."""
    sc = c.sc
    declared = bool(sc.outcomes)
    items = sc.outcomes if declared else default_outcomes(sc)
    places = c.states + c.sites
    tracked = tracked_states(sc)
    out: list[dict] = []
    seen: set[str] = set()
    for i, o in enumerate(items):
        path = f"outcomes[{i}]"
        kind = o.kind
        if o.name in seen:
            c.err(f"{path}.name", "a name not used before in outcomes", f"`{o.name}` again")
        seen.add(o.name)
        item = {"name": o.name, "label": o.label or default_label(o), "unit": o.unit or (
            "days" if kind == "longest_stay" else "people"), "kind": kind, "edges": [], "arrivals": [],
                "states": [], "total": kind in TOTALS, "of": list(getattr(o, kind))}
        if kind in TOTALS:
            item.update(flow_refs(c, o, kind, path, edges))
        else:
            states: list[int] = []
            for k, n in enumerate(getattr(o, kind)):
                if c.name("state or site", n, places, f"{path}.{kind}[{k}]") < 0:
                    continue
                names = [n] if n in c.states else [s.name for s in sc.states if s.site == n]
                if kind != "longest_stay":  # a location counts its states of processing (`at:`)
                    names += [sc.states[s].name for s in at_location(sc, n)]
                if kind == "longest_stay":
                    for s in names:
                        if s not in tracked:
                            c.err(f"{path}.longest_stay[{k}]", "a state whose time in state is tracked (an exit by "
                                  "`duration`, or `track_stays: true`)", f"`{s}`")
                states += [c.states.index(s) for s in names]
            item["states"] = sorted(set(states))
        out.append(item)
    return out
