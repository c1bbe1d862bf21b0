"""The user's scenarios of issue 20 ship as test scenarios: a reception centre (boats, registration, a health
check, interviews, decisions, appeals, relocation or return, a what-if from a date) and the minimal jam case
(one boat of 200 into a queue served 150 a day, 10 a day walking in). Both validate and run soundly."""

from __future__ import annotations

import pytest

import refuge


@pytest.mark.parametrize("name", ["reception-centre.yaml", "jam.yaml"])
def test_issue20_scenarios_load_and_run_soundly(scenarios_dir, assert_sound, name):
    model = refuge.load(scenarios_dir / name)
    run = refuge.simulate(model, seed=0)
    assert_sound(run)
    assert run.days == model.days


def test_reception_centre_declares_what_the_issue_describes(scenarios_dir):
    sc = refuge.load(scenarios_dir / "reception-centre.yaml").scenario
    caps = {t.name: t.capacity for t in sc.transitions if t.capacity is not None}
    assert caps == {"register": "registrations_per_day", "interview": "interviews_per_day"}
    assert sc.parameters["registrations_per_day"].value == 150
    assert sc.parameters["interviews_per_day"].value == 40
    assert sc.parameters["grant_share"].value == 0.45
    assert [s.site for s in sc.states if s.kind == "other"] == ["centre"] * 7
    (variant,) = sc.variants
    assert variant.set == {"interviews_from_march": 80}
    (schedule,) = sc.schedules
    assert schedule.parameter == "interviews_per_day" and str(schedule.points[0].date) == "2023-03-01"
