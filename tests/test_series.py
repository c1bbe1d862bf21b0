"""Time-series evidence: Flee's ARD on hand-worked numbers, interpolation, series in scenarios, and errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.errors import ScenarioError
from refuge.evidence.series import ard, coverage, daily_errors, interpolate, location_ards
from refuge.experiments.check import check
from refuge.scenario import parse

HERE = Path(__file__).parent / "scenarios"
KNOWN = HERE / "series_known.yaml"

# Two camps over three days; camp B has no data on day 3.
SIM = np.array([[10, 0], [20, 10], [30, 10]], float)
DATA = np.array([[10, 5], [10, 10], [40, math.nan]])


def test_ard_by_hand():
    # E(1) = (0 + 5) / 15, E(2) = (10 + 0) / 20, E(3) = 10 / 40 (only A has data)
    assert daily_errors(SIM, DATA) == pytest.approx([1 / 3, 0.5, 0.25])
    assert ard(SIM, DATA) == pytest.approx((1 / 3 + 0.5 + 0.25) / 3)


def test_rescaled_ard_by_hand():
    # day 1: sims x 15/10 -> 15, 0: (5 + 5) / 15; day 2: x 20/30 -> 13.33, 6.67: 6.67 / 20; day 3: x 40/30 -> 40: 0
    assert daily_errors(SIM, DATA, rescaled=True) == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert ard(SIM, DATA, rescaled=True) == pytest.approx(1 / 3)


def test_per_location_ard_and_small_denominators():
    assert location_ards(SIM, DATA) == pytest.approx([(0 + 1 + 0.25) / 3, (1 + 0) / 2])
    # a day with no one in the data divides by 1, not 0
    assert ard(np.array([[2.0]]), np.array([[0.0]])) == 2.0
    assert math.isnan(ard(np.array([[2.0]]), np.array([[math.nan]])))


def test_interpolation_is_linear_between_points_and_flat_outside():
    assert interpolate([0, 10], [0, 100], np.array([-5, 0, 5, 10, 20])) == pytest.approx([0, 0, 50, 100, 100])


def test_coverage_counts_points_inside_the_band():
    sims = np.tile(np.arange(100.0)[:, None], (1, 3))  # every point's band is about 5..94
    assert coverage(sims, np.array([50.0, 2.0, 99.0])) == pytest.approx(1 / 3)


def test_scenario_series_scored_as_worked_out():
    # waiting: sim 10 on days 0-4 then 0; data 10 - t to day 10, then 0 (see the scenario's header)
    by_hand = (0 + 1 / 9 + 2 / 8 + 3 / 7 + 4 / 6 + 5 * 1) / 20
    table = check(KNOWN, runs=3).series.set_index("id")
    assert table.loc["waiting-counts", "ard"] == pytest.approx(by_hand)
    # rescaled to its own data, a lone series would score only days 5-9 (no one in sim): left blank
    assert math.isnan(table.loc["waiting-counts", "ard_rescaled"])
    assert ard(np.array([[10.0]] * 5 + [[0.0]] * 5), np.array([[10.0 - t] for t in range(10)]), True) == \
        pytest.approx(1.0 / 2)
    assert table.loc["waiting-counts", "coverage"] == 1.0
    assert table.loc["group all", "ard"] == pytest.approx(by_hand)
    # arrivals: 0 vs 4, then 10 vs 10
    assert table.loc["arrivals-by-period", "ard"] == pytest.approx(0.5)
    assert table.loc["arrivals-by-period", "coverage"] == 0.5
    assert table.loc["arrivals-by-period", "points"] == 2


def test_series_measured_in_a_run_matches_its_stocks():
    from refuge.evidence.series import simulate_all

    run = refuge.simulate(KNOWN, seed=2)
    stock, flow = simulate_all(run)
    assert np.array_equal(stock, run.stocks[:, run.model.state_index("waiting")])
    assert flow.tolist() == [0, 10]


def _scenario(tmp_path: Path, csv_text: str | None, measure: str = "{stock: [waiting]}") -> Path:
    text = KNOWN.read_text().split("evidence:")[0] + f"""evidence:
  - id: s
    source: {{file: x, fact: y}}
    measure: {measure}
    series: {{file: data/s.csv}}
"""
    (tmp_path / "data").mkdir(exist_ok=True)
    if csv_text is not None:
        (tmp_path / "data" / "s.csv").write_text(csv_text)
    path = tmp_path / "sc.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("csv_text, words", [
    (None, ["evidence[0].series.file", "s.csv", "no such file"]),
    ("date,value\n2020-01-01,3\n2020-13-01,4\n", ["s.csv line 3, column 1 (date)", "2020-13-01"]),
    ("date,value\n2020-01-01,three\n", ["s.csv line 2, column 2 (value)", "three"]),
    ("date,value\n2020-01-02,3\n2020-01-01,4\n", ["line 3", "increasing order"]),
    ("date,value\n2020-01-02,-3\n", ["line 2", ">= 0"]),
    ("date,value\n", ["no data rows"]),
])
def test_bad_series_files_are_named_with_line_and_column(tmp_path, csv_text, words):
    with pytest.raises(ScenarioError) as exc:
        refuge.load(_scenario(tmp_path, csv_text))
    for w in words:
        assert w in str(exc.value)


def test_unknown_state_and_points_outside_the_period(tmp_path):
    with pytest.raises(ScenarioError, match=r"evidence\[0\]\.measure\.stock\[0\].*waitng"):
        refuge.load(_scenario(tmp_path, "2020-01-01,3\n", "{stock: [waitng]}"))
    with pytest.raises(ScenarioError, match=r"evidence\[0\]\.series: expected at least one data point"):
        refuge.load(_scenario(tmp_path, "2021-01-01,3\n", "{into: [arrived]}"))


def test_a_series_has_no_bound():
    base = refuge.load(KNOWN).scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    base["evidence"][1]["bound"] = "exact"
    with pytest.raises(ScenarioError, match="no `date` or `bound`"):
        parse(base)


def test_check_ends_with_a_verdict_that_says_it_is_in_sample():
    from refuge.evidence.check_text import verdict

    result = check(KNOWN, runs=3)
    v = verdict(result)
    cov = result.series_points["inside"].mean()
    assert f"band held {cov:.0%} of {len(result.series_points)} series data points" in v
    assert "run ARD of group all" in v and "in sample" in v and "refuge backtest" in v
