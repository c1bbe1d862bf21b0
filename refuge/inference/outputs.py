"""What a calibration writes and shows: tables, marginal plots, metadata, progress, the report section."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from refuge.inference.files import (
    MARGINALS_NAME,
    META_NAME,
    POSTERIOR_NAME,
    PREDICTIVE_DIR,
    PREDICTIVE_NAME,
    SUMMARY_NAME,
    read_meta,
    write_meta,
)
from refuge.inference.posterior import LEVEL
from refuge.inference.sampler import PRIOR_THRESHOLD
from refuge.inference.simulator import Uncertain
from refuge.numbers import central, weighted_quantile

if TYPE_CHECKING:
    from refuge.inference.calibrate import Calibration


def write_outputs(cal: Calibration, meta: dict) -> None:
    """Write a finished calibration's posterior, tables and marginal plots into its experiment directory."""
    from refuge.results.files import write_frame

    e = cal.experiment
    write_frame(cal.summary, e / SUMMARY_NAME)
    write_frame(cal.predictive, e / PREDICTIVE_NAME)
    plot_marginals(cal.posterior, cal.uncertain, e / MARGINALS_NAME)
    gens = [{"generation": int(r.generation), "epsilon": float(r.epsilon) if r.epsilon < PRIOR_THRESHOLD else None,
             "samples": int(r.samples), "seconds": float(r.wall_time)} for r in cal.generations.itertuples()]
    meta = meta | {"generations": gens, "stopped": cal.stopped, "diagnosis": cal.diagnosis,
                   "files": {"posterior": POSTERIOR_NAME, "summary": SUMMARY_NAME, "predictive": PREDICTIVE_NAME,
                             "marginals": MARGINALS_NAME, "predictive_runs": PREDICTIVE_DIR}}
    write_meta(e, meta)


def plot_marginals(posterior: Any, uncertain: list[Uncertain], path: str | Path, truth: dict | None = None) -> Path:
    """One panel per parameter: posterior histogram (weighted) over the prior density; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from refuge.results.files import save_figure

    k = len(uncertain)
    cols = min(k, 3)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, u in zip(axes.flat, uncertain):
        _marginal(ax, posterior, u, (truth or {}).get(u.name))
    for ax in list(axes.flat)[k:]:
        ax.set_visible(False)
    return save_figure(fig, path)


def _marginal(ax, posterior, u: Uncertain, truth: float | None) -> None:
    """Densities on the scale the prior is drawn on (log10 for log-uniform), axis in the parameter's units."""
    from scipy.stats import gaussian_kde

    f = np.log10 if u.log else (lambda v: np.asarray(v, float))
    back = (lambda v: 10 ** v) if u.log else (lambda v: v)
    d = u.dist()
    lo, hi = f(d.ppf([0.001, 0.999]))
    x, w = f(posterior[u.name].to_numpy()), posterior["weight"].to_numpy()
    grid = np.linspace(min(lo, x.min()), max(hi, x.max()), 400)
    prior = d.pdf(10 ** grid) * 10 ** grid * np.log(10) if u.log else d.pdf(grid)
    if len(x) > 2 and x.std() > 0:
        post = gaussian_kde(x, weights=w)(grid)
        q_lo, q_hi = weighted_quantile(x, w, central(LEVEL))
        inside = (grid >= q_lo) & (grid <= q_hi)
        ax.fill_between(back(grid[inside]), post[inside], color="#4477aa", alpha=0.25, lw=0,
                        label=f"posterior {LEVEL:.0%}")
        ax.plot(back(grid), post, color="#4477aa", lw=1.6, label="posterior")
    ax.plot(back(grid), prior, color="#444444", lw=1.2, ls="--", label="prior")
    ax.axvline(u.default, color="#cc6677", lw=1, label="scenario value")
    if truth is not None:
        ax.axvline(truth, color="#228833", lw=1.5, label="truth")
    if u.log:
        ax.set_xscale("log")
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_title(u.name, fontsize=10)
    ax.set_yticks([])
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, frameon=False)


def load_calibration(experiment: str | Path) -> dict:
    """What a report needs from an experiment: metadata and tables (those that exist)."""
    import pandas as pd

    e = Path(experiment)
    out: dict[str, Any] = {"meta": read_meta(e)}
    for key, name in (("summary", SUMMARY_NAME), ("predictive", PREDICTIVE_NAME)):
        if (e / name).exists():
            out[key] = pd.read_csv(e / name)
    out["marginals"] = e / MARGINALS_NAME if (e / MARGINALS_NAME).exists() else None
    return out


# --- progress on a console -------------------------------------------------------------------------


class ConsoleProgress:
    """A live line for the generation under way, and one printed line per finished generation."""

    def __init__(self):
        from rich.console import Console

        self.console = Console(stderr=True)
        self.t: int | None = None
        self.last: dict = {}

    def __enter__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("accepted of {task.fields[evaluated]:,} candidates"), TimeElapsedColumn(),
                            console=self.console, transient=True)
        self.bar.start()
        self.task = None
        return self

    def __call__(self, event: dict) -> None:
        if event["generation"] != self.t:
            self._done()
            self.t = event["generation"]
            self.start = time.perf_counter()
            self.task = self.bar.add_task(self._label(event), total=event["population"], evaluated=0)
        self.bar.update(self.task, completed=event["accepted"], evaluated=event["evaluated"])
        self.last = event

    def _label(self, e: dict) -> str:
        eps = "prior" if e["epsilon"] >= PRIOR_THRESHOLD else f"threshold {e['epsilon']:.3g}"
        return f"generation {e['generation']} ({eps})"

    def _done(self) -> None:
        e = self.last
        if not e:
            return
        self.bar.remove_task(self.task)
        rate = e["accepted"] / max(e["evaluated"], 1)
        self.console.print(f"{self._label(e)}: {e['accepted']} of {e['evaluated']:,} accepted ({rate:.0%}), "
                           f"{time.perf_counter() - self.start:.1f} s, {e['simulations']:,} simulations")
        self.last = {}

    def __exit__(self, *exc) -> bool:
        if exc[0] is None:
            self._done()
        self.bar.stop()
        return False


# --- for the HTML report ------------------------------------------------------------------------------


def report_section(exp: Any) -> dict | None:
    """What `refuge report` shows of a calibration, for an ensemble that drew from its posterior (or None)."""
    import base64

    post = (exp.meta or {}).get("posterior")
    if not post:
        return None
    path = Path(post["experiment"])
    if not (path / META_NAME).exists() or not (path / SUMMARY_NAME).exists():
        return None
    found = load_calibration(path)
    meta = found["meta"]
    marginals = found["marginals"]
    uri = ("data:image/png;base64," + base64.b64encode(marginals.read_bytes()).decode("ascii")) if marginals else ""
    return {"path": str(path), "method": meta.get("method", ""), "stopped": meta.get("stopped", ""),
            "generations": meta.get("generations", []), "settings": meta.get("settings", {}),
            "table": found["summary"].to_dict("records"), "diagnosis": meta.get("diagnosis", []),
            "marginals": uri, "same_scenario": meta.get("scenario_digest") == exp.meta.get("scenario_digest")}
