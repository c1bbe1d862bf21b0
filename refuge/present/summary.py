"""What the report needs from an experiment, per variant.

Runs written by this refuge carry a small summary in their measures row
(`refuge.experiments.runsummary`): the report reads those rows, one small file per run, and nothing else.
Stores of an older refuge (or holding runs of both kinds) are scanned instead, with DuckDB, which reads the
3,000 files of a 1,000-run experiment in parallel and reduces the data as it goes. Both give the same:

- bands: per day, quantiles over runs of stocks, site occupancy and capacity, on every `step`-th day
  (a multiple of the summary's grid step; `step` keeps the (runs x days) matrices held at once within
  MEMORY_BUDGET, whatever the number of runs);
- per run and calendar year: totals of flows, network entries and days closed, sums and maxima of occupancy
  (the missions table, the flows figure and table);
- per day: the share of runs in which a site is closed (every day, not sampled);
- stays: people per state, completed or not, and length in days (a histogram, not one row per stay), and per
  run the people who left each state and those still in it at the end;
- per run and site: days in the site, from entering to leaving it (`refuge.results.site_time`);
- each time series' simulated values per run (for the ARD and coverage of camp counts); a store without
  summaries has them only for series of stocks, which the daily tables hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MEMORY_BUDGET = 64 * 2**20  # bytes of sampled (runs x days) matrices held per variant

@dataclass
class VariantSummary:
    variant: str
    ids: np.ndarray  # run ids, sorted
    days: int
    sample: np.ndarray  # day indices the bands are drawn at
    bands: dict[str, np.ndarray] = field(default_factory=dict)  # "what:name" -> (len(QUANTILES), len(sample))
    closed_share: dict[str, np.ndarray] = field(default_factory=dict)  # site -> (days,) share of runs closed
    run_sum: dict[str, np.ndarray] = field(default_factory=dict)  # "what:name" -> (runs,)
    run_mean: dict[str, np.ndarray] = field(default_factory=dict)
    run_max: dict[str, np.ndarray] = field(default_factory=dict)
    years: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    year_days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    year_totals: dict[str, np.ndarray] = field(default_factory=dict)  # "flows:name" -> (runs, years)
    stay_people: dict[str, np.ndarray] = field(default_factory=dict)  # state -> (2, max days + 1): [ongoing, done]
    still_there: dict[str, np.ndarray] = field(default_factory=dict)  # state -> (runs,) people still in it at the end
    left: dict[str, np.ndarray] = field(default_factory=dict)  # state -> (runs,) people whose stay there ended
    site_time: dict[str, np.ndarray] = field(default_factory=dict)  # site -> (runs, TIME_FIGURES)
    series: list[np.ndarray | None] = field(default_factory=list)  # per time series: (runs, its grid), or None
    source: str = ""  # "summaries" (read from the runs' summaries) or "scan" (from the daily tables)

    @property
    def runs(self) -> int:
        """Runs summarised."""
        return len(self.ids)


def summarise(exp: Any, variant: str, con: Any = None) -> VariantSummary:
    """Reduce every finished run of one variant (see the module docstring)."""
    from refuge.experiments.runsummary import BANDED, grid, grid_step

    ids = np.array(exp.finished(variant), np.int64)
    days = exp._days()
    names = {w: exp.names(w) for w in ("stocks", "sites", "capacity", "closed", "flows", "arrivals", "entered")}
    banded = [f"{w}:{n}" for w in BANDED for n in names[w]]
    fine = grid_step(days)
    need = max(fine, math.ceil(len(ids) * max(1, len(banded)) * days * 4 / MEMORY_BUDGET))
    step = fine * math.ceil(need / fine)  # a multiple of the summaries' grid: the same days either way
    out = VariantSummary(variant=variant, ids=ids, days=days, sample=grid(days, step))
    if not len(ids):
        return out
    out.years, out.year_days = np.unique(exp.dates.year.to_numpy(), return_counts=True)
    # the banded members on the summaries' grid, for every run: read at once when that fits the budget, else
    # a few runs at a time, keeping only the sampled days
    stream = len(ids) * len(banded) * len(grid(days, fine)) * 4 > MEMORY_BUDGET
    table = exp.run_summaries(variant, skip=("summary:at",) if stream else ())
    if table is not None and len(table) == len(ids) and _grid_ok(table, fine):
        _from_summaries(exp, out, table, names, banded, fine)
        out.source = "summaries"
    else:
        _scan(exp, out, names, banded, step, con)
        out.source = "scan"
    return out


def _grid_ok(table: Any, fine: int) -> bool:
    import pyarrow.compute as pc

    return bool(pc.all(pc.equal(table.column("summary:step"), fine)).as_py())


def _lists(table: Any, column: str, width: int) -> list[np.ndarray]:
    """A list column whose lists all hold `width` values, as (rows, width) arrays, one per chunk (no copy)."""
    return _lists_of(table.column(column), width)


def _lists_of(col: Any, width: int) -> list[np.ndarray]:
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    return [chunk.flatten().to_numpy(zero_copy_only=False).reshape(len(chunk), width) for chunk in chunks]


def _from_summaries(exp, out: VariantSummary, table: Any, names: dict, banded: list[str], fine: int) -> None:
    """Fill `out` from the runs' summaries (`refuge.experiments.runsummary`)."""
    from refuge.experiments.runsummary import PEAKED, SUMMED, grid

    R, days, Y = out.runs, out.days, len(out.years)
    runs = np.asarray(table.column("run"), np.int64)
    order = np.argsort(runs, kind="stable")  # rows of the table in the order of out.ids
    stored = grid(days, fine)
    pick = np.searchsorted(stored, out.sample)

    # 1. bands at the sampled days, one member at a time
    width = len(stored)
    if banded and "summary:at" in table.column_names:
        chunks = [c.reshape(len(c), len(banded), width) for c in _lists(table, "summary:at", len(banded) * width)]
        for j, c in enumerate(banded):
            m = np.concatenate([x[:, j, :][:, pick] for x in chunks])[order]
            _bands(out, c, m)
        del chunks
    elif banded:  # read a few runs at a time: only the sampled days are kept
        mats = np.zeros((len(banded), R, len(pick)), np.float32)
        for batch_runs, col in exp.summary_batches(out.variant, "summary:at"):
            rows = np.searchsorted(out.ids, batch_runs)
            for x in _lists_of(col, len(banded) * width):
                vals = x.reshape(len(x), len(banded), width)[:, :, pick]
                mats[:, rows[:len(x)], :] = vals.transpose(1, 0, 2)
                rows = rows[len(x):]
        for j, c in enumerate(banded):
            _bands(out, c, mats[j])
        del mats

    # 2. per run and year
    summed = [f"{w}:{n}" for w in SUMMED for n in names[w]]
    peaked = [f"{w}:{n}" for w in PEAKED for n in names[w]]
    years = np.concatenate(_lists(table, "summary:years", (len(summed) + len(peaked)) * Y))[order].reshape(R, -1, Y)
    for j, c in enumerate(summed):
        _year_sums(out, c, years[:, j, :])
    for j, c in enumerate(peaked):
        out.run_max[c] = years[:, len(summed) + j, :].max(axis=1)

    # 3. the share of runs in which a site is closed, every day
    if names["closed"]:
        triples = np.concatenate([c.flatten().to_numpy(zero_copy_only=False)
                                  for c in table.column("summary:closed").chunks]).reshape(-1, 3).astype(np.int64)
        change = np.zeros((len(names["closed"]), days + 1))
        np.add.at(change, (triples[:, 0], triples[:, 1]), 1)
        np.add.at(change, (triples[:, 0], triples[:, 2]), -1)
        counts = np.cumsum(change, axis=1)[:, :days]
        for k, n in enumerate(names["closed"]):
            out.closed_share[n] = counts[k] / R

    # 4. stays
    tracked = exp.names("max_stay")
    if tracked:
        chunks = table.column("summary:stays").chunks
        quads = np.concatenate([c.flatten().to_numpy(zero_copy_only=False) for c in chunks]).reshape(-1, 4)
        lengths = np.concatenate([np.diff(c.offsets.to_numpy()) for c in chunks]) // 4
        run_of = np.repeat(runs, lengths)
        state_names = np.array(exp.model().state_names, dtype=object)
        _stay_totals(out, tracked, state_names[quads[:, 0]] if len(quads) else np.zeros(0, object),
                     quads[:, 1], quads[:, 2], run_of, quads[:, 3])

    # 5. days in each site
    sites = _sites_held(exp)
    if sites and "summary:site_time" in table.column_names:
        from refuge.results.site_time import TIME_FIGURES

        per = len(TIME_FIGURES)
        values = np.concatenate(_lists(table, "summary:site_time", per * len(sites)))[order]
        for k, site in enumerate(sites):
            out.site_time[site] = values[:, k * per:(k + 1) * per]

    # 6. time series
    series = exp.model().series
    if series:
        widths = [s["grid"].size for s in series]
        values = np.concatenate(_lists(table, "summary:series", sum(widths)))[order]
        for k, n in zip(np.cumsum([0] + widths[:-1]), widths):
            out.series.append(values[:, k:k + n])


def _bands(out: VariantSummary, c: str, m: np.ndarray) -> None:
    """Quantiles over runs of one banded member's (runs x sampled days) matrix."""
    m = np.sort(m, axis=0)  # the same quantiles, and twice as fast as np.quantile's partitions on this shape
    if c.startswith("capacity:"):
        out.bands[c] = np.repeat(np.median(m, axis=0, keepdims=True), len(QUANTILES), axis=0)
        out.run_mean[c] = np.median(m, axis=1)  # room in force on a typical day of the run
    else:
        out.bands[c] = np.quantile(m, QUANTILES, axis=0)


def _year_sums(out: VariantSummary, c: str, per_year: np.ndarray) -> None:
    """Totals of one member per run from its (runs x years) sums."""
    out.run_sum[c] = per_year.sum(axis=1)
    if c.startswith(("flows:", "entered:")):
        out.year_totals[c] = per_year
    if c.startswith("sites:"):
        out.run_mean[c] = out.run_sum[c] / out.days


def _scan(exp, out: VariantSummary, names: dict, banded: list[str], step: int, con: Any) -> None:
    """Fill `out` by reading the daily tables and stays of every run (stores without summaries)."""
    import pyarrow.parquet as pq

    from refuge.experiments.sql import connect, files
    from refuge.experiments.sql import name as q

    con = con or connect()
    ids, days, sample = out.ids, out.days, out.sample
    src = files([exp.file("daily", out.variant, int(r)) for r in ids])
    stored = set(pq.read_schema(exp.file("daily", out.variant, int(ids[0]))).names)
    names = {w: [n for n in ns if f"{w}:{n}" in stored] for w, ns in names.items()}  # older stores lack some
    banded = [c for c in banded if c in stored]
    within = f"day < {days}"
    R, S, Y = len(ids), len(sample), len(out.years)

    # 1. sampled days of every banded member: the (runs x sampled days) matrices, then their quantiles
    if banded:
        pos = np.full(days, -1, np.int64)
        pos[sample] = np.arange(S)
        mats = {c: np.zeros((R, S), np.float32) for c in banded}
        reader = con.sql(f"SELECT run, day, {', '.join(q(c) for c in banded)} FROM {src} "
                         f"WHERE {within} AND (day % {step} = 0 OR day = {days - 1})").to_arrow_reader(1 << 16)
        for batch in reader:  # streamed: DuckDB never holds the whole result
            row = np.searchsorted(ids, batch.column("run").to_numpy())
            at = pos[batch.column("day").to_numpy().astype(np.int64)]
            for c in banded:
                mats[c][row, at] = batch.column(c).to_numpy(zero_copy_only=False)
        for c in banded:
            _bands(out, c, mats.pop(c))

    # 2. per run and year: totals of flows, entries, days closed, occupancy (sum for the mean, and the peak)
    summed = [f"{w}:{n}" for w in ("flows", "closed", "arrivals", "entered") for n in names[w]]
    peaked = [f"sites:{n}" for n in names["sites"]]
    year_case = _year_case(exp, out.years, days)
    # integer columns are summed as integers (exact, and cheaper than casting every value); booleans as numbers
    num = {c: q(c) + ("::INTEGER" if c.startswith("closed:") else "") for c in summed + peaked}
    cols = [f"sum({num[c]}) AS {q('sum ' + c)}" for c in summed + peaked] + [
        f"max({num[c]}) AS {q('max ' + c)}" for c in peaked]
    if cols:
        got = con.execute(f"SELECT run, {year_case} AS y, {', '.join(cols)} FROM {src} WHERE {within} "
                          "GROUP BY ALL").fetchnumpy()
        row, y = np.searchsorted(ids, got["run"]), np.asarray(got["y"], np.int64)
        for c in summed + peaked:
            per_year = np.zeros((R, Y))
            per_year[row, y] = np.nan_to_num(np.asarray(got[f"sum {c}"], np.float64))
            _year_sums(out, c, per_year)
        for c in peaked:
            peak = np.zeros((R, Y))
            peak[row, y] = np.asarray(got[f"max {c}"], np.float64)
            out.run_max[c] = peak.max(axis=1)

    # 3. per day: the share of runs in which each site is closed to entry
    if names["closed"]:
        cols = ", ".join(f"avg({q('closed:' + n)}::DOUBLE) AS {q(n)}" for n in names["closed"])
        got = con.execute(f"SELECT day, {cols} FROM {src} WHERE {within} GROUP BY day ORDER BY day").fetchnumpy()
        d = np.asarray(got["day"], np.int64)
        for n in names["closed"]:
            share = np.zeros(days)
            share[d] = got[n]
            out.closed_share[n] = share
    _stays(exp, out.variant, out, con)
    _scan_series(exp, out, src, stored, con)
    _scan_site_time(exp, out, src, stored, con)


def _sites_held(exp) -> list[str]:
    """Names of the sites that hold a state, in file order (those `summary:site_time` covers)."""
    m = exp.model()
    return [m.site_names[n] for n in sorted({int(n) for n in m.state_site if n >= 0})]


def _scan_site_time(exp, out: VariantSummary, src: str, stored: set, con) -> None:
    """Days in each site per run, from the daily tables: occupancy and the moves and events that leave it."""
    from refuge.experiments.sql import name as q
    from refuge.results.site_time import exit_columns, figures_of, pair_fifo

    m = exp.model()
    for site in _sites_held(exp):
        n = m.site_names.index(site)
        edges, streams = exit_columns(m, n)
        cols = [f"flows:{m.edge_labels[e]}" for e in edges] + [f"arrivals:{m.arrival_names[a]}" for a in streams]
        if f"sites:{site}" not in stored or any(c not in stored for c in cols):
            continue
        first = int(np.maximum(np.rint(m.pbase[0, m.initial_param]), 0)[m.state_site == n].sum())
        leaving = " + ".join(f"{q(c)}::BIGINT" for c in cols) or "0::BIGINT"
        got = con.execute(f"SELECT run, day, {q('sites:' + site)}::BIGINT AS occ, {leaving} AS x FROM {src} "
                          f"WHERE day < {out.days} ORDER BY run, day").fetchnumpy()
        occ = np.zeros((out.runs, out.days), np.int64)
        exits = np.zeros((out.runs, out.days), np.int64)
        row, day = np.searchsorted(out.ids, got["run"]), np.asarray(got["day"], np.int64)
        occ[row, day], exits[row, day] = got["occ"], got["x"]
        entries = np.diff(np.concatenate([np.full((out.runs, 1), first), occ], axis=1), axis=1) + exits
        out.site_time[site] = np.array([figures_of(*pair_fifo(first, entries[r], exits[r]))
                                        for r in range(out.runs)])


def _scan_series(exp, out: VariantSummary, src: str, stored: set, con) -> None:
    """Each time series per run from the daily tables; None for one whose columns the store lacks."""
    from refuge.experiments.sql import name as q

    m = exp.model()
    R, days = out.runs, out.days
    for s in m.series:
        if s["kind"] == "stock":
            cols = [f"stocks:{m.state_names[k]}" for k in s["states"]]
        else:
            entered = [f"entered:{m.state_names[k]}" for k in (s.get("entered") or []) if m.net is not None]
            cols = ([f"flows:{m.edge_labels[e]}" for e in s["edges"]]
                    + [f"arrivals:{m.arrival_names[a]}" for a in s["arrivals"]] + entered)
        if any(c not in stored for c in cols):
            out.series.append(None)
            continue
        expr = " + ".join(f"{q(c)}::DOUBLE" for c in cols) or "0::DOUBLE"
        got = con.execute(f"SELECT run, day, {expr} AS v FROM {src} WHERE day < {days}").fetchnumpy()
        daily = np.zeros((R, days))
        daily[np.searchsorted(out.ids, got["run"]), np.asarray(got["day"], np.int64)] = got["v"]
        grid = s["grid"]
        vals = np.full((R, grid.size), math.nan)
        ok = grid < days
        if s["kind"] == "stock":
            vals[:, ok] = daily[:, grid[ok]]
        else:
            cum = np.concatenate([np.zeros((R, 1)), np.cumsum(daily, axis=1)], axis=1)
            vals[:, ok] = cum[:, grid[ok] + 1] - cum[:, s["starts"][ok]]
        out.series.append(vals)


def _year_case(exp, years: np.ndarray, days: int) -> str:
    """SQL for the index of a day's calendar year (days are counted from the scenario's start)."""
    dates = exp.dates
    first = [int(np.argmax(dates.year.to_numpy() == y)) for y in years]
    return "(" + " + ".join(f"(day >= {d})::INTEGER" for d in first[1:]) + ")" if len(first) > 1 else "0"


def _stays(exp, variant: str, out: VariantSummary, con) -> None:
    """People per tracked state by stay length (completed or not), and people still there at the end of each run."""
    tracked = exp.names("max_stay")
    if not tracked:
        return
    from refuge.experiments.sql import files

    src = files([exp.file("stays", variant, int(r)) for r in out.ids])
    width = out.days + 1
    got = con.execute(f"SELECT state, completed, least(greatest(days, 0), {width - 1}) AS d, run AS r, "
                      f"sum(people) AS people FROM {src} GROUP BY ALL").fetchnumpy()
    _stay_totals(out, tracked, np.asarray(got["state"]), np.asarray(got["completed"]).astype(np.int64),
                 np.asarray(got["d"], np.int64), np.asarray(got["r"], np.int64), np.asarray(got["people"]))


def _stay_totals(out: VariantSummary, tracked: list[str], state: np.ndarray, completed: np.ndarray, d: np.ndarray,
                 r: np.ndarray, people: np.ndarray) -> None:
    """People per tracked state by stay length, completed or not (pooled over runs), and per run those who left
    and those still there."""
    width = out.days + 1
    people = np.asarray(people, np.float64)
    for n in tracked:
        sel = state == n
        hist = np.zeros((2, width))
        np.add.at(hist, (completed[sel], d[sel]), people[sel])
        out.stay_people[n] = hist
        per_run = np.zeros((2, len(out.ids)))
        np.add.at(per_run, (completed[sel], np.searchsorted(out.ids, r[sel])), people[sel])
        out.still_there[n], out.left[n] = per_run[0], per_run[1]
