"""The compiled model's transition and arrival tables as named 1-D arrays, so that no step of either engine
reads a column number: the one place in the core that does is here.

The compiler builds each table as one integer array (`Model.trans`, `Model.arr`, columns numbered in
`refuge.model.codes`), which suits its checks; the fast engine's steps read a column by name instead,
`m.tr_rate[j]` or `m.arr_target[a]` (contiguous copies, declared here as spec arrays made from the model), and
the reference engine reads rows with named fields (`ref.tr[j].rate`, `ref.ar[a].target`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from refuge.model import codes
from refuge.sim.declare import Mechanism

# A transition's columns: its source state; whether it leaves after a time in state (else at a constant rate);
# the rate's parameter slot; the time in state (distribution code, its two parameter slots, its empirical
# table); the group size (the same four); the redirect state and its edge; its edges [edge_lo, edge_hi); the
# capacity's parameter slot (-1: none) and its period in days.
TRANSITION = {"src": codes.T_SRC, "is_dur": codes.T_IS_DUR, "rate": codes.T_RATE, "dur": codes.T_DUR,
              "dur_a": codes.T_DUR_A, "dur_b": codes.T_DUR_B, "dur_emp": codes.T_DUR_EMP, "grp": codes.T_GRP,
              "grp_a": codes.T_GRP_A, "grp_b": codes.T_GRP_B, "grp_emp": codes.T_GRP_EMP, "redir": codes.T_REDIR,
              "redir_edge": codes.T_REDIR_EDGE, "edge_lo": codes.T_EDGE_LO, "edge_hi": codes.T_EDGE_HI,
              "cap": codes.T_CAP, "cap_days": codes.T_CAP_DAYS}
# An arrival stream's (or event's) columns: its target state; the rate's parameter slot; the group size (code,
# two slots, empirical table); its first and last day; the redirect state; whether it is an event (exactly one
# group on its day); the counted state an event's group is taken from (-1: from outside the system).
ARRIVAL = {"target": codes.A_TARGET, "rate": codes.A_RATE, "grp": codes.A_GRP, "grp_a": codes.A_GRP_A,
           "grp_b": codes.A_GRP_B, "grp_emp": codes.A_GRP_EMP, "start": codes.A_START, "end": codes.A_END,
           "redir": codes.A_REDIR, "exact": codes.A_EXACT, "from_state": codes.A_FROM}


def _column(table: str, k: int) -> Any:
    def get(m: Any) -> np.ndarray:
        return np.ascontiguousarray(getattr(m, table)[:, k], dtype=np.int64)

    return get


_NAMED = {**{f"tr_{name}": _column("trans", k) for name, k in TRANSITION.items()},
          **{f"arr_{name}": _column("arr", k) for name, k in ARRIVAL.items()}}
DECL = Mechanism("tables by name", spec=tuple(_NAMED), derive=_NAMED)

TransitionRow = NamedTuple("TransitionRow", [(name, int) for name in TRANSITION])  # type: ignore[misc]
ArrivalRow = NamedTuple("ArrivalRow", [(name, int) for name in ARRIVAL])  # type: ignore[misc]


def transition_rows(m: Any) -> list[Any]:
    """Each transition of the model as a row with named fields (the reference engine's)."""
    return [TransitionRow(*row) for row in m.trans[:, list(TRANSITION.values())].tolist()]


def arrival_rows(m: Any) -> list[Any]:
    """Each arrival stream and event of the model as a row with named fields (the reference engine's)."""
    return [ArrivalRow(*row) for row in m.arr[:, list(ARRIVAL.values())].tolist()]
