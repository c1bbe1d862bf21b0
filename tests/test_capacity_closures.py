"""Processing capacity (a transition served at most N a day or per period, first come first served) and
closures (a closed site admits nobody from outside; moves between its own states go on unless it is a full
stop), in the fast engine. The reference engine follows the same rules: tests/test_reference_equivalence.py
compares the two on tests/scenarios/ref_office.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from refuge.api import load, simulate, simulate_reference
from refuge.errors import ScenarioError
from refuge.model.compiler import compile_scenario
from refuge.scenario import parse
from refuge.sim.invariants import check_invariants

CAMP = Path(__file__).parent / "scenarios" / "interview_office.yaml"
BORDER_CAMP = Path(__file__).parent / "scenarios" / "border_camp.yaml"


def camp(**changes):
    """The border camp, with top-level sections replaced by `changes` (dicts as in the file)."""
    import yaml

    doc = yaml.safe_load(CAMP.read_text())
    doc.update(changes)
    return compile_scenario(parse(doc))


def queue_at_start(run, state: str) -> np.ndarray:
    """People in `state` at the start of each day (the end of the day before)."""
    stock = run.stock_of([state])
    return np.concatenate([[0], stock[:-1]])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_office_of_20_a_day_interviews_exactly_20_whenever_20_are_waiting(seed):
    run = simulate(load(CAMP), seed=seed)
    check_invariants(run)
    served = run.flow_of(["interview"])
    waiting = queue_at_start(run, "registered")  # all of them have waited their day
    assert served.max() == 20
    assert (served[waiting >= 20] == 20).all()
    assert (served[waiting < 20] == waiting[waiting < 20]).all()  # a short queue is served in full
    assert (waiting >= 20).sum() > 150  # the queue is long on most days


def test_first_come_first_served():
    run = simulate(load(CAMP), seed=4)
    m = run.model
    waited = run.stays[run.stays[:, 0] == m.state_index("registered")]
    # ordered by day of interview, entries into the queue never go back in time
    waited = waited[np.argsort(waited[:, 2], kind="stable")]
    assert (np.diff(waited[:, 1]) >= 0).all()


def test_the_capacity_is_a_parameter_schedules_and_rules_move():
    m = camp(schedules=[{"parameter": "office_per_day", "points": [{"date": "2022-03-01", "value": 8}],
                         "assumption": True}])
    run = simulate(m, seed=1)
    day = m.day(__import__("datetime").date(2022, 3, 1))
    served = run.flow_of(["interview"])
    assert (served[20:day] == 20).all() and (served[day:] == 8).all()
    m = camp(rules=[{"name": "slow", "signal": {"stock": ["registered"]}, "above": 300, "below": 100,
                     "actions": [{"multiply": {"parameter": "office_per_day", "by": 0.5}}]}])
    run = simulate(m, seed=1)
    on = run.rules_active[:, 0]
    assert on.any() and (run.flow_of(["interview"])[on] == 10).all()


def test_a_capacity_per_period_renews_at_the_start_of_each_period():
    import yaml

    doc = yaml.safe_load(CAMP.read_text())
    doc["transitions"][2]["capacity"] = {"people": 100, "days": 7}
    run = simulate(compile_scenario(parse(doc)), seed=1)
    check_invariants(run)
    weekly = run.flow_of(["interview"]).reshape(-1)[: run.days // 7 * 7].reshape(-1, 7).sum(axis=1)
    assert weekly.max() == 100 and (weekly[2:] == 100).all()  # a long queue uses each week's 100
    assert run.flow_of(["interview"])[14] == 100  # first come, first served: all on the week's first day


def test_a_camp_closed_to_newcomers_keeps_registering_and_interviewing_those_inside():
    m = load(CAMP)
    run = simulate(m, seed=1)
    closed = run.closed_sites[:, m.site_names.index("camp")]
    assert closed.sum() == 39
    assert run.flow_of(["enter"])[closed].sum() == 0  # nobody comes in from outside
    assert run.flow_of(["register"])[closed].sum() > 0  # those in reception still register
    served, waiting = run.flow_of(["interview"])[closed], queue_at_start(run, "registered")[closed]
    assert (served == np.minimum(waiting, 20)).all() and served.sum() > 20 * 30  # the office works on
    reopened = np.flatnonzero(np.diff(closed.astype(int)) == -1)[0] + 1
    assert run.flow_of(["register"])[reopened] < 100  # no pile-up of registrations on reopening


def test_a_full_stop_halts_moves_inside_the_site_too():
    import yaml

    doc = yaml.safe_load(CAMP.read_text())
    doc["sites"][0]["closed"][0]["full_stop"] = True
    run = simulate(compile_scenario(parse(doc)), seed=1)
    check_invariants(run)
    closed = run.closed_sites[:, 0]
    assert run.stopped_sites[closed].all()
    for name in ("enter", "register", "interview"):
        assert run.flow_of([name])[closed].sum() == 0, name
    assert run.flow_of(["decision"])[closed].sum() > 0  # leaving the site is not entering it


def test_a_rule_can_close_a_site_to_newcomers_or_stop_it():
    for full_stop in (False, True):
        m = camp(rules=[{"name": "full", "signal": {"occupancy": "camp"}, "above": 600, "below": 300,
                         "actions": [{"close": "camp", "full_stop": full_stop}]}])
        run = simulate(m, seed=2)
        check_invariants(run)
        on = run.rules_active[:, 0]
        assert on.any() and run.flow_of(["enter"])[on].sum() == 0
        assert (run.flow_of(["register"])[on].sum() == 0) == full_stop


def test_the_reference_engine_serves_20_a_day_too():
    run = simulate_reference(load(CAMP), seed=1, until=__import__("datetime").date(2022, 3, 31))
    check_invariants(run)
    served = run.flow_of(["interview"])
    waiting = queue_at_start(run, "registered")
    assert served.max() == 20 and (served[waiting >= 20] == 20).all()
    closed = run.closed_sites[:, 0]
    assert run.flow_of(["enter"])[closed].sum() == 0 and run.flow_of(["register"])[closed].sum() > 0


@pytest.mark.parametrize("capacity, field, expected", [
    (-5, "transitions[2].capacity", "people served (a transition's capacity): finite, at least 0"),
    ("office_per_dya", "transitions[2].capacity", "office_per_day"),
    ({"people": 10, "days": 0}, "transitions.2.capacity", "greater than or equal to 1"),
])
def test_a_bad_capacity_names_its_field(capacity, field, expected):
    import yaml

    doc = yaml.safe_load(CAMP.read_text())
    doc["transitions"][2]["capacity"] = capacity
    with pytest.raises(ScenarioError) as err:
        compile_scenario(parse(doc, origin="camp.yaml"))
    text = str(err.value)
    assert expected in text and ("capacity" in text)


def test_full_stop_belongs_to_closing_a_site():
    with pytest.raises(ScenarioError, match=r"actions\[0\].full_stop"):
        camp(rules=[{"name": "r", "signal": {"stock": ["gate"]}, "above": 1,
                     "actions": [{"close": "reception", "full_stop": True}]}])


def test_the_new_users_border_camp_gives_20_a_day_and_keeps_interviewing_while_closed():
    m = load(BORDER_CAMP)
    for seed in (1, 2):
        run = simulate(m, seed=seed)
        check_invariants(run)
        served, waiting = run.flow_of(["interview"]), queue_at_start(run, "queue")
        assert served.max() == 20 and (served[waiting >= 20] == 20).all()
        closed = run.closed_sites[:, m.site_names.index("camp")]
        turned_away = np.diff(run.stock_of(["turned_away"]), prepend=0)
        assert closed.sum() == 39 and (turned_away[closed] == run.arrived[closed, 0]).all()  # newcomers go away
        assert (served[closed] == np.minimum(waiting[closed], 20)).all() and served[closed].sum() > 0
