"""What the report needs from an experiment, read with DuckDB in a few queries per variant.

Opening a Parquet file costs more than decoding its columns, and an experiment of 1,000 runs has
3,000 files: DuckDB reads them in parallel with little overhead per file and reduces the data
as it goes, so nothing close to the whole experiment is ever held in memory:

- bands: per day, quantiles over runs of stocks, site occupancy and capacity, on every `step`-th
  day (a figure is a few hundred pixels wide; `step` keeps the (runs x days) matrices held at once
  within MEMORY_BUDGET, whatever the number of runs);
- per run and calendar year: totals of flows and of days closed, sums and maxima of occupancy
  (the missions table, the flows figure and table);
- per day: the share of runs in which a site is closed (every day, not sampled);
- stays: people per state, completed or not, and length in days (a histogram, not one row per stay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
MEMORY_BUDGET = 64 * 2**20  # bytes of sampled (runs x days) matrices held per variant
MAX_POINTS = 800  # days drawn per series at most


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

    @property
    def runs(self) -> int:
        """Runs summarised."""
        return len(self.ids)


def summarise(exp: Any, variant: str, con: Any = None) -> VariantSummary:
    """Reduce every finished run of one variant (see the module docstring)."""
    from refuge.experiments.sql import connect, files, name as q

    con = con or connect()
    ids = np.array(exp.finished(variant), np.int64)
    days = exp._days()
    names = {w: exp.names(w) for w in ("stocks", "sites", "capacity", "closed", "flows", "arrivals")}
    banded = [f"stocks:{n}" for n in names["stocks"]] + [f"sites:{n}" for n in names["sites"]] + [
        f"capacity:{n}" for n in names["capacity"]]
    step = max(1, math.ceil(days / MAX_POINTS),
               math.ceil(len(ids) * max(1, len(banded)) * days * 4 / MEMORY_BUDGET))
    sample = np.arange(0, days, step)
    if sample[-1] != days - 1:
        sample = np.append(sample, days - 1)
    out = VariantSummary(variant=variant, ids=ids, days=days, sample=sample)
    if not len(ids):
        return out
    src = files([exp.file("daily", variant, int(r)) for r in ids])
    within = f"day < {days}"
    year_of_day = exp.dates.year.to_numpy()
    out.years, out.year_days = np.unique(year_of_day, return_counts=True)
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
            m = mats.pop(c)
            if c.startswith("capacity:"):
                out.bands[c] = np.repeat(np.median(m, axis=0, keepdims=True), len(QUANTILES), axis=0)
                out.run_mean[c] = np.median(m, axis=1)  # room in force on a typical day of the run
            else:
                out.bands[c] = np.quantile(m, QUANTILES, axis=0)

    # 2. per run and year: totals of flows, days closed, occupancy (sum for the mean, and the peak)
    summed = [f"flows:{n}" for n in names["flows"]] + [f"closed:{n}" for n in names["closed"]] + [
        f"arrivals:{n}" for n in names["arrivals"]]
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
            out.run_sum[c] = per_year.sum(axis=1)
            if c.startswith("flows:"):
                out.year_totals[c] = per_year
            if c.startswith("sites:"):
                out.run_mean[c] = out.run_sum[c] / days
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
    _stays(exp, variant, out, con)
    return out


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
    # one scan: completed stays pooled over runs; stays still going at the end kept per run
    got = con.execute(f"SELECT state, completed, least(greatest(days, 0), {width - 1}) AS d, "
                      f"CASE WHEN completed THEN -1 ELSE run END AS r, sum(people) AS people "
                      f"FROM {src} GROUP BY ALL").fetchnumpy()
    state = np.asarray(got["state"])
    completed = np.asarray(got["completed"]).astype(np.int64)
    d, r = np.asarray(got["d"], np.int64), np.asarray(got["r"], np.int64)
    people = np.asarray(got["people"], np.float64)
    for n in tracked:
        sel = state == n
        hist = np.zeros((2, width))
        np.add.at(hist, (completed[sel], d[sel]), people[sel])
        out.stay_people[n] = hist
        still = np.zeros(len(out.ids))
        sel &= completed == 0
        np.add.at(still, np.searchsorted(out.ids, r[sel]), people[sel])
        out.still_there[n] = still
