"""Rules: a signal computed from the state at the end of yesterday (people in states or a site, or people moved
along transitions over a trailing window) switches a rule on at `above` and off at `below` (after `min_days`);
while on, it closes sites or states, or sets or multiplies parameters, in the order the rules are declared."""

from __future__ import annotations

from typing import Any

from numba import njit

from refuge.model.codes import ACT_CLOSE_SITE, ACT_CLOSE_STATE, ACT_MULTIPLY, ACT_SET, SIG_FLOW
from refuge.sim.declare import Array, Mechanism

DECL = Mechanism(
    "rules",
    spec=("rule_sig", "rule_sig_ptr", "rule_sig_idx", "rule_window", "rule_above", "rule_below", "rule_min_days",
          "rule_start", "rule_end", "act_ptr", "act_kind", "act_target", "act_value"),
    world=(Array("rule_on", "R", "b1"),
           Array("rule_since", "R", doc="day each rule switched on"),
           Array("flow_signal", "R", "f8", doc="a flow rule's signal: people moved over its window ending yesterday"),
           Array("rule_out", "T,R", "b1", doc="record: rules on each day")),
    results={"rules_active": "rule_out"},
)


@njit(cache=True)
def apply_rules(t, m, w):
    """Every rule in declaration order: switch on or off, and act while on."""
    update_flow_signals(t, m, w)
    for r in range(m.rule_sig.shape[0]):
        apply_rule(t, r, m, w)
        w.rule_out[t, r] = w.rule_on[r]


@njit(cache=True)
def update_flow_signals(t, m, w):
    """Each flow signal over its trailing window ending yesterday: yesterday's flows come in, the day that
    falls out of the window goes (sums of whole numbers, so the order of adding does not matter)."""
    for r in range(m.rule_sig.shape[0]):
        if m.rule_sig[r] != SIG_FLOW:
            continue
        old = t - 1 - m.rule_window[r]
        for k in range(m.rule_sig_ptr[r], m.rule_sig_ptr[r + 1]):
            e = m.rule_sig_idx[k]
            if t >= 1:
                w.flow_signal[r] += w.flows[t - 1, e]
            if old >= 0:
                w.flow_signal[r] -= w.flows[old, e]


@njit(cache=True)
def rule_signal(t, r, m, w):
    """Yesterday's value of rule `r`'s signal: a flow over its window, or a stock."""
    if m.rule_sig[r] == SIG_FLOW:
        return w.flow_signal[r]
    sig = 0.0
    for k in range(m.rule_sig_ptr[r], m.rule_sig_ptr[r + 1]):
        sig += w.stock[m.rule_sig_idx[k]]
    return sig


@njit(cache=True)
def apply_rule(t, r, m, w):
    """Switch rule `r` on or off (hysteresis, minimum days on) and, while on, take its actions."""
    if t < m.rule_start[r] or t > m.rule_end[r]:
        w.rule_on[r] = False
        return
    sig = rule_signal(t, r, m, w)
    on_level = w.pv[m.rule_above[r]]
    has_below = m.rule_below[r] >= 0
    off_level = w.pv[m.rule_below[r]] if has_below else on_level
    if not w.rule_on[r]:
        if sig >= on_level:
            w.rule_on[r] = True
            w.rule_since[r] = t
    elif t - w.rule_since[r] >= m.rule_min_days[r]:
        if (has_below and sig <= off_level) or (not has_below and sig < on_level):
            w.rule_on[r] = False
    if w.rule_on[r]:
        act(r, m, w)


@njit(cache=True)
def act(r, m, w):
    """The actions of rule `r`, which is on today."""
    for k in range(m.act_ptr[r], m.act_ptr[r + 1]):
        kind, target, value = m.act_kind[k], m.act_target[k], m.act_value[k]
        if kind == ACT_CLOSE_SITE:
            w.closed_site[target] = True
            if value == 1:  # a full stop
                w.stopped_site[target] = True
        elif kind == ACT_CLOSE_STATE:
            w.closed_state[target] = True
        elif kind == ACT_SET:
            w.pv[target] = w.pv[value]
        elif kind == ACT_MULTIPLY:
            w.pv[target] *= w.pv[value]


# --- the reference engine's step (refuge.sim.reference: the same, person by person) ----------------------------------


def reference_rules(ref: Any, t: int) -> None:
    """Every rule in declaration order, as `apply_rules`, its flow signal summed over the window afresh."""
    m, pv = ref.m, ref.pv
    for r in range(len(m.rule_names)):
        if not m.rule_start[r] <= t <= m.rule_end[r]:
            ref.rule_on[r] = False
            continue
        members = m.rule_sig_idx[m.rule_sig_ptr[r]:m.rule_sig_ptr[r + 1]]
        if m.rule_sig[r] == SIG_FLOW:  # people moved over the window ending yesterday
            signal = ref.flows[max(t - m.rule_window[r], 0):t][:, members].sum()
        else:  # people there at the end of yesterday
            signal = sum(ref.stock[s] for s in members)
        above = pv[m.rule_above[r]]
        has_below = m.rule_below[r] >= 0
        below = pv[m.rule_below[r]] if has_below else above
        if not ref.rule_on[r]:
            if signal >= above:
                ref.rule_on[r], ref.rule_since[r] = True, t
        elif t - ref.rule_since[r] >= m.rule_min_days[r]:
            if (has_below and signal <= below) or (not has_below and signal < above):
                ref.rule_on[r] = False
        if ref.rule_on[r]:
            act_reference(ref, r)
        ref.out["rules_active"][t, r] = ref.rule_on[r]


def act_reference(ref: Any, r: int) -> None:
    """The actions of rule `r`, which is on today."""
    m, pv = ref.m, ref.pv
    for k in range(m.act_ptr[r], m.act_ptr[r + 1]):
        kind, target, value = m.act_kind[k], m.act_target[k], m.act_value[k]
        if kind == ACT_CLOSE_SITE:
            ref.closed_site[target] = True
            ref.stopped_site[target] |= value == 1  # a full stop
        elif kind == ACT_CLOSE_STATE:
            ref.closed_state[target] = True
        elif kind == ACT_SET:
            pv[target] = pv[value]
        elif kind == ACT_MULTIPLY:
            pv[target] *= pv[value]
