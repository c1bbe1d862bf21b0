"""The `floods` section an imported Flee case with flood rules gets (`refuge.interop.flee.flood` reads them)."""

from __future__ import annotations

import json
from typing import Any, Callable


def write_floods(r: Any, w: Callable[[str], None]) -> None:
    """The network's floods: flood_level.csv's levels (each location's list cut where it stops changing, as a
    shorter list holds its last level) and the settings' lists, cited to their file and key."""
    fl, src = r.st.flood, r.st.file
    w("  floods:  # Flee's flood rules (DFlee): refuge/interop/flee/flood.py says how Flee applies them")
    fact = json.dumps(f"flood levels of {len(r.floods)} locations, by day")
    w(f"    source: {{file: flood_level.csv, fact: {fact}}}")
    w(f"    move_chance: {_list(fl.move_chance)}  # {src}: move_rules.flood_rules.flood_movechances")
    w(f"    weight: {_list(fl.weight)}  # {src}: move_rules.flood_rules.flood_loc_weights")
    w(f"    spawn: {_list(fl.spawn)}  # {src}: spawn_rules.flood_driven_spawn_mode.displaced_per_flood_day")
    w(f"    spawn_mode: {'share' if fl.spawn_mode == 'pop_ratio' else 'count'}  # spawn_mode {fl.spawn_mode}"
      + (" (Flee's default)" if fl.spawn_mode == "pop_ratio" else ""))
    w("    levels:  # flood_level.csv: row k is day k; each list holds its last level to the end")
    for name, days in r.floods.items():
        last = len(days)
        while last > 1 and days[last - 1] == days[last - 2]:
            last -= 1
        w(f"      {json.dumps(name, ensure_ascii=False)}: {_list(days[:last])}")


def _list(values: list) -> str:
    return "[" + ", ".join(f"{x:g}" if isinstance(x, float) else str(x) for x in values) + "]"
