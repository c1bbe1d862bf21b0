"""The camps of a route network share the runs' new arrivals as the record before the cut did
(refuge.inference.shares): hand-worked examples."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from refuge.inference.shares import draw_shares, recent_shares, share_groups, shared


def _camp(state: int, data: list[float], obs: list[int], group: str = "camps", kind: str = "stock") -> dict:
    grid = np.arange(10)
    full = np.zeros(10)
    full[obs] = data
    return {"id": f"camp-{state}", "group": group, "kind": kind, "states": [state], "grid": grid, "data": full,
            "obs": np.array(obs)}


def _model(series: list[dict], net: bool = True) -> SimpleNamespace:
    return SimpleNamespace(series=series, net=SimpleNamespace(loc_state=np.array([0, 1, 2])) if net else None)


def test_share_groups_are_groups_of_network_counts_only():
    a, b = _camp(0, [10, 20], [0, 4]), _camp(1, [5, 5], [0, 4])
    assert share_groups(_model([a, b])) == [[0, 1]]
    assert share_groups(_model([a, b], net=False)) == []  # no route network: uk-asylum's stocks stay one by one
    flow = _camp(2, [1, 2], [0, 4], kind="flow")
    assert share_groups(_model([a, b, flow])) == []  # a group with a flow in it is not a set of camps
    assert share_groups(_model([a, _camp(1, [5, 5], [0, 4], group="other")])) == []  # one camp alone
    assert share_groups(_model([a, _camp(7, [5, 5], [0, 4])])) == []  # state 7 is no place of the network


def test_recent_shares_are_each_camps_part_of_the_rise_before_the_cut():
    # camp A: 10 on day 0, 30 on day 4 (5 a day); camp B: 0 on day 0, 20 on day 4
    a, b = _camp(0, [10, 30], [0, 4]), _camp(1, [0, 20], [0, 4])
    m = _model([a, b])
    np.testing.assert_allclose(recent_shares(m, [0, 1], u=4, window=2), [0.5, 0.5])
    c = _camp(1, [0, 20, 10], [0, 4, 8])
    # over days 4..8: A holds 30 (nothing after day 4), C falls from 20 to 10: no rise at all
    assert recent_shares(_model([a, c]), [0, 1], u=8, window=4) is None
    # over days 2..6: A 20 -> 30 (+10), C 10 -> 20 (+10: its fall, dated day 8, is not known on day 6)
    np.testing.assert_allclose(recent_shares(_model([a, c]), [0, 1], u=6, window=4), [0.5, 0.5])


def test_each_camp_takes_its_share_of_the_runs_rise_from_its_own_anchor():
    a, b = _camp(0, [10, 30], [0, 4]), _camp(1, [0, 10], [0, 4])
    m = _model([a, b])
    # two runs: their own counts of each camp on days 0..9; the group's total rises by 6 a day in run 0, 3 in run 1
    ra = np.array([np.arange(10) * 5.0, np.arange(10) * 1.0])
    rb = np.array([np.arange(10) * 1.0, np.arange(10) * 2.0])
    out = shared(m, [ra, rb], u=5, concentration=math.inf)
    # days 0..5: A 10 -> 30 (+20, held after day 4), B 0 -> 10 (+10); anchors: day 4 for both (the last data
    # point on or before day 5); from it, A takes 2/3 of the run's rise in the total, B 1/3
    np.testing.assert_allclose(recent_shares(m, [0, 1], u=5), [2 / 3, 1 / 3])
    np.testing.assert_allclose(out[0][0, 5:], 30 + 2 / 3 * 6 * np.arange(1, 6))
    np.testing.assert_allclose(out[1][1, 5:], 10 + 1 / 3 * 3 * np.arange(1, 6))
    np.testing.assert_allclose(out[0][:, :5], ra[:, :5])  # up to the anchor: the runs as they ran
    # a falling total takes a camp down by its share, never below zero
    down = shared(m, [-ra * 20, -rb * 20], u=5, concentration=math.inf)
    assert (down[0][:, 5:] == 0).all() and (down[1][:, 5:] == 0).all()


@pytest.mark.parametrize("concentration", [2.0, 32.0])
def test_drawn_shares_spread_around_the_recent_ones(concentration):
    share = np.array([0.7, 0.3, 0.0])
    d = draw_shares(share, 4000, concentration, seed=3)
    np.testing.assert_allclose(d.sum(axis=1), 1.0)
    expect = (concentration * share + 0.5) / (concentration + 1.5)  # the Dirichlet's mean
    np.testing.assert_allclose(d.mean(axis=0), expect, atol=0.02)
    assert np.array_equal(d, draw_shares(share, 4000, concentration, seed=3))  # the same for a seed
    assert (draw_shares(share, 5, math.inf, seed=3) == share).all()
    if concentration == 2.0:
        assert d[:, 0].std() > draw_shares(share, 4000, 32.0, seed=3)[:, 0].std()
