"""Outcomes of one run over its whole period: what `compare`, ensembles and calibration summarise.

"Missions" are the states of kind `refuge`.
"""

from __future__ import annotations

import math

import numpy as np

# What a comparison reports for each run. "Missions" are the states of kind `refuge`.
OUTCOMES = {
    "entries": "entries into missions",
    "waiting_mean": "waiting in missions, mean per day",
    "waiting_peak": "waiting in missions, peak",
    "longest_wait": "longest wait in a mission, days",
    "arrivals": "arrivals at a destination",
    "arrests": "arrests (into custody)",
    "returns": "forced returns",
}


def outcomes(run) -> dict[str, float]:
    """The outcomes of one run over its whole period (see OUTCOMES)."""
    from refuge.model.compiler import A_TARGET, T_SRC

    m = run.model
    kinds = np.array(m.state_kinds)
    missions = np.flatnonzero(kinds == "refuge")
    waiting = run.stocks[:, missions].sum(axis=1)
    tracked = [s for s in missions if m.tracked[s]]
    longest = float(run.max_stay[:, tracked].max()) if tracked and run.days else math.nan
    src_kind = kinds[m.trans[m.edge_trans, T_SRC]] if len(m.edge_names) else np.array([], str)
    dst_kind = kinds[m.edge_target] if len(m.edge_names) else np.array([], str)
    total = run.flows.sum(axis=0)
    streamed = run.arrived.sum(axis=0)

    def into(kind: str) -> float:
        """People entering states of `kind` from outside them (a move between two cells is not an arrest),
        by a transition or directly by an arrival stream (as `refuge check` counts them)."""
        moved = total[(dst_kind == kind) & (src_kind != kind)].sum()
        direct = sum(streamed[a] for a, row in enumerate(m.arr) if kinds[row[A_TARGET]] == kind)
        return float(moved + direct)

    return {
        "entries": into("refuge"),
        "waiting_mean": float(waiting.mean()) if run.days else math.nan,
        "waiting_peak": float(waiting.max()) if run.days else math.nan,
        "longest_wait": longest,
        "arrivals": into("destination"),
        "arrests": into("custody"),
        "returns": into("returned"),
    }
