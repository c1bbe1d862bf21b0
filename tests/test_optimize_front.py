"""A Pareto front in `refuge optimize` (`objectives:`): a small queue whose front is known by hand."""

from __future__ import annotations

import json
import math

import pytest

from refuge.errors import RefugeError
from refuge.inference.optimize import optimize
from refuge.inference.optimize_front import FrontSearch, dominates
from refuge.inference.optimize_front_out import summary_lines
from refuge.inference.optimize_spec import Objective, parse_spec

# 1,000 people wait; decisions are limited to `cap` a day (everyone is ready), 5 a day in January: 845 wait on
# 1 February. From then `cap` = c a day: at the end of day k after 1 February (k = 0 on 1 February) 845 - (k + 1)c
# wait, at most 100 from k = ceil(745 / c) - 1.
QUEUE = """
name: queue
start: 2020-01-01
end: 2020-03-31
states:
  - {name: waiting, kind: other, initial: 1000}
  - {name: done, kind: destination}
  - {name: idle, kind: other, initial: 10}
transitions:
  - {name: decide, from: waiting, rate: 50, capacity: cap, to: done}
  - {name: tidy, from: idle, rate: 1.0e-9, capacity: spare, to: done}   # `spare`: a lever that changes nothing
parameters:
  cap: {value: 5, unit: people/day, assumption: true}
  spare: {value: 1, unit: people, assumption: true}
"""

CLEAR = {"clear": ["waiting"], "below": 100, "from": "2020-02-01"}


def clear_days(c: float) -> int:
    return math.ceil(745 / c) - 1


def spec(**over):
    base = {"runs": 3, "check_runs": 5, "trials": 20,
            "levers": [{"name": "capacity", "parameters": ["cap"], "from": "2020-02-01", "low": 13, "high": 70,
                        "step": 1, "cost": 1}],
            "objectives": [{"minimize": "cost"}, {"minimize": CLEAR, "probability": 0.9}]}
    base.update(over)
    return parse_spec(base)


@pytest.fixture
def queue(tmp_path):
    p = tmp_path / "queue.yaml"
    p.write_text(QUEUE)
    return p


def test_the_front_of_cost_against_time_to_clear_is_the_one_worked_out_by_hand(queue, tmp_path):
    """Each capacity c tried costs c and clears in ceil(745 / c) - 1 days; on the front: the cheapest c of each
    number of days (c = 61 clears in 12 days like 58, so it is dominated)."""
    r = optimize(queue, spec(), tmp_path / "out")
    tried = sorted(p.values["capacity"] for p in r.trials)
    assert len(tried) == 20 and tried[0] == 13 and tried[-1] == 70  # the grid spans the lever's range
    assert all(p.objectives == [p.values["capacity"], clear_days(p.values["capacity"])] for p in r.trials)
    by_days: dict[int, float] = {}
    for c in tried:
        by_days.setdefault(clear_days(c), c)
    assert [p.values["capacity"] for p in r.front] == sorted(by_days.values())
    assert 61 in tried and 61 not in [p.values["capacity"] for p in r.front]
    assert all(c.held(r.spec, p) and c.reach == [None, 1.0] and c.point.runs == 5 for p, c in zip(r.front, r.checks))
    out = tmp_path / "out"
    data = json.loads((out / "result.json").read_text())
    assert data["held_on_fresh_seeds"] == len(r.front) and data["front"][0]["objectives"][1]["value"] == 57
    assert data["front"][0]["recheck"]["objectives"][1]["share_reaching_claim"] == 1.0
    assert (out / "front.png").stat().st_size > 5000 and "o2_fresh_share" in (out / "front.csv").read_text()
    text = "\n".join(summary_lines(r))
    assert "capacity = 13: o1 13; o2 57 (90% of runs 57-57) in 1.00 [0.53, 1.00] of the runs, fresh: 1.00" in text
    assert f"held on fresh seeds: {len(r.front)} of" in text


def test_constraints_keep_infeasible_policies_off_the_front_with_two_levers(queue):
    """Two levers (Optuna's multi-objective TPE): `spare` costs and does nothing, so a front point never pays for
    more of it than another front point with the same capacity; a constraint (at most 100 waiting at the end of
    February with probability 0.9: c >= 26) keeps lower capacities off the front."""
    s = spec(trials=16, levers=[
        {"name": "capacity", "parameters": ["cap"], "from": "2020-02-01", "low": 13, "high": 70, "step": 1,
         "cost": 1},
        {"name": "spare", "parameters": ["spare"], "low": 0, "high": 10, "step": 1, "cost": 1}],
        constraints=[{"measure": {"stock": ["waiting"], "date": "2020-02-29"}, "at_most": 100,
                      "probability": 0.9}])
    r = optimize(queue, s, None)
    assert len(r.trials) == 16 and r.front
    assert all(p.values["capacity"] >= 26 and p.feasible for p in r.front)
    assert all(not p.feasible for p in r.trials if p.values["capacity"] < 26)
    feas = [p for p in r.trials if p.feasible]
    for p in feas:  # the front is exactly the feasible trials nothing dominates (up to equal objectives)
        beaten = any(dominates(q.objectives, p.objectives, s.objectives) for q in feas)
        on = any(q.objectives == p.objectives for q in r.front)
        assert beaten != on


def test_a_front_search_resumes_its_trials_and_its_fresh_checks(queue, tmp_path, monkeypatch):
    first = optimize(queue, spec(trials=6), tmp_path / "out")
    assert len(first.trials) == 6 and (tmp_path / "out" / "front_checks.json").exists()

    def never(*_a, **_k):
        raise AssertionError("ran again")

    monkeypatch.setattr(FrontSearch, "check", never)
    monkeypatch.setattr(FrontSearch, "runs_of", never)
    again = optimize(queue, spec(trials=6), tmp_path / "out")
    assert [p.values for p in again.front] == [p.values for p in first.front]
    (tmp_path / "out" / "front_checks.json").write_text('{"check_runs": 5, "checks": {"x": 3}}')
    with pytest.raises(RefugeError, match="front_checks.json: damaged"):
        optimize(queue, spec(trials=6), tmp_path / "out")


def test_an_objective_with_a_probability_is_the_value_reached_in_that_share_of_runs():
    x = list(range(1, 11))
    lo = Objective.model_validate({"minimize": CLEAR, "probability": 0.9})
    hi = Objective.model_validate({"maximize": CLEAR, "probability": 0.9})
    assert lo.of_runs(x) == 9 and hi.of_runs(x) == 2  # 9 of 10 runs at or under 9; at or over 2
    assert Objective.model_validate({"minimize": CLEAR}).of_runs(x) == 5.5
    assert Objective.model_validate({"minimize": CLEAR, "probability": 0.5}).of_runs([3.0]) == 3.0


@pytest.mark.parametrize("bad, message", [
    ({"objective": {"minimize": "cost"}}, "exactly one of `objective`"),
    ({"objectives": [{"minimize": "cost"}]}, "objectives"),
    ({"objectives": [{"minimize": "cost", "probability": 0.9}, {"minimize": CLEAR}]}, "probability"),
    ({"objectives": [{"minimize": "cost"}, {"minimize": {"clear": ["waiting"]}}]}, "below"),
    ({"objectives": [{"minimize": "cost"}, {"minimize": {**CLEAR, "below": float("nan")}}]}, "below"),
    ({"objectives": [{"minimize": "cost"}, {"minimize": "speed"}]}, "objectives.1"),
])
def test_a_bad_front_spec_gets_one_line_per_problem(bad, message):
    with pytest.raises(RefugeError) as exc:
        spec(**bad)
    assert message in str(exc.value) and "Traceback" not in str(exc.value)


def test_the_command_prints_the_front_as_json_and_csv(queue, tmp_path, capsys):
    from refuge.inference.optimize import main

    s = tmp_path / "spec.yaml"
    s.write_text("runs: 3\ncheck_runs: 4\ntrials: 4\nlevers:\n  - {name: capacity, parameters: [cap], from: "
                 "2020-02-01, low: 20, high: 50, step: 1, cost: 1}\nobjectives:\n  - {minimize: cost}\n"
                 "  - {minimize: {clear: [waiting], below: 100, from: 2020-02-01}, probability: 0.9}\n")
    assert main([str(queue), "--spec", str(s), "--out", str(tmp_path / "o"), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [p["values"]["capacity"] for p in out["front"]] == [20, 30, 40, 50]
    assert main([str(queue), "--spec", str(s), "--out", str(tmp_path / "o"), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("trial,capacity,o1,o1_fresh,o2,o2_lo90") and len(lines) == 5
