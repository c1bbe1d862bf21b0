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
        return _walk(net.adj_ptr, net.adj_link, net.link_to, net.loc_kind, wy.way_ptr, wy.end, wy.hops, wy.depth,
                     closed, km, dsoft, power, *scratch, kern, n, path, l, target, x, 0)

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
    at a place are the places it reaches (routes go both ways)."""
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
    assert isinstance(reach(49, frm, to, 3), type(wy))
    import refuge.model.net_paths as paths

    old, paths.MAX_WAY_ENDS = paths.MAX_WAY_ENDS, 500
    try:
        assert "places within 2 routes" in reach(49, frm, to, 3)
    finally:
        paths.MAX_WAY_ENDS = old
