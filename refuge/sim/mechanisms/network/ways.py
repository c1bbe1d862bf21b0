"""Look-ahead route choice (awareness 2 and more), without listing the ways.

Flee's weight of a way of several routes ending at `e` over `km` is
((weight_softening + score(e)) / (distance_softening + km) ** distance_power x taper(e)) ** weight_power,
a product of a factor of its end, `end_factor`, and one of its length, `length_factor`. So the pick of a way by
weight is the pick of an end `e` by end_factor(e) x the sum of the length factors of the open ways to it
(`w.way_kern`, worked out for a place by one walk over its ways the first time someone decides there with
today's lengths, closures and powers), then of one of those ways by its length factor (a walk over the ways
to `e` only: a place from which `e` is further than the steps left is not entered). The chances are those of
picking among all ways at once. When every weight is zero the pick is even among the open ways (Flee's
rule): an end by its number of open ways, then one of them evenly.

A choice is (place, end) pair `o` (`refuge.model.net_paths.Ways`); `first_hop` draws the way itself and keeps
its routes in the person's row of `w.way_path`, which `next_hop` follows."""

from __future__ import annotations

import numpy as np
from numba import njit

from refuge.model.network import MARKER, MV_CAPBUF, MV_CAPSCALE, MV_DPOW, MV_DSOFT, MV_WPOW, MV_WSOFT
from refuge.sim.mechanisms.network.low import nonneg, taper, taper_w, uniform

UNREACHED = 1 << 30  # `w.dist` of a place from which the walk's target is not within reach


@njit(inline="always")
def ways_today(s, w):
    """Places' sums over their ways are kept while route lengths, closures and the powers stay as they were
    when worked out; any change and they are worked out again as needed."""
    mv = w.mv
    same = w.kern_mv[0] == mv[MV_DSOFT] and w.kern_mv[1] == mv[MV_DPOW] and w.kern_mv[2] == mv[MV_WPOW]
    for k in range(w.km.size):
        same = same and w.kern_km[k] == w.km[k] and w.kern_closed[k] == w.closed[k]
    if not same:
        w.kern_ok[:] = False
        w.kern_mv[0], w.kern_mv[1], w.kern_mv[2] = mv[MV_DSOFT], mv[MV_DPOW], mv[MV_WPOW]
        w.kern_km[:] = w.km
        w.kern_closed[:] = w.closed
        w.lw_start[:] = -1
        w.lw_used[0] = 0


@njit(inline="always")
def walk_ways(s, w, l, target, x, i):
    """Walk the open ways out of `l` depth first (`_walk`, a function of its own, not inlined: it is called from
    several places of the day's step). With `target` < 0: add each way's length factor and count to its end's
    `way_kern` and `way_n` (the slots of `l`'s ends in `w.pos`). Else only the ways to `target` (a place from
    which it is further than the steps left, by `w.dist`, is not entered): the first whose running sum (of
    length factors, or of ones when `x` < 0 with -x the draw) passes the draw is written to person `i`'s row of
    `w.way_path`, and its number of routes returned (the last one found on a rounding at the top end)."""
    if target >= 0:
        to_target(s, w, target, True)
    n = _walk(s.adj_ptr, s.adj_link, s.link_to, s.loc_kind, w.dist, s.way_size[0], w.closed, w.km, w.mv[MV_DSOFT],
              -w.mv[MV_DPOW] * w.mv[MV_WPOW], w.dfs_node, w.dfs_slot, w.dfs_steps, w.dfs_km, w.dfs_link, w.on_path,
              w.pos, w.way_kern, w.way_n, w.way_path, l, target, x, i)
    if target >= 0:
        to_target(s, w, target, False)
    return n


@njit(inline="always")
def to_target(s, w, e, on):
    """Mark (`on`) or clear in `w.dist` the fewest steps to place `e` from each place with a way ending at it (the
    walks to `e` enter no other place): a place not marked is `UNREACHED`."""
    for j in range(s.origin_ptr[e], s.origin_ptr[e + 1]):
        w.dist[nonneg(s.origins[nonneg(j)])] = s.origin_hops[nonneg(j)] if on else UNREACHED


@njit(cache=True)
def _walk(adj_ptr, adj_link, link_to, loc_kind, dist, depth, closed, kmk, dsoft, power,
          node, slot, steps, kms, links, on, pos, way_kern, way_n, way_path, l, target, x, i):
    acc = 0.0
    last = 0
    top = 0
    node[0], slot[0], steps[0], kms[0] = l, adj_ptr[l], 0, 0.0
    on[l] = True
    while top >= 0:
        here = node[top]
        j = slot[top]
        if j >= adj_ptr[here + 1]:
            on[here] = False
            top -= 1
            continue
        slot[top] = j + 1
        k = adj_link[j]
        nxt = link_to[k]
        if on[nxt] or closed[k]:
            continue
        mk = loc_kind[nxt] == MARKER
        st = steps[top] + (0 if mk else 1)
        km = kms[top] + kmk[k]
        links[top] = k
        if target >= 0 and nxt != target and dist[nxt] > depth - st:
            continue
        if not mk and (target < 0 or nxt == target):
            f = (dsoft + km) ** power
            if target < 0:
                o = pos[nxt]
                way_kern[o] += f
                way_n[o] += 1.0
            else:
                acc += f if x >= 0 else 1.0
                last = top + 1
                for q in range(top + 1):
                    way_path[i, q] = links[q]
                way_path[i, top + 1] = -1
                if acc > (x if x >= 0 else -x):
                    break
        if nxt == target or (not mk and st >= depth):
            continue
        top += 1
        node[top], slot[top], steps[top], kms[top] = nxt, adj_ptr[nxt], st, km
        on[nxt] = True
    while top >= 0:  # (left early: clear the places still marked)
        on[node[top]] = False
        top -= 1
    return last


@njit(cache=True)
def _list(adj_ptr, adj_link, link_to, loc_kind, dist, depth, closed, kmk, dsoft, power, node, slot, steps, kms, links,
          on, cum, lw_links, lw_len, q0, l, target):
    """List the open ways from `l` to `target` from slot `q0` on, in `_walk`'s order (and with its pruning): each
    way's running sum of length factors, as `_walk` adds them, in `cum`, its routes in its row of `lw_links`,
    their number in `lw_len`. Returns the number of ways listed."""
    acc = 0.0
    q = q0
    top = 0
    node[0], slot[0], steps[0], kms[0] = l, adj_ptr[l], 0, 0.0
    on[l] = True
    while top >= 0:
        here = node[top]
        j = slot[top]
        if j >= adj_ptr[here + 1]:
            on[here] = False
            top -= 1
            continue
        slot[top] = j + 1
        k = adj_link[j]
        nxt = link_to[k]
        if on[nxt] or closed[k]:
            continue
        mk = loc_kind[nxt] == MARKER
        st = steps[top] + (0 if mk else 1)
        km = kms[top] + kmk[k]
        links[top] = k
        if nxt != target and dist[nxt] > depth - st:
            continue
        if nxt == target:
            acc += (dsoft + km) ** power
            cum[q] = acc
            lw_len[q] = top + 1
            for r in range(top + 1):
                lw_links[q, r] = links[r]
            q += 1
            continue
        if not mk and st >= depth:
            continue
        top += 1
        node[top], slot[top], steps[top], kms[top] = nxt, adj_ptr[nxt], st, km
        on[nxt] = True
    return q - q0


@njit(inline="always")
def kern(s, w, l):
    """Place `l`'s sums over its open ways by end (`way_kern`, `way_n`, `way_shut`), for today's lengths,
    closures and powers (kept until they change)."""
    if w.kern_ok[l]:
        return
    o0, o1 = nonneg(s.way_ptr[l]), nonneg(s.way_ptr[l + 1])
    for o in range(o0, o1):
        w.pos[nonneg(s.way_end[o])] = o
        w.way_kern[o] = 0.0
        w.way_n[o] = 0.0
    walk_ways(s, w, l, -1, 0.0, 0)
    for o in range(o0, o1):
        w.pos[nonneg(s.way_end[o])] = -1
        w.way_shut[o] = w.way_n[o] == 0.0
    w.kern_ok[l] = True


@njit(inline="always")
def list_pair(s, w, l, o):
    """Keep the open ways of pair `o` (from `l`) listed while the lists have room (`w.lw_*`, emptied when the sums
    by end are worked out again): `first_hop` then draws a way of the pair from its list, with the result of
    the walk. Whether the pair is listed."""
    if w.lw_start[o] >= 0:
        return True
    m = int(w.way_n[o])
    q0 = w.lw_used[0]
    if m == 0 or q0 + m > w.lw_cum.size:
        return False
    e = s.way_end[o]
    to_target(s, w, e, True)
    n = _list(s.adj_ptr, s.adj_link, s.link_to, s.loc_kind, w.dist, s.way_size[0], w.closed, w.km, w.mv[MV_DSOFT],
              -w.mv[MV_DPOW] * w.mv[MV_WPOW], w.dfs_node, w.dfs_slot, w.dfs_steps, w.dfs_km, w.dfs_link, w.on_path,
              w.lw_cum, w.lw_links, w.lw_len, q0, l, e)
    to_target(s, w, e, False)
    w.lw_start[o] = q0
    w.lw_used[0] = q0 + n
    return True


@njit(inline="always")
def way_weight(s, w, o, capbuf, capscale, wpow):
    """The weight of the open ways of pair `o` together: 0 when none is open, else end_factor x `way_kern`."""
    if w.way_shut[o]:
        return 0.0
    end = nonneg(s.way_end[o])
    wk = (w.mv[MV_WSOFT] + w.score[end]) ** wpow * w.way_kern[o]
    if w.capacity[end] >= 0 and w.people[end] > capbuf * w.capacity[end] * capscale:
        wk *= taper_w(w.people[end], w.capacity[end], capbuf, capscale, wpow)
    return wk


@njit(inline="always")
def way_count(s, w, o):
    """The number of open ways of pair `o` (the pick is even among ways when every weight is zero)."""
    return w.way_n[o]


@njit(inline="always")
def full_camp(w, end, capbuf, capscale):
    """Whether `end` is a camp too full to set out for (its taper under 0.5)."""
    return w.is_camp[end] and w.capacity[end] >= 0 and taper(w.people[end], w.capacity[end], capbuf, capscale) < 0.5


@njit(inline="always")
def choose_way(s, w, l, capbuf, capscale, wpow):
    """Where a way out of place `l` picked by weight ends: (the pair `o`, whether it ends at a camp too full to
    set out for), or (-1, False) when no way is open. Like `choose_route`, a place keeps its cumulative weights
    until it is stale (by number of ways when every weight is zero)."""
    kern(s, w, l)
    o0, o1 = nonneg(s.way_ptr[l]), nonneg(s.way_ptr[l + 1])
    cum = w.way_cum
    if w.stale[l]:
        acc = 0.0
        n = 0.0
        for o in range(o0, o1):
            n += w.way_n[o]
            acc += way_weight(s, w, o, capbuf, capscale, wpow)
            cum[o] = acc
        if acc <= 0:  # all weights zero: equal chances among the open ways
            acc = 0.0
            for o in range(o0, o1):
                acc += w.way_n[o]
                cum[o] = acc
        w.tot[l] = acc
        w.nopen[l] = int(n)
        w.stale[l] = False
    pick = -1
    if w.nopen[l] > 0:
        x = uniform(w.rng) * w.tot[l]
        below = 0
        for o in range(o0, o1):
            below += cum[o] <= x
        if below < o1 - o0:
            pick = o0 + below
        else:  # rounding at the top end: the last open pair
            for o in range(o1 - 1, o0 - 1, -1):
                if not w.way_shut[o]:
                    pick = o
                    break
    if pick < 0:
        return pick, False
    return pick, full_camp(w, nonneg(s.way_end[pick]), capbuf, capscale)


@njit(inline="always")
def first_hop(s, w, i, o):
    """Person `i` takes up a way of pair `o`, drawn by its length factor among the open ways of the pair (evenly
    when the pair's weight is zero): its first route, the rest kept in their row to follow."""
    l = nonneg(np.searchsorted(s.way_ptr, o, side="right") - 1)
    kern(s, w, l)
    by_length = way_weight(s, w, o, w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE], w.mv[MV_WPOW]) > 0
    x = uniform(w.rng) * (w.way_kern[o] if by_length else w.way_n[o])
    if list_pair(s, w, l, o):  # from the pair's list: the first way whose running sum (or rank + 1) passes x
        a, m = w.lw_start[o], int(w.way_n[o])
        if by_length:
            q = a + np.searchsorted(w.lw_cum[a:a + m], x, side="right")
        else:
            q = a + int(x)
        q = min(q, a + m - 1)  # (rounding at the top end: the last, as the walk)
        n = int(w.lw_len[q])
        for r in range(n):
            w.way_path[i, r] = w.lw_links[q, r]
        w.way_path[i, n] = -1
    else:
        n = walk_ways(s, w, l, s.way_end[o], x if by_length else -x, i)
    if n > 1:
        w.P[i].way = o
        w.P[i].hop = 1
    else:
        w.P[i].way = -1
    return nonneg(w.way_path[i, 0])


@njit(inline="always")
def next_hop(s, w, i, capbuf, capscale):
    """The next route of the way person `i` follows, taken off the way (which ends with its last route); -1 (and
    the way given up) when that route is closed or the way ends at a camp too full to set out for."""
    o = nonneg(w.P[i].way)
    h = nonneg(w.P[i].hop)
    k = nonneg(w.way_path[i, h])
    if w.closed[k] or full_camp(w, nonneg(s.way_end[o]), capbuf, capscale):
        w.P[i].way = -1
        return -1
    if w.way_path[i, h + 1] < 0:
        w.P[i].way = -1
    else:
        w.P[i].hop += 1
    return k
