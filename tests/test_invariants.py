"""Invariants of every run, on both engines and every small test scenario.

No person is created or lost; stocks follow the flows; nobody enters a full or closed site or state;
completed and ongoing stays add up to the flows and stocks; the same seed gives the same run and
different seeds give different runs. The checks live in `refuge.reference.check_invariants` so any
test can call them on its own runs.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from refuge.api import load, simulate, simulate_reference
from refuge.sim.invariants import check_invariants, invariant_problems

SCENARIOS = Path(__file__).parent / "scenarios"
NAMES = sorted(p.stem for p in SCENARIOS.glob("ref_*.yaml")) + ["toy"]
ENGINES = {"fast": simulate, "reference": simulate_reference}
SEEDS = {"fast": range(20), "reference": range(3)}


@cache
def model(name: str):
    return load(SCENARIOS / f"{name}.yaml")


@cache
def run(name: str, engine: str, seed: int):
    return ENGINES[engine](model(name), seed=seed)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_every_run_keeps_the_invariants(name, engine):
    for seed in SEEDS[engine]:
        check_invariants(run(name, engine, seed))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_run_and_different_seeds_differ(name, engine):
    a, b, c = run(name, engine, 1), ENGINES[engine](model(name), seed=1), run(name, engine, 2)
    for field in ("stocks", "flows", "arrived", "closed_sites", "rules_active", "params", "stays", "ongoing",
                  "backlog"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not np.array_equal(a.flows, c.flows)


def test_the_reference_engine_labels_its_runs():
    assert run("ref_camp", "reference", 0).engine == "reference"
    assert run("ref_camp", "fast", 0).engine == "fast"


def test_scenarios_reach_the_situations_the_invariants_guard():
    # Otherwise the invariants above would hold trivially.
    camp = [run("ref_camp", "fast", s) for s in SEEDS["fast"]]
    room = model("ref_camp").param_names.index("camp_room")
    assert any((r.params[:, room] < r.site_occupancy[:, 0]).any() for r in camp), "capacity cut below occupancy"
    assert any(r.backlog.sum() > 0 for r in camp), "arrivals waiting for room"
    mission = [run("ref_mission", "fast", s) for s in SEEDS["fast"]]
    assert all(r.closed_sites[:, 0].sum() > 10 for r in mission), "the compound closed by schedule and rule"
    assert any((r.site_occupancy[:, 0] == 12).any() for r in mission), "the compound full"


# --- the checker itself catches broken runs -----------------------------------------------------


def broken(**changes):
    good = run("ref_mission", "fast", 0)
    fields = {k: getattr(good, k).copy() for k in changes}
    for k, fn in changes.items():
        fn(fields[k])
    return dataclasses.replace(good, **fields)


def test_the_checker_accepts_a_sound_run():
    assert invariant_problems(run("ref_mission", "fast", 0)) == []


def test_the_checker_catches_a_person_created():
    def add(stocks):
        stocks[50:, 0] += 1

    assert any("expected" in p for p in invariant_problems(broken(stocks=add)))


def test_the_checker_catches_a_flow_without_a_matching_stock_change():
    def move(flows):
        flows[60, 3] += 1  # arrest: hiding -> custody, but the stocks do not change

    problems = invariant_problems(broken(flows=move))
    assert any("stock of hiding" in p for p in problems) and any("stock of custody" in p for p in problems)


def test_the_checker_catches_a_site_over_capacity():
    def fill(stocks):
        stocks[30:, 1] += 20  # the mission 20 over, and the reservoir 20 short
        stocks[30:, 0] -= 20

    assert any("over its capacity" in p for p in invariant_problems(broken(stocks=fill)))


def test_the_checker_catches_entry_into_a_closed_site():
    m = model("ref_mission")
    good = run("ref_mission", "fast", 0)
    day = int(np.flatnonzero(good.closed_sites[:, 0])[0])

    def enter(flows):
        flows[day, m.edge_names.index("attempt->mission")] += 1
        flows[day, m.edge_names.index("arrest->custody")] -= 1  # keeps the reservoir's balance

    def shift(stocks):
        stocks[day:, 1] += 1
        stocks[day:, 3] -= 1

    assert any("into a closed state" in p for p in invariant_problems(broken(flows=enter, stocks=shift)))


def test_the_checker_catches_stays_that_do_not_match_the_flows():
    def drop(stays):
        stays[:, 3] = 0

    assert any("completed stays" in p for p in invariant_problems(broken(stays=drop)))
