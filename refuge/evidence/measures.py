"""Evidence: observed facts measured in runs, checked against their bounds, and distances for calibration."""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from refuge.model.compiler import Model
from refuge.results.run import Run

BOUND_TEXT = {
    "exact": "= {value:g}",
    "about": "≈ {value:g} ± {pct:g}%",
    "at_least": "≥ {value:g}",
    "more_than": "> {value:g}",
    "at_most": "≤ {value:g}",
    "less_than": "< {value:g}",
    "range": "{low:g}–{high:g}",
}


def bound_text(fact: dict) -> str:
    """A compiled fact's bound for people: `≥ 17`, `≈ 14 ± 25%`, `24–99`."""
    tol = fact.get("tolerance") or 0.0
    return BOUND_TEXT[fact["bound"]].format(value=fact.get("value") or 0.0, pct=100 * tol,
                                            low=fact.get("low") or 0.0, high=fact.get("high") or 0.0)


def measure(run: Run, fact: dict) -> float:
    """The simulated value of one compiled evidence entry in one run (NaN when undefined)."""
    kind = fact["kind"]
    m = run.model
    if kind in ("closed", "active"):
        return _policy(run, fact)
    if kind in ("stock", "longest_stay"):
        day = fact["day"]
        if day >= run.days:
            return math.nan
        states = m.states_of(fact["places"])
        if kind == "stock":
            return float(run.stocks[day, states].sum())
        return float(run.max_stay[day, states].max()) if states else math.nan
    d0, d1 = fact["days"]
    if d0 >= run.days:
        return math.nan
    d1 = min(d1, run.days - 1)
    if kind == "flow":
        return float(run.flows[d0:d1 + 1, fact["edges"]].sum())
    if kind in ("arrivals", "into"):
        return float(run.flows[d0:d1 + 1, fact["edges"]].sum() + run.arrived[d0:d1 + 1, fact["arrivals"]].sum()
                     + (run.entered[d0:d1 + 1, fact["entered"]].sum() if run.entered is not None else 0))
    if kind == "share":
        den = run.flows[d0:d1 + 1, fact["of_edges"]].sum()
        return float(run.flows[d0:d1 + 1, fact["edges"]].sum() / den) if den > 0 else math.nan
    if kind == "mean_stay" and len(run.model.states_of(fact["places"])) > 1:
        # several states (a site's): days from entering the set to leaving it, not each state's stays pooled
        from refuge.results.site_time import mean_completed

        inside = np.isin(np.arange(len(run.model.state_names)), run.model.states_of(fact["places"]))
        return mean_completed(run, inside, d0, d1)
    if kind == "mean_stay":
        exit_day, length, people = run.completed_stays(fact["places"])
        sel = (exit_day >= d0) & (exit_day <= d1)
        w = people[sel]
        return float((length[sel] * w).sum() / w.sum()) if w.sum() > 0 else math.nan
    raise ValueError(f"unknown measure {kind}")


def _policy(run: Run, fact: dict) -> float:
    """Closed to entry / rule in force: 1 or 0 on a date, or the share of days over a period."""
    if fact["kind"] == "closed":
        daily = np.concatenate([run.closed_sites[:, fact["sites"]], run.closed_states[:, fact["states"]]], axis=1)
    else:
        daily = run.rules_active[:, fact["rules"]]
    on = daily.any(axis=1) if daily.shape[1] else np.zeros(run.days, np.bool_)
    d0, d1 = (fact["day"], fact["day"]) if "day" in fact else fact["days"]
    if d0 >= run.days:
        return math.nan
    return float(on[d0:min(d1, run.days - 1) + 1].mean())


def holds(fact: dict, x: float) -> bool:
    """Whether a simulated value satisfies the fact's bound."""
    if x is None or math.isnan(x):
        return False
    v, b = fact.get("value"), fact["bound"]
    if b == "exact":
        return abs(x - v) < 1e-9
    if b == "about":
        return abs(x - v) <= fact["tolerance"] * abs(v) + 1e-9
    if b == "at_least":
        return x >= v
    if b == "more_than":
        return x > v
    if b == "at_most":
        return x <= v
    if b == "less_than":
        return x < v
    return fact["low"] <= x <= fact["high"]


def miss(fact: dict, x: float) -> float:
    """How far a value falls outside the bound, relative to the bound's scale (0 when it holds)."""
    if x is None or math.isnan(x):
        return 1.0
    if holds(fact, x):
        return 0.0
    v, b = fact.get("value"), fact["bound"]
    if b == "range":
        lo, hi = fact["low"], fact["high"]
        gap = lo - x if x < lo else x - hi
        scale = max(abs(hi), abs(lo), 1.0)
    elif b == "about":
        gap = abs(x - v) - fact["tolerance"] * abs(v)
        scale = max(abs(v), 1.0)
    else:
        gap = abs(x - v) + (1.0 if b in ("more_than", "less_than", "exact") else 0.0)
        scale = max(abs(v), 1.0)
    return float(gap / scale)


def measure_all(run: Run, facts: Iterable[dict] | None = None) -> np.ndarray:
    """The simulated value of each fact (default: every fact of the run's model) in one run."""
    facts = list(run.model.evidence if facts is None else facts)
    return np.array([measure(run, f) for f in facts], float)


def distance(run: Run, facts: Iterable[dict] | None = None) -> float:
    """Root mean square of the misses of every fact: 0 when every bound holds."""
    facts = list(run.model.evidence if facts is None else facts)
    if not facts:
        return 0.0
    values = measure_all(run, facts)
    return float(np.sqrt(np.mean([miss(f, x) ** 2 for f, x in zip(facts, values)])))


def citation(model: Model, fact: dict) -> str:
    """Where a fact comes from, as a reader can find it: publisher, date, headline and URL of its reference
    (or the file it names)."""
    ref = model.scenario.sources.get(fact["source"]) if hasattr(model.scenario, "sources") else None
    return ref.citation() if ref is not None else str(fact["source"])


def evaluate(model: Model, values: np.ndarray, level: float = 0.90) -> Any:
    """The evidence table for an ensemble.

    `values` is (runs, facts) as from `measure_all` per run. For each fact: the simulated
    median and central interval, whether the bound holds at the median, the share of
    runs in which it holds, the best share any rate could reach (`best_share`) and the
    probability score (`refuge.evidence.scores`).
    """
    import pandas as pd

    from refuge.evidence.scores import reference_share, score

    values = np.atleast_2d(values)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for k, fact in enumerate(model.evidence):
        col = values[:, k]
        ok = ~np.isnan(col)
        med = float(np.median(col[ok])) if ok.any() else math.nan
        share = float(np.mean([holds(fact, x) for x in col]))
        best = reference_share(model, fact)
        rows.append({
            "id": fact["id"],
            "source": fact["source"],
            "citation": citation(model, fact),
            "when": fact.get("when", ""),
            "measure": fact["kind"],
            "bound": bound_text(fact),
            "median": med,
            "low": float(np.quantile(col[ok], lo_q)) if ok.any() else math.nan,
            "high": float(np.quantile(col[ok], hi_q)) if ok.any() else math.nan,
            "holds_median": holds(fact, med),
            "share_holding": share,
            "best_share": best,
            "score": score(share, best),
            "required": fact["required"],
        })
    return pd.DataFrame(rows, columns=["id", "source", "citation", "when", "measure", "bound", "median", "low", "high",
                                       "holds_median", "share_holding", "best_share", "score", "required"])
