"""A small summary of each run, written at run time beside its measures, so that a report of a large
ensemble reads one small row per run instead of scanning every run's daily table and stays.

Each run's `measures` file (one row) carries these columns besides its evidence and outcomes:

    summary            the summary's layout version (SUMMARY_VERSION); absent in stores of older refuge
    summary:step       the grid: every `step`-th day from day 0, and the last day (step = ceil(days / MAX_POINTS))
    summary:at         float32, (banded members x grid days) flattened member by member: people in each
                       state (`stocks`), each site (`sites`) and its capacity in force (`capacity`)
    summary:years      float64, per calendar year: totals of flows, days closed, arrivals, network entries and
                       site occupancy (members x years, member by member), then the yearly maximum of each
                       site's occupancy
    summary:closed     int32 triples (site, first day, day after the last) of each closure to entry
    summary:stays      int64 quadruples (state, completed 0/1, days clipped to [0, days], people): the stays in
                       tracked states as a histogram
    summary:series     float64, each time series' simulated values on its grid, series after series
    summary:site_time  float64, per site that holds a state (in file order): days in the site, from entering to
                       leaving it (`refuge.results.site_time.TIME_FIGURES`: mean, median, 90th percentile,
                       longest, people still inside at the end)

The members and their order are those of the store's daily columns (`daily_columns`), which the scenario
fixes. A store of an older refuge, or one holding runs written before and after this summary existed, has
runs without it: readers then fall back to scanning the daily tables (`has_summary`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SUMMARY_VERSION = 1
MAX_POINTS = 400  # grid days per banded member at most (a report panel is about 330 pixels wide)
BANDED = ("stocks", "sites", "capacity")
SUMMED = ("flows", "closed", "arrivals", "entered", "sites")
PEAKED = ("sites",)
COLUMNS = ("summary", "summary:step", "summary:at", "summary:years", "summary:closed", "summary:stays",
           "summary:series", "summary:site_time")


def grid_step(days: int) -> int:
    """The step of the stored grid of days for a run of `days` days."""
    return max(1, math.ceil(days / MAX_POINTS))


def grid(days: int, step: int) -> np.ndarray:
    """Day indices every `step` days from 0, and the last day."""
    sample = np.arange(0, days, step)
    if days and sample[-1] != days - 1:
        sample = np.append(sample, days - 1)
    return sample


def year_index(start: Any, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calendar years covered, days of each year covered, index of each day's year)."""
    dates = np.datetime64(start, "D") + np.arange(days)
    year_of_day = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    years, index, counts = np.unique(year_of_day, return_inverse=True, return_counts=True)
    return years, counts, index


def members(columns: dict[str, list[str]], kinds: tuple[str, ...]) -> list[str]:
    """`what:name` of every member of the given kinds, in the summary's order."""
    return [f"{w}:{n}" for w in kinds for n in columns.get(w, [])]


def run_summary(run: Any, columns: dict[str, list[str]]) -> dict[str, Any]:
    """The summary columns of one run (pyarrow arrays of length 1), for its measures row."""
    import pyarrow as pa

    from refuge.evidence.series import simulate_all

    m = run.model
    days = run.days
    step = grid_step(days)
    sample = grid(days, step)
    daily = {w: run.daily(w) if columns.get(w) else None for w in set(BANDED + SUMMED)}
    at = [daily[w][sample, k].astype(np.float32) for w in BANDED for k in range(len(columns.get(w, [])))]

    years, _, index = year_index(m.start, days)
    sums = [np.bincount(index, weights=daily[w][:, k].astype(np.float64), minlength=len(years))
            for w in SUMMED for k in range(len(columns.get(w, [])))]
    peaks = []
    for w in PEAKED:
        for k in range(len(columns.get(w, []))):
            peak = np.full(len(years), -np.inf)
            np.maximum.at(peak, index, daily[w][:, k].astype(np.float64))
            peaks.append(peak)

    closed = []
    if daily["closed"] is not None:
        for k in range(daily["closed"].shape[1]):
            c = np.concatenate([[0], daily["closed"][:, k].astype(np.int8), [0]])
            edges = np.flatnonzero(np.diff(c))
            for a, b in zip(edges[::2], edges[1::2]):
                closed += [k, int(a), int(b)]

    stays = _stay_histogram(run)
    series = simulate_all(run)
    def flat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
    lists = {"summary:at": (flat(at, np.float32), pa.float32()),
             "summary:years": (flat(sums + peaks, np.float64), pa.float64()),
             "summary:closed": (np.asarray(closed, np.int32), pa.int32()),
             "summary:stays": (stays, pa.int64()),
             "summary:series": (flat(series, np.float64), pa.float64()),
             "summary:site_time": (_site_times(run), pa.float64())}
    out = {"summary": pa.array([SUMMARY_VERSION], pa.int32()), "summary:step": pa.array([step], pa.int32())}
    for name, (values, kind) in lists.items():
        out[name] = pa.array([values], pa.list_(kind))
    return out


def _stay_histogram(run: Any) -> np.ndarray:
    """(state, completed, days clipped to [0, days], people) of the run's stays, summed, flattened."""
    days = run.days
    last = days - 1
    state = np.concatenate([run.stays[:, 0], run.ongoing[:, 0]]).astype(np.int64)
    if not len(state):
        return np.zeros(0, np.int64)
    length = np.concatenate([run.stays[:, 2] - run.stays[:, 1], last - run.ongoing[:, 2]]).astype(np.int64)
    people = np.concatenate([run.stays[:, 3], run.ongoing_size]).astype(np.int64)
    done = np.concatenate([np.ones(len(run.stays), np.int64), np.zeros(len(run.ongoing), np.int64)])
    width = days + 1
    key = (state * 2 + done) * width + np.clip(length, 0, width - 1)
    keys, inverse = np.unique(key, return_inverse=True)
    total = np.zeros(len(keys), np.int64)
    np.add.at(total, inverse, people)
    sel = total != 0
    keys, total = keys[sel], total[sel]
    rest, d = np.divmod(keys, width)
    s, c = np.divmod(rest, 2)
    return np.stack([s, c, d, total], axis=1).reshape(-1)


def _site_times(run: Any) -> np.ndarray:
    """TIME_FIGURES of each site that holds a state, site after site (`refuge.results.site_time`)."""
    from refuge.results.site_time import time_figures

    sites = sorted({int(n) for n in run.model.state_site if n >= 0})
    return np.concatenate([time_figures(run, n) for n in sites]) if sites else np.zeros(0)
