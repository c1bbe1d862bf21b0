"""Look-ahead route choice (awareness 2 and more): today's weight of each way of several routes out of a place,
the choice of one, and the next route of the way a person follows (`refuge.model.net_paths` lists the ways)."""

from __future__ import annotations

from numba import njit

from refuge.model.network import MV_DPOW, MV_DSOFT, MV_WPOW, MV_WSOFT
from refuge.sim.mechanisms.network.low import nonneg, taper, taper_w, uniform


@njit(inline="always")
def ways_today(s, w):
    """Each way's weight before the taper of where it ends, ((weight_softening + score(end)) / (distance_softening
    + its km) ** distance_power) ** weight_power, and whether one of its routes is closed today."""
    mv = w.mv
    wsoft, dsoft, dpow, wpow = mv[MV_WSOFT], mv[MV_DSOFT], mv[MV_DPOW], mv[MV_WPOW]
    for o in range(s.way_end.size):
        km = 0.0
        shut = False
        for q in range(s.way_link_ptr[o], s.way_link_ptr[o + 1]):
            k = nonneg(s.way_links[nonneg(q)])
            km += w.km[k]
            shut |= w.closed[k]
        w.way_shut[o] = shut
        w.way_base[o] = ((wsoft + w.score[nonneg(s.way_end[o])]) / (dsoft + km) ** dpow) ** wpow


@njit(inline="always")
def way_weight(s, w, o, capbuf, capscale, wpow):
    """Way `o`'s weight now: 0 when one of its routes is closed, else its base x the taper of where it ends."""
    if w.way_shut[o]:
        return 0.0
    end = nonneg(s.way_end[o])
    wk = w.way_base[o]
    if w.capacity[end] >= 0 and w.people[end] > capbuf * w.capacity[end] * capscale:
        wk *= taper_w(w.people[end], w.capacity[end], capbuf, capscale, wpow)
    return wk


@njit(inline="always")
def full_camp(w, end, capbuf, capscale):
    """Whether `end` is a camp too full to set out for (its taper under 0.5)."""
    return w.is_camp[end] and w.capacity[end] >= 0 and taper(w.people[end], w.capacity[end], capbuf, capscale) < 0.5


@njit(inline="always")
def choose_way(s, w, l, capbuf, capscale, wpow):
    """A way out of place `l` picked by weight: (the way, whether it ends at a camp too full to set out for), or
    (-1, False) when no way is open. Like `choose_route`, a place keeps its cumulative weights until it is stale."""
    o0, o1 = nonneg(s.way_ptr[l]), nonneg(s.way_ptr[l + 1])
    cum = w.way_cum
    if w.stale[l]:
        acc = 0.0
        n = 0
        for o in range(o0, o1):
            if not w.way_shut[o]:
                n += 1
                acc += way_weight(s, w, o, capbuf, capscale, wpow)
            cum[o] = acc
        w.tot[l] = acc
        w.nopen[l] = n
        w.stale[l] = False
    pick = -1
    if w.nopen[l] > 0:
        if w.tot[l] > 0:
            x = uniform(w.rng) * w.tot[l]
            below = 0
            for o in range(o0, o1):
                below += cum[o] <= x
            if below < o1 - o0:
                pick = o0 + below
            else:  # rounding at the top end: the last open way
                for o in range(o1 - 1, o0 - 1, -1):
                    if not w.way_shut[o]:
                        pick = o
                        break
        else:  # all weights zero: equal chances among the open ways
            r = int(uniform(w.rng) * w.nopen[l])
            for o in range(o0, o1):
                if not w.way_shut[o]:
                    if r == 0:
                        pick = o
                        break
                    r -= 1
    if pick < 0:
        return pick, False
    return pick, full_camp(w, nonneg(s.way_end[pick]), capbuf, capscale)


@njit(inline="always")
def next_hop(s, w, i, capbuf, capscale):
    """The next route of the way person `i` follows, taken off the way (which ends with its last route); -1 (and
    the way given up) when that route is closed or the way ends at a camp too full to set out for."""
    o = nonneg(w.P[i].way)
    q = nonneg(s.way_link_ptr[o] + w.P[i].hop)
    k = nonneg(s.way_links[q])
    if w.closed[k] or full_camp(w, nonneg(s.way_end[o]), capbuf, capscale):
        w.P[i].way = -1
        return -1
    if q + 1 >= s.way_link_ptr[o + 1]:
        w.P[i].way = -1
    else:
        w.P[i].hop += 1
    return k
