"""Baselines, scores and the verdict of a forecast, on examples worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from refuge.inference.skill import band, baselines, crps, horizon_label, inside, pool, relative_error, score, verdict


def test_naive_carries_the_last_value_and_drift_its_average_change():
    # training data 100, 120, 160 on days 0, 10, 20: last 160, average change (160 - 100) / 20 = 3 a day
    b = baselines([0, 10, 20], [100, 120, 160], [30, 40])
    assert b["naive"].tolist() == [160, 160]
    assert b["drift"].tolist() == [190, 220]
    assert np.isnan(b["seasonal"]).all()  # two months of data: not a seasonal series


def test_drift_never_forecasts_fewer_than_nobody():
    b = baselines([0, 10], [100, 20], [30])  # falling 8 a day: 20 - 8 * 20 < 0
    assert b["drift"].tolist() == [0.0]


def test_counts_over_periods_are_carried_as_rates():
    # a count of 365 over a year is 1 a day: a half-year period ahead gets 182.5 (lengths in days)
    b = baselines([364], [365.0], [546], length_train=[365], length_test=[182.5])
    assert b["naive"].tolist() == [182.5]


def test_seasonal_naive_repeats_the_same_quarter_a_year_earlier():
    t = np.arange(0, 3 * 365.25, 365.25 / 4)  # quarters over three years, seasonal pattern 10, 20, 30, 40
    y = np.tile([10.0, 20, 30, 40], 3)
    ahead = t[-1] + np.array([1, 2, 3, 4, 5]) * 365.25 / 4
    b = baselines(t, y, ahead)
    assert b["seasonal"].tolist() == [10, 20, 30, 40, 10]
    assert b["naive"].tolist() == [40] * 5


def test_relative_error_is_against_the_data_and_at_least_one():
    assert relative_error([110, 5], [100, 0]).tolist() == [0.1, 5.0]


def test_crps_of_small_ensembles_worked_by_hand():
    # {0, 2} against 1: E|X - y| = 1, E|X - X'| = 1 over the four ordered pairs, CRPS = 1 - 1/2 = 0.5
    # {1, 2, 3, 4} against 3: E|X - y| = 1, E|X - X'| = 20 / 16, CRPS = 1 - 0.625 = 0.375; divided by y = 3
    got = crps([1.0, 3.0], np.array([[0.0, 1], [2, 2], [np.nan, 3], [np.nan, 4]]))
    assert got[0] == pytest.approx(0.5)
    assert got[1] == pytest.approx(0.375 / 3)
    # a single-valued forecast scores its relative error
    assert crps([100.0], [[90.0], [90.0]])[0] == pytest.approx(0.1)


def test_band_is_a_prediction_interval_from_the_runs_order_statistics():
    # 19 runs 1..19: the 90% band's ends are the ranks 0.05 x 20 = 1 and 0.95 x 20 = 19, the smallest and largest
    np.testing.assert_allclose(band(np.arange(1.0, 20.0), 0.9), [1.0, 19.0])
    # 39 runs 1..39: ranks 2 and 38; fewer runs than a band can tell apart: the smallest and largest
    np.testing.assert_allclose(band(np.arange(1.0, 40.0), 0.9), [2.0, 38.0])
    np.testing.assert_allclose(band([3.0, 1.0, 2.0], 0.9), [1.0, 3.0])
    # an outcome drawn like 30 runs falls in their 90% band 90% of the time (the sample quantiles: about 85%)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20000, 30)), rng.normal(size=20000)
    lo, hi = band(x, 0.9, axis=1)
    assert 0.89 < np.mean((y >= lo) & (y <= hi)) < 0.915
    lo, hi = np.quantile(x, [0.05, 0.95], axis=1)
    assert np.mean((y >= lo) & (y <= hi)) < 0.86


def test_inside_uses_the_central_interval_of_the_runs():
    runs = np.arange(101, dtype=float)[:, None]  # 0..100: 90% band [4.1, 95.9] (ranks 5.1, 96.9), 50% [24.5, 75.5]
    assert inside([5.0], runs, 0.9)[0] and not inside([4.0], runs, 0.9)[0]
    assert inside([75.0], runs, 0.5)[0] and not inside([80.0], runs, 0.5)[0]


def test_score_and_skill_on_a_worked_example():
    data = np.array([100.0, 200.0])
    runs = np.array([[90.0, 190], [100, 210], [110, 230]])  # medians 100 and 210: errors 0 and 0.05
    s = score(data, runs, [1, 2], {"naive": np.array([80.0, 80.0])})  # errors 0.2 and 0.6
    assert s["ard_median"] == pytest.approx(0.025)
    assert s["baselines"]["naive"]["ard"] == pytest.approx(0.4)
    assert s["baselines"]["naive"]["skill"] == pytest.approx(0.025 / 0.4)
    assert s["coverage90"] == 1.0
    h1, h2 = s["by_horizon"]
    assert (h1["horizon"], h1["ard_median"], h1["baselines"]["naive"]["skill"]) == ("1", 0.0, 0.0)
    assert h2["baselines"]["naive"]["skill"] == pytest.approx(0.05 / 0.6)
    assert "beats the naive forecast overall" in verdict(s) and "on 2 of 2 horizons" in verdict(s)
    assert "90% band held 100% of 2 held-out points" in verdict(s)


def test_pooling_weighs_by_points_and_recomputes_skill():
    a = {"points": 1, "ard_median": 0.1, "crps": 0.1, "coverage50": 1.0, "coverage90": 1.0,
         "baselines": {"naive": {"ard": 0.2, "model_ard": 0.1, "points": 1}}, "by_horizon": []}
    b = {"points": 3, "ard_median": 0.3, "crps": 0.2, "coverage50": 0.0, "coverage90": 2 / 3,
         "baselines": {"naive": {"ard": 0.2, "model_ard": 0.3, "points": 3}}, "by_horizon": []}
    p = pool([a, b])
    assert p["ard_median"] == pytest.approx(0.25) and p["coverage90"] == pytest.approx(0.75)
    assert p["baselines"]["naive"]["skill"] == pytest.approx(0.25 / 0.2)
    assert verdict(p).startswith("does not beat the naive forecast overall")


def test_a_narrow_band_is_called_so_and_no_data_says_why():
    s = score([100.0, 100], [[50.0, 50], [51, 51]], [1, 2], {"naive": np.array([100.0, 100])})
    assert "too narrow" in verdict(s)
    assert verdict(score(np.zeros(0), np.zeros((3, 0)), np.zeros(0, int), {})).startswith("no held-out")


def test_horizons_are_binned_beyond_three_steps():
    assert [horizon_label(h) for h in (1, 3, 4, 6, 7, 12, 13, 40)] == ["1", "3", "4-6", "4-6", "7-12", "7-12",
                                                                       "13+", "13+"]
    assert math.isnan(baselines([], [], [1])["naive"][0])


def test_skill_compares_only_the_points_a_baseline_has():
    # the second series has no data before the cut: no naive value there; skill is on the first point alone
    s = score([100.0, 100.0], [[110.0, 200.0], [110.0, 200.0]], [1, 1], {"naive": np.array([120.0, np.nan])})
    nv = s["baselines"]["naive"]
    assert (nv["points"], nv["model_ard"], nv["ard"]) == (1, pytest.approx(0.1), pytest.approx(0.2))
    assert nv["skill"] == pytest.approx(0.5) and s["ard_median"] == pytest.approx(0.55)
    assert "on the 1 points it has a value at" in verdict(s)
