"""Another tool's own error on a scenario's series (`other_error` of a series evidence): Flee's daily ARD of its
runs of the same case, say, named in the verdicts of `refuge check` (over the whole period) and `refuge
backtest` (over the days after the cut) beside refuge's on the same measure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np


def other_errors(model: Any) -> dict[str, dict]:
    """Per group (or series id, for a series without a group): who (`by`), the whole-period ARD (`ard`, None
    when not given) and the daily errors (`days`: days since the start, `values`), empty when not given."""
    out: dict[str, dict] = {}
    for ev in model.scenario.evidence:
        oe = ev.other_error
        if oe is None:
            continue
        pts = (oe.daily.points or []) if oe.daily is not None else []
        days = np.array([(p.date - model.start).days for p in pts], np.int64)
        values = np.array([p.value for p in pts], float)
        keep = (days >= 0) & (days < model.days)
        out[ev.group or ev.id] = {"by": oe.by, "ard": oe.ard, "days": days[keep], "values": values[keep]}
    return out


def whole(entry: dict) -> float | None:
    """The other tool's ARD over the whole period: as given, or the mean of its daily errors."""
    if entry["ard"] is not None:
        return float(entry["ard"])
    return float(entry["values"].mean()) if entry["values"].size else None


def after_cut(entry: dict, u: int, last: int) -> tuple[float, int] | None:
    """The other tool's mean daily error over days u+1..last, and how many days it has there (None: none)."""
    keep = (entry["days"] > u) & (entry["days"] <= last)
    if not keep.any():
        return None
    return float(entry["values"][keep].mean()), int(keep.sum())


def check_clauses(model: Any, refuge_ard: dict[str, float]) -> list[str]:
    """For `refuge check`'s verdict: each other tool's error over the whole period, beside refuge's run ARD of
    the same group (`refuge_ard`, by group or series id)."""
    out = []
    for name, e in other_errors(model).items():
        x = whole(e)
        if x is None:
            continue
        mine = f" (refuge's {refuge_ard[name]:.3f})" if name in refuge_ard else ""
        out.append(f"{e['by']}: daily ARD of {name} {x:.3f} over the whole period{mine}")
    return out


def backtest_errors(model: Any, until: dt.date, groups: dict[str, dict]) -> dict[str, dict]:
    """Each other tool's mean daily error after the cut, per group or series id: {by, ard, days, model} (the
    model's daily ARD of the median on those days where `groups`, `heldout.group_scores`, has it)."""
    u = (until - model.start).days
    out = {}
    for name, e in other_errors(model).items():
        got = after_cut(e, u, model.days - 1)
        if got is None:
            continue
        row = {"by": e["by"], "ard": got[0], "days": got[1]}
        if name in groups and "median" in groups[name]:
            row["model"] = groups[name]["median"]["ard"]
        out[name] = row
    return out


def clause(name: str, row: dict, over: str = "after the cut") -> str:
    """`Flee's own runs (...): daily ARD of camps 0.218 after the cut, over 120 days (refuge's median 0.142)`."""
    mine = f" (refuge's median {row['model']:.3f})" if "model" in row else ""
    return f"{row['by']}: daily ARD of {name} {row['ard']:.3f} {over}, over {row['days']} days{mine}"
