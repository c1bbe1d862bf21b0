"""A broken scenario file gets a short message naming the file, the field path, expected and found.

Property-based: hypothesis takes a valid scenario, breaks it in one of many ways, writes it to a
file and checks the error (through the API and through `refuge validate`), never a traceback.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from refuge.cli import app
from refuge.errors import ScenarioError
from refuge.model.compiler import compile_scenario
from refuge.scenario import read

BASE = yaml.safe_load((Path(__file__).parent / "scenarios" / "toy.yaml").read_text())
STATE_NAMES = [s["name"] for s in BASE["states"]]


def _tr(d, i):
    return d["transitions"][i]


# Each breakage: (description, function(data, draw) -> expected field path)
def unknown_target(d, i, word):
    _tr(d, i).pop("split", None)
    _tr(d, i)["to"] = word
    return f"transitions[{i}].to"


def unknown_source(d, i, word):
    _tr(d, i)["from"] = word
    return f"transitions[{i}].from"


def unknown_param(d, i, word):
    t = _tr(d, i)
    t.pop("duration", None)
    t["rate"] = word
    return f"transitions[{i}].rate"


def negative_rate(d, i, x):
    t = _tr(d, i)
    t.pop("duration", None)
    t["rate"] = -abs(x) - 0.001
    return f"transitions[{i}].rate"


def wrong_type_rate(d, i, x):
    t = _tr(d, i)
    t.pop("duration", None)
    t["rate"] = [x]
    return f"transitions[{i}].rate"


def bad_split(d, i, x):
    t = _tr(d, i)
    t.pop("to", None)
    t["split"] = [{"to": "custody", "p": 0.5}, {"to": "returned", "p": 0.5 + abs(x) + 0.01}]
    return f"transitions[{i}].split"


def date_outside(d, i, days):
    d["schedules"] = [{"parameter": "clear_days", "points": [
        {"date": d["end"] + dt.timedelta(days=1 + days), "value": 3}]}]
    return "schedules[0].points[0].date"


def instant_loop(d, i, _):
    d["transitions"].append({"name": "back", "from": "transit", "duration": {"dist": "fixed", "value": 0},
                             "to": "mission"})
    for t in d["transitions"]:
        if t["name"] == "clearance":
            t["duration"] = {"dist": "fixed", "value": 0}
    return f"transitions[{len(d['transitions']) - 1}].duration"


def unknown_field(d, i, word):
    _tr(d, i)["x" + word] = 1
    return f"transitions[{i}].x{word}"


def missing_kind(d, i, _):
    k = i % len(d["states"])
    d["states"][k].pop("kind")
    return f"states[{k}].kind"


def bad_dist(d, i, word):
    t = _tr(d, i)
    t.pop("rate", None)
    t["duration"] = {"dist": "weibul" + word, "mean": 3}
    return f"transitions[{i}].duration"


def missing_dist_field(d, i, _):
    t = _tr(d, i)
    t.pop("rate", None)
    t["duration"] = {"dist": "lognormal", "sigma": 0.5}
    return f"transitions[{i}].duration.median"


def unknown_site(d, i, word):
    k = i % len(d["states"])
    d["states"][k]["site"] = word
    return f"states[{k}].site"


def bad_rule_signal(d, i, word):
    d["rules"][0]["signal"] = {"flow": [word]}
    return "rules[0].signal.flow[0]"


def bad_date(d, i, word):
    d["start"] = "20x2-" + word
    return "start"


BREAKAGES = [unknown_target, unknown_source, unknown_param, negative_rate, wrong_type_rate, bad_split,
             date_outside, instant_loop, unknown_field, missing_kind, bad_dist, missing_dist_field, unknown_site,
             bad_rule_signal, bad_date]

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=10).filter(
    lambda w: w not in STATE_NAMES and w not in BASE["parameters"] and w not in ("rest", "wait"))


@st.composite
def broken(draw):
    breakage = draw(st.sampled_from(BREAKAGES))
    data = copy.deepcopy(BASE)
    i = draw(st.integers(0, len(data["transitions"]) - 1))
    arg = draw(st.one_of(names, st.floats(0, 5))) if breakage in (negative_rate, bad_split, wrong_type_rate) \
        else draw(names) if breakage not in (date_outside,) else draw(st.integers(0, 400))
    if breakage in (negative_rate, bad_split, wrong_type_rate) and isinstance(arg, str):
        arg = 1.0
    path = breakage(data, i, arg)
    return breakage.__name__, data, path


def _check_message(text: str, file: Path, path: str) -> None:
    assert str(file) in text
    assert "Traceback" not in text
    lines = [ln.strip() for ln in text.splitlines()[1:]]
    assert any(ln.startswith(path + ":") and "expected" in ln and "found" in ln for ln in lines), (path, text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=broken())
def test_every_breakage_is_reported_with_file_and_field_path(tmp_path_factory, case):
    name, data, path = case
    file = tmp_path_factory.mktemp("broken") / f"{name}.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as err:
        compile_scenario(read(file), str(file))
    _check_message(str(err.value), file, path)


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda b: b.__name__)
def test_validate_command_prints_the_problem_and_exits_2(tmp_path, breakage):
    data = copy.deepcopy(BASE)
    path = breakage(data, 1, "zzz" if breakage not in (negative_rate, bad_split, wrong_type_rate, date_outside)
                    else 1)
    file = tmp_path / "scenario.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(app, ["validate", str(file)])
    assert result.exit_code == 2
    _check_message(result.output, file, path)


def test_nearest_valid_name_is_suggested(tmp_path):
    data = copy.deepcopy(BASE)
    data["transitions"][1]["to"] = "transt"
    data["transitions"][1]["duration"]["median"] = "clear_dys"
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        compile_scenario(read(file), str(file))
    text = str(err.value)
    assert "did you mean `transit`?" in text
    assert "did you mean `clear_days`?" in text


def test_a_misspelt_field_name_gets_the_nearest_field_of_its_own_model(tmp_path):
    data = copy.deepcopy(BASE)
    data["states"][0]["intial"] = data["states"][0].pop("initial", 0)
    data["transitons"] = data.pop("transitions")
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        read(file)
    text = str(err.value)
    assert "states[0].intial: expected a known field; found unknown field `intial` (did you mean `initial`?)" in text
    assert "found unknown field `transitons` (did you mean `transitions`?)" in text


def test_all_problems_are_listed_at_once(tmp_path):
    data = copy.deepcopy(BASE)
    unknown_target(data, 0, "nowhere")
    negative_rate(data, 2, 1.0)
    unknown_site(data, 1, "embasy")
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        compile_scenario(read(file), str(file))
    assert len(err.value.problems) == 3


def test_invalid_yaml_and_missing_file_are_reported(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError) as err:
        read(file)
    assert str(file) in str(err.value) and "line" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        read(tmp_path / "nope.yaml")
    assert "no such file" in str(err.value)


def test_parameter_without_source_or_assumption_is_rejected(tmp_path):
    data = copy.deepcopy(BASE)
    data["parameters"]["success"].pop("assumption")
    file = tmp_path / "s.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        read(file)
    assert "parameters.success" in str(err.value) and "source" in str(err.value)


def test_the_valid_base_scenario_compiles():
    model = compile_scenario(read(Path(__file__).parent / "scenarios" / "toy.yaml"))
    assert model.state_names == STATE_NAMES
