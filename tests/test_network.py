"""Network movement: locations as states, route choice, travel times, spawning, closures; the fast engine
against the person-by-person reference, and compile errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.api import as_model, simulate_reference
from refuge.errors import ScenarioError
from refuge.scenario import parse
from refuge.sim.invariants import check_invariants

NET = Path(__file__).parent / "scenarios" / "net"
LINE, FORK, MIXED, AHEAD = NET / "line.yaml", NET / "fork.yaml", NET / "mixed.yaml", NET / "ahead.yaml"
CAMPS, MARKER, SPAWN = NET / "camps.yaml", NET / "marker.yaml", NET / "spawn.yaml"
FLOOD = NET / "flood.yaml"


@pytest.mark.parametrize("path", [LINE, FORK, MIXED, AHEAD, CAMPS, MARKER, SPAWN, FLOOD])
def test_runs_keep_every_person_and_balance_every_state(path):
    for engine in (refuge.simulate, simulate_reference):
        for seed in range(3):
            check_invariants(engine(path, seed=seed))


def test_spawning_follows_the_daily_increase_of_the_total():
    run = refuge.simulate(LINE, seed=4)
    # total 0 -> 100 on day 1, 100 -> 150 on day 6
    assert run.spawned.tolist()[:8] == [0, 100, 0, 0, 0, 0, 50, 0]
    assert run.stocks[-1].sum() == 150


def test_walking_takes_days_and_a_closed_route_is_not_taken():
    # line: 100 km at 35 km a day on foot -> covered > 100 km after 3 days: arrive on day 1 + 2 = 3
    line = refuge.simulate(LINE, seed=1)
    b = line.model.state_index("B")
    assert line.stocks[:3, b].sum() == 0 and line.stocks[3, b] > 0
    # fork: A-B closed on days 0-2, so the first walkers to B set out on day 3 (60 km at 40/day: day 4)
    for seed in range(5):
        fork = refuge.simulate(FORK, seed=seed)
        assert fork.entered[:4, fork.model.state_index("B")].sum() == 0


def test_a_full_camp_is_not_set_out_for():
    run = refuge.simulate(FORK, seed=2)
    # C's room is 40: nobody sets out once it is at least 95% full, so it overshoots by at most those en route
    assert run.stocks[:, run.model.state_index("C")].max() <= 48


def test_same_seed_same_run():
    a, b = refuge.simulate(FORK, seed=7), refuge.simulate(FORK, seed=7)
    assert np.array_equal(a.stocks, b.stocks)


def _figures(run) -> np.ndarray:
    """Per run: people in each state each day, people moved by each edge and arrived by each stream by each
    day (cumulative), days each rule has been on."""
    return np.concatenate([run.stocks.ravel(), np.cumsum(run.flows, 0).ravel(), np.cumsum(run.arrived, 0).ravel(),
                           np.cumsum(run.rules_active, 0).ravel()]).astype(float)


CAMPS, MARKER, SPAWN = NET / "camps.yaml", NET / "marker.yaml", NET / "spawn.yaml"
FLOOD = NET / "flood.yaml"


@pytest.mark.parametrize("path", [LINE, FORK, MIXED, AHEAD, CAMPS, MARKER, SPAWN, FLOOD])
def test_fast_engine_matches_the_reference_in_distribution(path):
    """Means over 150 runs of each engine agree within sampling error: people at each location (and en route,
    and in the states around the network) each day, and for the mixed scenario the people moved by its
    transitions, arrived by its streams and events, and days its rules are on, by each day. |z| < 4.5 for every
    figure (a few hundred, so a false alarm is rare)."""
    runs = 150
    model = as_model(path)
    fast = np.array([_figures(refuge.simulate(model, seed=s)) for s in range(runs)])
    ref = np.array([_figures(simulate_reference(model, seed=s)) for s in range(runs)])
    se = np.sqrt(fast.var(0) / runs + ref.var(0) / runs)
    diff = np.abs(fast.mean(0) - ref.mean(0))
    z = np.where(se > 0, diff / np.where(se > 0, se, 1), diff * 1e9)
    assert z.max() < 4.5, (z.argmax(), fast.mean(0)[z.argmax()], ref.mean(0)[z.argmax()])


def test_network_mixes_with_transitions_arrivals_events_and_rules():
    """mixed.yaml: people resettle from camp C and go home from D to A by transitions, arrive at town B from
    abroad, 30 are taken from D into C on a known day; a rule closes C while it is crowded, another raises the
    chance of leaving a camp. Each happens, and the network honours it."""
    model = as_model(MIXED)
    st = {n: model.state_index(n) for n in ("A", "B", "C", "D", "moving", "resettled")}
    camp_leave = model.param_names.index("camp_leave")
    seen_closed = 0
    for seed in range(6):
        for run in (refuge.simulate(model, seed=seed), simulate_reference(model, seed=seed)):
            assert run.flow_of(["resettle"]).sum() == run.stocks[-1, st["resettled"]] > 0
            assert run.flow_of(["go_home"]).sum() > 0
            assert run.arrived[:, 0].sum() > 0 and run.arrived[:, 1].sum() == 30  # the event, once
            closed = run.closed_states[:, st["C"]]
            seen_closed += closed.sum()
            # a closed location: nobody reaches it by a route (nor by the event: it waits)
            assert run.entered[closed, st["C"]].sum() == 0
            on = run.rules_active[:, model.rule_names.index("crowded_D")]
            assert np.allclose(run.params[on, camp_leave], 0.05) and np.allclose(run.params[~on, camp_leave], 0.005)
            # people brought to B from abroad move on along the routes like everyone else
            assert run.entered[:, st["C"]].sum() + run.entered[:, st["D"]].sum() > run.spawned.sum() * 0.5
    assert seen_closed > 0


def _base():
    import yaml

    return yaml.safe_load(LINE.read_text())


@pytest.mark.parametrize("change, words", [
    (lambda d: d["network"]["routes"].append({"between": ["A", "Q"], "km": 5}),
     r"network.routes\[2\].between\[1\]: expected a location of the network; found `Q`"),
    (lambda d: d.setdefault("transitions", []).append({"name": "x", "from": "A", "to": "B", "rate": 0.1}),
     r"transitions\[0\].from: expected a camp of the network or a state outside it"),
    (lambda d: d.setdefault("transitions", []).append({"name": "x", "from": "C", "to": "moving", "rate": 0.1}),
     r"transitions\[0\].to: expected a state other than the network's en-route state; found `moving`"),
    (lambda d: d.setdefault("transitions", []).append({"name": "x", "from": "C", "to": "A",
                                                       "duration": {"dist": "fixed", "value": 3}}),
     r"transitions\[0\].duration: expected a `rate` for `x`: people at a location of the route network are "
     r"counted"),
    (lambda d: d.setdefault("arrivals", []).append({"name": "x", "to": "moving", "rate": 1}),
     r"arrivals\[0\].to: expected a state other than the network's en-route state"),
    (lambda d: d["network"]["closures"].append({"countries": ["X", "Narnia"], "from": "2020-01-02"})
     if "closures" in d["network"] else d["network"].update(
         closures=[{"countries": ["X", "Narnia"], "from": "2020-01-02"}]),
     r"network.closures\[0\].countries\[1\]: expected the country of some location; found `Narnia`"),
    (lambda d: d["network"]["conflicts"].append({"location": "A", "from": "2020-01-05"}),
     r"network.conflicts\[1\]: expected periods of one location that do not overlap"),
    (lambda d: d["network"].update(closures=[{"camp": "B", "from": "2020-01-02"}]),
     r"network.closures\[0\].camp: expected a camp of the network; found `B`"),
    (lambda d: d["network"].update(closures=[{"camp": "C", "location": "C", "from": "2020-01-02"}]),
     r"network.closures\[0\]"),
    (lambda d: d["network"]["movement"].update(speed=0),
     r"network.movement.speed: expected a speed > 0"),
])
def test_network_errors_name_the_field(change, words):
    data = _base()
    change(data)
    with pytest.raises(ScenarioError, match=words):
        as_model(parse(data, "net.yaml"))


def test_entries_by_the_network_count_as_entries():
    """`into` measures and outcomes count people arriving at a location from a route (or spawned there)."""
    from refuge.evidence.outcomes import outcome_value

    data = _base()
    data["evidence"] = [{"id": "into-C", "source": {"file": "x", "fact": "y"}, "measure": {"into": ["C"]},
                         "period": {"from": "2020-01-01", "to": "2020-01-30"}, "bound": "at_least", "value": 1}]
    model = as_model(parse(data, "net.yaml"))
    run = refuge.simulate(model, seed=3)
    c = model.state_index("C")
    assert run.entered[:, c].sum() > 100
    from refuge.evidence.measures import measure_all

    assert measure_all(run)[0] == run.entered[:, c].sum()
    arrivals = next(o for o in model.outcomes if o["name"] == "arrivals")
    assert outcome_value(run, arrivals) == run.entered[:, c].sum()


def _listed(data: dict, name: str, level: int, origin: str) -> tuple[list[str], list[str]]:
    """(the ways out of `origin` as the reference lists them, the ends the compiled model keeps with their fewest
    steps) at awareness `level`."""
    import numpy as np

    from refuge.sim.mechanisms.network.reference import NetReference

    data["network"]["movement"]["awareness"] = level
    net = as_model(parse(data, name)).net
    names, wy = net.names, net.ways
    o = names.index(origin)
    ways = NetReference(net, 5)._ways(o, np.zeros(net.link_from.size, bool))
    listed = sorted("-".join([origin] + [names[net.link_to[k]] for k in way]) for way in ways)
    ends = sorted(f"{names[e]}{h}" for e, h in zip(wy.end[wy.way_ptr[o]:wy.way_ptr[o + 1]],
                                                    wy.hops[wy.way_ptr[o]:wy.way_ptr[o + 1]]))
    return listed, ends


def test_look_ahead_weighs_every_way_that_passes_no_place_twice(monkeypatch):
    """Awareness 2 on the fork: from A, A-B, A-B-C, A-B-D, A-E, A-E-D; awareness 3 adds the ways on to a third
    place (A-B-D-E, A-E-D-B), never back to A. The compiled model keeps where they end, by the fewest steps
    (the engine finds the ways to an end again from them). Places whose ways end at C are those that weigh C
    again when it fills. Too many places within reach for the awareness: the field and the count."""
    import yaml

    data = yaml.safe_load(AHEAD.read_text())
    assert _listed(data, "ahead.yaml", 2, "A") == (["A-B", "A-B-C", "A-B-D", "A-E", "A-E-D"],
                                                   ["B1", "C2", "D2", "E1"])
    assert _listed(data, "ahead.yaml", 3, "A") == (["A-B", "A-B-C", "A-B-D", "A-B-D-E", "A-E", "A-E-D",
                                                    "A-E-D-B"], ["B1", "C2", "D2", "E1"])
    assert all(w.count("A") == 1 for w in _listed(data, "ahead.yaml", 4, "A")[0])
    data["network"]["movement"]["awareness"] = 2
    net = as_model(parse(data, "ahead.yaml")).net
    c = net.names.index("C")
    assert sorted(net.names[o] for o in net.ways.origins[net.ways.origin_ptr[c]:net.ways.origin_ptr[c + 1]]) == \
        ["A", "B", "D"]
    data["network"]["movement"]["awareness"] = 1
    assert as_model(parse(data, "ahead.yaml")).net.ways.end.size == 0
    monkeypatch.setattr("refuge.model.net_paths.MAX_WAY_ENDS", 10)
    data["network"]["movement"]["awareness"] = 3
    with pytest.raises(ScenarioError, match=r"network.movement.awareness: expected a network and awareness with "
                       r"fewer places within reach; found 1[0-9] places within 1 routes of some place"):
        as_model(parse(data, "ahead.yaml"))


def test_route_choice_looks_past_a_marker():
    """A marker is never a way's end and no step: from B at awareness 1 the choice is among A, C and, through
    the marker M, D and E (over the length through M); at awareness 2 the ways go one place further."""
    import yaml

    data = yaml.safe_load(MARKER.read_text())
    assert _listed(data, "marker.yaml", 1, "B") == (["B-A", "B-C", "B-M-D", "B-M-E"], ["A1", "C1", "D1", "E1"])
    assert _listed(data, "marker.yaml", 2, "B") == (
        ["B-A", "B-A-E", "B-C", "B-M-D", "B-M-D-E", "B-M-E", "B-M-E-A", "B-M-E-D"], ["A1", "C1", "D1", "E1"])
    assert _listed(data, "marker.yaml", 1, "M")[0] == ["M-B", "M-D", "M-E"]  # someone at the marker looks on


def _spawn_data(**conflict_driven):
    import yaml

    data = yaml.safe_load(SPAWN.read_text())
    data["network"]["spawning"]["conflict_driven"].update(conflict_driven)
    return data


def test_conflict_driven_spawning_takes_a_share_of_what_is_left_of_the_population():
    """pop_ratio 2% with people taken from the population: A (3000) spawns 60, then 2% of 2940 = 58 (58.8 down),
    ...; E (2000, intensity 0.5) adds 20 from day 5; on days 10-11 A is at peace; from day 12 A at 0.8. The
    same numbers in both engines for every seed; without taking from the population, A spawns 60 every day."""
    a, e, want = 3000, 2000, []
    for t in range(20):
        n = 0
        if t <= 9 or t >= 12:
            k = int(0.02 * a * (1.0 if t <= 9 else 0.8))
            a, n = a - k, n + k
        if t >= 5:
            k = int(0.02 * e * 0.5)
            e, n = e - k, n + k
        want.append(n)
    assert want[:6] == [60, 58, 57, 56, 55, 74]
    for seed in range(3):
        assert refuge.simulate(SPAWN, seed=seed).spawned.tolist() == want
        assert simulate_reference(SPAWN, seed=seed).spawned.tolist() == want
    data = _spawn_data()
    data["network"]["spawning"]["take_from_population"] = False
    run = refuge.simulate(as_model(parse(data, "spawn.yaml")), seed=0)
    assert run.spawned[:5].tolist() == [60] * 5


def test_conflict_driven_spawning_constant_and_poisson():
    """constant: floor(per_day x intensity) a day at each zone (7.5 at A, 3.75 -> 3 at E from day 5); poisson:
    a Poisson draw of mean per_day x intensity, the same in distribution in both engines (200 runs each: means
    within 4.5 standard errors of 7.5 and 11.25, variance about the mean)."""
    run = refuge.simulate(as_model(parse(_spawn_data(mode="constant", per_day=7.5), "spawn.yaml")), seed=0)
    assert run.spawned.tolist() == [7] * 5 + [10] * 5 + [3] * 2 + [9] * 8  # 7.5, +3.75, E alone, 6.0 + 3.75
    model = as_model(parse(_spawn_data(mode="poisson", per_day=7.5), "spawn.yaml"))
    runs = 200
    for engine in (refuge.simulate, simulate_reference):
        n = np.array([engine(model, seed=s).spawned for s in range(runs)], float)
        for t, mean in ((2, 7.5), (7, 11.25), (11, 3.75)):
            assert abs(n[:, t].mean() - mean) < 4.5 * np.sqrt(mean / runs), (engine, t, n[:, t].mean())
            assert 0.6 * mean < n[:, t].var() < 1.5 * mean


@pytest.mark.parametrize("change, words", [
    (lambda d: d["network"]["spawning"].update(total={"points": [{"date": "2020-01-01", "value": 5}]}),
     r"spawning needs exactly one of total, conflict_driven"),
    (lambda d: d["network"]["spawning"]["conflict_driven"].update(per_day=1.5),
     r"network.spawning.conflict_driven.per_day: .*probability"),
    (lambda d: d["network"]["spawning"]["conflict_driven"].update(mode="poisson", per_day=1e9),
     r"network.spawning.conflict_driven.per_day"),
    (lambda d: d["network"]["spawning"]["conflict_driven"].update(mode="often"),
     r"network.spawning.conflict_driven.mode"),
    (lambda d: d["network"].update(conflicts=[]), r"network.conflicts: expected at least one conflict zone"),
])
def test_conflict_driven_spawning_errors_name_the_field(change, words):
    data = _spawn_data()
    change(data)
    with pytest.raises(ScenarioError, match=words):
        as_model(parse(data, "spawn.yaml"))


def test_take_from_population_with_a_spawning_total():
    """camps.yaml spreads 280 people over A (population 500) and, from day 5, E (300 at half intensity): with
    people taken from the population, A's weight falls as it empties, so more people start at E (entries into E
    rise); both engines agree on the people spawned each day and entering E (150 runs each, |z| < 4.5)."""
    import yaml

    data = yaml.safe_load(CAMPS.read_text())
    data["network"]["spawning"]["take_from_population"] = True
    taken = as_model(parse(data, "camps.yaml"))
    kept = as_model(CAMPS)
    runs, e = 150, taken.state_index("E")

    def spawned_at(model, engine, seed):
        run = engine(model, seed=seed)
        return np.concatenate([run.spawned, [run.entered[:, e].sum()]])

    fast = np.array([spawned_at(taken, refuge.simulate, s) for s in range(runs)], float)
    ref = np.array([spawned_at(taken, simulate_reference, s) for s in range(runs)], float)
    se = np.sqrt(fast.var(0) / runs + ref.var(0) / runs)
    assert (np.abs(fast.mean(0) - ref.mean(0)) <= 4.5 * np.where(se > 0, se, 1e-9)).all()
    before = np.array([spawned_at(kept, refuge.simulate, s) for s in range(runs)], float)
    assert fast[:, -1].mean() > before[:, -1].mean() + 4.5 * np.sqrt(fast[:, -1].var() / runs
                                                                         + before[:, -1].var() / runs)
