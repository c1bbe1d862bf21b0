"""Flee's `forced_redirection` column of routes.csv, as Flee's own loader reads it (its code at 02cd2cbd, run in
this process from ../shared/flee/flee-src): the flag is never read by its movement rules, but a route marked 1
is linked twice, so route choice weighs it double. refuge links it once (with a warning) and, with `--as-flee`,
twice: then the two agree within sampling error, and the default does not (the test can tell them apart).

Spawning on this small case is Flee's conflict-driven spawning (constant, 20 a day at the conflict zone), by
Flee's own code, so nothing but its loader and its daily rules makes the Flee side.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest

import refuge
from refuge.interop.flee import main_import

FLEE_SRC = Path(__file__).resolve().parents[1].parent / "shared" / "flee" / "flee-src"

pytestmark = pytest.mark.skipif(not (FLEE_SRC / "flee" / "flee.py").exists(),
                                reason=f"Flee's code is absent ({FLEE_SRC}): nothing to compare with")

LOCATIONS = """#name,region,country,latitude,longitude,location_type,conflict_date,population
A,r,Home,0,0,conflict_zone,0,5000
B,r,Home,0,0,town,,500
C,r,Away,0,0,camp,,100000
D,r,Away,0,0,camp,,100000
"""
# B-C marked 1 (linked twice by Flee's loader), B-D marked 2 (linked once), A-B unmarked
ROUTES = "#name1,name2,distance,forced_redirection\nA,B,40,0\nB,C,150,1\nB,D,150,2\n"
SETTINGS = """log_levels: {agent: 0, link: 0, camp: 0, init: 0, conflict: 0}
spawn_rules:
  conflict_driven_spawning: {spawn_mode: constant, displaced_per_conflict_day: 20}
move_rules: {max_move_speed: 200, default_movechance: 0.5}
"""
DAYS = 12


def _case(tmp: Path) -> tuple[Path, Path, Path]:
    inp, val = tmp / "input", tmp / "validation"
    inp.mkdir()
    val.mkdir()
    (inp / "locations.csv").write_text(LOCATIONS)
    (inp / "routes.csv").write_text(ROUTES)
    (inp / "closures.csv").write_text("#closure_type,name1,name2,closure_start,closure_end\n")
    (inp / "sim_period.csv").write_text(f"StartDate,2020-01-01\nLength,{DAYS}\n")
    (val / "data_layout.csv").write_text("total,c.csv\nC,c.csv\nD,d.csv\n")
    for f in ("c.csv", "d.csv"):
        (val / f).write_text("Date,count\n2020-01-01,0\n2020-01-12,100\n")
    (tmp / "s.yml").write_text(SETTINGS)
    return inp, val, tmp / "s.yml"


def _flee(inp: Path, settings: Path, seed: int) -> np.ndarray:
    """(days, 2): people at C and D at the end of each day, by Flee's loader and daily rules."""
    if str(FLEE_SRC) not in sys.path:
        sys.path.insert(0, str(FLEE_SRC))
    from flee import InputGeography, flee, spawning
    from flee.SimulationSettings import SimulationSettings

    SimulationSettings.ReadFromYML(str(settings))
    SimulationSettings.ConflictInputFile = ""  # conflict zones from locations.csv
    random.seed(seed)
    np.random.seed(seed)
    e = flee.Ecosystem("2020-01-01")
    ig = InputGeography.InputGeography()
    ig.ReadLocationsFromCSV(str(inp / "locations.csv"))
    ig.ReadLinksFromCSV(str(inp / "routes.csv"))
    ig.ReadClosuresFromCSV(str(inp / "closures.csv"))
    e, lm = ig.StoreInputGeographyInEcosystem(e)
    out = np.zeros((DAYS, 2))
    for t in range(DAYS):
        ig.AddNewConflictZones(e, t)
        spawning.spawn_daily_displaced(e, t, None)
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        out[t] = [lm["C"].numAgents, lm["D"].numAgents]
    return out


def test_a_route_marked_1_is_weighed_double_as_flees_loader_links_it_twice(tmp_path, capsys):
    inp, val, settings = _case(tmp_path)
    with pytest.warns(Warning, match=r"routes.csv line 3: forced_redirection 1 on the route `B`-`C`: Flee's loader "
                      r"links it twice.*refuge links it once \(--as-flee: twice, as Flee\)"):
        once = refuge.load(main_import(str(inp), str(tmp_path / "once.yaml"), str(val), str(settings)))
    with pytest.warns(Warning, match=r"refuge does as Flee does \(--as-flee\)"):
        twice = refuge.load(main_import(str(inp), str(tmp_path / "twice.yaml"), str(val), str(settings),
                                        as_flee=True))
    assert "again: Flee links a route marked forced_redirection 1 twice" in (tmp_path / "twice.yaml").read_text()
    assert once.net.link_from.size == 6 and twice.net.link_from.size == 8
    runs = 100
    cd = [once.state_index("C"), once.state_index("D")]
    ours_once = np.array([refuge.simulate(once, seed=s).stocks[:, cd] for s in range(runs)], float)
    ours_twice = np.array([refuge.simulate(twice, seed=s).stocks[:, cd] for s in range(runs)], float)
    theirs = np.array([_flee(inp, settings, s) for s in range(runs)])
    capsys.readouterr()  # Flee prints what it loads

    def z(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        se = np.sqrt(a.var(0) / runs + b.var(0) / runs)
        return np.abs(a.mean(0) - b.mean(0)) / np.where(se > 0, se, 1)

    assert z(ours_twice, theirs).max() < 4.5
    assert z(ours_once, theirs).max() > 6  # linked once, C gets about half of B's leavers, not two thirds
    share = theirs[:, -1, 0].sum() / theirs[:, -1].sum()
    assert 0.6 < share < 0.73  # two links to C, one to D
