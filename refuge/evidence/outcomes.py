"""Outcomes of one run over its whole period, in the scenario's words: what `run --runs`, `compare`, `check`,
calibration and the report summarise.

Which outcomes a model has, and what each counts, is decided when the scenario is compiled
(`refuge.model.outcomes`: the scenario's `outcomes:` section, or defaults by state kind).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from refuge.model.compiler import Model
    from refuge.results.run import Run


def outcome_labels(model: Model) -> dict[str, str]:
    """{name: label} of a model's outcomes, in order."""
    return {o["name"]: o["label"] for o in model.outcomes}


def outcome_text(o: dict) -> str:
    """How a table names an outcome: its label and unit ('entries into refuge (people)')."""
    return f"{o['label']} ({o['unit']})" if o["unit"] else o["label"]


_COUNTS = {"into": "people entering {} from outside", "flow": "people moved by {}", "arrivals": "people arriving by {}",
           "mean": "people in {}, mean per day", "peak": "people in {} on the fullest day",
           "end": "people in {} on the last day", "longest_stay": "longest stay in {}"}


def outcome_counts(o: dict) -> str:
    """What an outcome counts, in words: 'people entering queue, registered from outside'."""
    return _COUNTS[o["kind"]].format(", ".join(o["of"]))


def _daily_total(run: Run, o: dict) -> np.ndarray:
    """People counted by a total outcome (into, flow, arrivals) on each day."""
    daily = run.flows[:, o["edges"]].sum(axis=1) if o["edges"] else np.zeros(run.days)
    if o["arrivals"]:
        daily = daily + run.arrived[:, o["arrivals"]].sum(axis=1)
    if o.get("entered") and run.entered is not None:  # route network: arriving from a route, or spawned
        daily = daily + run.entered[:, o["entered"]].sum(axis=1)
    return daily


def outcome_value(run: Run, o: dict) -> float:
    """One compiled outcome of one run (NaN when undefined, e.g. a run of no days)."""
    if not run.days:
        return math.nan
    kind = o["kind"]
    if o["total"]:
        return float(_daily_total(run, o).sum())
    if kind == "longest_stay":
        return float(run.max_stay[:, o["states"]].max()) if o["states"] else math.nan
    stock = run.stocks[:, o["states"]].sum(axis=1)
    return float({"mean": stock.mean, "peak": stock.max, "end": lambda: stock[-1]}[kind]())


def outcomes(run: Run) -> dict[str, float]:
    """{name: value} of every outcome of the run's model."""
    return {o["name"]: outcome_value(run, o) for o in run.model.outcomes}


def yearly_outcomes(model: Model) -> list[dict]:
    """The outcomes that are totals, shown per calendar year."""
    return [o for o in model.outcomes if o["total"]]


def outcomes_by_year(run: Run) -> tuple[list[int], np.ndarray]:
    """(years, (years, totals)) for one run: each total outcome summed per calendar year."""
    m = run.model
    years = np.asarray(m.dates[: run.days].year)
    labels = sorted(set(years.tolist()))
    totals = yearly_outcomes(m)
    out = np.zeros((len(labels), len(totals)))
    for j, o in enumerate(totals):
        daily = _daily_total(run, o)
        for i, y in enumerate(labels):
            out[i, j] = daily[years == y].sum()
    return labels, out
