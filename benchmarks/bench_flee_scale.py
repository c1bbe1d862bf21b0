"""Flee's largest networks at awareness 5: compile time, memory and run time of look-ahead route choice.

    python benchmarks/bench_flee_scale.py                 # the 100-100-8 grid and a generated network
    python benchmarks/bench_flee_scale.py --only grid --awareness 3 --days 30

ukraine2022 (thousands of locations, awareness_level 5) is kept aside from ../shared/flee/suite; these two
networks stand in for it, each imported by `refuge import flee` with a settings file of awareness_level A
(default 5) and Flee's conflict-driven spawning (constant; neither case has validation data to spawn from, so
the spawning is an assumption of this benchmark), from 2022-02-24 for `--days` days:

- `grid`: FabFlee's `100-100-8` case as published (../shared/flee/suite/fabflee-config_files/100-100-8): 10,000
  places on a 100 x 100 grid, each joined to its 8 neighbours (39,303 routes), 3,759 conflict zones and 312
  camps; 1 person a day from each conflict zone.
- `ukraine-like`: a generated case (seeded) of 3,000 places in a 1,300 x 900 km box, each joined to its 3
  nearest (mean degree 3.8, as a road network between towns: an assumption, not ukraine2022's own
  figure), 10% conflict zones, 5% camps at its western edge; 5 people a day from each conflict zone.

Per network: places, routes, the number of ways a person weighs (every way of 1 to A routes out of each place
that passes no place twice: counted by a walk, not listed) and the (place, end) pairs the compiled model keeps
instead; the import's CPU time and the scenario file's size (a large network's lists go to data files); loading
it (YAML and data files, then compile); CPU time of one run (after a first run that compiles the engine; median
of `--seeds`); people spawned and moved; the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
GRID = ROOT.parent / "shared" / "flee" / "suite" / "fabflee-config_files" / "100-100-8"


SETTINGS = """move_rules:
  awareness_level: {awareness}
spawn_rules:
  conflict_driven_spawning:
    spawn_mode: constant
    displaced_per_conflict_day: {per_day}
"""


def grid_case(tmp: Path) -> tuple[Path, int]:
    """FabFlee's 100-100-8 case as published; (its input folder, people spawned per conflict zone a day)."""
    return GRID, 1


def generated_case(tmp: Path, n: int = 3000, k: int = 3, seed: int = 2022) -> tuple[Path, int]:
    """A Flee case of n places at random in a 1,300 x 900 km box, each joined to its k nearest (km: straight
    line x 1.2): 10% conflict zones from day 0, 5% camps (room 50,000) at the western edge."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    xy = rng.uniform([0, 0], [1300, 900], size=(n, 2))
    _, near = cKDTree(xy).query(xy, k + 1)
    pairs = sorted({tuple(sorted((i, int(j)))) for i in range(n) for j in near[i, 1:]})
    camps = set(np.argsort(xy[:, 0])[: n // 20].tolist())
    conflict = set(rng.choice([i for i in range(n) if i not in camps], n // 10, replace=False).tolist())
    folder = tmp / "ukraine-like"
    folder.mkdir()
    with open(folder / "locations.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["#name", "region", "country", "latitude", "longitude", "location_type", "conflict_date",
                      "population"])
        for i in range(n):
            kind = "camp" if i in camps else "conflict_zone" if i in conflict else "town"
            out.writerow([f"P{i}", "r", "W" if i in camps else "U", 0, 0, kind, 0 if kind == "conflict_zone" else "",
                          50_000 if i in camps else int(rng.integers(5_000, 200_000))])
    with open(folder / "routes.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["#name1", "name2", "distance", "forced_redirection"])
        for a, b in pairs:
            out.writerow([f"P{a}", f"P{b}", round(1.2 * float(np.hypot(*(xy[a] - xy[b]))) + 1, 1), 0])
    return folder, 5


def count_ways(net) -> tuple[int, int]:
    """(ways, their routes together) of every place: what listing every way would hold (counted by a walk)."""
    from numba import njit

    @njit(cache=False)
    def walk(L, adj_ptr, adj_link, link_to, marker, depth):
        ways = 0
        steps_all = 0
        on = np.zeros(L, np.bool_)
        node = np.zeros(L + 2, np.int64)
        slot = np.zeros(L + 2, np.int64)
        steps = np.zeros(L + 2, np.int64)
        for l in range(L):
            top = 0
            node[0], slot[0], steps[0] = l, adj_ptr[l], 0
            on[l] = True
            while top >= 0:
                here = node[top]
                j = slot[top]
                if j >= adj_ptr[here + 1]:
                    on[here] = False
                    top -= 1
                    continue
                slot[top] = j + 1
                nxt = link_to[adj_link[j]]
                if on[nxt]:
                    continue
                st = steps[top] + (0 if marker[nxt] else 1)
                if not marker[nxt]:
                    ways += 1
                    steps_all += top + 1
                if marker[nxt] or st < depth:
                    top += 1
                    node[top], slot[top], steps[top] = nxt, adj_ptr[nxt], st
                    on[nxt] = True
        return ways, steps_all

    from refuge.model.network import MARKER

    return walk(len(net.names), net.adj_ptr, net.adj_link, net.link_to, net.loc_kind == MARKER,
                max(net.awareness, 1))


def measure(name: str, make, awareness: int, days: int, seeds: int) -> dict:
    import tempfile
    import warnings

    from refuge.interop.flee import main_import
    from refuge.model.compiler import compile_scenario
    from refuge.results.simulate import simulate
    from refuge.scenario.format import read

    with tempfile.TemporaryDirectory() as tmp:
        folder, per_day = make(Path(tmp))
        settings = Path(tmp) / "settings.yml"
        settings.write_text(SETTINGS.format(awareness=awareness, per_day=per_day))
        t0 = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = main_import(str(folder), str(Path(tmp) / f"{name}.yaml"), None, str(settings),
                              start=dt.date(2022, 2, 24), days=days)
        import_s = time.process_time() - t0
        size = out.stat().st_size / 2**20
        t0 = time.process_time()
        sc = read(out)
        read_s = time.process_time() - t0
        t0 = time.process_time()
        model = compile_scenario(sc, str(out))
        compile_s = time.process_time() - t0
    net = model.net
    wy = net.ways
    ways, steps = count_ways(net)
    simulate(model, seed=0)  # the engine compiled (cached per worktree) and warm
    times, moved, spawned = [], [], []
    for seed in range(seeds):
        t0 = time.process_time()
        run = simulate(model, seed=seed + 1)
        times.append(time.process_time() - t0)
        moved.append(int(run.entered.sum()))
        spawned.append(int(run.spawned.sum()))
    arrays = sum(a.nbytes for a in (wy.way_ptr, wy.end, wy.hops, wy.origin_ptr, wy.origins))
    return {"name": name, "places": len(net.names), "routes": int(net.link_from.size // 2), "awareness": awareness,
            "days": days, "ways": ways, "way_steps": steps, "ends": int(wy.end.size), "import_s": import_s,
            "yaml_mb": size, "read_s": read_s, "compile_s": compile_s, "arrays_mb": arrays / 2**20,
            "run_s": statistics.median(times), "runs": seeds, "entered": statistics.median(moved),
            "spawned": statistics.median(spawned),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["grid", "ukraine-like"], help="one network")
    ap.add_argument("--awareness", type=int, default=5)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    nets = {"ukraine-like": generated_case, "grid": grid_case}
    print(f"{'network':<14}{'places':>8}{'routes':>8}{'A':>3}{'ways':>13}{'route steps':>13}{'ends kept':>11}"
          f"{'import s':>9}{'YAML MB':>8}{'read s':>7}{'compile s':>10}{'ends MB':>8}{'run s':>7}{'spawned':>10}"
          f"{'entered':>12}{'peak MB':>8}")
    for name, make in nets.items():
        if args.only and name != args.only:
            continue
        r = measure(name, make, args.awareness, args.days, args.seeds)
        print(f"{r['name']:<14}{r['places']:>8,}{r['routes']:>8,}{r['awareness']:>3}{r['ways']:>13,}"
              f"{r['way_steps']:>13,}{r['ends']:>11,}{r['import_s']:>9.1f}{r['yaml_mb']:>8.2f}{r['read_s']:>7.1f}"
              f"{r['compile_s']:>10.1f}{r['arrays_mb']:>8.1f}{r['run_s']:>7.2f}{r['spawned']:>10,.0f}"
              f"{r['entered']:>12,.0f}{r['maxrss_mb']:>8,.0f}", flush=True)
    print("ways / route steps: what listing every way would hold (refused past 20,000,000 steps before); ends "
          "kept: the (place, end) pairs the model keeps instead (ends MB: their arrays). import s: `refuge import "
          "flee` (read, check, write); read s and compile s: loading the scenario it wrote (YAML, data files; "
          f"compile); run s: CPU s of one run of {args.days} days (median of {args.seeds}, engine warm); spawned, "
          "entered: people spawned, and entering places by the network, in a run; peak MB: the process's.")


if __name__ == "__main__":
    main()
