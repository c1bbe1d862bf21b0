"""One run of the fast engine: seed the streams, make the world, run the days, collect the results by name.

The tables have fixed sizes within a run; when one is too small the run stops, and is made again from the same
seed (so with the same draws) with the tables grown to what the days done so far suggest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.scenario.limits import MAX_UNITS
from refuge.sim.day import run_days
from refuge.sim.layout import collect, new_world, spec_of
from refuge.sim.mechanisms.drift import drifted
from refuge.sim.mechanisms.network.structs import net_spec
from refuge.sim.streams import network_stream
from refuge.sim.tables import FULL_NET, FULL_PEND, FULL_STAYS, FULL_UNITS, N_UNITS, U_ALIVE, U_STATE

# Rows of the unit, stay and waiting-group tables (and the network's person table) that served earlier runs of a
# scenario: a run starts with them, so only the first runs of a scenario in a process may need to be made again.
_TABLE_ROWS: dict[tuple[str, int], tuple[int, int, int, int]] = {}


def run_model(m: Any, days: int, seed: int) -> dict[str, Any]:
    """Run the compiled model for `days` days from `seed`: the results of the run by name (the fields of
    `refuge.results.Run` the mechanisms declare)."""
    spec, net = drifted(spec_of(m), m, seed), net_spec(m.net)  # the run's own parameter table when one drifts
    key = (m.scenario.name, days)
    initial = [max(round(m.pbase[0, m.initial_param[s]]), 0) for s in range(len(m.state_names))]
    initial_tracked = int(sum(n for s, n in enumerate(initial) if m.tracked[s] and not m.queued[s]))  # a unit each
    # everyone who can ever be one by one on the network, without people brought in by other mechanisms
    net_rows = 1 if m.net is None else int(sum(initial[s] for s in m.net.loc_state) + m.net.spawn[:days].sum()
                                           + m.net.spawn_expect[:days].sum() + 1)
    rows = _TABLE_ROWS.get(key, (max(1024, 2 * initial_tracked), 1024, 16, net_rows))
    while True:
        world = new_world(m, days, rows, seed)
        full, done = run_days(days, spec, net, world, np.array(rows, np.int64), network_stream(seed))
        if not full:
            _TABLE_ROWS[key] = rows
            return collect(m, world)
        scale = max(2.0, 1.25 * days / max(done, 1))
        grown = tuple(int(r * scale) if full & bit else r for r, bit in zip(rows, (FULL_UNITS, FULL_STAYS,
                                                                                      FULL_PEND, FULL_NET)))
        if any(g > max(MAX_UNITS, r) for g, r in zip(grown, rows)):
            _too_many(m, done, world)
        rows = grown


def _too_many(m: Any, done: int, world: Any) -> None:
    units = world.units[: world.count[N_UNITS]]
    held = np.bincount(units[units[:, U_ALIVE] > 0, U_STATE], minlength=len(m.state_names))
    most = ", ".join(f"{m.state_names[s]} ({held[s]:,})" for s in np.argsort(-held)[:3] if held[s] > 0)
    raise RefugeError(f"{m.origin}: more than {MAX_UNITS:,} groups at once in states whose exits depend on time in "
                      f"state, or stays recorded, by {m.start + dt.timedelta(days=int(done))}"
                      + (f" (groups held: {most})" if most else "") + "; lower the arrival rates or initial numbers, "
                      "shorten the period, give those states constant-rate exits so their people are counted, or "
                      "make a waiting state a queue (a fixed number of days, then a step with a capacity), whose "
                      "people are counted per day of entry")
