"""Policy search (`refuge optimize`): small scenarios whose optimum is known by hand."""

from __future__ import annotations

import json

import pytest

from refuge.errors import RefugeError
from refuge.inference.optimize import optimize, summary_lines
from refuge.inference.optimize_eval import wilson
from refuge.inference.optimize_spec import parse_spec, read_spec

# 1,000 people wait; decisions are limited to `cap` a day (everyone is ready: a rate of 50 a day).
QUEUE = """
name: queue
start: 2020-01-01
end: 2020-03-31
states:
  - {name: waiting, kind: other, initial: 1000}
  - {name: done, kind: destination}
transitions:
  - {name: decide, from: waiting, rate: 50, capacity: cap, to: done}
parameters:
  cap: {value: 5, unit: people/day, assumption: true}
"""

# people arrive at 2 a day into a mission that holds `room`; they leave after `clear` days (fixed).
MISSION = """
name: mission
start: 2020-01-01
end: 2020-06-30
sites: [{name: embassy, capacity: room}]
states:
  - {name: outside, kind: hiding, initial: 100000}
  - {name: inside, kind: refuge, site: embassy}
  - {name: gone, kind: destination}
transitions:
  - {name: enter, from: outside, rate: 2.0e-5, to: inside}
  - {name: leave, from: inside, duration: {dist: fixed, value: clear}, to: gone}
parameters:
  room: {value: 40, unit: people, assumption: true}
  clear: {value: 5, unit: days, assumption: true}
"""


def spec(**over):
    base = {"runs": 6, "check_runs": 20, "trials": 10,
            "levers": [{"name": "capacity", "parameters": ["cap"], "from": "2020-02-01", "low": 1, "high": 100,
                        "step": 1, "cost": 1}],
            "objective": {"minimize": "cost"},
            "constraints": [{"measure": {"stock": ["waiting"], "date": "2020-02-29"}, "at_most": 100,
                             "probability": 0.9}]}
    base.update(over)
    return parse_spec(base)


@pytest.fixture
def queue(tmp_path):
    p = tmp_path / "queue.yaml"
    p.write_text(QUEUE)
    return p


def test_the_smallest_capacity_is_found_exactly(queue, tmp_path):
    """January at 5 a day leaves 845; 29 days of February at c clear 29c, so c >= 745/29 = 25.7: 26."""
    r = optimize(queue, spec(), tmp_path / "out")
    assert r.best.values == {"capacity": 26.0} and r.best.feasible
    assert r.recheck.feasible and r.recheck.probabilities == [1.0]
    assert all(not c.feasible for c in r.trials if c.values["capacity"] < 26)
    out = json.loads((tmp_path / "out" / "result.json").read_text())
    assert out["best"]["values"] == {"capacity": 26.0} and out["recheck_inside_search_interval"] is True
    assert (tmp_path / "out" / "optimize.png").stat().st_size > 1000
    assert "capacity = 26" in "\n".join(summary_lines(r))


def test_a_search_resumes_without_running_finished_trials_again(queue, tmp_path):
    first = optimize(queue, spec(trials=5), tmp_path / "out")
    n = len(first.trials)
    again = optimize(queue, spec(trials=5), tmp_path / "out")
    assert len(again.trials) == n  # nothing new: the journal held every trial
    more = optimize(queue, spec(trials=8), tmp_path / "out")
    assert len([c for c in more.trials]) > n and more.best.values == {"capacity": 26.0}
    with pytest.raises(RefugeError, match="holds another search"):
        optimize(queue, spec(trials=8, seed=3), tmp_path / "out")


def test_the_slowest_clearance_that_keeps_the_room(tmp_path):
    """About 2 people a day enter (Poisson); with a fixed stay of `clear` days the mission holds about 2*clear,
    so keeping under a room of 40 with 90% probability allows a clearance well under 20 days."""
    p = tmp_path / "mission.yaml"
    p.write_text(MISSION)
    s = parse_spec({"runs": 20, "check_runs": 60, "trials": 12,
                    "levers": [{"name": "clear", "parameters": ["clear"], "low": 1, "high": 60, "step": 1}],
                    "objective": {"maximize": "clear"},
                    "constraints": [{"measure": {"room": "all"}, "less_than": 1, "probability": 0.9}]})
    r = optimize(p, s, None)
    best = r.best.values["clear"]
    assert 8 <= best <= 17 and r.best.feasible
    bigger = [c for c in r.trials if c.values["clear"] > best]
    assert bigger and not any(c.feasible for c in bigger)  # the boundary was closed in on from above
    lo, hi = r.best.intervals()[0]
    assert lo <= r.recheck.probabilities[0] + 0.15  # fresh seeds agree with the search, within noise


def test_the_answer_is_confirmed_on_seeds_of_its_own(tmp_path):
    """On 5 runs a candidate is easily lucky; the answer is confirmed on `check_runs` seeds no other stage uses,
    backing off to shorter clearances when the search's pick fails there; the fresh re-check then agrees."""
    p = tmp_path / "mission.yaml"
    p.write_text(MISSION)
    s = parse_spec({"runs": 5, "check_runs": 80, "trials": 12,
                    "levers": [{"name": "clear", "parameters": ["clear"], "low": 1, "high": 60, "step": 1}],
                    "objective": {"maximize": "clear"},
                    "constraints": [{"measure": {"room": "all"}, "less_than": 1, "probability": 0.9}]})
    r = optimize(p, s, None)
    lucky = max(c.values["clear"] for c in r.trials if c.feasible)  # the best on the search's 5 runs
    assert r.best.runs == 80 and r.best.feasible and r.best.values["clear"] <= lucky
    lo, hi = r.best.intervals()[0]
    assert lo - 0.05 <= r.recheck.probabilities[0] <= hi + 0.05
    assert "in the search (80 runs)" in "\n".join(summary_lines(r))


def test_the_figure_draws_a_recheck_that_held_in_every_run(queue, tmp_path):
    """16 of 16 runs holding: the Wilson interval's top is 0.9999999999999999, under the probability 1.0."""
    r = optimize(queue, spec(check_runs=16, trials=4), tmp_path / "out")
    assert r.recheck.probabilities == [1.0] and (tmp_path / "out" / "optimize.png").stat().st_size > 1000


def test_wilson_interval():
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    lo, hi = wilson(36, 40)
    assert lo < 0.9 < hi


@pytest.mark.parametrize("bad, message", [
    ({"levers": []}, "levers"),
    ({"objective": {"minimize": "nothing"}}, "objective"),
    ({"levers": [{"name": "x", "parameters": ["cap"], "low": 5, "high": 1}]}, "low"),
    ({"runs": 0}, "runs"),
    ({"constraints": [{"measure": {"stock": ["waiting"]}, "at_most": 1}]}, "date"),
])
def test_a_bad_spec_gets_one_line_per_problem(bad, message):
    with pytest.raises(RefugeError) as exc:
        spec(**bad)
    assert message in str(exc.value) and "Traceback" not in str(exc.value)


def test_names_are_checked_against_the_scenario(queue):
    s = spec(levers=[{"name": "c", "parameters": ["capp"], "low": 1, "high": 2}], objective={"minimize": "c"})
    with pytest.raises(RefugeError, match="capp"):
        optimize(queue, s)
    s = spec(constraints=[{"measure": {"stock": ["nowhere"], "date": "2020-02-01"}, "at_most": 1}])
    with pytest.raises(RefugeError, match="nowhere"):
        optimize(queue, s)


def test_a_spec_file_that_is_not_yaml_is_refused_in_one_line(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("levers: [\n  - {name: x\n")
    with pytest.raises(RefugeError) as exc:
        read_spec(p)
    assert str(p) in str(exc.value)


def test_a_driver_draws_one_walk_per_seed_the_same_for_every_candidate(queue):
    import refuge
    from refuge.inference.optimize_eval import apply_levers, with_drivers
    from refuge.inference.optimize_spec import Driver

    sc = refuge.load(queue).scenario
    d = Driver.model_validate({"parameter": "cap", "from": "2020-02-01", "every": 7, "sd": 0.3})
    a, b, c = with_drivers(sc, [d], 1), with_drivers(sc, [d], 1), with_drivers(sc, [d], 2)
    pa = [(p.date, p.value) for p in a.schedules[0].points]
    assert pa == [(p.date, p.value) for p in b.schedules[0].points]
    assert pa != [(p.date, p.value) for p in c.schedules[0].points]
    assert pa[0] == (d.start, 5.0) and len(pa) == 9  # from the level in force, a step a week to the end
    lever = spec().levers[0]
    other = with_drivers(apply_levers(sc, [lever], {"capacity": 40}), [d], 1)
    assert [(p.date, p.value) for p in other.schedules[0].points] == pa  # the lever does not move the walk


def test_the_command_line_runs_a_search_and_reports_bad_input_in_one_line(queue, tmp_path, capsys):
    from refuge.inference.optimize import main

    s = tmp_path / "spec.yaml"
    s.write_text("runs: 4\ncheck_runs: 6\ntrials: 4\nlevers:\n  - {name: capacity, parameters: [cap], from: "
                 "2020-02-01, low: 1, high: 100, step: 1, cost: 1}\nobjective: {minimize: cost}\nconstraints:\n"
                 "  - {measure: {stock: [waiting], date: 2020-02-29}, at_most: 100, probability: 0.9}\n")
    assert main([str(queue), "--spec", str(s), "--out", str(tmp_path / "o"), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["best"]["values"] == {"capacity": 26.0} and out["recheck"]["runs"] == 6
    s.write_text("runs: 4\nlevers: []\nobjective: {minimize: cost}\n")
    assert main([str(queue), "--spec", str(s)]) == 2
    err = capsys.readouterr().err
    assert "levers" in err and "Traceback" not in err


def test_refuge_optimize_is_a_command(queue, tmp_path):
    from typer.testing import CliRunner

    from refuge.cli import app

    s = tmp_path / "spec.yaml"
    s.write_text("runs: 4\ncheck_runs: 6\ntrials: 3\nlevers:\n  - {name: capacity, parameters: [cap], from: "
                 "2020-02-01, low: 1, high: 100, step: 1, cost: 1}\nobjective: {minimize: cost}\nconstraints:\n"
                 "  - {measure: {stock: [waiting], date: 2020-02-29}, at_most: 100, probability: 0.9}\n")
    result = CliRunner().invoke(app, ["optimize", str(queue), "--spec", str(s), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "capacity = 26" in result.output and (tmp_path / "o" / "trials.csv").exists()
    bad = CliRunner().invoke(app, ["optimize", str(queue), "--spec", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2 and "missing.yaml" in bad.output and "Traceback" not in bad.output
