"""Time in a site: from entering it (from outside its states) to leaving it, across the site's own states.

A site (a reception centre, an embassy compound, a camp) holds several states; a person moves through them
(registration queue, health check, interview queue, ...) and the time they spend in the site is the sum of those
stays. The engine keeps no person's identity across states, so the time in the site is read from the site's
daily entries and exits, paired first in, first out: the k-th person to enter is taken to be the k-th to leave.

- The mean over everyone who entered (people still inside counted to the last day) is exact whatever the order
  people leave in: the pairing only moves days between people, and their sum is the site's person-days
  (Little's law: mean occupancy = entries per day x mean time in the site).
- The median, 90th percentile and longest are exact when people leave in the order they came (a chain of first
  come, first served queues) and an estimate otherwise (people who leave early by a short path, an appeal that
  ends late).

People already inside on the first day are counted as entering on day 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# per site and run, in this order (`time_figures`)
TIME_FIGURES = ("time_mean", "time_median", "time_p90", "time_longest", "still_inside")


def site_states(model: Any, site: Any) -> np.ndarray:
    """(states,) True for the states of a site (its index), or the given (states,) mask of a set of states."""
    if isinstance(site, (int, np.integer)):
        return np.asarray(model.state_site) == site
    return np.asarray(site, bool)


def exit_columns(model: Any, site: Any) -> tuple[list[int], list[int]]:
    """(edges, arrival streams) that take people from the site's states to a state outside the site: moves, and
    events taken `from` a state of the site."""
    from refuge.model.compiler import A_FROM, A_TARGET, T_SRC

    inside = site_states(model, site)
    edges: list[int] = []
    if len(model.edge_names):
        src = model.trans[model.edge_trans, T_SRC]
        edges = [int(e) for e in np.flatnonzero(inside[src] & ~inside[model.edge_target])]
    streams = [a for a, row in enumerate(model.arr) if row[A_FROM] >= 0 and inside[row[A_FROM]]
               and not inside[row[A_TARGET]]]
    return edges, streams


def daily_exits(run: Any, site: Any) -> np.ndarray:
    """(days,) people leaving the site's states for a state outside the site each day (moves and events)."""
    edges, streams = exit_columns(run.model, site)
    return (run.flows[:, edges].sum(axis=1) + run.arrived[:, streams].sum(axis=1)).astype(np.int64)


def entries_and_exits(run: Any, site: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """(people inside at the start, (days,) entries, (days,) exits): entries are what the daily occupancy and
    exits leave over, so that occupancy(t) = start + cumulative entries - cumulative exits holds exactly."""
    inside = site_states(run.model, site)
    first = int(run.initial_stocks()[inside].sum())
    occ = run.stocks[:, inside].sum(axis=1).astype(np.int64)
    exits = daily_exits(run, site)
    return first, np.diff(np.concatenate([[first], occ])) + exits, exits


def time_in_site(run: Any, site: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days in the site, people, completed) per group of people paired first in, first out (see the module
    docstring); people still inside at the end have completed False and their days so far. `site` is a site's
    index or a (states,) mask of a set of states, taken together as one place."""
    first, entries, exits = entries_and_exits(run, site)
    return pair_fifo(first, entries, exits)


def mean_completed(run: Any, states: Any, d0: int, d1: int) -> float:
    """Mean days across a set of states (a (states,) mask), from entering the set to leaving it, of the people
    who left it between days d0 and d1 (paired first in, first out; NaN when nobody left then)."""
    first, entries, exits = entries_and_exits(run, states)
    days, people, done, exit_day = _pairs(first, entries, exits)
    sel = done & (exit_day >= d0) & (exit_day <= d1)
    w = people[sel]
    return float((days[sel] * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


def pair_fifo(first: int, entries: np.ndarray, exits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`time_in_site` from daily counts: people inside at the start, entries and exits per day."""
    return _pairs(first, entries, exits)[:3]


def _pairs(first: int, entries: np.ndarray, exits: np.ndarray) -> tuple[np.ndarray, ...]:
    """(days, people, completed, exit day) per group of people that share an entry and an exit day."""
    days_run = len(entries)
    cum_in = first + np.cumsum(np.maximum(entries, 0))
    cum_out = np.cumsum(exits)
    total_in = int(cum_in[-1]) if days_run else first
    total_out = min(int(cum_out[-1]) if days_run else 0, total_in)
    if total_in == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64)
    # breakpoints of the two staircases: the people between two consecutive breakpoints share entry and exit days
    cuts = np.unique(np.concatenate([[0, first, total_out, total_in], cum_in, cum_out]))
    cuts = cuts[(cuts >= 0) & (cuts <= total_in)]
    lo, people = cuts[:-1], np.diff(cuts)
    entry_day = np.where(lo < first, 0, np.searchsorted(cum_in, lo, side="right"))  # the (lo+1)-th person's
    done = lo < total_out
    exit_day = np.searchsorted(cum_out, lo, side="right")
    days = np.where(done, exit_day, days_run - 1) - entry_day
    return np.maximum(days, 0).astype(np.int64), people.astype(np.int64), done, exit_day


def time_figures(run: Any, site: int) -> np.ndarray:
    """TIME_FIGURES for one run: mean, median, 90th percentile and longest days in the site over everyone who
    entered (those still inside counted to the last day), and people still inside at the end."""
    return figures_of(*time_in_site(run, site))


def figures_of(days: np.ndarray, people: np.ndarray, done: np.ndarray) -> np.ndarray:
    """TIME_FIGURES from `time_in_site`'s groups of people."""
    from refuge.numbers import weighted_quantile

    if not people.sum():
        return np.full(len(TIME_FIGURES), np.nan)
    mean = float((days * people).sum() / people.sum())
    return np.array([mean, weighted_quantile(days, people, 0.5), weighted_quantile(days, people, 0.9),
                     float(days.max()), float(people[~done].sum())])
