"""`rest_of`: a parameter that is 1 minus a share (the rest of it), kept so when calibration or a what-if moves
the share."""

from __future__ import annotations

import copy

import pytest

from refuge.errors import ScenarioError
from refuge.inference.simulator import uncertain_parameters
from refuge.model.compiler import compile_scenario
from refuge.scenario.format import parse

BASE = {
    "name": "rest", "start": "2020-01-01", "end": "2020-03-31",
    "states": [{"name": "a", "kind": "other", "initial": 1000}, {"name": "b", "kind": "other"},
               {"name": "c", "kind": "other"}],
    "transitions": [{"name": "go", "from": "a", "rate": 0.1, "capacity": "cap_b", "to": "b"},
                    {"name": "go_c", "from": "a", "rate": 0.1, "capacity": "cap_c", "to": "c"}],
    "parameters": {"share": {"value": 0.7, "assumption": True, "prior": {"dist": "uniform", "low": 0.5, "high": 0.9}},
                   "rest": {"rest_of": "share", "assumption": True},
                   "cap_b": {"value": 10, "assumption": True}, "cap_c": {"value": 10, "assumption": True}},
    "rules": [{"name": "split", "signal": {"stock": ["a"]}, "above": 0, "assumption": True,
               "actions": [{"multiply": {"parameter": "cap_b", "by": "share"}},
                           {"multiply": {"parameter": "cap_c", "by": "rest"}}]}],
}


def test_the_rest_follows_the_share_in_what_ifs_and_calibration_draws():
    sc = parse(BASE)
    assert sc.parameters["rest"].value == pytest.approx(0.3)
    assert sc.with_values({"share": 0.55}).parameters["rest"].value == pytest.approx(0.45)
    assert "rest" not in uncertain_parameters(sc)  # only the share is drawn
    m = compile_scenario(sc.with_values({"share": 0.6}), "rest.yaml")
    assert m.pbase[0, m.param_names.index("rest")] == pytest.approx(0.4)


@pytest.mark.parametrize("change, where", [
    (lambda d: d["parameters"]["rest"].update(rest_of="shar"), "parameters.rest.rest_of"),
    (lambda d: d["parameters"]["share"].update(value=1.5), "parameters.rest.rest_of"),
    (lambda d: d.update(schedules=[{"parameter": "share", "assumption": True,
                                    "points": [{"date": "2020-02-01", "value": 0.6}]}]), "parameters.rest.rest_of"),
])
def test_a_rest_of_a_share_that_cannot_stay_its_rest_is_an_error_naming_the_field(change, where):
    data = copy.deepcopy(BASE)
    change(data)
    with pytest.raises(ScenarioError) as exc:
        compile_scenario(parse(data), "rest.yaml")
    assert where in str(exc.value)


def test_a_rest_of_with_its_own_prior_or_a_dated_change_of_its_share_is_refused():
    data = copy.deepcopy(BASE)
    data["parameters"]["rest"]["prior"] = {"dist": "uniform", "low": 0, "high": 1}
    with pytest.raises(ScenarioError, match="give the prior to it"):
        parse(data)
    with pytest.raises(ScenarioError, match="a change throughout"):
        parse(BASE).with_values({"share@2020-02-01": 0.6})
