"""The scenario an imported Flee case becomes: YAML text citing each Flee file and line, and the data files it
reads (the daily spawn total, each camp's counts), written all or nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from refuge.interop.flee.case import FleeRead
from refuge.interop.flee.conflicts import conflict_periods
from refuge.interop.flee.csvread import FleeInputError
from refuge.interop.flee.flood_writer import write_floods
from refuge.interop.flee.validation import corrected_note, interp_int, num

FLEE_NOTICE = ("Flee (djgroen/flee) is BSD-3-Clause licensed; data from a Flee case keep that licence "
               "(see LICENSE.flee beside the data).")

Write = Callable[[str], None]


@dataclass
class FleeCase:
    """An imported case: the scenario's text, the data files it cites (relative path -> CSV text), and the
    warnings of the import (one line each: file, line, what Flee would do, what was done)."""

    name: str
    text: str
    files: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def write(self, out: str | Path) -> Path:
        """Write the scenario and its data folder; all or nothing (files land only when all are written)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".refuge-import-", dir=out.parent))
        try:
            for rel, text in self.files.items():
                p = tmp / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(text, encoding="utf-8")
            (tmp / out.name).write_text(self.text, encoding="utf-8")
            for rel in self.files:
                target = out.parent / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / rel, target)
            os.replace(tmp / out.name, out)
        finally:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return out


def q(text: str) -> str:
    """A YAML scalar for a name (JSON strings are YAML)."""
    return json.dumps(text, ensure_ascii=False)


def file_name(name: str) -> str:
    """A location's name as a file name (letters, digits, `-` and `_`)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def write_case(r: FleeRead, data_dir: str | None = None) -> FleeCase:
    """The scenario of a case read by `read_case`."""
    data_dir = data_dir or f"{r.case}-data"
    names = r.names
    data_camps = [n for n, _, _ in r.layout if n != "total" or n in names]
    st = r.st
    day0 = {n: (interp_int(r.series[n], 0) if st.insert_day0 and not st.empty_camps_on_day0 else 0)
            for n in data_camps}
    files: dict[str, str] = {}
    out: list[str] = []
    w = out.append
    _head(r, w)
    en_route = _states(r, w, day0)
    _parameters(r, w)
    w("network:")
    w(f"  en_route: {en_route}")
    _places(r, w, day0, files, data_dir)
    if r.floods is None:
        _conflicts(r, w, out)
    else:
        w("  conflicts: []  # with flood rules on, Flee reads no conflicts")
    _closures(r, w, out)
    if r.floods is not None:
        write_floods(r, w)
    elif st.conflict_driven is not None:
        _conflict_spawning(r, w)
    elif r.layout:
        _spawning(r, w, files, data_dir)
    _movement(r, w)
    if r.layout:
        _evidence(r, w, files, data_dir)
    out[4:4] = [f"# warning: {note}" for note in r.notes]  # after the header's four lines
    return FleeCase(name=r.case, text="\n".join(out) + "\n", files=files, warnings=list(r.notes))


def _head(r: FleeRead, w: Write) -> None:
    hint = f" --validation {r.vdir}" if r.vdir else ""
    w(f"# {r.case}: imported from the Flee case in {r.idir}{hint}"
      f"{' --settings ' + str(r.spath) if r.spath else ''} by `refuge import flee`.")
    w(f"# {FLEE_NOTICE}")
    w("# Each part says the file (and line) it came from. Flee's rules as its code applies them are described")
    w("# in refuge/interop/flee/ and refuge/sim/mechanisms/network/.")
    if r.st.hasten != 1 and r.floods is not None:
        w(f"# The settings' `hasten: {r.st.hasten}`: as Flee, one person simulated per {r.st.hasten} (populations, "
          "capacities and data divided by it), as spawning at flooded places grows with the population.")
    elif r.st.hasten != 1:
        w(f"# The settings' `hasten: {r.st.hasten}` (one Flee agent per {r.st.hasten} people) is not used: refuge "
          "simulates every person.")
    w(f"name: {q(r.case)}")
    w(f"title: {q(f'{r.case}: a Flee case')}")
    end = r.start + dt.timedelta(days=r.length - 1)
    w(f"start: {r.start}   # {r.period}: StartDate")
    w(f"end: {end}     # {r.period}: Length {r.length} days")


def _states(r: FleeRead, w: Write, day0: dict[str, int]) -> str:
    """The states (one per location, and the one of people travelling); returns the latter's name."""
    w("states:")
    w("  # one per row of locations.csv: conflict zones are origins, towns and hubs `other`, camps destinations"
      + (" (in its order)" if len(r.locs) + len(r.routes) > TABLE_AFTER else ""))
    for loc in r.locs:
        kind = {"conflict_zone": "origin", "camp": "destination", "idpcamp": "destination"}.get(loc.kind, "other")
        init = f", initial: {day0[loc.name]}" if day0.get(loc.name) else ""
        line = "" if len(r.locs) + len(r.routes) > TABLE_AFTER else f"locations.csv line {loc.line}"
        note = f"{day0[loc.name]:,} on the first day ({loc.name}'s data)" if day0.get(loc.name) else ""
        note = f"  # {'; '.join(x for x in (line, note) if x)}" if line or note else ""
        w(f"  - {{name: {q(loc.name)}, kind: {kind}{init}}}{note}")
    en_route = "en_route"
    while en_route in r.names:
        en_route += "_"
    w(f"  - {{name: {en_route}, kind: transit}}  # people travelling along a route")
    return en_route


# the movement numbers calibration may move, with the importer's prior for each (assumptions)
_PRIORS = {
    "move_chance_town": ("{dist: uniform, low: 0.05, high: 0.95}", "a town is left on 1 day in 20 to almost every "
                         "day (Flee's settings use 0.3 and 0.5)"),
    "move_chance_camp": ("{dist: loguniform, low: 0.0001, high: 0.05}", "a camp is left on 1 day in 10,000 to 1 in "
                         "20 (Flee's settings use 0.0005 and 0.001); moves between camps, the only way into a camp "
                         "that no other place leads to"),
    "distance_power": ("{dist: uniform, low: 0.25, high: 1.5}", "around Flee's 0.75 and 1"),
    "camp_weight": ("{dist: loguniform, low: 0.5, high: 10}", "around Flee's 1, 2 and 5"),
    "conflict_weight": ("{dist: uniform, low: 0.05, high: 1}", "around Flee's 0.25 and 1/sqrt(10)"),
    "capacity_scaling": ("{dist: uniform, low: 0.8, high: 2}", "around Flee's 1 and 1.25"),
    "speed": ("{dist: uniform, low: 100, high: 600}", "km a day, around Flee's 200, 360 and 400")}
_DRIFTING = ("camp_weight", "move_chance_town")  # the drivers a forecast lets drift (`_drift`)
_UNITS = {"speed": "km/day", "walk_speed": "km/day", "distance_softening": "km"}


def _parameters(r: FleeRead, w: Write) -> None:
    """The movement rules as parameters, cited to the settings file."""
    src_file = r.st.file or "Flee's defaults (no settings file)"
    w("parameters:")
    w("  # values: the settings file's (or Flee's defaults). Priors, for `refuge calibrate` and `refuge backtest`, are")
    w("  # this importer's assumptions, not Flee's: wide ranges around the values Flee's settings files use")
    for fname, value in r.st.move.items():
        key = r.st.keys.get(fname)
        fact = f"{key}: {num(value)}" if key else f"not set; Flee's default {num(value)}"
        prior = (f", prior: {_PRIORS[fname][0]}, description: {q('prior: an assumption; ' + _PRIORS[fname][1])}"
                 if fname in _PRIORS else "")
        unit = f", unit: {_UNITS[fname]}" if fname in _UNITS else ""
        w(f"  {fname}: {{value: {num(value)}{unit}, source: {{file: {q(src_file)}, fact: {q(fact)}}}{prior}}}")
    _drift(r, w)


def _drift(r: FleeRead, w: Write) -> None:
    """Forecast uncertainty that grows with the horizon: the camps' pull and the towns' move chance drift each
    week by `movement_drift` (0 in a plain run, as Flee runs; `refuge backtest` fits it)."""
    drifting = [f for f in _DRIFTING if f in r.st.move]
    if not drifting:
        return
    w("  movement_drift: {value: 0, unit: change of log(value) per week (standard deviation), assumption: true, "
      "prior: {dist: uniform, low: 0, high: 1}, description: \"prior: an assumption (refuge's, not "
      "Flee's); how much the camps' pull and the towns' move chance change at random from week to week in a "
      "forecast; 0: they stay as Flee's settings give them\"}")
    w("drift:  # docs/format.md, 'Drivers that drift': a random walk in log space, each run its own path")
    for f in drifting:
        w(f"  - {{parameter: {f}, size: movement_drift, step: week}}")


TABLE_AFTER = 1_000  # locations and routes together: a larger network's lists go to CSV data files


def _places(r: FleeRead, w: Write, day0: dict[str, int], files: dict[str, str], data_dir: str) -> None:
    """The network's home country, locations and routes (a large network's in data files beside the scenario:
    `refuge.scenario.tables`; the scenario file is for what a person reads)."""
    home = r.locs[0].country
    w(f"  home_country: {q(home)}   # the country of the first location (Flee: others are foreign)")
    fact = f"{len(r.locs)} locations and {len(r.routes)} routes of the Flee case"
    w(f"  source: {{file: locations.csv, fact: {q(fact)}}}")
    table = len(r.locs) + len(r.routes) > TABLE_AFTER
    locs, routes = [], []
    for loc in r.locs:
        typ = {"conflict_zone": "town", "forward": "forward"}.get(loc.kind, loc.kind)
        if typ == "flood_zone" and r.floods is None:
            typ = "town"  # without flood rules, Flee's flood zone is a town that a short stint does not empty
            r.notes.add("locations.csv", loc.line, f"`{loc.name}`: a flood_zone without flood rules in the "
                        "settings: Flee runs it as a town; so does refuge")
        fields = {"state": q(loc.name), "type": typ, "country": q(loc.country)}
        note = f"locations.csv line {loc.line}"
        if loc.kind in ("camp", "idpcamp"):
            cap, why = _room(r, loc, day0.get(loc.name, 0))
            fields["capacity"] = str(cap)
            note += why
        else:
            fields["population"] = str(loc.number)
        if loc.kind == "conflict_zone":
            note += f"; conflict zone (conflict_date {loc.conflict_date})"
        locs.append((fields, note))
    seen: set[int] = set()
    for a, b, km, line in r.routes:
        again = " again: Flee links a route marked forced_redirection 1 twice (--as-flee)" if line in seen else ""
        seen.add(line)
        routes.append((a, b, km, f"routes.csv line {line}{again}"))
    if table:
        _tables(w, files, data_dir, locs, routes)
        return
    w("  locations:")
    for fields, note in locs:
        w(f"    - {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}  # {note}")
    w("  routes:")
    for a, b, km, note in routes:
        w(f"    - {{between: [{q(a)}, {q(b)}], km: {num(km)}}}  # {note}")


def _tables(w: Write, files: dict[str, str], data_dir: str, locs: list, routes: list) -> None:
    """A large network's locations and routes as CSV data files (in the order of locations.csv and routes.csv)."""
    import csv
    import io

    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["state", "type", "country", "population", "capacity"])
    for fields, _ in locs:
        out.writerow([json.loads(fields["state"]), fields["type"], json.loads(fields["country"]),
                      fields.get("population", ""), fields.get("capacity", "")])
    files[f"{data_dir}/locations.table.csv"] = text.getvalue()
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["a", "b", "km"])
    for a, b, km, _ in routes:
        out.writerow([a, b, num(km)])
    files[f"{data_dir}/routes.table.csv"] = text.getvalue()
    w(f"  locations_file: {data_dir}/locations.table.csv  # {len(locs):,} rows of locations.csv, in its order "
      "(a data file: the network is too large to read well here)")
    w(f"  routes_file: {data_dir}/routes.table.csv  # {len(routes):,} rows of routes.csv, in its order")


FULL_ROOM = 2  # a camp full from the first day: room for 2 (taper 0 once 2 are there, for capacity_scaling >= 0.5)


def _room(r: FleeRead, loc, there: int) -> tuple[int, str]:
    """A camp's room: its capacity less the people there on the first day, as Flee reduces it (none for a
    capacity of 0). A camp holding more than its capacity on the first day is full (a note says so); Flee's
    room then falls below zero, which its capacity rule reads as no limit (`as_flee`)."""
    if not there or loc.number <= 0:
        return loc.number, ""
    if r.floods is not None:  # Flee reduces a camp's capacity by its first day's count only when spawning from data
        return loc.number, f"; {there:,} there on the first day, its capacity not reduced (Flee's flood rules)"
    if r.st.conflict_driven is not None:  # Flee reduces the room only where it spawns from the camps' data
        return loc.number, f": capacity {loc.number:,}, not reduced by the {there:,} there on the first day (Flee " \
            "does not with conflict-driven spawning)"
    why = f": capacity {loc.number:,} less the {there:,} there on the first day (as Flee)"
    if there < loc.number:
        return loc.number - there, why
    flee = "a room of 0 or less, which its capacity rule reads as no limit at all"
    r.notes.add("locations.csv", loc.line, f"camp `{loc.name}` holds {there:,} on the first day ({loc.name}'s "
                f"data), at or above its capacity {loc.number:,}: Flee gives it {flee}; refuge "
                + ("does as Flee does (--as-flee)" if r.as_flee else "makes it full from the first day (--as-flee: "
                   "as Flee)"))
    if r.as_flee:
        return 0, f": capacity {loc.number:,} at or below the {there:,} there on the first day: no limit (as Flee)"
    return FULL_ROOM, f": capacity {loc.number:,} at or below the {there:,} there on the first day: full"


def _conflict_list(r: FleeRead, out: list[str]) -> list[tuple[str, int, int | None, float, str]]:
    """(location, first day, last day or None, intensity, source) of each conflict period, as Flee reads them."""
    names, length, periods = r.names, r.length, []
    if r.conflicts is None:
        for loc in r.locs:
            if loc.kind == "conflict_zone" and loc.conflict_date is not None and loc.conflict_date < length:
                periods.append((loc.name, max(loc.conflict_date, 0), None, 1.0, f"locations.csv line {loc.line}"))
        return periods
    ignored = [n for n in r.conflicts if n not in names]
    if ignored:
        listed = ", ".join(ignored)
        out[-1:] = [f"  # conflicts.csv columns naming no location, ignored as Flee ignores them: {listed}", out[-1]]
    for n, vals in r.conflicts.items():
        if n in names:
            periods += [(n, d0, d1, level, "conflicts.csv") for d0, d1, level in conflict_periods(vals, length)]
    # Flee makes a conflict-zone row with conflict_date <= 0 a conflict zone when it reads locations.csv
    # (intensity 1, begun the day before the first); conflicts.csv only ends it or begins it anew (from its
    # first positive day), so it is one until then even where conflicts.csv has no column or says 0
    for loc in r.locs:
        if loc.kind != "conflict_zone" or (loc.conflict_date or 0) > 0:
            continue
        vals = r.conflicts.get(loc.name)
        if vals is not None and vals and vals[0] > 1e-6:
            continue
        first = next((t for t, v in enumerate((vals or [])[:length]) if v > 1e-6), None)
        if first != 0:
            periods.append((loc.name, -1, None if first is None else first - 1, 1.0,
                            f"locations.csv line {loc.line}: a conflict zone from the start (conflict_date "
                            f"{loc.conflict_date}), as Flee reads it"))
    return periods


def _conflicts(r: FleeRead, w: Write, out: list[str]) -> None:
    w("  conflicts:")
    periods = sorted(_conflict_list(r, out), key=lambda p: (p[1], p[0]))
    for n, d0, d1, level, src in periods:
        to = f", to: {r.start + dt.timedelta(days=d1)}" if d1 is not None else ""
        w(f"    - {{location: {q(n)}, from: {r.start + dt.timedelta(days=d0)}{to}, intensity: {num(level)}}}"
          f"  # {src}: day {d0}" + (f" to {d1}" if d1 is not None else " on"))
    if not periods:
        src = r.idir / "conflicts.csv" if r.conflicts is not None else r.idir / "locations.csv"
        raise FleeInputError(src, None, None, f"a conflict zone whose conflict begins within the {r.length} days "
                             "of the period (people are spawned there)", "none")


def _closures(r: FleeRead, w: Write, out: list[str]) -> None:
    w("  closures:")
    for cl in r.closures:
        item = next(f"{k}: [{q(cl[k][0])}, {q(cl[k][1])}]" if isinstance(cl[k], list) else f"{k}: {q(cl[k])}"
                    for k in ("countries", "location", "route", "camp") if k in cl)
        if cl.get("one_way"):
            item += ", one_way: true"
        d0, d1 = cl["start"], cl["end"]
        to = f", to: {r.start + dt.timedelta(days=d1 - 1)}" if d1 > d0 else ""
        w(f"    - {{{item}, from: {r.start + dt.timedelta(days=max(d0, 0))}{to}}}  # closures.csv line {cl['line']}: "
          f"days {d0} to {d1}" + ("" if d1 > d0 else " (no reopening)"))
    if not r.closures:
        out[-1] = "  closures: []"


def _spawning(r: FleeRead, w: Write, files: dict[str, str], data_dir: str) -> None:
    """Flee's daily spawn: the growth of the camps' whole-number counts (or of the total's)."""
    st, layout, T = r.st, r.layout, r.length
    spawn_camps = [n for n, _, _ in layout[1:]]  # Flee sums every row but the first
    summed = [r.series[n] for n in spawn_camps] + r.extra_series  # extra: Flee's readings (as_flee)
    if st.sum_from_camps:
        daily = [sum(interp_int(pts, t) for pts in summed) for t in range(T)]
    else:
        daily = [interp_int(r.series[layout[0][0]], t) for t in range(T)]
    if not st.insert_day0:  # Flee then spawns on day 0 what every data row holds on day 0
        day0_all = sum(interp_int(pts, 0) for pts in [r.series[layout[0][0]]] + summed) if st.sum_from_camps \
            else daily[0]
        daily = [d - daily[0] + day0_all for d in daily]
    rows = "\n".join(f"{r.start + dt.timedelta(days=t)},{v}" for t, v in enumerate(daily))
    also = "".join(f", {n} (data_layout.csv line {line}, as Flee adds it)" for n, _, line in r.extra)
    what = ("the sum of the camps' counts (" + ", ".join(spawn_camps) + also + ")") if st.sum_from_camps else \
        f"the total ({' + '.join(f.name for f in layout[0][1])})"
    files[f"{data_dir}/spawn_total.csv"] = (
        f"# {r.case}: people displaced so far, each day: {what}, each interpolated linearly between its dated "
        f"counts and cut to a whole number, as Flee reads them. {FLEE_NOTICE}\ndate,value\n{rows}\n")
    w("  spawning:")
    w(f"    total: {{file: {data_dir}/spawn_total.csv}}  # daily, from the validation folder's camp counts")
    w(f"    first_day: {str(not st.insert_day0).lower()}")
    w(f"    decay_interval: {st.decay_interval}  # settings: spawn_rules.conflict_spawn_decay_interval")
    w(f"    decay: [{', '.join(num(x) for x in st.decay)}]  # settings: spawn_rules.conflict_spawn_decay")
    if st.take_from_population:
        w("    take_from_population: true  # settings: spawn_rules.take_from_population")


def _movement(r: FleeRead, w: Write) -> None:
    st = r.st
    src_file = st.file or "Flee's defaults (no settings file)"
    w("  movement:")
    for fname in st.move:
        w(f"    {fname}: {fname}")
    w(f"    start_on_foot: {str(st.flags['start_on_foot']).lower()}   # {src_file}")
    w(f"    avoid_short_stints: {str(st.flags['avoid_short_stints']).lower()}")
    w(f"    awareness: {st.awareness}")


def _evidence(r: FleeRead, w: Write, files: dict[str, str], data_dir: str) -> None:
    """Each camp's counts as time-series evidence (group `camps`)."""
    w("evidence:")
    w("  # camp counts, corrected as registration_corrections.csv says; scored with Flee's ARD (group `camps`)")
    for n, fs, line in r.layout:
        if n == "total" and n not in r.names:
            continue
        rel = f"{data_dir}/{file_name(n)}.csv"
        rows = "\n".join(f"{r.start + dt.timedelta(days=d)},{num(round(v, 3))}" for d, v in r.series[n])
        fnames = " + ".join(f.name for f in fs)
        summed = " (the sum of these files, each read as a line through its dated counts)" if len(fs) > 1 else ""
        corrected = corrected_note(n, r.idir / "registration_corrections.csv")
        files[rel] = f"# {n}: {fnames} of the Flee case{summed}{corrected}. {FLEE_NOTICE}\ndate,value\n{rows}\n"
        w(f"  - id: {q('camp-' + n)}")
        fact = f"registered refugees in {n} (UNHCR), as in the Flee case"
        w(f"    source: {{file: {q(fnames)}, fact: {q(fact)}}}  # data_layout.csv line {line}")
        w(f"    measure: {{stock: [{q(n)}]}}")
        w(f"    series: {{file: {rel}}}")
        w("    group: camps")


def _conflict_spawning(r: FleeRead, w: Write) -> None:
    """Flee's conflict-driven spawning: each conflict zone's own number a day by its intensity."""
    st = r.st
    mode, per_day = st.conflict_driven
    w("  spawning:  # settings: spawn_rules.conflict_driven_spawning (each conflict zone by its intensity)")
    w(f"    conflict_driven: {{mode: {mode}, per_day: {num(per_day)}}}  # settings: spawn_mode, "
      "displaced_per_conflict_day")
    w(f"    take_from_population: {str(st.take_from_population).lower()}  # settings: "
      "spawn_rules.take_from_population")
