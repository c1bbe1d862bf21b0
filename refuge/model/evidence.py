"""Compile a scenario's evidence: facts (what each measures, on which day or period, with what bound) and dated
series (the grid of days scored, the data on it), every name resolved to states, edges and arrival streams."""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.model.network import at_location


def compile_evidence(c: Any, edges: list[tuple]) -> list[dict]:
    """Each fact of the scenario's evidence (not a series): what it measures, when, its bound and its source."""
    out = []
    places = c.states + c.sites
    for i, ev in enumerate(c.sc.evidence):
        if ev.series is not None:
            continue
        path = f"evidence[{i}]"
        m = ev.measure
        kind = m.kind
        item: dict[str, Any] = {"id": ev.id, "kind": kind, "bound": ev.bound, "value": ev.value,
                                "tolerance": ev.tolerance, "low": ev.low, "high": ev.high,
                                "required": ev.required, "source": ev.source.key, "fact": ev.source.fact,
                                "citation": c.sc.cite(ev.source)}
        if ev.date is not None:
            item["day"] = c.dayof(ev.date, f"{path}.date")
            item["when"] = str(ev.date)
        if ev.period is not None:
            item["days"] = c.period_days(ev.period, f"{path}.period")
            item["when"] = f"{ev.period.start}..{ev.period.end}"
        names = getattr(m, kind)
        if kind in ("stock", "longest_stay", "mean_stay"):
            for k, n in enumerate(names):
                c.name("state or site", n, places, f"{path}.measure.{kind}[{k}]")
            item["places"] = list(names)
        elif kind == "closed":
            for k, n in enumerate(names):
                c.name("site or state", n, places, f"{path}.measure.closed[{k}]")
            item["sites"] = [c.sites.index(n) for n in names if n in c.sites]
            item["states"] = [c.states.index(n) for n in names if n in c.states]
        elif kind == "active":
            rules = [r.name for r in c.sc.rules]
            item["rules"] = [c.name("rule", n, rules, f"{path}.measure.active[{k}]")
                             for k, n in enumerate(names)]
        elif kind in ("arrivals", "into"):
            item.update(flow_refs(c, m, kind, f"{path}.measure", edges))
        else:
            item["edges"] = c.edge_refs(names, f"{path}.measure.{kind}", edges)
            if kind == "share":
                item["of_edges"] = c.edge_refs(m.of or [], f"{path}.measure.of", edges)
        out.append(item)
    return out


def flow_refs(c: Any, m: Any, kind: str, path: str, edges: list[tuple]) -> dict[str, list[int]]:
    """Edges and arrival streams a flow-like measure counts (`flow`, `into`, `arrivals`)."""
    names = getattr(m, kind)
    if kind == "flow":
        return {"edges": c.edge_refs(names, f"{path}.flow", edges), "arrivals": [], "entered": []}
    if kind == "arrivals":
        return {"edges": [], "arrivals": [c.name("arrival", n, c.arrivals, f"{path}.arrivals[{k}]")
                                          for k, n in enumerate(names)], "entered": []}
    places = c.states + c.sites
    inside: set[int] = set()
    for k, n in enumerate(names):
        if c.name("state or site", n, places, f"{path}.into[{k}]") < 0:
            continue
        if n in c.states:
            inside |= {c.states.index(n), *at_location(c.sc, n)}  # (a location: with its states of processing)
        else:
            inside |= {i for i, st in enumerate(c.sc.states) if st.site == n}
    src = {j: c.states.index(t.source) for j, t in enumerate(c.sc.transitions) if t.source in c.states}
    e_in = [e for e, row in enumerate(edges) if row[2] in inside and src.get(row[1], -1) not in inside]
    a_in = [a for a, arr in enumerate(c.sc.arrivals) if arr.to in c.states
            and c.states.index(arr.to) in inside]
    for i, ev in enumerate(c.sc.events):  # an event brings people into its target, unless it moves them within
        to = {c.states.index(ev.to)} if ev.to in c.states else \
            {j for j, st in enumerate(c.sc.states) if st.site == ev.to}
        within = ev.source_state in c.states and c.states.index(ev.source_state) in inside
        if to & inside and not within:
            a_in.append(len(c.sc.arrivals) + i)
    # people entering these states by the route network (arriving from a route, or spawned there)
    return {"edges": e_in, "arrivals": a_in, "entered": sorted(inside)}


def compile_series(c: Any, edges: list[tuple]) -> list[dict]:
    """Compiled time-series evidence: the scored grid of days, the data on it, and what is measured."""
    out = []
    for i, ev in enumerate(c.sc.evidence):
        if ev.series is None:
            continue
        path = f"evidence[{i}]"
        points = ev.series.points
        if not points:
            c.err(f"{path}.series.file", "series data read with the scenario file (refuge.load(path))",
                     f"`{ev.series.file}` not read")
            continue
        dates = [p.date for p in points]
        if any(b <= a for a, b in zip(dates, dates[1:])):
            c.err(f"{path}.series.points", "dates in increasing order", [str(d) for d in dates])
            continue
        kind = ev.measure.kind
        d0, d1 = c.period_days(ev.period, f"{path}.period")
        pday = np.array([(d - c.sc.start).days for d in dates], np.int64)
        vals = np.array([p.value for p in points], float)
        item: dict[str, Any] = {"id": ev.id, "group": ev.group, "source": ev.source.key,
                                "fact": ev.source.fact, "measure": kind, "dates": [str(d) for d in dates],
                                "values": vals}
        if kind == "stock":
            names = ev.measure.stock or []
            for k, n in enumerate(names):
                c.name("state or site", n, c.states + c.sites, f"{path}.measure.stock[{k}]")
            known = [n for n in names if n in c.states or n in c.sites]
            states = sorted({s for n in known for s in ([c.states.index(n)] if n in c.states else
                             [j for j, st in enumerate(c.sc.states) if st.site == n])
                             + at_location(c.sc, n)})
            grid = np.arange(max(d0, 0), min(d1, c.T - 1) + 1, dtype=np.int64)
            obs_sel = (pday >= grid[0]) & (pday <= grid[-1]) if grid.size else np.zeros(0, bool)
            data = np.interp(grid.astype(float), pday.astype(float), vals)  # linear between points, flat outside
            item.update(kind="stock", states=states, grid=grid, data=data,
                        obs=(pday[obs_sel] - grid[0]).astype(np.int64) if grid.size else np.zeros(0, np.int64))
        else:
            item.update(kind="flow", **flow_refs(c, ev.measure, kind, f"{path}.measure", edges))
            first = (ev.series.first_from - c.sc.start).days if ev.series.first_from else 0
            starts = np.concatenate([[first], pday[:-1] + 1])
            keep = (starts >= max(d0, 0)) & (pday <= min(d1, c.T - 1)) & (starts <= pday)
            item.update(grid=pday[keep], starts=starts[keep].astype(np.int64), data=vals[keep],
                        obs=np.arange(int(keep.sum()), dtype=np.int64))
        if not item["obs"].size and not (kind == "stock" and item["grid"].size):
            c.err(f"{path}.series", "at least one data point whose date (for a flow: whose whole period) "
                     f"falls in {c.sc.start}..{c.sc.end}", f"{len(points)} points from {dates[0]} to "
                     f"{dates[-1]}")
        out.append(item)
    return out
