"""Compile a scenario's rules: each signal (stocks or a flow over a window), its levels and period, and its
actions (close a site or state, set or multiply a parameter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from refuge.errors import suggest
from refuge.model.codes import ACT_CLOSE_SITE, ACT_CLOSE_STATE, ACT_MULTIPLY, ACT_SET, NONE, SIG_FLOW, SIG_STOCK
from refuge.model.network import at_location
from refuge.scenario import STATE_KINDS


@dataclass(frozen=True)
class Action:
    """A rule's set/multiply action, for the range check (refuge.model.ranges)."""

    path: str
    rule: str
    kind: str  # set | multiply
    target: int
    value: int


def signal_members(c: Any, sig: Any, path: str, edges: list[tuple]) -> tuple[int, list[int]]:
    """A rule's signal: its kind (stock or flow) and the states or edges it sums."""
    if sig.occupancy is not None:
        n = c.name("site", sig.occupancy, c.sites, f"{path}.occupancy")
        return SIG_STOCK, [i for i, st in enumerate(c.sc.states) if n >= 0 and st.site == sig.occupancy]
    if sig.stock is not None:
        named = [c.name("state", s, c.states, f"{path}.stock[{k}]") for k, s in enumerate(sig.stock)]
        # a location counts its states of processing (`at:`) too, each state once
        return SIG_STOCK, list(dict.fromkeys(named + [i for s in sig.stock for i in at_location(c.sc, s)]))
    if sig.kind is not None:
        if sig.kind not in STATE_KINDS:
            c.err(f"{path}.kind", "a state kind", f"`{sig.kind}`{suggest(sig.kind, STATE_KINDS)}")
        return SIG_STOCK, [i for i, st in enumerate(c.sc.states) if st.kind == sig.kind]
    return SIG_FLOW, c.edge_refs(sig.flow or [], f"{path}.flow", edges)


def compile_rules(c: Any, edges: list[tuple]) -> dict[str, np.ndarray]:
    """The rules' arrays: signal kind and members, window, levels, minimum days, period, and their actions."""
    sig, sptr, sidx, window, above, below, mind, r0, r1 = [], [0], [], [], [], [], [], [], []
    aptr, akind, atarget, avalue = [0], [], [], []
    for r, rule in enumerate(c.sc.rules):
        path = f"rules[{r}]"
        kind, members = signal_members(c, rule.signal, f"{path}.signal", edges)
        sig.append(kind)
        sidx += [m for m in members if m >= 0]
        sptr.append(len(sidx))
        window.append(rule.signal.window)
        above.append(c.param(rule.above, f"{path}.above", "level"))
        below.append(NONE if rule.below is None else c.param(rule.below, f"{path}.below", "level"))
        if rule.below is not None and c.value(below[-1]) > c.value(above[-1]):
            c.err(f"{path}.below", f"a level at or under `above` ({c.value(above[-1]):g})",
                     c.value(below[-1]))
        mind.append(rule.min_days)
        d0, d1 = c.period_days(rule.period, f"{path}.period")
        r0.append(d0)
        r1.append(d1)
        for k, act in enumerate(rule.actions):
            apath = f"{path}.actions[{k}]"
            if act.close is not None:
                if act.close in c.sites:
                    akind.append(ACT_CLOSE_SITE)
                    atarget.append(c.sites.index(act.close))
                else:
                    akind.append(ACT_CLOSE_STATE)
                    atarget.append(c.name("site or state", act.close, c.states + c.sites,
                                             f"{apath}.close"))
                    if act.full_stop and act.close in c.states:
                        c.err(f"{apath}.full_stop", "full_stop only with `close: SITE` (a closed state "
                                 "admits nobody anyway)", f"state `{act.close}`")
                avalue.append(1 if act.full_stop else 0)  # a closed site: 1 = a full stop
            elif act.full_stop:
                c.err(f"{apath}.full_stop", "full_stop only with `close: SITE`", "no `close`")
            else:
                a = act.set if act.set is not None else act.multiply
                akind.append(ACT_SET if act.set is not None else ACT_MULTIPLY)
                target = c.name("parameter", a.parameter, list(c.sc.parameters), f"{apath}.parameter")
                atarget.append(target)
                v = a.value if act.set is not None else a.by
                avalue.append(c.param(v, f"{apath}.{'value' if act.set is not None else 'by'}",
                                         "any" if act.set is not None else "factor"))
                if target >= 0:
                    c.actions.append(Action(apath, rule.name, "set" if act.set is not None else "multiply",
                                                target, avalue[-1]))
        aptr.append(len(akind))
    def i64(x):
        return np.array(x, np.int64)
    return dict(rule_sig=i64(sig), rule_sig_ptr=i64(sptr), rule_sig_idx=i64(sidx), rule_window=i64(window),
                rule_above=i64(above), rule_below=i64(below), rule_min_days=i64(mind), rule_start=i64(r0),
                rule_end=i64(r1), act_ptr=i64(aptr), act_kind=i64(akind), act_target=i64(atarget),
                act_value=i64(avalue))
