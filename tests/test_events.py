"""Known historical events as inputs: a group of a given size enters a state (or a site) on a given day.

Both engines replay them the same way (the scenarios here are deterministic); an event taken `from` a
counted state moves people rather than adding them; a fact replayed as an event may not also be evidence.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import refuge
from refuge.api import simulate_reference
from refuge.errors import ScenarioError
from refuge.experiments.check import check
from refuge.model.compiler import compile_scenario
from refuge.scenario import parse

BASE = """
name: events
start: 2020-01-01
end: 2020-01-20
sites:
  - {name: embassy, capacity: 40, closed: [{from: 2020-01-05, to: 2020-01-07}]}
states:
  - {name: hiding, kind: hiding, initial: 100}
  - {name: inside, kind: refuge, site: embassy}
  - {name: arrived, kind: destination}
transitions:
  - {name: clear, from: inside, duration: {dist: fixed, value: 10}, to: arrived}
events:
  - {name: nine_over_the_wall, date: 2020-01-03, to: embassy, size: 9, from: hiding,
     source: {file: report, fact: nine people climbed over the wall}}
  - {name: flown_in, date: 2020-01-04, to: arrived, size: group,
     source: {file: report, fact: a group was flown in}}
  - {name: while_closed, date: 2020-01-06, to: inside, size: 5, from: hiding,
     source: {file: report, fact: five entered the week the embassy shut}}
parameters:
  group: {value: 30, assumption: true}
evidence:
  - {id: inside-on-day-3, source: {file: report, fact: at least nine inside}, date: 2020-01-03,
     measure: {stock: [inside]}, bound: at_least, value: 9}
  - {id: flown, source: {file: report, fact: thirty flown}, period: {from: 2020-01-01, to: 2020-01-10},
     measure: {arrivals: [flown_in]}, bound: exact, value: 30}
"""


def _scenario(text: str = BASE, **changes):
    data = yaml.safe_load(text)
    data.update(changes)
    return parse(data)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_events_replay_the_record(engine, assert_sound):
    model = compile_scenario(_scenario())
    run = refuge.simulate(model, seed=1) if engine == "fast" else simulate_reference(model, seed=1)
    assert_sound(run)
    s = {n: run.stocks[:, i] for i, n in enumerate(model.state_names)}
    # day 2 (3 January): nine leave hiding for the embassy and stay ten days
    assert s["inside"][1] == 0 and s["inside"][2] == 9 and s["hiding"][2] == 91
    # day 3: thirty come from outside straight to their destination
    assert s["arrived"][3] == 30 and run.arrived[3, model.arrival_names.index("flown_in")] == 30
    # the embassy is closed on 5-7 January: the five of 6 January wait in hiding and get in on the 8th
    assert s["inside"][6] == 9 and s["hiding"][6] == 91
    assert s["inside"][7] == 14 and s["hiding"][7] == 86
    assert run.arrived[7, model.arrival_names.index("while_closed")] == 5
    # the nine are cleared after ten days; nobody is created or lost
    assert s["arrived"][12] == 39
    assert (run.stocks.sum(axis=1)[3:] == 130).all()


def test_both_engines_agree_on_events():
    model = compile_scenario(_scenario())
    a, b = refuge.simulate(model, seed=3), simulate_reference(model, seed=3)
    assert np.array_equal(a.stocks, b.stocks) and np.array_equal(a.arrived, b.arrived)


def test_an_event_takes_no_more_than_are_there(assert_sound):
    data = yaml.safe_load(BASE)
    data["states"][0]["initial"] = 4
    model = compile_scenario(parse(data))
    run = refuge.simulate(model, seed=0)
    assert_sound(run)
    inside = model.state_names.index("inside")
    assert run.stocks[2, inside] == 4 and run.stocks[2, model.state_names.index("hiding")] == 0


def test_event_facts_are_measured_as_arrivals():
    facts = check(_scenario(), runs=2).facts.set_index("id")
    assert facts.loc["flown", "median"] == 30 and facts.loc["flown", "holds_median"]


def _problems(sc) -> str:
    with pytest.raises(ScenarioError) as err:
        compile_scenario(sc)
    return str(err.value)


def test_a_fact_used_as_an_input_is_refused_as_evidence():
    data = yaml.safe_load(BASE)
    data["evidence"].append({"id": "nine-climbed", "source": {"file": "report", "fact": "nine people climbed over "
                                                              "the wall"}, "period": {"from": "2020-01-03",
                                                                                      "to": "2020-01-03"},
                             "measure": {"arrivals": ["nine_over_the_wall"]}, "bound": "exact", "value": 9})
    text = _problems(parse(data))
    assert "events[0].source" in text and "nine_over_the_wall" in text and "nine-climbed" in text
    assert "input or evidence" in text


def test_bad_events_get_one_line_each():
    data = yaml.safe_load(BASE)
    data["events"][0]["from"] = "inside"          # tracked: people there are not a count
    data["events"][1]["to"] = "arived"            # a typo
    data["events"][2]["date"] = "2021-01-01"      # outside the period
    data["events"].append({"name": "flown_in", "date": "2020-01-02", "to": "arrived", "size": 1,
                           "assumption": True})
    text = _problems(parse(data))
    assert "events[0].from" in text and "tracked" in text
    assert "events[1].to" in text and "did you mean" in text
    assert "events[2].date" in text
    assert "events[3].name" in text


def test_an_event_needs_a_source_or_an_assumption():
    data = yaml.safe_load(BASE)
    del data["events"][0]["source"]
    with pytest.raises(ScenarioError) as err:
        parse(data)
    assert "events[0]" in str(err.value) and "assumption" in str(err.value)
