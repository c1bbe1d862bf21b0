"""Who arrives first when a camp fills within a day: the fast network step takes the day's arrivals in the
order Flee moves its agents (the order it made them), as the per-person reference does.

A hub closed for its first days holds everyone spawned there; when it opens they walk to a small camp and to
a town, two days away. People spawned a day later at a second conflict zone wait in the town; some set out
on the day the walkers arrive, and hop through the hub and on to the camp the same day. Flee moves them after the
walkers (they were made later), so the camp is nearly full when they reach the hub; taking the day's own departures
first (as the step did) sent more of them to the camp.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import refuge
from refuge.api import simulate_reference
from refuge.interop.flee import main_import

LOCATIONS = """#name,region,country,latitude,longitude,location_type,conflict_date,population
H,r,Home,0,0,conflict_zone,0,10000
Z,r,Home,0,0,town,,10000
A,r,Home,0,0,town,,1000
C,r,Away,0,0,camp,,700
"""
ROUTES = "#name1,name2,distance,forced_redirection\nH,C,53,0\nH,A,48,0\nA,Z,30,0\n"
SETTINGS = """spawn_rules: {conflict_spawn_decay: [1.0, 0.0], conflict_spawn_decay_interval: 3}
move_rules: {max_move_speed: 400.0, max_walk_speed: 35.0, softening: 36.0, distance_power: 0.75,
  default_movechance: 0.5, start_on_foot: True, avoid_short_stints: True, capacity_scaling: 1.0}
"""


def _case(tmp: Path) -> Path:
    inp, val = tmp / "case" / "input", tmp / "case" / "validation"
    inp.mkdir(parents=True)
    val.mkdir(parents=True)
    (inp / "locations.csv").write_text(LOCATIONS)
    (inp / "routes.csv").write_text(ROUTES)
    (inp / "sim_period.csv").write_text("StartDate,2020-01-01\nLength,10\n")
    (inp / "closures.csv").write_text("#closure_type,name1,name2,closure_start,closure_end\nlocation,H,C,0,4\n")
    # H is a conflict zone from the start, Z from day 3; H's spawning decays to nothing after 3 days, so H's
    # people are made on days 1 and 2, Z's on day 3
    rows = "".join(f"{d},1,{int(d >= 3)},0,0\n" for d in range(10))
    (inp / "conflicts.csv").write_text("#Day,H,Z,A,C\n" + rows)
    (val / "data_layout.csv").write_text("total,c.csv\nC,c.csv\n")
    (val / "c.csv").write_text("Date,count\n2020-01-01,0\n2020-01-04,1200\n")
    (tmp / "s.yml").write_text(SETTINGS)
    return main_import(str(inp), str(tmp / "order.yaml"), str(val), str(tmp / "s.yml"))


def test_a_camp_filling_in_a_day_takes_arrivals_in_the_order_people_were_made(tmp_path):
    model = refuge.load(_case(tmp_path))
    c = model.state_index("C")
    fast = np.array([refuge.simulate(model, seed=s).stocks[:, c] for s in range(300)], float)
    ref = np.array([simulate_reference(model, seed=10_000 + s).stocks[:, c] for s in range(80)], float)
    # day 5: the hub opened on day 4, the walkers reach the camp and the town, the town's people set out
    for d in (5, 6, 9):
        se = np.sqrt(fast[:, d].var() / len(fast) + ref[:, d].var() / len(ref))
        assert abs(fast[:, d].mean() - ref[:, d].mean()) < 4 * se + 0.5, (d, fast[:, d].mean(), ref[:, d].mean())
    assert fast[:, 5].mean() > 600  # the camp does fill past its taper that day (the case tests something)
