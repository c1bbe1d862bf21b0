"""`refuge check`: facts measured over an ensemble, per-mission and per-year figures, exit codes.

The scenarios in tests/scenarios/check_*.yaml have answers worked out by hand (see their headers).
"""

from __future__ import annotations

import json
import math
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.evidence.check import site_table, to_json, year_table
from refuge.evidence.measures import measure_all
from refuge.experiments.check import check

HERE = Path(__file__).parent / "scenarios"
KNOWN = HERE / "check_known.yaml"
REQUIRED = HERE / "check_required.yaml"
RANDOM = HERE / "check_random.yaml"


def test_facts_with_known_answers_hold_or_fail_as_worked_out():
    result = check(KNOWN, runs=3, seed=0)
    facts = result.facts.set_index("id")
    expected = {"inside-on-day-3": 10, "cleared-by-day-10": 10, "longest-on-day-3": 3, "wait-five-days": 5,
                "closed-while-crowded": 1, "crowded-half-of-ten-days": 0.5, "more-than-ten-inside": 10}
    for fact_id, value in expected.items():
        row = facts.loc[fact_id]
        assert row["median"] == row["low"] == row["high"] == value, fact_id
    holding = facts["holds_median"]
    assert not holding["more-than-ten-inside"] and facts.loc["more-than-ten-inside", "share_holding"] == 0
    assert holding.drop("more-than-ten-inside").all()
    assert result.share_holding == pytest.approx(6 / 7)
    assert result.failed_required == []
    assert list(facts.columns[:2]) == ["source", "fact"]


def test_site_and_year_figures_with_known_answers():
    result = check(KNOWN, runs=2)
    missions = result.sites.set_index("metric")
    figures = {"entries": 10, "person_days": 50, "peak_occupancy": 10, "days_closed": 5,
               "days_in_site_median": 5, "days_in_site_mean": 5, "days_in_site_p90": 5, "days_in_site_longest": 5,
               "still_inside": 0, "meals_per_day_peak": 30, "beds_per_day_peak": 10,
               "meals_per_day_mean": 3 * 50 / 31, "beds_per_day_mean": 50 / 31}
    for metric, value in figures.items():
        assert missions.loc[metric, "median"] == pytest.approx(value), metric
    years = result.yearly.set_index("metric")
    assert (result.yearly["year"] == 2020).all()
    assert years.loc["entries", "median"] == 10 and years.loc["arrivals", "median"] == 10
    # no custody or returned states: no arrests or returns reported (outcomes follow the scenario's kinds)
    assert set(years.index) == {"entries", "arrivals"}
    assert years.loc["entries", "label"] == "entries into refuge"


def test_one_run_tables_match_its_stocks_and_flows():
    run = refuge.simulate(KNOWN, seed=4)
    table = site_table(run)
    assert table["site"].tolist() == ["embassy"]
    assert table.loc[0, "person_days"] == run.stock_of(["embassy"]).sum() == 50
    years = year_table(run)
    assert years.loc[0, "arrivals"] == run.flow_of(["clear"]).sum()


def test_median_and_interval_summarise_the_runs_seeded_seed_plus_r():
    result = check(RANDOM, runs=40, seed=7)
    model = refuge.load(RANDOM)
    direct = np.array([measure_all(refuge.simulate(model, seed=7 + r)) for r in range(40)])
    assert np.array_equal(result.values, direct)
    row = result.facts.iloc[0]
    assert row["median"] == np.median(direct[:, 0])
    assert (row["low"], row["high"]) == tuple(np.quantile(direct[:, 0], [0.05, 0.95]))
    # Binomial(1000, exp(-0.62)): mean 537.9, sd 15.8.
    assert abs(row["median"] - 1000 * math.exp(-0.62)) < 3 * 15.8 / math.sqrt(40) * 1.3
    assert 1.645 * 15.8 * 0.6 < (row["high"] - row["low"]) / 2 < 1.645 * 15.8 * 1.4


def test_results_do_not_depend_on_the_number_of_workers():
    from refuge.experiments.ensemble import shutdown_pools

    serial = check(RANDOM, runs=6, seed=3, workers=1)
    try:
        pooled = check(RANDOM, runs=6, seed=3, workers=2)
    finally:
        shutdown_pools()
    assert np.array_equal(serial.values, pooled.values)
    assert np.array_equal(serial.year_values, pooled.year_values)


def test_a_failing_required_fact_is_reported():
    result = check(REQUIRED, runs=2)
    assert result.failed_required == ["twenty-arrived"]
    assert result.sites.empty  # no site in this scenario: an empty table, not an error


def test_json_has_no_nan_and_round_trips():
    data = json.loads(json.dumps(to_json(check(REQUIRED, runs=2))))
    assert data["facts"] == 2 and data["facts_holding_median"] == 1
    assert data["failed_required"] == ["twenty-arrived"]
    assert {row["id"] for row in data["evidence"]} == {"all-arrived", "twenty-arrived"}


def test_bad_arguments_are_refused_with_a_message():
    from refuge.errors import RefugeError

    with pytest.raises(RefugeError, match="runs"):
        check(KNOWN, runs=0)
    with pytest.raises(RefugeError, match="level"):
        check(KNOWN, runs=1, level=1.5)


# --- the command ----------------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(app, ["check", *map(str, args)])


def test_cli_table_exits_zero_when_required_facts_hold():
    result = invoke(KNOWN, "--runs", 3)
    assert result.exit_code == 0, result.output
    assert "6 of 7 facts hold in the median run (86%); required: 2 of 2 hold." in result.output
    for fact_id in ("inside-on-day-3", "more-than-ten-inside"):
        assert fact_id in result.output
    assert "Per site" in result.output and "Per year" in result.output and "mission" not in result.output


def test_cli_exits_one_and_names_the_failing_required_fact():
    result = invoke(REQUIRED, "--runs", 2)
    assert result.exit_code == 1
    assert "required facts failing" in result.output and "twenty-arrived" in result.output


def test_cli_csv_and_json_are_machine_readable(tmp_path):
    csv = invoke(KNOWN, "--runs", 2, "--format", "csv")
    assert csv.exit_code == 0
    table = pd.read_csv(StringIO(csv.output))
    assert len(table) == 7 and {"id", "source", "median", "low", "high", "holds_median"} <= set(table.columns)
    js = invoke(REQUIRED, "--runs", 2, "--format", "json", "--out", tmp_path)
    assert js.exit_code == 1
    assert json.loads(js.stdout)["failed_required"] == ["twenty-arrived"]
    for name in ("evidence", "sites", "years"):
        assert (tmp_path / f"{name}.csv").exists()


def test_cli_user_errors_are_short_messages():
    bad = invoke(KNOWN, "--format", "xml")
    assert bad.exit_code == 2 and "--format" in bad.output and "Traceback" not in bad.output
    missing = invoke(HERE / "no-such-scenario.yaml")
    assert missing.exit_code == 2 and "no such file" in missing.output


# --- the evidence measures `closed` and `active`, and schedule points naming a parameter ------------------


def test_closed_and_active_need_a_date_or_a_period():
    from refuge.errors import ScenarioError
    from refuge.scenario import parse

    base = refuge.read(KNOWN).model_dump(by_alias=True, mode="json")
    base["evidence"] = [{"id": "x", "source": {"file": "f", "fact": "f"}, "measure": {"closed": ["embassy"]},
                         "bound": "exact", "value": 1}]
    with pytest.raises(ScenarioError, match="either a `date` or a `period`"):
        parse(base)
    base["evidence"][0]["date"] = "2020-01-04"
    base["evidence"][0]["measure"] = {"active": ["crowdd"]}
    with pytest.raises(ScenarioError, match="crowded"):  # an unknown rule name gets a suggestion
        refuge.compile_scenario(parse(base))


def test_schedule_points_may_name_a_parameter_that_calibration_can_move():
    data = refuge.read(KNOWN).model_dump(by_alias=True, mode="json")
    data["parameters"]["later_wait"] = {"value": 8, "assumption": True}
    data["schedules"] = [{"parameter": "wait_days", "points": [{"date": "2020-01-15", "value": "later_wait"}]}]
    sc = refuge.read(KNOWN).model_validate(data)
    col = refuge.compile_scenario(sc).param_names.index("wait_days")
    before, after = refuge.compile_scenario(sc).pbase, refuge.compile_scenario(sc.with_values({"later_wait": 3})).pbase
    assert before[0, col] == after[0, col] == 5
    assert before[14, col] == 8 and after[14, col] == 3
