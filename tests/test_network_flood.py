"""Flooding on the route network (Flee's flood rules, `network.floods`): spawning at flooded places from the
population left, the flood's move chance and weight, flood zones, and errors that name the field. The fast engine
against the reference and against Flee's own code: tests/test_network.py and tests/test_flee_agreement.py
(tests/scenarios/net/flood.yaml)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

import refuge
from refuge.api import as_model, simulate_reference
from refuge.errors import ScenarioError
from refuge.scenario import parse

FLOOD = Path(__file__).parent / "scenarios" / "net" / "flood.yaml"


def _data() -> dict:
    return yaml.safe_load(FLOOD.read_text())


def _expected_spawn(model) -> np.ndarray:
    """Spawned per day by the rule, worked out by hand: each flooded place spawns floor(share x population left)."""
    fl, net = model.scenario.network.floods, model.scenario.network
    left = {loc.state: float(loc.population) for loc in net.locations}
    out = np.zeros(model.days, np.int64)
    for t in range(model.days):
        for loc in net.locations:
            days = fl.levels.get(loc.state, [0])
            level = int(days[min(t, len(days) - 1)])
            n = math.floor(fl.spawn[level] * left[loc.state]) if level > 0 else 0
            left[loc.state] -= n
            out[t] += n
    return out


def test_flooded_places_spawn_a_share_of_the_population_left_in_both_engines():
    model = as_model(FLOOD)
    want = _expected_spawn(model)
    assert want.sum() > 300 and want[0] == 30 + 0  # F1 at level 1 on day 0: 3% of 1000; F2 dry
    for engine in (refuge.simulate, simulate_reference):
        run = engine(model, seed=3)
        assert run.spawned.tolist() == want.tolist()


def test_a_count_spawns_that_many_a_day():
    data = _data()
    data["network"]["floods"].update(spawn=[0, 5, 10, 20, 40], spawn_mode="count")
    run = refuge.simulate(as_model(parse(data, "flood.yaml")), seed=0)
    # day 0: F1 at level 1 (5); day 3: F1 2, F2 2, T 1 (10 + 10 + 5)
    assert run.spawned[0] == 5 and run.spawned[3] == 25


def test_a_flooded_camp_is_left_with_the_floods_move_chance():
    """Camp C floods (level 1, move chance 0.5) on days 8-10: it loses most of its people, then fills again."""
    runs = [refuge.simulate(FLOOD, seed=s) for s in range(5)]
    c = runs[0].model.state_index("C")
    for run in runs:
        assert run.stocks[10, c] < 0.5 * run.stocks[7, c] and run.stocks[-1, c] > run.stocks[10, c]
    dry = _data()
    dry["network"]["floods"]["levels"]["C"] = [0]
    model = as_model(parse(dry, "flood.yaml"))
    for s in range(5):
        run = refuge.simulate(model, seed=s)
        assert run.stocks[10, c] >= 0.9 * run.stocks[7, c]


def test_weight_zero_keeps_people_away_and_a_flood_zone_takes_its_weight_twice():
    data = _data()
    model = as_model(parse(data, "flood.yaml"))
    w = model.net.floods.weight
    f1, t_ = model.net.names.index("F1"), model.net.names.index("T")
    assert w[0, f1] == 0.5 * 0.5 and w[15, f1] == 0.8 and w[0, t_] == 1.0 and w[5, t_] == 0.2
    assert model.net.floods.move[15, f1] == -1 and model.net.floods.move[4, f1] == 1.0
    # (a flooded flood zone: twice, as Flee does; at level 0: once.) T flooded at level 3 (weight 0) on days 3-9:
    # far fewer reach it than when dry (only those from a place whose every route weighs 0, which choose uniformly,
    # as in Flee, and those who set out before day 3). Nobody spawns at level 3 here, and C stays dry.
    data["network"]["floods"]["levels"]["C"] = [0]
    data["network"]["floods"]["spawn"][3] = 0
    dry = as_model(parse(data, "flood.yaml"))
    data["network"]["floods"]["levels"]["T"] = [0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 0]
    wet = as_model(parse(data, "flood.yaml"))
    tidx = wet.state_index("T")
    for engine in (refuge.simulate, simulate_reference):
        got = [sum(engine(m, seed=s).entered[6:10, tidx].sum() for s in range(3)) for m in (dry, wet)]
        assert got[1] < 0.25 * got[0], got


@pytest.mark.parametrize("change, words", [
    (lambda f: f["levels"].update(Q=[1]), r"network.floods.levels.Q: expected a location of the network; found `Q`"),
    (lambda f: f["levels"].update(T=[0, 1.5]), r"network.floods.levels.T\[1\]: expected a whole flood level"),
    (lambda f: f["levels"].update(T=[0, -1]), r"network.floods.levels.T\[1\]: expected a whole flood level"),
    (lambda f: f["levels"].update(T=[7]), r"network.floods.move_chance: expected an entry for each flood level "
                                          r"reached \(0 to 7"),
    (lambda f: f.update(move_chance=[0.3, 1.5, 1, 1, 1]), r"network.floods.move_chance\[1\]: expected a number "
                                                          r"from 0 to 1"),
    (lambda f: f.update(weight=[1, float("inf"), 0, 0, 0]), r"network.floods.weight"),
    (lambda f: f.update(spawn_mode="poisson"), r"network.floods.spawn_mode"),
])
def test_flood_errors_name_the_field(change, words):
    data = _data()
    change(data["network"]["floods"])
    with pytest.raises(ScenarioError, match=words):
        as_model(parse(data, "flood.yaml"))


def test_a_short_list_of_levels_holds_its_last_level_and_a_place_left_out_is_dry():
    data = _data()
    data["network"]["floods"]["levels"] = {"F1": [0, 2], "T": [1]}
    model = as_model(parse(data, "flood.yaml"))
    fl, names = model.net.floods, model.net.names
    assert (fl.move[1:, names.index("F1")] == 0.8).all() and fl.move[0, names.index("F1")] == -1
    assert (fl.move[:, names.index("T")] == 0.5).all() and (fl.move[:, names.index("F2")] == -1).all()
    assert (fl.weight[:, names.index("F2")] == 0.8).all()  # a dry flood zone: weight[0]
