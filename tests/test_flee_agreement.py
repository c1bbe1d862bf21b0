"""Same model, not just the same error: on small networks, refuge and Flee itself (its code at 02cd2cbd, run
in this process from ../shared/flee/flee-src) give the same mean count at each location on each day,
within sampling error.

Flee is driven through its own API (Ecosystem, Location, links, closures, conflict zones, spawning by its
weights, its daily evolve), with a settings file written from the scenario's movement rules.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

import refuge

FLEE_SRC = Path(__file__).resolve().parents[1].parent / "shared" / "flee" / "flee-src"
NET = Path(__file__).parent / "scenarios" / "net"

pytestmark = pytest.mark.skipif(not (FLEE_SRC / "flee" / "flee.py").exists(),
                                reason=f"Flee's code is absent ({FLEE_SRC}): nothing to compare with")


def _flee_settings(model, path: Path) -> None:
    from refuge.model.network import MOVE_FIELDS

    net = model.net
    mv = dict(zip(MOVE_FIELDS, model.pbase[0, net.move]))
    keys = {"speed": "max_move_speed", "walk_speed": "max_walk_speed", "move_chance_conflict": "conflict_movechance",
            "move_chance_town": "default_movechance", "move_chance_camp": "camp_movechance",
            "move_chance_idpcamp": "idpcamp_movechance", "distance_softening": "softening",
            "distance_power": "distance_power", "weight_softening": "weight_softening", "weight_power": "weight_power",
            "camp_weight": "camp_weight", "conflict_weight": "conflict_weight", "foreign_weight": "foreign_weight",
            "capacity_buffer": "capacity_buffer", "capacity_scaling": "capacity_scaling"}
    lines = ["log_levels: {agent: 0, link: 0, camp: 0, init: 0, conflict: 0}",
             "spawn_rules:", f"  conflict_spawn_decay: {list(map(float, net.decay))}",
             f"  conflict_spawn_decay_interval: {net.decay_interval}", f"  take_from_population: {net.take_pop}"]
    cd = model.scenario.network.spawning.conflict_driven if model.scenario.network.spawning else None
    if cd is not None:  # Flee's conflict-driven spawning, its own code
        lines += ["  conflict_driven_spawning:", f"    spawn_mode: {cd.mode}",
                  f"    displaced_per_conflict_day: {float(model.pbase[0, net.spawn_rate])!r}"]
    lines += ["move_rules:"]
    lines += [f"  {keys[k]}: {float(v)!r}" for k, v in mv.items()]
    lines += [f"  start_on_foot: {net.start_on_foot}", f"  avoid_short_stints: {net.avoid_short_stints}",
              f"  awareness_level: {net.awareness}"]
    path.write_text("\n".join(lines) + "\n")


def run_flee(model, seed: int, settings: Path) -> np.ndarray:
    """(days, locations + 1): people at each location, and on routes, at the end of each day, by Flee."""
    if str(FLEE_SRC) not in sys.path:
        sys.path.insert(0, str(FLEE_SRC))
    from flee import flee, spawning
    from flee.SimulationSettings import SimulationSettings

    SimulationSettings.ReadFromYML(str(settings))
    random.seed(seed)
    np.random.seed(seed)
    net, sc = model.net, model.scenario
    e = flee.Ecosystem(start_date=str(sc.start))
    locs = []
    home = sc.network.home_country or sc.network.locations[0].country
    for loc, cap_slot, pop_slot in zip(sc.network.locations, net.loc_cap, net.loc_pop):
        kind = loc.type if loc.type in ("camp", "marker") else "town"
        locs.append(e.addLocation(loc.state, location_type=kind, country=loc.country, foreign=loc.country != home,
                                  capacity=int(model.pbase[0, cap_slot]) if cap_slot >= 0 else -1,
                                  pop=int(model.pbase[0, pop_slot])))
    for r in sc.network.routes:
        e.linkUp(r.between[0], r.between[1], float(r.km))
    for cl in sc.network.closures:  # refuge's `to` is the last day closed; Flee's end is the day it reopens
        end = (cl.end - sc.start).days + 1 if cl.end else model.days + 1
        if cl.camp is not None:  # Flee's camp closure: the camp works as a town until it reopens
            e.closures.append(["camp", cl.camp, "", (cl.start - sc.start).days, end])
            continue
        a, b = cl.route
        # Flee's "link" closure shuts the route from its second name to its first only (remove_link with
        # twoway=True removes the reverse direction alone), so a closure both ways is two of them
        for x, y in ([(a, b)] if cl.one_way else []) or [(a, b), (b, a)]:
            e.closures.append(["link", y, x, (cl.start - sc.start).days, (cl.end - sc.start).days + 1])
    begins: dict[int, list] = {}
    for cf in sc.network.conflicts:  # Flee's zone ends the day after refuge's last day of conflict
        begins.setdefault((cf.start - sc.start).days, []).append((cf.location, float(cf.intensity)))
        if cf.end is not None:
            begins.setdefault((cf.end - sc.start).days + 1, []).insert(0, (cf.location, 0.0))
    out = np.zeros((model.days, len(locs) + 1), np.int64)
    for t in range(model.days):
        for name, level in begins.get(t, []):
            e.set_conflict_intensity(name, conflict_intensity=level)
        if net.spawn_mode:
            spawning.spawn_daily_displaced(e, t, None)
        elif net.spawn[t] > 0:
            for loc in e.pick_spawn_locations(int(net.spawn[t])):
                e.addAgent(location=loc, attributes={})
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        out[t, :-1] = [loc.numAgents for loc in locs]
        out[t, -1] = sum(1 for a in e.agents if a.travelling)
    return out


def _refuge(model, seed: int) -> np.ndarray:
    run = refuge.simulate(model, seed=seed)
    return run.stocks[:, model.net.states]


@pytest.mark.parametrize("name", ["line", "fork", "ahead", "camps", "marker", "spawn"])
def test_refuge_and_flee_agree_within_sampling_error(name, tmp_path, capsys):
    """The line: a conflict zone, a town, a camp. The fork: a closure of the first route for three days, a
    small camp that fills (room 40) beside a far large one, a second conflict zone starting later at half
    intensity with a decay of spawning weights, walking the first route. Ahead: the fork with look-ahead
    (awareness 2: ways of up to two routes, and who arrives on one goes on along it). Camps: the fork with its
    camps closed as camps for a while (each works as a town). Marker: a marker on the ways from B to D and E
    (route choice looks past it; people pass it). Spawn: Flee's conflict-driven spawning (pop_ratio, people
    taken from the population) by its own code, a conflict that pauses and one that begins later at half
    intensity, a camp that fills. 120 runs of each; every location
    on every day: |mean difference| < 4.5 standard errors (about 120 cells)."""
    model = refuge.load(NET / f"{name}.yaml")
    settings = tmp_path / "flee.yml"
    _flee_settings(model, settings)
    runs = 120
    ours = np.array([_refuge(model, s) for s in range(runs)], float)
    theirs = np.array([run_flee(model, s, settings) for s in range(runs)], float)
    capsys.readouterr()  # Flee prints every location it makes
    se = np.sqrt(ours.var(0) / runs + theirs.var(0) / runs)
    diff = np.abs(ours.mean(0) - theirs.mean(0))
    z = np.where(se > 0, diff / np.where(se > 0, se, 1), diff * 1e9)
    worst = np.unravel_index(z.argmax(), z.shape)
    assert z.max() < 4.5, (f"day {worst[0]}, {(model.net.names + ['en route'])[worst[1]]}: refuge "
                           f"{ours.mean(0)[worst]:.1f}, Flee {theirs.mean(0)[worst]:.1f}")
    # and the totals match exactly (everyone spawned is somewhere)
    assert np.array_equal(ours[0].sum(axis=1), theirs[0].sum(axis=1))
