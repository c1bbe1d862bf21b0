"""Rolling-origin evaluation: backtest at several cuts, pool the forecast's scores by horizon.

One cut says little: a forecast can be lucky or unlucky at one date. `rolling(model, out)` fits the scenario
at several cuts (by default at the end of each calendar year from 40% of the record on when the record spans
three years or more, else at every n-th data date from 40% of the record, about five cuts), forecasts what
follows each, and pools the held-out scores over the cuts by horizon (`refuge.inference.skill.pool`): the
h-th data point after a cut is horizon h, whichever cut it follows.

Each cut is a search backtest (`refuge.inference.backtest.backtest`, written to `out/cuts/DATE/`); cuts run in
parallel worker processes. A cut whose files are complete is not run again, so an interrupted evaluation
resumes where it stopped; the pooled scores go to `out/rolling.json`, the fan charts to `out/rolling.png`
(one row per cut: the runs' median and 90% band, the data before and after the cut), and both to a
self-contained page, `out/rolling.html`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError

JSON_NAME = "rolling.json"
FIGURE_NAME = "rolling.png"
HTML_NAME = "rolling.html"
FIRST = 0.4
MOST_CUTS = 5
DEFAULT_SEARCH = {"draws": 16, "seeds": 2, "refit": 3, "refit_seeds": 4, "forecast_seeds": 30}


@dataclass
class Rolling:
    """A finished rolling-origin evaluation."""

    out: Path
    scenario: str
    cuts: list[dt.date]  # the last training day of each cut
    per_cut: list[dict]  # each cut's summary (backtest.json's) with its date
    pooled: dict  # `refuge.inference.skill.pool` of the cuts' held-out points, and the verdict
    groups: dict = field(default_factory=dict)  # Flee's daily ARD per group, pooled over cuts (weighted by days)
    seconds: float = 0.0
    resumed: int = 0  # cuts found complete and not run again


def data_dates(model: Any) -> list[dt.date]:
    """Every date with a data point in any series, sorted."""
    days = sorted({int(s["grid"][k]) for s in model.series for k in s["obs"]})
    return [model.start + dt.timedelta(days=d) for d in days]


def default_cuts(model: Any, first: float = FIRST, every: int | None = None) -> list[dt.date]:
    """The last training day of each cut (see the module docstring); `every`: every n-th data date instead."""
    dates = data_dates(model)
    if len(dates) < 3:
        raise RefugeError(f"{model.origin}: a rolling backtest needs at least 3 dated data points in the "
                          f"series; found {len(dates)}")
    if not 0 < first < 1:
        raise RefugeError(f"first: expected a share of the record between 0 and 1; found {first}")
    start, end = dates[0], dates[-1]
    threshold = start + dt.timedelta(days=int((end - start).days * first))
    if every is None and (end - start).days >= 3 * 365:
        cuts = [dt.date(y, 12, 31) for y in range(threshold.year, end.year + 1)]
        return [c for c in cuts if threshold <= c < end]
    later = [d for d in dates if threshold <= d < end]
    if every is None:
        every = max(int(np.ceil(len(later) / MOST_CUTS)), 1)
    if every < 1:
        raise RefugeError(f"every: expected a whole number >= 1; found {every}")
    return later[::every]


def _cut_dir(out: Path, until: dt.date) -> Path:
    return out / "cuts" / str(until)


def _complete(folder: Path) -> bool:
    from refuge.inference.backtest_core import FIGURE_NAME as FIG
    from refuge.inference.backtest_core import JSON_NAME as BT

    return (folder / BT).exists() and (folder / FIG).exists()


def _one_cut(spec: tuple, until: dt.date) -> dict:
    """Run the search backtest of one cut into its folder (in a worker process); return its summary."""
    scenario, origin, out, search, seed = spec
    from refuge.inference.backtest import backtest
    from refuge.model.compiler import compile_scenario

    model = compile_scenario(scenario, origin)
    r = backtest(model, cut=until + dt.timedelta(days=1), seed=seed, out=_cut_dir(out, until), **search)
    return r.table.summary


def rolling(model: Any, out: str | Path, *, cuts: list[dt.date] | None = None, first: float = FIRST,
            every: int | None = None, workers: int | None = None, seed: int = 0, progress: Any = False,
            **search: int) -> Rolling:
    """Backtest a compiled model (or a Scenario) at each cut (default: `default_cuts`), in parallel, resuming
    complete cuts; pool and write."""
    from refuge.experiments.ensemble import map_runs
    from refuge.inference.backtest_core import load

    t0 = time.perf_counter()
    from refuge.model.compiler import compile_scenario
    from refuge.scenario import Scenario

    if isinstance(model, Scenario):
        model = compile_scenario(model)
    out = Path(out)
    cuts = sorted(cuts) if cuts else default_cuts(model, first, every)
    last = model.start + dt.timedelta(days=model.days - 2)
    bad = [c for c in cuts if not model.start <= c <= last]
    if bad:
        raise RefugeError(f"cuts: expected dates from {model.start} to {last}; found {bad[0]}")
    settings = {**DEFAULT_SEARCH, **search}
    todo = [c for c in cuts if not _complete(_cut_dir(out, c))]
    spec = (model.scenario, model.origin, out, settings, int(seed))
    workers = 1 if len(todo) < 2 else workers
    if workers != 1 and cluster_free(workers):
        warm(model)
    map_runs(partial(_one_cut, spec), todo, workers=workers, progress="rolling backtest: cuts" if progress else
             False, chunksize=1)
    per_cut = [{"until": str(c), **load(_cut_dir(out, c))["summary"]} for c in cuts]
    r = Rolling(out, model.scenario.name, cuts, per_cut, pool_cuts(per_cut), pool_groups(per_cut),
                time.perf_counter() - t0, len(cuts) - len(todo))
    write(r, model, settings)
    return r


def cluster_free(workers: int | None) -> bool:
    """Whether the cuts run in more than one local worker process."""
    from refuge.experiments.parallel import default_workers

    return (default_workers() if workers is None else workers) > 1


def warm(model: Any) -> None:
    """One day of one run in this process before the workers start: on a machine where the engine is not yet in
    Numba's disk cache, it is compiled here once and each worker then loads it, instead of every worker
    compiling the same engine at the same time (minutes of CPU each for a route network); with the cache, it
    costs the loading of it."""
    from refuge.results.simulate import simulate

    simulate(model, 0, until=model.start)


def pool_cuts(per_cut: list[dict]) -> dict:
    """The held-out points of every cut pooled by horizon, with the verdict."""
    from refuge.evidence.other_error import clause
    from refuge.inference.skill import pool, verdict

    pooled = pool([c["skill"]["points"] for c in per_cut])
    pooled["other_error"] = pool_other(per_cut)
    named = "; ".join(clause(n, r, "after the cuts") for n, r in pooled["other_error"].items())
    pooled["verdict"] = (f"over {len(per_cut)} cuts: " + verdict(pooled, named)) if pooled["points"] else \
        "no cut has a held-out data point: nothing to judge the forecast by"
    return pooled


def pool_other(per_cut: list[dict]) -> dict:
    """Another tool's daily error after each cut (`other_error` of a series), averaged over the cuts weighted by
    their days, with the model's beside it where every cut has it."""
    out: dict[str, dict] = {}
    for name in dict.fromkeys(n for c in per_cut for n in c["skill"].get("other_error", {})):
        rows = [c["skill"]["other_error"][name] for c in per_cut if name in c["skill"].get("other_error", {})]
        days = sum(r["days"] for r in rows)
        entry = {"by": rows[0]["by"], "days": days, "ard": sum(r["ard"] * r["days"] for r in rows) / days}
        if all("model" in r for r in rows):
            entry["model"] = sum(r["model"] * r["days"] for r in rows) / days
        out[name] = entry
    return out


def pool_groups(per_cut: list[dict]) -> dict:
    """Flee's daily ARD of each group after each cut, averaged over the cuts weighted by their days."""
    out: dict[str, dict] = {}
    for name in dict.fromkeys(g for c in per_cut for g in c["skill"]["groups"]):
        rows = [c["skill"]["groups"][name] for c in per_cut if name in c["skill"]["groups"]]
        days = sum(r["days"] for r in rows)
        entry: dict[str, Any] = {"days": days, "cuts": len(rows), "series": rows[0]["series"]}
        for f in ("median", "naive", "drift", "seasonal"):
            have = [r for r in rows if f in r]
            if have:
                w = sum(r["days"] for r in have)
                entry[f] = {k: sum(r[f][k] * r["days"] for r in have) / w for k in ("ard", "ard_rescaled")
                            if all(k in r[f] for r in have)}
        for f in ("naive", "drift", "seasonal"):
            if f in entry and "median" in entry and entry[f]["ard"] > 0:
                entry[f]["skill"] = entry["median"]["ard"] / entry[f]["ard"]
        out[name] = entry
    return out


def write(r: Rolling, model: Any, settings: dict) -> None:
    """rolling.json (settings, per cut, pooled) and rolling.png (fan chart per cut)."""
    from refuge.numbers import json_ready
    from refuge.results.files import atomic_write

    drift = drift_caption(model.scenario, r.per_cut)
    doc = {"scenario": r.scenario, "cuts": [str(c) for c in r.cuts], "settings": settings, "seconds": r.seconds,
           "pooled": r.pooled, "groups": r.groups, "drift": drift,
           "per_cut": [{k: c[k] for k in ("until", "skill", "values") if k in c} for c in r.per_cut]}
    atomic_write(r.out / JSON_NAME, lambda p: p.write_text(json.dumps(json_ready(doc), indent=2), encoding="utf-8"))
    from refuge.inference.backtest_core import unit_label

    plot(r, r.out / FIGURE_NAME, groups={x["id"]: x.get("group") for x in model.series},
         units={x["id"]: unit_label(x) for x in model.series})
    atomic_write(r.out / HTML_NAME, lambda p: p.write_text(html_page(r, drift), encoding="utf-8"))


def drift_caption(scenario: Any, per_cut: list[dict]) -> str:
    """What the bands hold beyond the runs' noise, in words: the drifting drivers and the size fitted at each
    cut, or that nothing drifts."""
    from refuge.sim.mechanisms.drift import describe_drifts

    conc = [c.get("share_concentration") for c in per_cut]
    fitted_conc = ", ".join("own" if x is None else (str(x) if isinstance(x, str) else f"{x:g}")
                            + (" signed" if c.get("share_signed") else "") for x, c in zip(conc, per_cut))
    shares = "" if all(x is None for x in conc) else (
        " The camps share each run's new arrivals as the registrations of the 8 weeks before the cut did, each "
        f"run its own draw of shares (Dirichlet, concentration fitted at each cut: {fitted_conc}; inf: the "
        "recent shares in every run; signed: camps that emptied lately go on losing as they did; own: the "
        "runs' own split scored better from the inner cut, each camp anchored at its last count).")
    if not getattr(scenario, "drift", None):
        return ("No driver drifts in this scenario: the bands hold the fitted parameters' spread and the runs' "
                "own noise only, and do not widen with the horizon as a changing world would make them." + shares)
    sizes = list(dict.fromkeys(d.size for d in scenario.drift))
    # a size without a prior is not fitted: it is the scenario's value at every cut
    fixed = [n for n in sizes if scenario.parameters[n].prior is None]
    fitted = "; ".join([f"{n} fitted at each cut: " + ", ".join(f"{c.get('values', {}).get(n, float('nan')):.3g}"
                                                                for c in per_cut) for n in sizes if n not in fixed]
                       + [f"{n} = {scenario.parameters[n].value:.3g} at every cut (no prior: not fitted)"
                          for n in fixed])
    how = " (by the CRPS of the forecasts from an inner cut of each cut's training data)" if len(fixed) < len(
        sizes) else ""
    drifts = "; ".join(describe_drifts(scenario, sizes=False))
    return (f"The bands include drivers that drift: {drifts}; {fitted}{how}. Each run draws its own path, "
            "so a band widens with the horizon (assumed: independent changes of one size)." + shares)


def from_json(out: str | Path) -> tuple[Rolling, str]:
    """A stored rolling backtest as a `Rolling` and its drift caption (to write its page again)."""
    doc = load(out)
    r = Rolling(Path(out), doc["scenario"], [dt.date.fromisoformat(c) for c in doc["cuts"]], doc["per_cut"],
                doc["pooled"], doc.get("groups") or {}, doc.get("seconds", 0.0))
    return r, doc.get("drift", "")


def html_page(r: Rolling, drift: str = "") -> str:
    """A self-contained page of the evaluation: the verdict, per cut, pooled by horizon, the fan charts."""
    import base64
    from html import escape

    from refuge._html import html_table

    p = r.pooled
    names = [b for b in ("naive", "drift", "seasonal") if b in p["baselines"]]
    cuts = [(c["until"], c["skill"]["points"]["points"], _f(c["skill"]["points"]["ard_median"]),
             _f(c["skill"]["points"]["baselines"].get("naive", {}).get("ard")),
             _f(c["skill"]["points"]["baselines"].get("naive", {}).get("skill"), ".2f"),
             _f(c["skill"]["points"]["coverage90"], ".0%")) for c in r.per_cut]
    hz = [(h["horizon"], h["points"], _f(h["ard_median"]), _f(h["crps"]), _f(h["coverage50"], ".0%"),
           _f(h["coverage90"], ".0%"), *[_f(h["baselines"].get(b, {}).get("skill"), ".2f") for b in names])
          for h in [*p["by_horizon"], {**p, "horizon": "all"}]]
    fig = base64.b64encode((r.out / FIGURE_NAME).read_bytes()).decode("ascii")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(r.scenario)}: rolling backtest"
            f"</title></head><body><h1>{escape(r.scenario)}: rolling-origin backtest</h1>"
            f"<p><b>Verdict:</b> {escape(p['verdict'])}</p>"
            + html_table("per cut (held-out data points after each)", ("trained to", "points", "ARD of the median",
                                                                       "naive ARD", "skill vs naive", "90% held"),
                         cuts)
            + html_table("pooled by horizon (the h-th data point after a cut)",
                         ("horizon", "points", "ARD of the median", "CRPS", "50% held", "90% held",
                          *[f"skill vs {b}" for b in names]), hz,
                         "ARD of the median: mean |median - data| / max(data, 1); skill: the model's over the "
                         "baseline's (below 1 is better); CRPS over max(data, 1); held: share inside the band.")
            + f"<figure><img alt='fan chart per cut' src='data:image/png;base64,{fig}'><figcaption>One row per "
              "cut: the data (dots), the runs' median and 90% band after the cut, the cut (dashed). Each run's "
              "forecast starts from the last count observed before the cut. " + escape(drift)
            + "</figcaption></figure></body></html>")


def load(out: str | Path) -> dict:
    """A stored rolling backtest (rolling.json) as a dict."""
    p = Path(out) / JSON_NAME
    if not p.exists():
        raise RefugeError(f"{out}: not a rolling backtest (no {JSON_NAME})")
    return json.loads(p.read_text(encoding="utf-8"))


def plot(r: Rolling, path: Path, most_series: int = 3, groups: dict | None = None,
         units: dict | None = None) -> Path:
    """One row per cut, one column per series (`shown`: of `most_series`, the series with the most held-out data
    points of each group first, then the most held-out points): data, the runs' median and 90% band after the
    cut, the cut marked; `units`: series id -> what its values count (the y axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    import pandas as pd

    from refuge.inference.backtest_figure import thousands
    from refuge.results.files import save_figure

    tables = [pd.read_csv(_cut_dir(r.out, c) / "points.csv") for c in r.cuts]
    every = pd.concat(tables)
    held = every[every["split"] == "test"]  # series with held-out points: a panel without them says nothing
    names = shown((held if len(held) else every)["series"].value_counts(), groups or {}, most_series)
    fig, axes = plt.subplots(len(r.cuts), len(names), figsize=(3.6 * len(names), 2.3 * len(r.cuts)),
                             squeeze=False)
    for i, (cut, pts) in enumerate(zip(r.cuts, tables)):
        for j, name in enumerate(names):
            ax = axes[i, j]
            p = pts[pts["series"] == name]
            x = pd.to_datetime(p["date"])
            test = (p["split"] == "test").to_numpy()
            ax.plot(x, p["data"], "o", ms=3, color="black", label="data")
            if test.any():
                ax.fill_between(x[test], p["low"][test], p["high"][test], alpha=0.3, color="tab:blue",
                                label="90% band")
                ax.plot(x[test], p["median"][test], color="tab:blue", marker="_", ms=7, label="median")
            ax.axvline(pd.Timestamp(cut), color="tab:red", ls="--", lw=1)
            locator = mdates.AutoDateLocator(maxticks=5)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.tick_params(labelsize=7)
            thousands(ax)
            ax.set_ylabel((units or {}).get(name, "people").split(" (")[0], fontsize=7)
            ax.set_title(f"{name}, trained to {cut}", fontsize=8)
            if i == 0 and j == 0:
                ax.legend(fontsize=7, loc="upper left")
    return save_figure(fig, path)


def shown(counts: Any, groups: dict, most: int) -> list[str]:
    """The series a fan chart shows: `counts` (data points by series, most first); the first series of each
    group (`groups`: series -> group) that has at least half the points of the fullest, then by points (a
    scenario with flows and stocks shows both, not three flows)."""
    full = int(counts.iloc[0]) if len(counts) else 0
    first = list(dict.fromkeys(next(s for s in counts.index if groups.get(s) == g)
                               for g in dict.fromkeys(groups.get(s) for s in counts.index)))
    lead = [s for s in first if counts[s] * 2 >= full]
    return list(dict.fromkeys(lead + list(counts.index)))[:most]


def print_rolling(r: Rolling, console: Any = None) -> None:
    """Per cut and pooled by horizon, for a terminal; then the verdict."""
    from rich.console import Console
    from rich.table import Table

    from refuge.inference.heldout import print_skill

    console = console or Console(width=160)
    t = Table(title=f"{r.scenario}: rolling-origin backtest, {len(r.cuts)} cuts ({r.resumed} resumed), "
                    f"held-out data points after each cut")
    for c in ("trained to", "points", "ARD of the median", "naive ARD", "skill vs naive", "90% held"):
        t.add_column(c, justify="left" if c == "trained to" else "right")
    for c in r.per_cut:
        p = c["skill"]["points"]
        nv = p["baselines"].get("naive", {})
        t.add_row(c["until"], str(p["points"]), _f(p["ard_median"]), _f(nv.get("ard")), _f(nv.get("skill"), ".2f"),
                  _f(p["coverage90"], ".0%"))
    console.print(t)
    print_skill({"points": r.pooled, "groups": r.groups, "verdict": r.pooled["verdict"]}, console)
    console.print(f"{r.seconds:.0f} s; wrote {r.out / JSON_NAME}, {r.out / FIGURE_NAME} and {r.out / HTML_NAME}")


def _f(x: Any, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)
