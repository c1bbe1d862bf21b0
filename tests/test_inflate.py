"""The runs' spread after the anchor, multiplied by a factor fitted on the training data
(refuge.inference.assimilate.inflate): hand-worked examples."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from refuge.inference.assimilate import INFLATIONS, inflate, spread
from refuge.inference.backtest_core import Forward


def test_spread_scales_each_runs_distance_from_the_median_never_below_zero():
    v = np.array([[0.0, 5.0], [10.0, 6.0], [20.0, 10.0]])  # medians 10 and 6
    np.testing.assert_allclose(spread(v, 2.0), [[0.0, 4.0], [10.0, 6.0], [30.0, 14.0]])  # -10 -> 0
    np.testing.assert_allclose(spread(v, 0.5), [[5.0, 5.5], [10.0, 6.0], [15.0, 8.0]])
    np.testing.assert_allclose(spread(v, 1.0), v)
    assert spread(np.zeros((3, 0)), 2.0).shape == (3, 0)


def test_inflate_widens_only_after_each_series_anchor_and_beyond_the_data():
    grid = np.arange(5)
    anchored = {"kind": "stock", "grid": grid, "data": np.array([4.0, 0, 6.0, 0, 0]), "obs": np.array([0, 2])}
    unanchored = {"kind": "stock", "grid": grid, "data": np.zeros(5), "obs": np.array([4])}  # first data on day 4
    model = SimpleNamespace(series=[anchored, unanchored])
    runs = np.array([[4.0, 5, 6, 7, 8], [4.0, 5, 6, 9, 12], [4.0, 5, 6, 11, 16]])
    fw = Forward(facts=np.zeros((3, 0)), series=[runs, runs.copy()],
                 ahead=np.array([[1.0, 100.0], [2.0, 100.0], [3.0, 100.0]]), periods=(([9], [5]), ([9], [5])))
    got = inflate(model, fw, u=2, k=2.0)
    # day 3: median 9, runs 7 and 11 -> 5 and 13; day 4: median 12 -> 4 and 20; days 0-2 (to the anchor) as they were
    np.testing.assert_allclose(got.series[0], [[4, 5, 6, 5, 4], [4, 5, 6, 9, 12], [4, 5, 6, 13, 20]])
    np.testing.assert_array_equal(got.series[1], runs)  # no data point up to day 2: no anchor, left as it is
    np.testing.assert_allclose(got.ahead[:, 0], [0.0, 2.0, 4.0])  # the first series beyond its data: median 2
    np.testing.assert_allclose(got.ahead[:, 1], 100.0)  # the unanchored series' periods untouched
    assert 1.0 in INFLATIONS and min(INFLATIONS) < 1.0 < max(INFLATIONS)
