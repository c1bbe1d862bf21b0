"""Groups kept whole at a capacity (`whole: true` on a transition): where a group can be bigger than the
capacity itself, it can never pass, and everyone behind it waits for good (issue 20 finding 1). Found from the
compiled model before anything runs: every group that can reach such a transition (arrivals and events in
groups, groups leaving a counted state, carried whole through states whose people are tracked as units) and the
chance that one is bigger than the smallest capacity the transition has in the period."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from refuge.model.codes import (
    A_GRP,
    A_GRP_A,
    A_GRP_B,
    A_GRP_EMP,
    A_REDIR,
    A_TARGET,
    EMPIRICAL,
    EXPONENTIAL,
    FIXED,
    GAMMA,
    LOGNORMAL,
    T_CAP,
    T_CAP_DAYS,
    T_EDGE_HI,
    T_EDGE_LO,
    T_GRP,
    T_GRP_A,
    T_GRP_B,
    T_GRP_EMP,
    T_REDIR,
    T_SRC,
)


def chance_above(m: Any, code: int, a: float, b: float, emp: int, c: float) -> tuple[float, float]:
    """The chance that a group drawn from the distribution is bigger than `c`, and its biggest value (inf when
    unbounded)."""
    if code == FIXED:
        size = max(round(a), 1)
        return float(size > c), float(size)
    if code == EMPIRICAL:
        lo, hi = m.emp_ptr[emp], m.emp_ptr[emp + 1]
        values, cdf = m.emp_values[lo:hi], m.emp_cdf[lo:hi]
        weights = np.diff(cdf, prepend=0.0)
        return float(weights[values > c].sum()), float(values.max())
    if a <= 0:
        return 0.0, 1.0
    if code == EXPONENTIAL:
        return math.exp(-c / a), math.inf
    if code == LOGNORMAL:
        return (0.5 * math.erfc(math.log(c / a) / (b * math.sqrt(2))) if b > 0 else float(a > c)), math.inf
    if code == GAMMA and b > 0:
        from scipy.stats import gamma  # only for a scenario with a whole transition and gamma groups

        return float(gamma.sf(c, (a / b) ** 2, scale=b * b / a)), math.inf
    return float(a > c), float(a)


def _sources(m: Any) -> list[tuple[str, int, int, int, int, list[int]]]:
    """Every way groups enter the system or form: (what, distribution code, slot a, slot b, emp, states they
    enter first)."""
    out = []
    for i, row in enumerate(m.arr.tolist()):
        if row[A_GRP] < 0:
            continue
        n_streams = len(m.scenario.arrivals)
        kind, name = ("arrival", m.scenario.arrivals[i].name) if i < n_streams else \
            ("event", m.scenario.events[i - n_streams].name)
        first = [s for s in (row[A_TARGET], row[A_REDIR]) if s >= 0]
        out.append((f"{kind} `{name}`", row[A_GRP], row[A_GRP_A], row[A_GRP_B], row[A_GRP_EMP], first))
    for j, row in enumerate(m.trans.tolist()):
        if row[T_GRP] >= 0:
            first = [int(m.edge_target[e]) for e in range(row[T_EDGE_LO], row[T_EDGE_HI])]
            first += [row[T_REDIR]] if row[T_REDIR] >= 0 else []
            out.append((f"groups leaving by `{m.transition_names[j]}`", row[T_GRP], row[T_GRP_A], row[T_GRP_B],
                        row[T_GRP_EMP], first))
    return out


def _reach(m: Any, first: list[int]) -> set[int]:
    """The states a group entering `first` can be in as a group: it stays one through tracked states (not
    queues, whose people are served one by one) and ends in a counted state."""
    seen, todo = set(), list(first)
    while todo:
        s = todo.pop()
        if s in seen:
            continue
        seen.add(s)
        if not m.tracked[s] or m.queued[s]:
            continue
        for q in range(m.out_ptr[s], m.out_ptr[s + 1]):
            row = m.trans[m.out_trans[q]]
            todo += [int(m.edge_target[e]) for e in range(row[T_EDGE_LO], row[T_EDGE_HI])]
            todo += [int(row[T_REDIR])] if row[T_REDIR] >= 0 else []
    return seen


def whole_group_notes(m: Any) -> list[str]:
    """One line per transition that keeps groups whole and that a group bigger than its capacity can reach."""
    whole = [j for j, t in enumerate(m.scenario.transitions) if t.whole and m.trans[j, T_CAP] >= 0]
    if not whole:
        return []
    sources = [(what, code, a, b, emp, _reach(m, first)) for what, code, a, b, emp, first in _sources(m)]
    notes = []
    for j in whole:
        row, name = m.trans[j], m.transition_names[j]
        cap = float(np.floor(m.pbase[:, row[T_CAP]].min() + 1e-9))
        per = "a day" if row[T_CAP_DAYS] == 1 else f"every {row[T_CAP_DAYS]} days"
        for what, code, a, b, emp, states in sources:
            own = what == f"groups leaving by `{name}`"
            if not own and row[T_SRC] not in states:
                continue
            p, biggest = chance_above(m, code, float(m.pbase[0, a]), float(m.pbase[0, b]), emp, cap)
            if p <= 1e-6:
                continue
            if code == FIXED:
                bigger = f"brings a group of {biggest:,.0f}"
            else:
                upto = "" if math.isinf(biggest) else f", up to {biggest:,.0f}"
                bigger = f"can bring bigger groups ({p:.1%} of them above {cap:,.0f}{upto})"
            notes.append(f"{m.origin}: transition `{name}` keeps groups whole (`whole: true`) at a capacity of "
                         f"{cap:,.0f} {per}, but {what} {bigger}: such a group never passes, and everyone behind it "
                         "waits; drop `whole` to split groups at the capacity, or raise the capacity")
    return notes
