"""The camps of a route network share the runs' new arrivals as the record before the cut did
(refuge.inference.shares): hand-worked examples."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from refuge.inference.shares import draw_shares, recent_shares, share_groups, shared, shared_ahead, split


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


def test_signed_shares_let_a_camp_that_emptied_go_on_losing():
    """Worked by hand: over days 0..8, A falls 40 -> 30 (-10), B rises 0 -> 30 (+30): gross rise 30, net 20.
    Unsigned, B takes the whole rise and A none; signed, A loses 10/20 of each net rise and B takes 30/20."""
    a, b = _camp(0, [40, 30], [0, 8]), _camp(1, [0, 30], [0, 8])
    m = _model([a, b])
    p, g, o = split(m, [0, 1], 8, signed=False)
    np.testing.assert_allclose([*p, g, *o], [0, 1, 1, 0, 0])
    p, g, o = split(m, [0, 1], 8, signed=True)
    np.testing.assert_allclose([*p, g, *o], [0, 1, 1.5, 0.5, 0])
    # a run whose total rises by 2 a day after the anchor (day 8): A falls by 1 a day, B rises by 3
    ra, rb = np.array([np.arange(10) * 1.0]), np.array([np.arange(10) * 1.0])
    out = shared(m, [ra, rb], u=8, concentration=math.inf, signed=True)
    np.testing.assert_allclose([out[0][0, 9], out[1][0, 9]], [29, 33])
    # a net rise under a quarter of the gross: the signed shares would blow up, so the unsigned are kept
    c = _camp(0, [40, 15], [0, 8])
    assert split(_model([c, b]), [0, 1], 8, signed=True)[1] == 1.0


def test_past_the_data_each_camp_takes_its_share_of_the_rise_as_on_the_grid():
    """--horizon: the forecast periods beyond the data take the same shares of the runs' rise in the total
    from each camp's anchor; camps forecast at different periods are left to be anchored one by one."""
    a, b = _camp(0, [10, 30], [0, 4]), _camp(1, [0, 10], [0, 4])
    m = _model([a, b])
    ra = np.array([np.arange(10) * 5.0, np.arange(10) * 1.0])
    rb = np.array([np.arange(10) * 1.0, np.arange(10) * 2.0])
    # two periods past the data (days 12 and 15): the runs go on at their own rates
    ahead = [np.array([[60.0, 75.0], [12.0, 15.0]]), np.array([[12.0, 15.0], [24.0, 30.0]])]
    periods = (([12, 15], [10, 13]), ([12, 15], [10, 13]))
    out = shared_ahead(m, [ra, rb], ahead, periods, u=5, concentration=math.inf)
    # run 0's total: 24 on day 4, 72 and 90 later: A 30 + 2/3 * (48, 66), B 10 + 1/3 * (48, 66)
    np.testing.assert_allclose(out[0][0], [30 + 2 / 3 * 48, 30 + 2 / 3 * 66])
    np.testing.assert_allclose(out[1][0], [10 + 1 / 3 * 48, 10 + 1 / 3 * 66])
    # run 1's total: 12 on day 4, 36 and 45 later
    np.testing.assert_allclose(out[1][1], [10 + 1 / 3 * 24, 10 + 1 / 3 * 33])
    assert shared_ahead(m, [ra, rb], ahead, (([12, 15], [10, 13]), ([12], [10])), 5, math.inf) == {}


def test_a_flee_backtests_camps_take_the_recent_shares_of_the_runs_rise():
    """mali2012's camps, anchored at a cut with the recent shares in every run: each camp's forecast change is
    its share of the run's change in the camps' total; the backtest says the concentration it used."""
    import datetime as dt

    from refuge.inference.backtest_core import forward, tables
    from refuge.results.simulate import load

    m = load("mali2012")
    until = dt.date(2012, 7, 31)
    u = (until - m.start).days
    fw = forward(m, [{}] * 4, 0)
    bt = tables(m, fw, until, None, method="search", concentration=math.inf)
    assert bt.summary["share_concentration"] == "inf"
    (members,) = share_groups(m)
    share = recent_shares(m, members, u)
    got = shared(m, fw.series, u, math.inf)
    total = sum(fw.series[k] for k in members)
    last = m.days - 1
    for j, k in enumerate(members):
        s = m.series[k]
        a = int(np.asarray(s["obs"])[s["grid"][s["obs"]] <= u][-1])
        expect = np.maximum(s["data"][a] + share[j] * (total[:, last] - total[:, a]), 0)
        np.testing.assert_allclose(got[k][:, last], expect)
    assert bt.summary["skill"]["points"]["points"] > 0


def test_a_flee_forecast_past_the_scenarios_end_shares_the_rise_as_the_grid_does():
    """--horizon on mali2012: each camp's forecast beyond the data is its last count plus its share of the rise
    of the runs' total since its anchor, with the shares of the grid (the same draw)."""
    import datetime as dt

    from refuge.inference.assimilate import assimilate
    from refuge.inference.backtest_core import forward
    from refuge.inference.horizon import beyond, trimmed
    from refuge.results.simulate import load

    m = load("mali2012")
    until = dt.date(2012, 9, 30)
    u = (until - m.start).days
    fw = trimmed(m, forward(beyond(m, dt.date(2013, 12, 31)), [{}] * 3, 0))
    got = assimilate(m, fw, until, math.inf)
    (members,) = share_groups(m)
    share = recent_shares(m, members, u)
    col = np.cumsum([0] + [len(e) for e, _ in fw.periods])
    raw = [fw.ahead[:, col[k]:col[k + 1]] for k in range(len(m.series))]
    total, beyond_total = sum(fw.series[k] for k in members), sum(raw[k] for k in members)
    assert beyond_total.shape[1] >= 1  # periods past the data
    for j, k in enumerate(members):
        s = m.series[k]
        a = int(np.asarray(s["obs"])[s["grid"][s["obs"]] <= u][-1])
        expect = np.maximum(s["data"][a] + share[j] * (beyond_total - total[:, [a]]), 0)
        np.testing.assert_allclose(got.ahead[:, col[k]:col[k + 1]], expect)


def test_the_forecast_fit_weighs_the_runs_own_split_against_the_shares():
    """The runs' own split of the new arrivals (each camp anchored, no shares) is a candidate of the forecast fit
    beside every concentration: it is scored, and the fit keeps whichever scored best."""
    import datetime as dt

    from refuge.inference.drift_fit import fit_forecast
    from refuge.results.simulate import load

    m = load("mali2012")
    fit = fit_forecast(m, {}, dt.date(2012, 9, 30), runs=4)
    tried = {(c, signed): score for c, signed, score in fit.share_scores}
    assert (None, False) in tried and ("inf", False) in tried and len(tried) == 9
    assert all(np.isfinite(v) for v in tried.values())
    best = min(tried, key=tried.get)
    kept = "inf" if fit.concentration is not None and math.isinf(fit.concentration) else fit.concentration
    assert tried[kept, fit.signed] == tried[best]
