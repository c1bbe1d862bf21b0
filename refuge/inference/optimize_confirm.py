"""The confirmation stage of a policy search: the chosen policy on a larger set of seeds of its own.

The search compares candidates on a few runs each (`runs`, common random numbers). Picking the best of many
candidates on those runs favours the ones whose runs happened to be lucky: a policy that just met its
probability on 40 runs falls short more often than not on fresh seeds (the winner's curse; the flagship's
clearance search claimed 0.95 on 40 runs for a policy that held in 0.85 of 200 fresh runs). So the answer is
confirmed on `check_runs` seeds of its own (from `CONFIRM_OFFSET`, used by no other stage) before it is
re-checked on the fresh seeds:

- one lever with an objective that moves one way with it (after the bisection): if the chosen value fails on
  the confirmation seeds, the search backs off towards the safe side (one step, then doubling) until a value
  holds, and bisects between the two on the same seeds down to the lever's step;
- otherwise: the feasible trials, best first, until one holds on the confirmation seeds (at most `TRIES`).

The answer's probabilities "in the search" are then those of the confirmation runs, with their 90% intervals,
and the re-check on the fresh seeds (`FRESH_OFFSET`) is an independent test of that claim.
"""

from __future__ import annotations

from typing import Any

CONFIRM_OFFSET = 2_000_029  # the confirmation's first seed: neither the search's nor the re-check's
TRIES = 5


def confirm(search: Any, best: Any, ranked: list, progress: Any = None) -> Any:
    """The confirmed answer (a Candidate over `check_runs` runs), or the best tried when none holds; `ranked`:
    the search's feasible candidates, best first."""
    spec = search.spec

    def check(values: dict[str, float]) -> Any:
        c = search.evaluate(values, spec.seed + CONFIRM_OFFSET, spec.check_runs)
        c.trial = -1
        search.confirmations += 1
        if progress is not None:
            progress(-1, values, c)
        return c

    if len(spec.levers) == 1 and _monotone(spec):
        return _back_off(search, best, check)
    tried = None
    for c in ranked[:TRIES]:
        cc = check(c.values)
        cc.trial = c.trial
        if cc.feasible:
            return cc
        tried = cc if search.better(cc, tried) else tried
    return tried if tried is not None else best


def _back_off(search: Any, best: Any, check: Any) -> Any:
    """One lever: from the chosen value towards the safe side until it holds on the confirmation seeds, then a
    bisection between the last value that failed and the first that held."""
    lv = search.spec.levers[0]
    name = lv.name
    toward = 1.0 if _wants_small(search.spec) else -1.0  # the smallest that holds: larger is safer
    tol = lv.step if lv.step else (lv.high - lv.low) / 1000
    bad = best.values[name]
    first = check({name: bad})
    if first.feasible:
        return first
    gap, good = tol, None
    while good is None:
        x = _snap(lv, min(lv.high, max(lv.low, bad + toward * gap)))
        c = check({name: x})
        if c.feasible:
            good = c
        elif x in (lv.low, lv.high):
            return c  # nothing in the range holds on these seeds
        else:
            bad, gap = x, gap * 2
    while abs(good.values[name] - bad) > tol * (1 + 1e-9):
        mid = _snap(lv, (good.values[name] + bad) / 2)
        if mid in (good.values[name], bad):
            break
        c = check({name: mid})
        if c.feasible:
            good = c
        else:
            bad = mid
    return good


# --- one lever whose objective moves one way with it (also used by the search's bisection) ---------------


def _monotone(spec: Any) -> bool:
    t = spec.objective.target
    return (t == "cost" and spec.levers[0].cost != 0) or t == spec.levers[0].name


def _wants_small(spec: Any) -> bool:
    """With one lever: is the answer the smallest feasible value (or the largest)?"""
    lv = spec.levers[0]
    t = spec.objective.target
    sign = lv.cost if t == "cost" else 1.0
    return (spec.objective.direction == "minimize") == (sign > 0)


def _snap(lv, x: float) -> float:
    if lv.step:
        return float(min(lv.high, max(lv.low, lv.low + round((x - lv.low) / lv.step) * lv.step)))
    return float(x)
