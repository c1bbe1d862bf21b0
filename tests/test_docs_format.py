"""docs/format.md: its processing-system example runs as printed, and each of its what-ifs does what the page
says (issue 20, items 7 and 8)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import refuge
from refuge.errors import RefugeError
from refuge.scenario import parse

DOC = Path(__file__).parent.parent / "docs" / "format.md"


def example_text() -> str:
    return re.search(r"```yaml\n(.*?)```", DOC.read_text(), re.S).group(1)


@pytest.fixture(scope="module")
def island(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("doc") / "island.yaml"
    path.write_text(example_text())
    return path


def test_the_processing_example_validates_runs_and_compares(island, tmp_path):
    model = refuge.load(island)
    run = refuge.simulate(model, seed=1)
    moved = run.to_df("flows")
    assert moved.loc[moved.transition.str.startswith("interview"), "value"].sum() > 1000
    for state in ("relocated", "returned"):
        assert run.stocks[-1, model.state_index(state)] > 0
    cmp = refuge.compare(island, runs=3, workers=1, store=tmp_path / "c")
    assert set(cmp.table.variant) == {"double_interviews", "team_in_may", "interview_like_registration"}
    got = cmp.table.set_index(["variant", "outcome"])["difference"]
    assert got["double_interviews", "in_centre"] < 0 and got["team_in_may", "in_centre"] < 0  # shorter queues


def test_a_value_from_a_date_is_a_schedule_point_added_for_the_variant(island):
    sc = refuge.read(island)
    double = sc.with_values({"interviews_per_day@2023-03-01": 80})
    model = refuge.compile_scenario(double)
    params = refuge.simulate(model, seed=0).to_df("params", "interviews_per_day").set_index("date")["value"]
    assert params["2023-02-28"] == 40 and params["2023-03-01"] == 80 and params["2024-06-30"] == 80
    base = refuge.simulate(refuge.compile_scenario(sc), seed=0).to_df("params", "interviews_per_day")
    assert base.set_index("date")["value"]["2023-09-01"] == 60  # the scenario's own second team


def test_a_named_schedule_point_moves_to_another_date(island):
    sc = refuge.read(island)
    early = refuge.simulate(refuge.compile_scenario(sc.with_values({"second_team_starts": "2023-05-01"})), seed=0)
    params = early.to_df("params", "interviews_per_day").set_index("date")["value"]
    assert params["2023-04-30"] == 40 and params["2023-05-01"] == 60
    text = example_text().replace("{date: 2023-09-01, value: 60, name: second_team_starts}",
                                  "{date: 2023-05-01, value: 60, name: second_team_starts}")
    by_hand = refuge.simulate(refuge.compile_scenario(parse(yaml.safe_load(text))), seed=0)
    assert np.array_equal(early.stocks, by_hand.stocks)


def test_a_monthly_profile_multiplies_each_month(island):
    run = refuge.simulate(refuge.load(island), seed=0)
    boats = run.to_df("params", "arrivals_per_day").set_index("date")["value"]
    factors = [0.4, 0.4, 0.6, 0.9, 1.2, 1.5, 1.7, 1.7, 1.3, 0.9, 0.6, 0.4]
    for month, f in enumerate(factors, start=1):
        assert boats[f"2023-{month:02d}-15"] == pytest.approx(50 * f)
    assert boats["2024-06-30"] == pytest.approx(50 * 1.5)  # every year of the scenario


def test_the_command_line_forms_of_the_variants(island, tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    res = CliRunner().invoke(app, ["compare", str(island), "--runs", "2", "--workers", "1",
                                   "--out", str(tmp_path / "o"), "--variant", "later:second_team_starts=2024-01-01",
                                   "--variant", "march:interviews_per_day@2023-03-01=80",
                                   "--variant", "same:interviews_per_day=registrations_per_day"])
    assert res.exit_code == 0, res.output
    for name in ("later", "march", "same"):
        assert name in res.output
    bad = CliRunner().invoke(app, ["compare", str(island), "--runs", "2", "--out", str(tmp_path / "b"),
                                   "--variant", "later:second_team_starts=2024-02-30"])
    assert bad.exit_code == 2 and "expected a date YYYY-MM-DD after `second_team_starts=`" in bad.output


def test_evidence_may_be_an_assumption(island):
    model = refuge.load(island)
    fact = model.evidence[0]
    assert fact["source"] == "assumption" and "4,000 interviews" in fact["fact"]
    text = example_text().replace("    assumption: true                       # the author's", "    # the author's")
    with pytest.raises(RefugeError, match="`source`.*or `assumption: true`"):
        parse(yaml.safe_load(text), "island.yaml")
