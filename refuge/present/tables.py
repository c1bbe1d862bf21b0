"""The report's tables: parameters, stays per state, sites, flows per year, evidence."""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.numbers import num, weighted_quantile
from refuge.present.cache import _once, summaries
from refuge.present.titles import Titles


def _flows_by_year(exp: Any):
    """Per variant, edge and year: median and central 90% over runs of the people moved."""
    import pandas as pd

    summ = summaries(exp)
    rows = []
    for v in exp.variants:
        s = summ[v]
        if not s.runs:
            continue
        for name in exp.names("flows"):
            totals = s.year_totals[f"flows:{name}"]
            med, low, high = np.quantile(totals, [0.5, 0.05, 0.95], axis=0)
            for k, y in enumerate(s.years):
                rows.append({"variant": v, "transition": name, "year": int(y), "days": int(s.year_days[k]),
                             "median": float(med[k]), "low": float(low[k]), "high": float(high[k])})
    return pd.DataFrame(rows, columns=["variant", "transition", "year", "days", "median", "low", "high"])


def parameters_table(exp: Any) -> list[dict]:
    """Every parameter: value (per variant when they differ), unit, description, sources or assumption, prior."""
    sc = exp.scenario
    scheduled: dict[str, list[str]] = {}
    for sch in sc.schedules:
        scheduled.setdefault(sch.parameter, []).extend(sch.describe())  # points, or a monthly profile
    ruled = {a.set.parameter if a.set else a.multiply.parameter for r in sc.rules for a in r.actions
             if a.set or a.multiply}
    rows = []
    for name, p in sc.parameters.items():
        values = {v: exp.variant_set(v).get(name, p.value) for v in exp.variants}
        prior = ""
        if p.prior is not None:
            pr = p.prior
            prior = (f"{pr.dist}({pr.low:g}, {pr.high:g})" if pr.dist != "normal"
                     else f"normal(mean {pr.mean:g}, sd {pr.sd:g})")
        changes = (["scheduled: " + ", ".join(scheduled[name])] if name in scheduled else []) + (
            ["changed by rules"] if name in ruled else [])
        rows.append({
            "name": name, "values": values, "differs": len(set(values.values())) > 1, "unit": p.unit,
            "description": p.description, "sources": [exp.scenario.cite(s) for s in p.all_sources()],
            "assumption": p.assumption, "prior": prior, "changes": ", ".join(changes),
        })
    return rows


def waits_table(exp: Any, level: float = 0.90) -> list[dict]:
    """Per tracked state and variant: people whose stay ended, per run (median over runs); the people-weighted
    median and 90th percentile of completed stays and the longest stay (all runs' stays together); and how many
    were still there at the end (median over runs)."""
    names = exp.names("max_stay")
    if not names:
        return []
    summ = summaries(exp)
    titles = Titles(exp.scenario)
    rows = []
    for name in names:
        for v in exp.variants:
            s = summ[v]
            hist = s.stay_people.get(name)
            if hist is None:
                hist = np.zeros((2, s.days + 1))
            days = np.arange(hist.shape[1])
            done = hist[1]
            seen = np.flatnonzero(hist.sum(axis=0) > 0)
            still = s.still_there.get(name, np.zeros(s.runs))
            left = s.left.get(name, np.zeros(s.runs))
            rows.append({"state": name, "title": titles.state(name), "variant": v,
                         "people": float(np.median(left)) if len(left) else None,
                         "median": _wq(days, done, 0.5), "p90": _wq(days, done, 0.9),
                         "longest": int(seen.max()) if len(seen) else None,
                         "still_there": float(np.median(still)) if len(still) else None})
    return rows


def sites_table(exp: Any, level: float = 0.90) -> list[dict]:
    """Per site (a place that holds states: a compound, a camp) and variant, over runs (median and central
    interval): room, people entering from outside it, mean and peak occupancy, days closed to entry, and daily
    supply needs at the mean."""
    from refuge.evidence.check import _entering, report_sites

    model = exp.model()
    sites = report_sites(model)
    if not sites:
        return []
    flow_names, stream_names = exp.names("flows"), exp.names("arrivals")
    entering = {n: _entering(model, n) for n in sites}
    titles = Titles(exp.scenario)
    summ = summaries(exp)
    rows = []
    for v in exp.variants:
        s = summ[v]
        if not s.runs:
            continue
        for n in sites:
            site = model.site_names[n]
            mean = s.run_mean[f"sites:{site}"]
            edges, into = entering[n]
            entries = np.zeros(s.runs)
            for e in edges:
                entries = entries + s.run_sum[f"flows:{flow_names[e]}"]
            for k in into:
                entries = entries + s.run_sum[f"arrivals:{stream_names[k]}"]
            room = s.run_mean.get(f"capacity:{site}")
            rows.append({"site": site, "title": titles.site(site), "variant": v,
                         "room": float(np.median(room)) if room is not None else None,
                         "entries": _interval(entries, level), "mean": _interval(mean, level),
                         "peak": _interval(s.run_max[f"sites:{site}"], level),
                         "closed": _interval(s.run_sum[f"closed:{site}"], level),
                         "time": _site_time(s.site_time.get(site), level),
                         "supplies": {item: float(np.median(mean)) * per
                                      for item, per in model.scenario.sites[n].supplies.items()}})
    return rows


def _site_time(values: np.ndarray | None, level: float) -> dict[str, tuple[float, float, float] | None]:
    """Days in a site (mean, median, 90th percentile, longest) and people still inside, each over runs; None
    for each when the store lacks them."""
    from refuge.results.site_time import TIME_FIGURES

    out: dict[str, tuple[float, float, float] | None] = {}
    for k, name in enumerate(TIME_FIGURES):
        col = values[:, k][~np.isnan(values[:, k])] if values is not None else np.zeros(0)
        out[name] = _interval(col, level) if len(col) else None
    return out


def site_time_rows(rows: list[dict]) -> list[dict]:
    """`sites_table`'s rows as one row per site with a cell per variant: the days in the site."""
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r["site"], {"site": r["site"], "title": r["title"], "cells": {}})["cells"][r["variant"]] = \
            r["time"]
    return list(out.values())


def rules_table(exp: Any, level: float = 0.90) -> list[dict]:
    """Per rule: the days it was on, per run, in each variant (median and central interval over runs)."""
    names = exp.names("rules")
    if not names:
        return []
    descriptions = {r.name: r.description for r in exp.scenario.rules}
    sums = {v: exp.per_run("rules", variant=v, stats=("sum",))["sum"] for v in exp.variants if exp.finished(v)}
    return [{"rule": name, "description": descriptions.get(name, ""), "days": len(exp.dates),
             "cells": {v: _interval(df[name].to_numpy(np.float64), level) for v, df in sums.items()}}
            for name in names]


def _interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
    return float(med), float(lo), float(hi)


def flows_year_table(exp: Any) -> dict:
    """Flows per calendar year, one row per edge, for each variant: {variant: (years, rows)}."""
    table = _once(exp, "flows_by_year", lambda: _flows_by_year(exp))
    titles = Titles(exp.scenario)
    out = {}
    for v in exp.variants:
        t = table[table.variant == v]
        years = sorted(t.year.unique())
        rows = []
        for name, g in t.groupby("transition", sort=False):
            g = g.set_index("year")
            rows.append({"name": name, "title": titles.flow(name),
                         "cells": [(g.at[y, "median"], g.at[y, "low"], g.at[y, "high"]) for y in years]})
        out[v] = (years, rows)
    return out


def _wq(values, weights, q: float) -> float | None:
    """A people-weighted quantile of stay lengths (None when nobody stayed)."""
    x = weighted_quantile(values, weights, q)
    return None if np.isnan(x) else x


def evidence_rows(exp: Any) -> list[dict]:
    """The evidence table, one row per fact with one cell per variant (as `refuge check` measures it)."""
    model = exp.model()
    if not model.evidence:
        return []
    tables = {v: {r["id"]: r for r in exp.evidence(v).to_dict("records")} for v in exp.variants
              if exp.finished(v)}
    rows = []
    for f in model.evidence:
        first = next(iter(tables.values()))[f["id"]]
        rows.append({"id": f["id"], "fact": f["fact"], "source": first["source"],
                     "citation": first.get("citation", first["source"]), "when": first["when"],
                     "measure": first["measure"], "bound": first["bound"], "required": first["required"],
                     "cells": {v: t[f["id"]] for v, t in tables.items()}})
    return rows


def _num(x: Any, digits: int | None = None) -> str:
    """The report's number filter: `refuge.numbers.num`, or a fixed number of decimals when given (scores, ARD)."""
    if digits is None:
        return num(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "–" if v != v else f"{v:,.{digits}f}"


def _g(x: Any) -> str:
    """A number as written (a parameter name stays a name)."""
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)
