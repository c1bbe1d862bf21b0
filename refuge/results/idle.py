"""Queues that hold people while their capacity goes unused (issue 20 finding 1): people whose time had come
still waiting at the end of a day for a transition with a processing capacity that was not used up that day.
With groups split at a capacity this happens only when the targets are full or closed, or behind a group kept
whole (`whole: true`) that did not fit; `refuge run` and `refuge check` say so."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from refuge.model.codes import T_SRC
from refuge.numbers import plural


def idle_spells(run: Any) -> list[dict[str, Any]]:
    """Per capped transition with such days: its name and source state, the days, the first and last of them
    and the most people waiting on one of them."""
    idle = getattr(run, "idle", None)
    if idle is None or idle.size == 0:
        return []
    m = run.model
    out = []
    for j in np.flatnonzero(idle.any(axis=0)):
        days = np.flatnonzero(idle[:, j])
        out.append({"transition": m.transition_names[j], "state": m.state_names[m.trans[j, T_SRC]],
                    "whole": bool(m.scenario.transitions[j].whole), "days": len(days),
                    "first": m.start + dt.timedelta(days=int(days[0])),
                    "last": m.start + dt.timedelta(days=int(days[-1])), "most": int(idle[:, j].max())})
    return out


def why(spell: dict[str, Any]) -> str:
    """What holds a queue while its capacity is unused."""
    if spell["whole"]:
        return ("a group kept whole (`whole: true`) bigger than what was left of the capacity waits with everyone "
                "behind it, or the targets were full or closed; drop `whole` to split groups at the capacity")
    return "the targets were full or closed"


def idle_notes(run: Any) -> list[str]:
    """One line per queue that held people while its capacity went unused in this run."""
    return [f"{run.model.origin}: people waited in `{s['state']}` for `{s['transition']}` while its capacity went "
            f"unused on {plural(s['days'], 'day')} ({s['first']} to {s['last']}; up to {s['most']:,} waiting): "
            f"{why(s)}" for s in idle_spells(run)]


def idle_summary(run: Any) -> np.ndarray:
    """(transitions, 2): days each capped transition's queue held people while its capacity went unused, and the
    most people waiting on one of them (for an ensemble's note: `idle_ensemble_notes`)."""
    idle = getattr(run, "idle", None)
    J = len(run.model.transition_names)
    if idle is None or idle.size == 0:
        return np.zeros((J, 2), np.int64)
    return np.stack([(idle > 0).sum(axis=0), idle.max(axis=0)], axis=1).astype(np.int64)


def idle_ensemble_notes(model: Any, summaries: np.ndarray) -> list[str]:
    """One line per queue that held people while its capacity went unused in some runs of an ensemble
    (`summaries`: (runs, transitions, 2) of `idle_summary`)."""
    out = []
    runs = summaries.shape[0]
    for j in np.flatnonzero((summaries[:, :, 0] > 0).any(axis=0)):
        hit = summaries[:, j, 0] > 0
        spell = {"whole": bool(model.scenario.transitions[j].whole)}
        out.append(f"{model.origin}: in {int(hit.sum())} of {plural(runs, 'run')} people waited in "
                   f"`{model.state_names[model.trans[j, T_SRC]]}` for `{model.transition_names[j]}` while its "
                   f"capacity went unused (median {int(np.median(summaries[hit, j, 0])):,} days in those runs; up "
                   f"to {int(summaries[:, j, 1].max()):,} waiting): {why(spell)}")
    return out
