"""The compiler's check that no circle of zero-duration transitions exists (people could loop forever in a
day): `instant_loops(compiler, ...)`, called by `refuge.model.compiler` with itself."""

from __future__ import annotations

from typing import Any

from refuge.model.codes import T_DUR, T_DUR_A, T_DUR_B, T_DUR_EMP, T_EDGE_HI, T_EDGE_LO, T_IS_DUR, T_SRC


def instant_loops(c: Any, trans: list[list[int]], edges: list[tuple]) -> None:
    """People may pass several zero-duration transitions in a day, but never in a circle."""
    graph: dict[int, set[int]] = {}
    via: dict[tuple[int, int], int] = {}
    for j, row in enumerate(trans):
        if row[T_IS_DUR] and c.may_be_zero(row[T_DUR], row[T_DUR_A], row[T_DUR_EMP], row[T_DUR_B]):
            for e in range(row[T_EDGE_LO], row[T_EDGE_HI]):
                graph.setdefault(row[T_SRC], set()).add(edges[e][2])
                via[(row[T_SRC], edges[e][2])] = j
    state, stack = {}, []

    def visit(u: int) -> list[int] | None:
        state[u] = 1
        stack.append(u)
        for v in graph.get(u, ()):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                cyc = visit(v)
                if cyc:
                    return cyc
        stack.pop()
        state[u] = 2
        return None

    for u in list(graph):
        if u not in state:
            cyc = visit(u)
            if cyc:
                loop = " -> ".join(c.states[s] for s in cyc)
                j = via[(cyc[-2], cyc[-1])]
                c.err(f"transitions[{j}].duration", "no loop of zero-duration transitions (a positive "
                         "duration somewhere on it)", loop)
                return
