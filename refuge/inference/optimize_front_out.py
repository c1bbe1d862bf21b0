"""What a Pareto front search writes and prints: tables (trials, front), `result.json`, the figure, the lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refuge.inference.optimize_eval import wilson
from refuge.inference.optimize_front import claims_share


def trials_frame(result: Any) -> Any:
    """One row per trial: lever values, each objective (o1, o2, ...), each constraint's probability, feasible,
    and whether it is on the front."""
    import pandas as pd

    on = {p.trial for p in result.front}
    rows = []
    for c in result.trials:
        row = {"trial": c.trial, **c.values}
        row.update({f"o{i + 1}": v for i, v in enumerate(c.objectives)})
        row.update({f"p{i + 1}": p for i, p in enumerate(c.probabilities)})
        rows.append({**row, "feasible": c.feasible, "front": c.trial in on})
    return pd.DataFrame(rows)


def front_frame(result: Any) -> Any:
    """One row per front point: lever values; each objective in the search with its 90% range over the runs,
    and on the fresh seeds (for an objective with a probability: the share of fresh runs reaching the search's
    value and its 90% interval); each constraint's probability in the search and on the fresh seeds."""
    import pandas as pd

    spec = result.spec
    rows = []
    for p, c in zip(result.front, result.checks):
        row: dict[str, Any] = {"trial": p.trial, **p.values}
        for i, o in enumerate(spec.objectives):
            row[f"o{i + 1}"] = p.objectives[i]
            if p.spread[i] is not None:
                row[f"o{i + 1}_lo90"], row[f"o{i + 1}_hi90"] = p.spread[i]
            row[f"o{i + 1}_fresh"] = c.point.objectives[i]
            if c.reach[i] is not None:
                lo, hi = c.intervals()[i]
                row[f"o{i + 1}_claim"] = o.probability
                row[f"o{i + 1}_fresh_share"], row[f"o{i + 1}_fresh_lo"], row[f"o{i + 1}_fresh_hi"] = c.reach[i], lo, hi
        for i, k in enumerate(spec.constraints):
            row[f"p{i + 1}"] = p.probabilities[i]
            row[f"p{i + 1}_fresh"] = c.point.probabilities[i]
        row["held"] = c.held(spec, p)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_lines(result: Any) -> list[str]:
    """The front as a table: one line per point, the search's values and the fresh seeds' check."""
    spec = result.spec
    lines = [f"{result.scenario}: Pareto front of {' / '.join(o.label() for o in spec.objectives)}; "
             f"{len(result.trials)} trials of {spec.runs} runs each (common random numbers)"]
    for i, o in enumerate(spec.objectives):
        lines.append(f"  o{i + 1}: {o.name + ' (' + o.label() + ')' if o.name else o.label()}")
    for k in spec.constraints:
        lines.append(f"  subject to {k.label()}")
    feasible = sum(p.feasible for p in result.trials)
    if not result.front:
        return lines + [f"no front: {feasible} of {len(result.trials)} trials met the constraints"]
    lines.append(f"{len(result.front)} points on the front ({feasible} feasible trials); each re-checked on "
                 f"{spec.check_runs} fresh seeds:")
    for p, c in zip(result.front, result.checks):
        vals = ", ".join(f"{k} = {v:g}" for k, v in p.values.items())
        parts = []
        for i, o in enumerate(spec.objectives):
            s = f"o{i + 1} {p.objectives[i]:,.4g}"
            if p.spread[i] is not None:
                s += f" (90% of runs {p.spread[i][0]:,.4g}-{p.spread[i][1]:,.4g})"
            if c.reach[i] is not None:
                lo, hi = c.intervals()[i]
                want = claims_share(o, p.runs)
                clo, chi = wilson(round(want * p.runs), p.runs)
                s += (f" in {want:.2f} [{clo:.2f}, {chi:.2f}] of the runs, fresh: {c.reach[i]:.2f} "
                      f"[{lo:.2f}, {hi:.2f}]")
            elif p.spread[i] is not None:
                s += f", fresh {c.point.objectives[i]:,.4g}"
            parts.append(s)
        for i, k in enumerate(spec.constraints):
            n = c.point.runs
            lo, hi = wilson(round(c.point.probabilities[i] * n), n)
            parts.append(f"p{i + 1} {p.probabilities[i]:.2f}, fresh {c.point.probabilities[i]:.2f} "
                         f"[{lo:.2f}, {hi:.2f}]")
        lines.append(f"  {vals}: {'; '.join(parts)}{'' if c.held(spec, p) else '  (NOT held on fresh seeds)'}")
    held = sum(c.held(spec, p) for p, c in zip(result.front, result.checks))
    lines.append(f"held on fresh seeds: {held} of {len(result.checks)} points (no fresh share under the bottom of the "
                 "90% interval of the search's claim)")
    return lines


def write(result: Any) -> None:
    """trials.csv, front.csv, result.json and front.png in the result's folder (each written atomically)."""
    folder = result.out
    _atomic(folder / "trials.csv", trials_frame(result).to_csv(index=False))
    _atomic(folder / "front.csv", front_frame(result).to_csv(index=False))
    _atomic(folder / "result.json", json.dumps(result.to_dict(), indent=1))
    plot(result, folder / "front.png")


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def plot(result: Any, path: Path) -> Path:
    """The first two objectives: every trial (grey: infeasible), the front (line), each front point's 90% range
    over the runs where it has one, and its value on the fresh seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = result.spec
    o1, o2 = spec.objectives[0], spec.objectives[1]
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for feas, colour, label in ((False, "lightgrey", "infeasible trials"), (True, "tab:grey", "feasible trials")):
        pts = [p for p in result.trials if p.feasible == feas]
        if pts:
            ax.scatter([p.objectives[0] for p in pts], [p.objectives[1] for p in pts], s=14, color=colour,
                       label=label, zorder=2)
    if result.front:
        xs = [p.objectives[0] for p in result.front]
        ys = [p.objectives[1] for p in result.front]
        ax.plot(xs, ys, "-o", color="tab:blue", ms=5, lw=1.5, zorder=3, label=f"front ({spec.runs} runs each)")
        for p in result.front:
            if p.spread[1] is not None:
                ax.plot([p.objectives[0]] * 2, p.spread[1], color="tab:blue", alpha=0.35, lw=3, zorder=2)
        fx = [c.point.objectives[0] for c in result.checks]
        fy = [c.point.objectives[1] for c in result.checks]
        bad = [not c.held(spec, p) for p, c in zip(result.front, result.checks)]
        ax.scatter(fx, fy, marker="x", color=["tab:red" if b else "tab:orange" for b in bad], s=30, zorder=4,
                   label=f"on {spec.check_runs} fresh seeds (red: a claim not held)")
        if any(p.spread[1] is not None for p in result.front):
            ax.plot([], [], color="tab:blue", alpha=0.35, lw=3, label="90% of the runs")
    ax.set_xlabel(_axis(o1), fontsize=9)
    ax.set_ylabel(_axis(o2), fontsize=9)
    ax.set_title(f"{result.scenario}: Pareto front", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    from refuge.results.files import save_figure

    return save_figure(fig, path)


def _axis(o: Any) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(o.name or o.label(), 60))
