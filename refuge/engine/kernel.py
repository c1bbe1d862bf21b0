"""The fast engine: daily steps, counts where exits are memoryless, units where time in state matters.

Semantics of one day `t` (shared with `refuge.engine.reference`, which does the same
person by person):

1. Parameters take their scheduled values for day `t`. Rules then look at the
   state at the end of day `t-1` (stocks, and flows over the trailing window
   ending on day `t-1`), switch on at `above` and off at `below` (after
   `min_days`), and while on they close sites/states or set/multiply parameters,
   in the order the rules are declared.
2. Arrivals: groups still waiting to arrive from earlier days try again first (oldest
   first); then each stream draws Poisson(rate) people (or groups of a drawn size) and
   admits them; people who cannot get in wait and try again first the next day.
3. Counted states, in declaration order: of the `n` people there at the start
   of the day, Binomial(n, 1 - exp(-sum of rates)) leave, split among the exits in
   proportion to their rates (exits in declaration order). For a transition with a
   group size, that count is the number of groups, each taking `min(size, available)`
   people, where `available` is the people there at the start of the day who have not
   moved yet today; a transition without groups moves at most `available` people.
4. Tracked units (a person, or a group that moves together), in order of entry:
   a unit whose drawn time in state has come tries that transition; otherwise
   (or if that move was blocked) each constant-rate exit competes as above.
   Units that entered today do not move again unless their time is zero.
5. A move picks its target by the split, and is admitted if the target (and
   its site) is open and has room for the whole group; otherwise it is
   redirected if the transition says so, or waits in place.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from refuge.scenario.limits import MAX_UNITS

from refuge.model.compiler import (A_END, A_GRP, A_GRP_A, A_GRP_B, A_GRP_EMP, A_RATE, A_REDIR, A_START, A_TARGET,
                          ACT_CLOSE_SITE, ACT_CLOSE_STATE, ACT_MULTIPLY, ACT_SET, EMPIRICAL, EXPONENTIAL, FIXED,
                          GAMMA, LOGNORMAL, SIG_FLOW, T_DUR, T_DUR_A, T_DUR_B, T_DUR_EMP, T_EDGE_HI, T_EDGE_LO,
                          T_GRP, T_GRP_A, T_GRP_B, T_GRP_EMP, T_IS_DUR, T_RATE, T_REDIR, T_REDIR_EDGE, Model)

BIG = np.int64(1) << 60
# Unit table columns.
U_STATE, U_SIZE, U_ENTRY, U_DUE, U_DUETR, U_ALIVE = range(6)


@njit(cache=True)
def draw(g, code, a, b, emp, emp_ptr, emp_values, emp_cdf):
    """Whole days (or people) from a distribution; continuous ones are rounded up."""
    if code == FIXED:
        return max(np.int64(round(a)), 0)
    if code == EXPONENTIAL:
        return np.int64(math.ceil(g.exponential(a)))
    if code == GAMMA:
        shape = (a / b) ** 2
        return np.int64(math.ceil(g.gamma(shape, b * b / a)))
    if code == LOGNORMAL:
        return np.int64(math.ceil(a * math.exp(b * g.standard_normal())))
    if code == EMPIRICAL:
        u = g.random()
        lo, hi = emp_ptr[emp], emp_ptr[emp + 1]
        for k in range(lo, hi):
            if u < emp_cdf[k]:
                return emp_values[k]
        return emp_values[hi - 1]
    return np.int64(0)


@njit(cache=True)
def split_probs(lo, hi, edge_p, pv, out):
    """Probabilities of a split's targets; `rest` takes what the others leave."""
    total = 0.0
    rest = -1
    for e in range(lo, hi):
        if edge_p[e] < 0:
            rest = e
            out[e - lo] = 0.0
        else:
            q = min(max(pv[edge_p[e]], 0.0), 1.0)
            out[e - lo] = q
            total += q
    if rest >= 0:
        out[rest - lo] = max(1.0 - total, 0.0)
        total = max(total, 1.0)
    if total <= 0.0:
        out[0] = 1.0
        total = 1.0
    for k in range(hi - lo):
        out[k] /= total


@njit(cache=True)
def multinomial(g, n, weights, total, out):
    """Split `n` among categories in proportion to `weights` (summing to `total`) by successive binomials."""
    k_last = weights.shape[0] - 1
    for k in range(k_last + 1):
        out[k] = 0
    rem_w = total
    for k in range(k_last + 1):
        if n <= 0:
            break
        w = weights[k]
        m = n if k == k_last or rem_w <= w else g.binomial(n, min(w / rem_w, 1.0))
        out[k] = m
        n -= m
        rem_w -= w


@njit(cache=True)
def pick(g, probs, n):
    u = g.random()
    acc = 0.0
    for k in range(n):
        acc += probs[k]
        if u < acc:
            return k
    return n - 1


@njit(cache=True)
def room(target, state_site, occ, cap, closed_site, closed_state):
    if closed_state[target]:
        return np.int64(0)
    n = state_site[target]
    if n < 0:
        return BIG
    if closed_site[n]:
        return np.int64(0)
    return max(cap[n] - occ[n], 0)


@njit(cache=True)
def kernel(days, S, state_site, tracked, initial_param, out_ptr, out_trans, capacity_param, closed_site_sched,
           closed_state_sched, trans, edge_target, edge_p, emp_ptr, emp_values, emp_cdf, arr, pbase,
           rule_sig, rule_sig_ptr, rule_sig_idx, rule_window, rule_above, rule_below, rule_min_days, rule_start,
           rule_end, act_ptr, act_kind, act_target, act_value, g_arr, g_dep, g_dur, g_split, g_grp):
    N = closed_site_sched.shape[1]
    J = trans.shape[0]
    E = edge_target.shape[0]
    A = arr.shape[0]
    R = rule_sig.shape[0]
    P = pbase.shape[1]

    stocks = np.zeros((days, S), np.int64)
    flows = np.zeros((days, E), np.int64)
    arrived = np.zeros((days, A), np.int64)
    closed_site_out = np.zeros((days, N), np.bool_)
    closed_state_out = np.zeros((days, S), np.bool_)
    rule_out = np.zeros((days, R), np.bool_)
    max_stay = np.zeros((days, S), np.int64)
    params = np.zeros((days, P), np.float64)

    stock = np.zeros(S, np.int64)
    occ = np.zeros(N, np.int64)
    cap = np.zeros(N, np.int64)
    closed_site = np.zeros(N, np.bool_)
    closed_state = np.zeros(S, np.bool_)
    rule_on = np.zeros(R, np.bool_)
    rule_since = np.zeros(R, np.int64)
    backlog = np.zeros(A, np.int64)
    n0 = np.zeros(S, np.int64)
    probs = np.zeros(max(E, 1), np.float64)
    rates = np.zeros(max(J, 1), np.float64)
    tcounts = np.zeros(max(J, 1), np.int64)
    ecounts = np.zeros(max(E, 1), np.int64)
    pv = pbase[0].copy()

    pend = np.zeros((16, 2), np.int64)  # groups waiting to arrive: arrival, size
    npend = 0
    units = np.zeros((1024, 6), np.int64)
    nu = 0
    stays = np.zeros((1024, 4), np.int64)  # state, entry, exit, size
    ns = 0

    # --- initial stocks ---
    for s in range(S):
        k = np.int64(round(pv[initial_param[s]]))
        if k <= 0:
            continue
        stock[s] += k
        if state_site[s] >= 0:
            occ[state_site[s]] += k
        if tracked[s]:
            for _ in range(k):
                if nu == units.shape[0]:
                    units = _grow(units)
                _init_unit(units, nu, s, 1, -1, out_ptr, out_trans, trans, pv, g_dur, emp_ptr, emp_values,
                           emp_cdf)
                nu += 1

    for t in range(days):
        # --- 1. parameters, rules, closures ---
        for p in range(P):
            pv[p] = pbase[t, p]
        for n in range(N):
            closed_site[n] = closed_site_sched[t, n]
        for s in range(S):
            closed_state[s] = closed_state_sched[t, s]
        for r in range(R):
            if t < rule_start[r] or t > rule_end[r]:
                rule_on[r] = False
                continue
            sig = 0.0
            if rule_sig[r] == SIG_FLOW:
                for k in range(rule_sig_ptr[r], rule_sig_ptr[r + 1]):
                    e = rule_sig_idx[k]
                    for d in range(max(t - rule_window[r], 0), t):
                        sig += flows[d, e]
            else:
                for k in range(rule_sig_ptr[r], rule_sig_ptr[r + 1]):
                    sig += stock[rule_sig_idx[k]]
            on_level = pv[rule_above[r]]
            off_level = pv[rule_below[r]] if rule_below[r] >= 0 else on_level
            if not rule_on[r]:
                if sig >= on_level:
                    rule_on[r] = True
                    rule_since[r] = t
            elif t - rule_since[r] >= rule_min_days[r]:
                if (rule_below[r] >= 0 and sig <= off_level) or (rule_below[r] < 0 and sig < on_level):
                    rule_on[r] = False
            if rule_on[r]:
                for k in range(act_ptr[r], act_ptr[r + 1]):
                    kind = act_kind[k]
                    if kind == ACT_CLOSE_SITE:
                        closed_site[act_target[k]] = True
                    elif kind == ACT_CLOSE_STATE:
                        closed_state[act_target[k]] = True
                    elif kind == ACT_SET:
                        pv[act_target[k]] = pv[act_value[k]]
                    elif kind == ACT_MULTIPLY:
                        pv[act_target[k]] *= pv[act_value[k]]
            rule_out[t, r] = rule_on[r]
        for n in range(N):
            cap[n] = BIG if capacity_param[n] < 0 else np.int64(math.floor(pv[capacity_param[n]] + 1e-9))
        for s in range(S):
            n0[s] = stock[s]

        # --- 2. arrivals: groups that could not get in earlier try again first, oldest first ---
        w = 0
        for q in range(npend):
            a, size = pend[q, 0], pend[q, 1]
            dest = _group_dest(arr[a, A_TARGET], arr[a, A_REDIR], size, state_site, occ, cap, closed_site,
                               closed_state)
            if dest >= 0:
                if tracked[dest] and nu == units.shape[0]:
                    units = _grow(units)
                nu = _place(dest, size, t, stock, occ, state_site, tracked, units, nu, out_ptr, out_trans, trans,
                            pv, g_dur, emp_ptr, emp_values, emp_cdf)
                arrived[t, a] += size
            else:
                pend[w] = pend[q]
                w += 1
        npend = w
        for a in range(A):
            if t < arr[a, A_START] or t > arr[a, A_END]:
                k = backlog[a]
            else:
                k = g_arr.poisson(max(pv[arr[a, A_RATE]], 0.0)) + backlog[a]
            backlog[a] = 0
            if k == 0:
                continue
            target = arr[a, A_TARGET]
            redir = arr[a, A_REDIR]
            if arr[a, A_GRP] < 0:
                got, nu, units = _admit_bulk(target, k, t, stock, occ, cap, closed_site, closed_state, state_site,
                                             tracked, units, nu, out_ptr, out_trans, trans, pv, g_dur, emp_ptr,
                                             emp_values, emp_cdf)
                if got < k and redir >= 0:
                    got2, nu, units = _admit_bulk(redir, k - got, t, stock, occ, cap, closed_site, closed_state,
                                                  state_site, tracked, units, nu, out_ptr, out_trans, trans, pv,
                                                  g_dur, emp_ptr, emp_values, emp_cdf)
                    got += got2
                arrived[t, a] += got
                backlog[a] += k - got
            else:
                for _ in range(k):
                    size = max(draw(g_grp, arr[a, A_GRP], pv[arr[a, A_GRP_A]], pv[arr[a, A_GRP_B]],
                                    arr[a, A_GRP_EMP], emp_ptr, emp_values, emp_cdf), 1)
                    dest = _group_dest(target, redir, size, state_site, occ, cap, closed_site, closed_state)
                    if dest >= 0:
                        if tracked[dest] and nu == units.shape[0]:
                            units = _grow(units)
                        nu = _place(dest, size, t, stock, occ, state_site, tracked, units, nu, out_ptr,
                                    out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf)
                        arrived[t, a] += size
                    else:
                        if npend == pend.shape[0]:
                            pend = _grow(pend)
                        pend[npend, 0] = a
                        pend[npend, 1] = size
                        npend += 1

        # --- 3. counted states ---
        for s in range(S):
            if tracked[s] or n0[s] == 0:
                continue
            lo, hi = out_ptr[s], out_ptr[s + 1]
            h = 0.0
            for q in range(lo, hi):
                h += max(pv[trans[out_trans[q], T_RATE]], 0.0)
            if h <= 0.0:
                continue
            leaving = g_dep.binomial(n0[s], 1.0 - math.exp(-h))
            avail = n0[s]
            for q in range(lo, hi):
                rates[q - lo] = max(pv[trans[out_trans[q], T_RATE]], 0.0)
            multinomial(g_dep, leaving, rates[: hi - lo], h, tcounts)
            for q in range(lo, hi):
                k = tcounts[q - lo]
                if k == 0:
                    continue
                j = out_trans[q]
                elo, ehi = trans[j, T_EDGE_LO], trans[j, T_EDGE_HI]
                split_probs(elo, ehi, edge_p, pv, probs)
                redir, redir_edge = trans[j, T_REDIR], trans[j, T_REDIR_EDGE]
                if trans[j, T_GRP] >= 0:
                    for _ in range(k):
                        if avail <= 0:
                            break
                        size = max(draw(g_grp, trans[j, T_GRP], pv[trans[j, T_GRP_A]], pv[trans[j, T_GRP_B]],
                                        trans[j, T_GRP_EMP], emp_ptr, emp_values, emp_cdf), 1)
                        size = min(size, avail)
                        e = elo + pick(g_split, probs, ehi - elo)
                        dest = edge_target[e]
                        _take(s, size, stock, occ, state_site)
                        ok = room(dest, state_site, occ, cap, closed_site, closed_state) >= size
                        if not ok and redir >= 0:
                            dest, e = redir, redir_edge
                            ok = room(dest, state_site, occ, cap, closed_site, closed_state) >= size
                        if not ok:
                            _take(s, -size, stock, occ, state_site)
                        else:
                            if tracked[dest] and nu == units.shape[0]:
                                units = _grow(units)
                            nu = _place(dest, size, t, stock, occ, state_site, tracked, units, nu, out_ptr,
                                        out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf)
                            flows[t, e] += size
                            avail -= size
                else:
                    # people pulled into groups earlier today are no longer here
                    multinomial(g_split, min(k, avail), probs[: ehi - elo], 1.0, ecounts)
                    for e in range(elo, ehi):
                        m = ecounts[e - elo]
                        if m == 0:
                            continue
                        dest = edge_target[e]
                        _take(s, m, stock, occ, state_site)  # they leave first, freeing room in a shared site
                        got, nu, units = _admit_bulk(dest, m, t, stock, occ, cap, closed_site, closed_state,
                                                     state_site, tracked, units, nu, out_ptr, out_trans, trans, pv,
                                                     g_dur, emp_ptr, emp_values, emp_cdf)
                        flows[t, e] += got
                        if got < m and redir >= 0:
                            got2, nu, units = _admit_bulk(redir, m - got, t, stock, occ, cap, closed_site,
                                                          closed_state, state_site, tracked, units, nu, out_ptr,
                                                          out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf)
                            flows[t, redir_edge] += got2
                            got += got2
                        _take(s, got - m, stock, occ, state_site)  # the blocked wait where they were
                        avail -= got

        # --- 4. tracked units, oldest entry first ---
        i = 0
        while i < nu:
            if units[i, U_ALIVE] == 0:
                i += 1
                continue
            s = units[i, U_STATE]
            size = units[i, U_SIZE]
            entered_today = units[i, U_ENTRY] == t
            moved = False
            if units[i, U_DUE] <= t and units[i, U_DUETR] >= 0:
                j = units[i, U_DUETR]
                moved, nu, units = _fire(i, j, t, units, nu, stock, occ, cap, closed_site, closed_state,
                                         state_site, tracked, out_ptr, out_trans, trans, edge_target, edge_p, pv,
                                         probs, flows, g_split, g_dur, emp_ptr, emp_values, emp_cdf)
            if not moved and not entered_today:
                lo, hi = out_ptr[s], out_ptr[s + 1]
                h = 0.0
                for q in range(lo, hi):
                    j = out_trans[q]
                    if trans[j, T_IS_DUR] == 0:
                        h += max(pv[trans[j, T_RATE]], 0.0)
                if h > 0.0 and g_dep.random() < 1.0 - math.exp(-h):
                    u = g_dep.random() * h
                    acc = 0.0
                    jj = -1
                    for q in range(lo, hi):
                        j = out_trans[q]
                        if trans[j, T_IS_DUR] == 0:
                            acc += max(pv[trans[j, T_RATE]], 0.0)
                            jj = j
                            if u < acc:
                                break
                    moved, nu, units = _fire(i, jj, t, units, nu, stock, occ, cap, closed_site, closed_state,
                                             state_site, tracked, out_ptr, out_trans, trans, edge_target, edge_p,
                                             pv, probs, flows, g_split, g_dur, emp_ptr, emp_values, emp_cdf)
            if moved:
                if ns == stays.shape[0]:
                    stays = _grow(stays)
                stays[ns, 0] = s
                stays[ns, 1] = units[i, U_ENTRY]
                stays[ns, 2] = t
                stays[ns, 3] = size
                ns += 1
            i += 1

        # --- end of day: compact units (keeping entry order), record ---
        w = 0
        for i in range(nu):
            if units[i, U_ALIVE]:
                if w != i:
                    units[w] = units[i]
                w += 1
                s = units[w - 1, U_STATE]
                d = t - units[w - 1, U_ENTRY]
                if d > max_stay[t, s]:
                    max_stay[t, s] = d
        nu = w
        stocks[t] = stock
        for n in range(N):
            closed_site_out[t, n] = closed_site[n]
        for s in range(S):
            closed_state_out[t, s] = closed_state[s]
        params[t] = pv

    for q in range(npend):
        backlog[pend[q, 0]] += pend[q, 1]
    ongoing = units[:nu, :3].copy()
    ongoing_size = units[:nu, U_SIZE].copy()
    return (stocks, flows, arrived, closed_site_out, closed_state_out, rule_out, max_stay, params,
            stays[:ns].copy(), ongoing, ongoing_size, backlog)


@njit(cache=True)
def _group_dest(target, redir, size, state_site, occ, cap, closed_site, closed_state):
    """Where a whole group can go: the target, else the redirect, else nowhere (-1)."""
    if room(target, state_site, occ, cap, closed_site, closed_state) >= size:
        return target
    if redir >= 0 and room(redir, state_site, occ, cap, closed_site, closed_state) >= size:
        return redir
    return -1


@njit(cache=True)
def _grow(table):
    if table.shape[0] >= MAX_UNITS:  # refuge.api.simulate turns this into a message with the limit
        raise OverflowError("refuge: too many tracked groups or stays")
    bigger = np.zeros((table.shape[0] * 2, table.shape[1]), table.dtype)
    bigger[: table.shape[0]] = table
    return bigger


@njit(cache=True)
def _init_unit(units, i, s, size, entry, out_ptr, out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf):
    units[i, U_STATE] = s
    units[i, U_SIZE] = size
    units[i, U_ENTRY] = entry
    units[i, U_ALIVE] = 1
    due = BIG
    duetr = -1
    for q in range(out_ptr[s], out_ptr[s + 1]):
        j = out_trans[q]
        if trans[j, T_IS_DUR]:
            d = entry + draw(g_dur, trans[j, T_DUR], pv[trans[j, T_DUR_A]], pv[trans[j, T_DUR_B]],
                             trans[j, T_DUR_EMP], emp_ptr, emp_values, emp_cdf)
            if d < due:
                due = d
                duetr = j
    units[i, U_DUE] = due
    units[i, U_DUETR] = duetr


@njit(cache=True)
def _take(s, k, stock, occ, state_site):
    stock[s] -= k
    if state_site[s] >= 0:
        occ[state_site[s]] -= k


@njit(cache=True)
def _place(dest, size, t, stock, occ, state_site, tracked, units, nu, out_ptr, out_trans, trans, pv, g_dur,
           emp_ptr, emp_values, emp_cdf):
    """Put `size` people into `dest` (room already checked); the caller grows `units` first."""
    stock[dest] += size
    if state_site[dest] >= 0:
        occ[state_site[dest]] += size
    if tracked[dest]:
        _init_unit(units, nu, dest, size, t, out_ptr, out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf)
        return nu + 1
    return nu


@njit(cache=True)
def _admit_bulk(dest, k, t, stock, occ, cap, closed_site, closed_state, state_site, tracked, units, nu, out_ptr,
                out_trans, trans, pv, g_dur, emp_ptr, emp_values, emp_cdf):
    """Admit up to `k` people one by one (each a unit of one if `dest` is tracked). Returns (got, nu, units)."""
    got = min(k, room(dest, state_site, occ, cap, closed_site, closed_state))
    if got <= 0:
        return np.int64(0), nu, units
    if tracked[dest]:
        for _ in range(got):
            if nu == units.shape[0]:
                units = _grow(units)
            nu = _place(dest, 1, t, stock, occ, state_site, tracked, units, nu, out_ptr, out_trans, trans, pv,
                        g_dur, emp_ptr, emp_values, emp_cdf)
    else:
        nu = _place(dest, got, t, stock, occ, state_site, tracked, units, nu, out_ptr, out_trans, trans, pv, g_dur,
                    emp_ptr, emp_values, emp_cdf)
    return got, nu, units


@njit(cache=True)
def _fire(i, j, t, units, nu, stock, occ, cap, closed_site, closed_state, state_site, tracked, out_ptr, out_trans,
          trans, edge_target, edge_p, pv, probs, flows, g_split, g_dur, emp_ptr, emp_values, emp_cdf):
    """Unit `i` tries transition `j`. Returns (moved, nu, units)."""
    size = units[i, U_SIZE]
    elo, ehi = trans[j, T_EDGE_LO], trans[j, T_EDGE_HI]
    split_probs(elo, ehi, edge_p, pv, probs)
    e = elo + pick(g_split, probs, ehi - elo)
    dest = edge_target[e]
    s = units[i, U_STATE]
    _take(s, size, stock, occ, state_site)  # leave first, so a move within one site needs no extra room
    ok = room(dest, state_site, occ, cap, closed_site, closed_state) >= size
    if not ok and trans[j, T_REDIR] >= 0:
        dest, e = trans[j, T_REDIR], trans[j, T_REDIR_EDGE]
        ok = room(dest, state_site, occ, cap, closed_site, closed_state) >= size
    if not ok:
        _take(s, -size, stock, occ, state_site)
        return False, nu, units
    units[i, U_ALIVE] = 0
    if tracked[dest] and nu == units.shape[0]:
        units = _grow(units)
    nu = _place(dest, size, t, stock, occ, state_site, tracked, units, nu, out_ptr, out_trans, trans, pv, g_dur,
                emp_ptr, emp_values, emp_cdf)
    flows[t, e] += size
    return True, nu, units
