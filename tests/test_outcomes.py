"""Outcomes in the scenario's own words: an `outcomes:` section with units, defaults by state kind, tables
titled by site; a new user's border camp prints its words, not the flagship's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import refuge
from refuge.cli import app
from refuge.errors import ScenarioError
from refuge.evidence.outcomes import outcomes

HERE = Path(__file__).parent / "scenarios"
CAMP = HERE / "border_camp.yaml"
TOY = HERE / "toy.yaml"
FLAGSHIP_WORDS = ("mission", "in refuge", "into refuge", "arrest", "custody", "forced return")


def test_declared_outcomes_count_what_they_name_with_units():
    model = refuge.load(CAMP)
    assert [o["name"] for o in model.outcomes] == ["registered", "waiting", "longest_wait", "turned_away",
                                                   "resettled"]
    assert {o["name"]: o["unit"] for o in model.outcomes}["longest_wait"] == "days"
    run = refuge.simulate(model, seed=2)
    out = outcomes(run)
    queue = model.state_index("queue")
    assert out["registered"] == run.flow_of(["interview"]).sum()
    assert out["waiting"] == pytest.approx(run.stocks[:, queue].mean())
    assert out["longest_wait"] == run.max_stay[:, queue].max()
    assert out["resettled"] == run.flow_of(["resettle"]).sum()
    turned = [e for e, t in enumerate(model.edge_target) if t == model.state_index("turned_away")]
    streams = [a for a, row in enumerate(model.arr) if row[0] == model.state_index("turned_away")]
    assert out["turned_away"] == run.flows[:, turned].sum() + run.arrived[:, streams].sum()


def test_defaults_follow_the_state_kinds_a_scenario_has():
    toy = refuge.load(TOY)
    assert [o["name"] for o in toy.outcomes] == ["entries", "waiting_mean", "waiting_peak", "longest_wait",
                                                 "arrivals", "arrests", "returns"]
    data = yaml.safe_load(CAMP.read_text())
    del data["outcomes"]
    camp = refuge.compile_scenario(refuge.scenario.parse(data))
    assert [o["name"] for o in camp.outcomes] == ["arrivals"]  # one destination; no refuge, custody or return


def test_bad_outcomes_name_the_field(tmp_path):
    data = yaml.safe_load(CAMP.read_text())
    data["outcomes"] += [{"name": "x", "into": ["queu"]}, {"name": "y", "longest_stay": ["resettled"]},
                         {"name": "z", "mean": ["queue"], "peak": ["queue"]}, {"name": "x", "flow": ["interview"]}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        refuge.load(path)
    assert "outcomes[7]: expected an outcome needs exactly one of" in str(err.value)
    del data["outcomes"][7]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        refuge.load(path)
    text = str(err.value)
    assert "outcomes[5].into[0]: expected the name of a state or site; found `queu` (did you mean `queue`?)" in text
    assert "outcomes[6].longest_stay[0]: expected a state whose time in state is tracked" in text
    assert "outcomes[7].name: expected a name not used before in outcomes; found `x` again" in text


def words(result) -> str:
    """The output with table borders and line breaks (titles wrap) taken out."""
    assert result.exit_code == 0, result.output
    return " ".join(result.output.translate({ord(c): " " for c in "│┃"}).split())


def test_a_border_camp_prints_its_own_words(tmp_path):
    runner = CliRunner()
    check = words(runner.invoke(app, ["check", str(CAMP), "--runs", "3"]))
    assert "Per site" in check and "camp" in check and "people registered at the camp" in check
    ens = words(runner.invoke(app, ["run", str(CAMP), "--runs", "3", "--out", str(tmp_path / "e")]))
    assert "longest wait for an interview (days)" in ens
    cmp = words(runner.invoke(app, ["compare", str(CAMP), "--runs", "3", "--out", str(tmp_path / "c")]))
    assert "people turned away at the border (people)" in cmp
    report = runner.invoke(app, ["report", str(tmp_path / "c")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "c" / "report.html").read_text()
    assert "people registered at the camp" in html and "<h3>Sites</h3>" in html
    for text in (check, ens, cmp):
        lowered = text.lower()
        assert not [w for w in FLAGSHIP_WORDS if w in lowered], text


def test_flagship_outcomes_are_its_words_and_the_default_values():
    model = refuge.load("north-korea-china")
    labels = {o["name"]: o["label"] for o in model.outcomes}
    assert labels["entries"] == "entries into foreign missions" and labels["returns"] == "forced returns to North Korea"
    run = refuge.simulate(model, seed=1)
    plain = refuge.compile_scenario(model.scenario.model_copy(update={"outcomes": []}))
    declared, defaults = outcomes(run), outcomes(refuge.simulate(plain, seed=1))
    assert list(declared) == list(defaults)
    assert np.allclose(list(declared.values()), list(defaults.values()), equal_nan=True)
