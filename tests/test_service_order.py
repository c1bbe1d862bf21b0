"""The service order of a capacity-limited transition: who of those waiting is served first.

`tests/scenarios/ref_order.yaml` has three queues, each served at a daily capacity in another order: last
come first served; a legacy class (entered before 15 January) first, from 1 February; three quarters of the
capacity for people who entered before February, the rest for the others. The rules are checked from each
run's completed and ongoing stays, day by day; both engines keep the invariants, and the fast engine matches
the reference in distribution (`tests/test_reference_equivalence.py` runs this scenario too).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from refuge.api import load, simulate, simulate_reference
from refuge.errors import ScenarioError
from refuge.model.compiler import compile_scenario
from refuge.scenario import read
from refuge.sim.invariants import check_invariants

PATH = Path(__file__).parent / "scenarios" / "ref_order.yaml"
START = dt.date(2022, 1, 1)
LEGACY_BEFORE = (dt.date(2022, 1, 15) - START).days
PRIORITY_FROM = (dt.date(2022, 2, 1) - START).days
OLD_BEFORE = (dt.date(2022, 2, 1) - START).days


@cache
def queues_only():
    """The scenario without people giving up, so that everyone who leaves a queue was served."""
    sc = read(PATH)
    return compile_scenario(sc.model_copy(update={"transitions": [t for t in sc.transitions if t.name != "give_up"]}))


def waits(run, state: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry day, exit day or a day past the end, people) of every stay in a queue."""
    s = run.model.state_index(state)
    done = run.stays[run.stays[:, 0] == s]
    ongoing = run.ongoing[run.ongoing[:, 0] == s]
    entry = np.concatenate([done[:, 1], ongoing[:, 2]])
    exit_ = np.concatenate([done[:, 2], np.full(len(ongoing), run.days)])
    people = np.concatenate([done[:, 3], run.ongoing_size[run.ongoing[:, 0] == s]])
    return entry, exit_, people


@pytest.mark.parametrize("seed", range(5))
def test_last_come_first_served_serves_the_newest(seed):
    run = simulate(queues_only(), seed=seed)
    entry, exit_, _ = waits(run, "lifo_queue")
    served_days = 0
    for d in range(run.days):
        served = entry[exit_ == d]
        waiting = entry[(entry <= d) & (exit_ > d)]
        if len(served) and len(waiting):
            served_days += 1
            assert served.min() >= waiting.max(), f"day {d}: served entries {served}, still waiting {waiting.max()}"
    assert served_days > 30  # the queue was long on most days, so the order mattered


@pytest.mark.parametrize("seed", range(5))
def test_a_priority_class_is_served_first_from_its_date(seed):
    run = simulate(queues_only(), seed=seed)
    entry, exit_, _ = waits(run, "prio_queue")
    passed_legacy = 0
    for d in range(run.days):
        served_new = ((exit_ == d) & (entry >= LEGACY_BEFORE)).sum()
        legacy_left = ((entry < LEGACY_BEFORE) & (exit_ > d)).sum()
        if d >= PRIORITY_FROM:
            assert not (served_new and legacy_left), f"day {d}: newcomers served while {legacy_left} legacy wait"
        elif served_new and legacy_left:
            passed_legacy += 1
    # before the date the queue is first come, first served: the legacy people are served in order of entry
    # and nobody passes them (they all entered before anyone newer)
    assert passed_legacy == 0
    legacy_exits = exit_[entry < LEGACY_BEFORE]
    assert (legacy_exits < run.days).all() and legacy_exits.max() > PRIORITY_FROM + 10  # many served after it


@pytest.mark.parametrize("seed", range(5))
def test_shares_split_the_capacity_and_pass_on_what_a_class_leaves(seed):
    run = simulate(queues_only(), seed=seed)
    m = run.model
    entry, exit_, people = waits(run, "share_queue")
    cap = np.floor(run.params[:, m.param_names.index("capacity")] + 1e-9).astype(int)
    both_waited = 0
    for start in range(0, run.days - 1, 2):  # a capacity per period of two days, served on its first day
        served = (exit_ >= start) & (exit_ < start + 2)
        old, new = entry < OLD_BEFORE, entry >= OLD_BEFORE
        # people there when the period's capacity was served who were still waiting at its end
        stayed = (entry <= start) & (exit_ >= start + 2)
        assert people[served].sum() <= cap[start]
        if people[stayed].sum():  # someone was left waiting: the whole capacity was used
            assert people[served].sum() == cap[start]
        if people[stayed & old].sum() and people[stayed & new].sum():  # each class had at least its share
            both_waited += 1
            assert people[served & old].sum() >= np.floor(cap[start] * 0.75 + 1e-9)
            assert people[served & new].sum() >= np.floor(cap[start] * 0.25 + 1e-9)
    assert both_waited > 5


def test_first_come_first_served_is_the_default():
    sc = load(PATH).scenario
    fifo = sc.model_copy(update={"transitions": [t.model_copy(update={"order": None}) if t.name == "decide_by_shares"
                                                 else t for t in sc.transitions]})
    run = simulate(compile_scenario(fifo), seed=1)
    entry, exit_, _ = waits(run, "share_queue")
    for d in range(run.days):
        served, waiting = entry[exit_ == d], entry[(entry <= d) & (exit_ > d)]
        if len(served) and len(waiting):
            assert served.max() <= waiting.min()


@pytest.mark.parametrize("engine", [simulate, simulate_reference])
def test_both_engines_keep_the_invariants_with_service_orders(engine):
    for seed in range(3):
        check_invariants(engine(load(PATH), seed=seed))


def test_an_order_states_its_needs_in_the_format():
    sc = read(PATH).model_dump(mode="json", by_alias=True)
    bad = [dict(sc), dict(sc), dict(sc)]
    t0 = dict(sc["transitions"][0])
    t0.pop("capacity")
    bad[0]["transitions"] = [t0] + sc["transitions"][1:]
    t2 = dict(sc["transitions"][2])
    t2["order"] = {"kind": "shares", "classes": [{"entered_before": "2022-02-01", "share": 0.75},
                                                 {"entered_from": "2022-03-01", "share": 0.5}]}
    bad[1]["transitions"] = sc["transitions"][:2] + [t2] + sc["transitions"][3:]
    t1 = dict(sc["transitions"][1])
    t1["order"] = {"kind": "priority", "classes": []}
    bad[2]["transitions"] = [sc["transitions"][0], t1] + sc["transitions"][2:]
    from refuge.scenario import Scenario

    messages = []
    for b in bad:
        with pytest.raises((ScenarioError, ValueError)) as err:
            compile_scenario(Scenario.model_validate(b))
        messages.append(str(err.value))
    assert "capacity" in messages[0]
    assert "sum" in messages[1] and "1" in messages[1]
    assert "class" in messages[2]


def test_the_page_names_each_capacity_lever_with_its_service_order():
    from refuge.present.app_change import describe

    page = describe(read(Path(__file__).parent / "scenarios" / "ref_order.yaml"), "ref_order.yaml")
    roles = next(p["roles"] for p in page["parameters"] if p["name"] == "capacity")
    assert "capacity of decide_newest, served newest first" in roles
    assert "capacity of decide_legacy_first, served first legacy (entered before 2022-01-15) from 2022-02-01" in roles
    assert any(r.startswith("capacity of decide_by_shares, served in shares: ") and "75%" in r for r in roles)
