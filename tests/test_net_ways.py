"""Look-ahead without listing the ways (refuge.model.net_paths, refuge.sim.mechanisms.network.ways): the places
within reach by the fewest steps, the sums over ways by end and the draw of one way to an end, each against the
reference engine's list of every way (Flee's rule written out); a large network's lists in data files."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import yaml

from refuge.model.compiler import compile_scenario
from refuge.scenario.format import parse

NET = Path(__file__).parent / "scenarios" / "net"


def _net(name: str, level: int):
    data = yaml.safe_load((NET / name).read_text())
    data["network"]["movement"]["awareness"] = level
    return compile_scenario(parse(data, name)).net


@pytest.mark.parametrize("name, level", [("ahead.yaml", 2), ("ahead.yaml", 3), ("ahead.yaml", 4),
                                         ("marker.yaml", 1), ("marker.yaml", 2), ("marker.yaml", 3)])
def test_sums_by_end_and_the_draw_of_a_way_are_the_reference_listing(name, level):
    """For every place, with a route closed and uneven lengths: the engine's walk gives, for each end, the sum
    of the length factors (distance_softening + km) ** -(distance_power x weight_power) of the open ways that
    the reference lists (and their number), and a draw falling within a way's share of its end's sum picks
    exactly that way: the two-stage pick (an end by its factor x sum, then a way by its length factor) gives
    each way Flee's chance."""
    from refuge.sim.mechanisms.network.reference import NetReference
    from refuge.sim.mechanisms.network.ways import _walk

    net = _net(name, level)
    wy, L, K = net.ways, len(net.names), net.link_from.size
    km = np.arange(K) * 7.0 + 30
    closed = np.zeros(K, bool)
    closed[2] = True
    dsoft, power = 10.0, -1.3
    scratch = [np.zeros(L + 2, np.int64), np.zeros(L + 2, np.int64), np.zeros(L + 2, np.int64), np.zeros(L + 2),
               np.zeros(L + 2, np.int64), np.zeros(L, bool), np.full(L, -1, np.int64)]
    kern, n = np.zeros(wy.end.size), np.zeros(wy.end.size)
    path = np.full((1, wy.width + 1), -1, np.int32)

    def walk(l, target, x):
        dist = np.full(L, wy.depth + 1, np.int64)  # the fewest steps to the target of every place within reach
        for j in range(wy.origin_ptr[max(target, 0)], wy.origin_ptr[max(target, 0) + 1]):
            dist[wy.origins[j]] = wy.origin_hops[j]
        return _walk(net.adj_ptr, net.adj_link, net.link_to, net.loc_kind, dist, wy.depth, closed, km, dsoft, power,
                     *scratch, kern, n, path, l, target, x, 0)

    ref = NetReference(net, 5)
    for l in range(L):
        ways = ref._ways(l, closed)
        want, count = collections.defaultdict(float), collections.Counter()
        for way in ways:
            want[int(net.link_to[way[-1]])] += (dsoft + km[way].sum()) ** power
            count[int(net.link_to[way[-1]])] += 1
        ends = range(wy.way_ptr[l], wy.way_ptr[l + 1])
        for o in ends:
            scratch[6][wy.end[o]] = o
        kern[:], n[:] = 0, 0
        walk(l, -1, 0.0)
        got = {int(wy.end[o]): (kern[o], n[o]) for o in ends if n[o] > 0}
        assert set(got) == set(want)
        for e, (k, m) in got.items():
            assert k == pytest.approx(want[e], rel=1e-12) and m == count[e]
            acc = 0.0
            for j, way in enumerate(w for w in ways if net.link_to[w[-1]] == e):
                f = (dsoft + km[way].sum()) ** power
                assert list(path[0, :walk(l, e, acc + f / 2)]) == way
                assert list(path[0, :walk(l, e, -(j + 0.5))]) == way  # evenly (every weight zero): by rank
                acc += f
        scratch[6][:] = -1
        assert not scratch[5].any()  # no place left marked by a walk


def test_reach_keeps_the_places_within_the_awareness_by_the_fewest_steps():
    """On a 7 x 7 grid with diagonals (FabFlee's grids are so joined), at awareness 2 the middle place reaches
    the 24 places of its 5 x 5 square, its 8 neighbours in 1 step; the corner reaches 8; places whose ways end
    at a place are the places it reaches (routes go both ways), each with its fewest steps."""
    from refuge.model.net_paths import reach

    idx = {(i, j): i * 7 + j for i in range(7) for j in range(7)}
    pairs = [(idx[a], idx[(a[0] + di, a[1] + dj)]) for a in idx for di in (-1, 0, 1) for dj in (-1, 0, 1)
             if (di or dj) and (a[0] + di, a[1] + dj) in idx]
    frm, to = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    wy = reach(49, frm, to, 2)
    mid, corner = idx[(3, 3)], idx[(0, 0)]
    ends = wy.end[wy.way_ptr[mid]:wy.way_ptr[mid + 1]]
    hops = wy.hops[wy.way_ptr[mid]:wy.way_ptr[mid + 1]]
    assert len(ends) == 24 and (hops == 1).sum() == 8 and (hops == 2).sum() == 16
    assert wy.way_ptr[corner + 1] - wy.way_ptr[corner] == 8
    for e in range(49):
        by = {int(x) for x in wy.origins[wy.origin_ptr[e]:wy.origin_ptr[e + 1]]}
        assert by == {int(x) for x in wy.end[wy.way_ptr[e]:wy.way_ptr[e + 1]]}
        for j in range(wy.origin_ptr[e], wy.origin_ptr[e + 1]):  # each origin's fewest steps to e, as from it
            x = wy.origins[j]
            q = wy.way_ptr[x] + list(wy.end[wy.way_ptr[x]:wy.way_ptr[x + 1]]).index(e)
            assert wy.origin_hops[j] == wy.hops[q]
    assert isinstance(reach(49, frm, to, 3), type(wy))
    import refuge.model.net_paths as paths

    old, paths.MAX_WAY_ENDS = paths.MAX_WAY_ENDS, 500
    try:
        assert "places within 2 routes" in reach(49, frm, to, 3)
    finally:
        paths.MAX_WAY_ENDS = old


def _world(name: str, level: int):
    """The compiled network of `name` at awareness `level`, its step's view and a world for it with today's
    numbers set by hand: uneven route lengths, a weight power, camp C (room 40) near its taper."""
    from refuge.model.network import MV_CAPBUF, MV_CAPSCALE, MV_DPOW, MV_DSOFT, MV_WPOW, MV_WSOFT
    from refuge.sim.mechanisms.network.structs import net_spec, new_net_world

    net = _net(name, level)
    s = net_spec(net)
    L, K = len(net.names), net.link_from.size
    w = new_net_world(5, s, np.zeros(L), 64, np.random.default_rng(3), np.zeros((5, L), np.int64),
                      np.zeros((5, L + 1), np.int64), np.zeros(5, np.int64))
    w.mv[[MV_DSOFT, MV_DPOW, MV_WSOFT, MV_WPOW, MV_CAPBUF, MV_CAPSCALE]] = [10.0, 1.0, 0.5, 1.3, 0.5, 1.0]
    w.km[:] = np.arange(K) * 7.0 + 30
    w.score[:] = 1.0 + np.arange(L) % 3
    w.capacity[:] = -1.0
    c = net.names.index("C")
    w.capacity[c] = 40.0
    w.near[:] = np.inf
    w.near[c] = 0.5 * 40.0 - 1.0
    w.is_camp[c] = True
    return net, s, w


def _listed_chances(net, w, l, closed):
    """Flee's rule written out: every way out of `l` (the reference's list) and its chance, weight over the sum
    (evenly when every weight is zero), the taper of where it ends read from today's people."""
    from refuge.model.network import MV_CAPBUF, MV_CAPSCALE, MV_DPOW, MV_DSOFT, MV_WPOW, MV_WSOFT
    from refuge.sim.mechanisms.network.reference import NetReference, _taper

    mv = w.mv
    ways = NetReference(net, 5)._ways(l, closed)
    wt = []
    for way in ways:
        end = int(net.link_to[way[-1]])
        x = (mv[MV_WSOFT] + w.score[end]) / (mv[MV_DSOFT] + w.km[way].sum()) ** mv[MV_DPOW]
        if w.capacity[end] >= 0:
            x *= _taper(w.people[end], w.capacity[end], mv[MV_CAPBUF], mv[MV_CAPSCALE])
        wt.append(x ** mv[MV_WPOW])
    wt = np.array(wt)
    p = wt / wt.sum() if wt.sum() > 0 else np.full(len(ways), 1 / len(ways))
    return {tuple(way): float(q) for way, q in zip(ways, p)}


def _engine_chances(s, w, l):
    """The fast engine's chance of each way out of `l` as it stands: its place's kept cumulative weights by end
    (`choose_way` works them out again when the place is stale) times the way's share of its end's sum (its
    length factor; evenly among the end's ways when the end's weight is zero), each way found by the walk."""
    from refuge.model.network import MV_CAPBUF, MV_CAPSCALE, MV_DPOW, MV_DSOFT, MV_WPOW
    from refuge.sim.mechanisms.network.ways import choose_way, walk_ways, way_weight

    choose_way(s, w, l, w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE], w.mv[MV_WPOW])
    o0, o1 = s.way_ptr[l], s.way_ptr[l + 1]
    cum, tot = w.way_cum[o0:o1], w.tot[l]
    share = np.diff(np.concatenate([[0.0], cum])) / tot
    power = -w.mv[MV_DPOW] * w.mv[MV_WPOW]
    out = {}
    for o in range(o0, o1):
        n = int(w.way_n[o])
        for j in range(n):  # the j-th way to the end, by rank
            m = walk_ways(s, w, l, s.way_end[o], -(j + 0.5), 0)
            way = tuple(int(k) for k in w.way_path[0, :m])
            f = (w.mv[MV_DSOFT] + w.km[list(way)].sum()) ** power
            by_length = way_weight(s, w, o, w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE], w.mv[MV_WPOW]) > 0
            out[way] = float(share[o - o0] * (f / w.way_kern[o] if by_length else 1 / n))
    return out


@pytest.mark.parametrize("name, level", [("ahead.yaml", 2), ("ahead.yaml", 3), ("marker.yaml", 2)])
def test_pick_keeps_the_listed_chances_as_a_camp_fills_and_empties_within_a_day(name, level):
    """The chances of the pick by end (a place's cumulative weights kept until it is stale) against Flee's rule
    written out over the reference's list of ways, for every place: after camp C fills past its taper one
    person at a time, to full (every way to C weighs 0), and after many leave its count at once (a binomial
    draw of leavers: from full to below the taper's start in one change), all within a day; then on the next
    day with a route closed and lengths changed (the sums by end worked out again)."""
    from refuge.model.network import MV_CAPBUF, MV_CAPSCALE
    from refuge.sim.mechanisms.network.people import changed
    from refuge.sim.mechanisms.network.ways import ways_today

    net, s, w = _world(name, level)
    L, c = len(net.names), net.names.index("C")
    closed = np.zeros(net.link_from.size, bool)

    def check(closed):
        for l in range(L):
            want, got = _listed_chances(net, w, l, closed), _engine_chances(s, w, l)
            assert set(got) == set(want)
            for way, p in want.items():
                assert got[way] == pytest.approx(p, rel=1e-9, abs=1e-15), (l, way)

    ways_today(s, w)
    w.stale[:] = True
    w.people[c] = 10.0
    check(closed)
    cb, cs = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    for k in [1] * 20 + [3, 2, 4, 1, 3]:  # in one by one past the taper's start (20), then to full (40) and over
        changed(s, w, c, k, cb, cs)
        if w.people[c] in (19.0, 21.0, 25.0, 30.0, 39.0, 40.0, 43.0):
            check(closed)
    for k in (-33, 13, -3):  # a count's leavers at once (43 -> 10: taper 1 again), then back past the start
        changed(s, w, c, k, cb, cs)
        check(closed)
    closed[1] = True  # the next day: a route closed, lengths changed
    w.closed[:] = closed
    w.km[:] = w.km[::-1].copy()
    ways_today(s, w)
    w.stale[:] = True
    check(closed)


@pytest.mark.parametrize("name, level", [("ahead.yaml", 3), ("marker.yaml", 2)])
def test_a_way_drawn_from_a_listed_pair_is_the_way_the_walk_draws(name, level):
    """first_hop takes a way of the chosen (place, end) pair from the pair's list (`list_pair`, made the first
    time, while the lists have room), else by a walk: from the same random state both give the same way, for
    every pair, by length and evenly (every way to a full camp weighs 0)."""
    from refuge.sim.mechanisms.network.ways import first_hop, ways_today

    net, s, w = _world(name, level)
    c = net.names.index("C")
    ways_today(s, w)
    seen = set()
    for people in (0.0, 40.0):  # C empty (by length), then full (its ways weigh 0: evenly)
        w.people[c] = people
        for l in range(len(net.names)):
            for o in range(s.way_ptr[l], s.way_ptr[l + 1]):
                for _ in range(12):
                    state = w.rng.copy()
                    first_hop(s, w, 0, o)
                    assert w.lw_start[o] >= 0  # listed
                    listed = list(w.way_path[0, :int(np.argmax(w.way_path[0] < 0))])
                    w.rng[:] = state
                    start, used = w.lw_start[o], w.lw_used[0]
                    w.lw_start[o], w.lw_used[0] = -1, w.lw_cum.size  # as when the lists are full: a walk
                    first_hop(s, w, 0, o)
                    walked = list(w.way_path[0, :int(np.argmax(w.way_path[0] < 0))])
                    w.lw_start[o], w.lw_used[0] = start, used
                    assert listed == walked and listed
                    assert net.link_to[listed[-1]] == s.way_end[o]
                    seen.add((people, tuple(listed)))
    assert len(seen) > 20
