"""A self-contained HTML report of an experiment: figures with bands, evidence, parameters and sources.

`write_report(experiment)` writes `report.html` (figures embedded as base64 PNG, so the
one file can be mailed or archived) and the same figures as PNG files beside it.
Bands are the median with the central 50% and 90% of runs.
"""

from __future__ import annotations

import base64
import datetime as dt
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from refuge.numbers import band, interval, num, weighted_quantile

__all__ = ["write_report", "Figure", "make_figures", "render"]

COLORS = ["#1f5f8b", "#c0392b", "#27864a", "#8e44ad", "#d68910", "#566573", "#17a5a5", "#a04000"]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHADE_MOST, SHADE_SOME = "#bfbfbf", "#ececec"  # closures: grey, so they never read as a variant's colour
MAX_PANELS = 30  # beyond this, a grid is unreadable: the report shows the largest members
MAX_FLOW_PANELS = 18


@dataclass
class Figure:
    """One figure of the report: its name (an anchor), title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """The PNG as a `data:` URI, so the HTML file stands alone."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def write_report(experiment: Any, out: str | Path | None = None) -> Path:
    """Write the HTML report of an experiment (a directory or an Experiment); return its path."""
    from refuge.results.files import atomic_write
    from refuge.experiments.store import Experiment

    exp = experiment if isinstance(experiment, Experiment) else Experiment(experiment)
    if not any(exp.finished(v) for v in exp.variants):
        from refuge.errors import RefugeError

        raise RefugeError(f"{exp.path}: no finished runs to report; run the ensemble first")
    out = Path(out) if out is not None else exp.path / "report.html"
    figures = make_figures(exp)
    fig_dir = out.with_name(out.stem + "-figures")
    for f in figures:
        atomic_write(fig_dir / f"{f.name}.png", lambda p, f=f: p.write_bytes(f.png))
    page = render(exp, figures)
    atomic_write(out, lambda p: p.write_text(page, encoding="utf-8"))
    return out


# --- data shared by figures and tables (read once per report) ------------------------------------------

_CACHE: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _once(exp, key: str, compute):
    store = _CACHE.setdefault(exp, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def _stay_lengths(exp):
    """People per (variant, state, completed, days): stay lengths summed over runs."""
    return _once(exp, "stay_lengths", lambda: exp.stay_totals(states=exp.names("max_stay")))


def _flows_by_year(exp):
    return _once(exp, "flows_by_year", lambda: exp.by_year("flows"))


# --- figures ------------------------------------------------------------------------------------------


FIGURE_NAMES = ("stocks", "occupancy", "waits", "flows")  # a scenario without sites or tracked states has fewer


def make_figures(exp: Any) -> list[Figure]:
    """The report's figures for an Experiment: stocks, site occupancy, waits and flows (those that apply)."""
    import matplotlib

    matplotlib.use("Agg")
    figs = [stocks_figure(exp), occupancy_figure(exp), waits_figure(exp), flows_figure(exp)]
    return [f for f in figs if f is not None]


def _grid(n: int, cols: int = 3, w: float = 4.2, h: float = 2.6, xlabel: bool = False):
    """A grid of panels with fixed margins (in inches): room for a legend on top, tick labels and titles
    between panels. Fixed margins, not a layout engine: the figures of a long scenario draw twice as fast."""
    import matplotlib.pyplot as plt

    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    top, bottom, left, right, gap_x, gap_y = 0.75, 0.45 + 0.2 * xlabel, 0.75, 0.15, 0.75, 0.65 + 0.2 * xlabel
    width, height = w * cols, h * rows + top
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    panel_w = (width - left - right - gap_x * (cols - 1)) / cols
    panel_h = (height - top - bottom - gap_y * (rows - 1)) / rows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=gap_x / panel_w, hspace=gap_y / panel_h)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _band(ax, dates, rows, color: str, label: str) -> None:
    ax.fill_between(dates, rows["q5"].to_numpy(), rows["q95"].to_numpy(), color=color, alpha=0.15, lw=0)
    ax.fill_between(dates, rows["q25"].to_numpy(), rows["q75"].to_numpy(), color=color, alpha=0.3, lw=0)
    ax.plot(dates, rows["median"].to_numpy(), color=color, lw=1.3, label=label)


def _style(ax, title: str, ylabel: str = "people") -> None:
    import matplotlib.dates as mdates

    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.grid(alpha=0.25, lw=0.5)
    ax.set_ylim(bottom=0)


def _legend(fig, axes, n_variants: int, extra: list | None = None) -> None:
    handles, labels = axes[0].get_legend_handles_labels()
    for h, lab in extra or []:
        handles.append(h)
        labels.append(lab)
    if n_variants > 1 or extra:
        fits = max(1, int(fig.get_figwidth() / 2.2))  # legend entries that fit on one line
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(labels), fits),
                   fontsize=8, frameon=False)


def _largest(exp, what: str, names: list[str]) -> list[str]:
    """The members with the largest medians, in declaration order, when there are too many to draw."""
    if len(names) <= MAX_PANELS:
        return names
    peaks = exp.reduce(what, names, [exp.variants[0]], quantiles=(0.5,)).groupby(
        "state" if what == "stocks" else "transition")["median"].max()
    keep = set(peaks.sort_values(ascending=False).index[:MAX_PANELS])
    return [n for n in names if n in keep]


def stocks_figure(exp) -> Figure:
    names = _largest(exp, "stocks", exp.names("stocks"))
    red = exp.reduce("stocks", names, quantiles=QUANTILES)
    kinds = dict(zip(exp.model().state_names, exp.model().state_kinds))
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names):
        for k, v in enumerate(exp.variants):
            rows = red[(red.state == name) & (red.variant == v)]
            _band(ax, rows.date.to_numpy(), rows, COLORS[k % len(COLORS)], v)
        _style(ax, f"{name} ({kinds.get(name, '')})")
    _legend(fig, axes, len(exp.variants))
    return Figure("stocks", "People in each state over time",
                  "Median (line) with the central 50% (dark band) and 90% (light band) of runs, per state"
                  + (", per variant." if len(exp.variants) > 1 else "."), _png(fig))


def occupancy_figure(exp) -> Figure | None:
    from matplotlib.patches import Patch

    sites = exp.names("sites")
    if not sites:
        return None
    base = exp.variants[0]
    occ = exp.reduce("sites", sites, quantiles=QUANTILES)
    with_room = set(exp.names("capacity"))
    cap = exp.reduce("capacity", sorted(with_room), [base], quantiles=(0.5,)) if with_room else None
    closed = exp.reduce("closed", sites, [base], quantiles=(0.5,))
    fig, axes = _grid(len(sites), cols=2, w=5.6 if len(sites) > 1 else 9.0, h=2.8 if len(sites) > 1 else 3.4)
    for ax, site in zip(axes, sites):
        share = closed[closed.site == site]
        when = share.date.to_numpy()
        ax.fill_between(when, 0, 1, where=share["mean"].to_numpy() > 0, transform=ax.get_xaxis_transform(),
                        color=SHADE_SOME, lw=0, step="mid")
        ax.fill_between(when, 0, 1, where=share["mean"].to_numpy() >= 0.5, transform=ax.get_xaxis_transform(),
                        color=SHADE_MOST, lw=0, step="mid")
        for k, v in enumerate(exp.variants):
            rows = occ[(occ.site == site) & (occ.variant == v)]
            _band(ax, rows.date.to_numpy(), rows, COLORS[k % len(COLORS)], v)
        if cap is not None and site in with_room:
            c = cap[cap.site == site]
            ax.step(c.date.to_numpy(), c["median"].to_numpy(), where="mid", color="black", lw=1, ls="--")
        _style(ax, site)
    extra = [(Patch(color=SHADE_MOST), f"closed in most runs ({base})"),
             (Patch(color=SHADE_SOME), f"closed in some runs ({base})")]
    if cap is not None:
        from matplotlib.lines import Line2D

        extra.insert(0, (Line2D([], [], color="black", ls="--", lw=1), "room (capacity)"))
    _legend(fig, axes, len(exp.variants), extra)
    return Figure("occupancy", "Each site's occupancy against its room",
                  "People sheltering in each site (median, 50% and 90% bands), its capacity in force (dashed; "
                  "median over runs when rules change it) and the days it was closed to entry: dark where most "
                  f"runs had it closed, light where some did (variant {base}).", _png(fig))


def waits_figure(exp) -> Figure | None:
    names = exp.names("max_stay")
    if not names:
        return None
    lengths = _stay_lengths(exp)
    done = lengths[lengths.completed]
    if not len(done):
        return None
    fig, axes = _grid(len(names), xlabel=True)
    for ax, name in zip(axes, names):
        sel = done[done.state == name]
        top = _wq(sel.days, sel.people, 0.99) or 1.0
        width = max(1, int(np.ceil((top + 1) / 40)))  # stays are whole days: bins of whole days, no aliasing
        bins = np.arange(0, top + width + 1, width) - 0.5
        for k, v in enumerate(exp.variants):
            rows = sel[sel.variant == v]
            if len(rows):
                ax.hist(rows.days.clip(upper=bins[-1]), bins=bins, weights=rows.people, density=True,
                        histtype="stepfilled" if k == 0 else "step", alpha=0.45 if k == 0 else 1,
                        color=COLORS[k % len(COLORS)], label=v, lw=1.2)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("days in state (completed stays)", fontsize=8)
        ax.set_ylabel("share of people per day", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.25, lw=0.5)
    _legend(fig, axes, len(exp.variants))
    return Figure("waits", "How long people stay",
                  "Distribution of completed stays in each state where time in state is tracked, weighted by "
                  "people and pooled over runs (the last bin holds the longest 1%).", _png(fig))


def flows_figure(exp) -> Figure | None:
    table = _flows_by_year(exp)
    if not len(table):
        return None
    base = table[table.variant == exp.variants[0]]
    totals = base.groupby("transition", sort=False)["median"].sum()
    names = [n for n in exp.names("flows") if n in set(totals[totals > 0].sort_values(ascending=False)
                                                         .index[:MAX_FLOW_PANELS])]
    if not names:
        return None
    fig, axes = _grid(len(names))
    nv = len(exp.variants)
    shift = 0.6 / max(nv, 1)
    for ax, name in zip(axes, names):
        for k, v in enumerate(exp.variants):
            rows = table[(table.transition == name) & (table.variant == v)]
            x = rows.year.to_numpy() + (k - (nv - 1) / 2) * shift
            med = rows["median"].to_numpy()
            err = np.vstack([med - rows["low"].to_numpy(), rows["high"].to_numpy() - med])
            ax.errorbar(x, med, yerr=err, fmt="o-", ms=3, lw=1, elinewidth=0.9, color=COLORS[k % len(COLORS)],
                        label=v)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel("people per year", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.25, lw=0.5)
        ax.set_ylim(bottom=0)
    _legend(fig, axes, nv)
    shown = "" if len(names) == len(exp.names("flows")) else (
        f" The {len(names)} largest of {len(exp.names('flows'))} flows; the table below has them all.")
    return Figure("flows", "Flows per year",
                  "People moved along each transition per calendar year: median over runs (dots), with bars over "
                  "the central 90%. A partial first or last year has smaller totals." + shown, _png(fig))


# --- tables ---------------------------------------------------------------------------------------------


def parameters_table(exp) -> list[dict]:
    """Every parameter: value (per variant when they differ), unit, description, sources or assumption, prior."""
    sc = exp.scenario
    scheduled: dict[str, list[str]] = {}
    for sch in sc.schedules:
        scheduled.setdefault(sch.parameter, []).extend(f"{_g(pt.value)} from {pt.date}" for pt in sch.points)
    ruled = {a.set.parameter if a.set else a.multiply.parameter for r in sc.rules for a in r.actions
             if a.set or a.multiply}
    rows = []
    for name, p in sc.parameters.items():
        values = {v: exp.variant_set(v).get(name, p.value) for v in exp.variants}
        prior = ""
        if p.prior is not None:
            pr = p.prior
            prior = (f"{pr.dist}({pr.low:g}, {pr.high:g})" if pr.dist != "normal"
                     else f"normal(mean {pr.mean:g}, sd {pr.sd:g})")
        changes = (["scheduled: " + ", ".join(scheduled[name])] if name in scheduled else []) + (
            ["changed by rules"] if name in ruled else [])
        rows.append({
            "name": name, "values": values, "differs": len(set(values.values())) > 1, "unit": p.unit,
            "description": p.description, "sources": [exp.scenario.cite(s) for s in p.all_sources()],
            "assumption": p.assumption, "prior": prior, "changes": ", ".join(changes),
        })
    return rows


def waits_table(exp, level: float = 0.90) -> list[dict]:
    """Per tracked state and variant: people-weighted median and 90th percentile of completed stays,
    the longest stay, and how many were still there at the end (median over runs)."""
    names = exp.names("max_stay")
    if not names:
        return []
    lengths = _stay_lengths(exp)
    left = exp.stay_totals(("variant", "state", "run"), states=names, completed=False)
    rows = []
    for name in names:
        for v in exp.variants:
            sel = lengths[(lengths.state == name) & (lengths.variant == v)]
            done = sel[sel.completed]
            per_run = left[(left.state == name) & (left.variant == v)]["people"].to_numpy()
            runs = len(exp.finished(v))
            left_med = float(np.median(np.concatenate([per_run, np.zeros(max(0, runs - len(per_run)))])))
            rows.append({"state": name, "variant": v, "people": int(done.people.sum()),
                         "median": _wq(done.days, done.people, 0.5), "p90": _wq(done.days, done.people, 0.9),
                         "longest": int(sel.days.max()) if len(sel) else None, "still_there": left_med})
    return rows


def sites_table(exp, level: float = 0.90) -> list[dict]:
    """Per site (a place that holds states: a compound, a camp) and variant, over runs (median and central
    interval): room, people entering from outside it, mean and peak occupancy, days closed to entry, and daily
    supply needs at the mean."""
    from refuge.evidence.check import _entering, report_sites

    model = exp.model()
    sites = report_sites(model)
    if not sites:
        return []
    names = [model.site_names[n] for n in sites]
    flow_names, stream_names = exp.names("flows"), exp.names("arrivals")
    entering = {n: _entering(model, n) for n in sites}
    needed = sorted({e for es, _ in entering.values() for e in es})
    streams = sorted({a for _, as_ in entering.values() for a in as_})
    with_room = [n for n in names if n in set(exp.names("capacity"))]
    rows = []
    for v in exp.variants:  # one pass over the files per quantity, for all sites at once
        occ = exp.per_run("sites", names, v, ("mean", "max"))
        closed = exp.per_run("closed", names, v)["sum"]
        room = exp.per_run("capacity", with_room, v, ("median",))["median"] if with_room else None
        flows = exp.per_run("flows", [flow_names[e] for e in needed], v)["sum"]
        arrived = exp.per_run("arrivals", [stream_names[a] for a in streams], v)["sum"] if streams else None
        for n, site in zip(sites, names):
            mean = occ["mean"][site].to_numpy()
            edges, into = entering[n]
            entries = np.zeros(len(mean))
            if edges:
                entries = entries + flows[[flow_names[e] for e in edges]].sum(axis=1).to_numpy()
            if into:
                entries = entries + arrived[[stream_names[a] for a in into]].sum(axis=1).to_numpy()
            rows.append({"site": site, "variant": v,
                         "room": float(room[site].median()) if room is not None and site in room else None,
                         "entries": _interval(entries, level), "mean": _interval(mean, level),
                         "peak": _interval(occ["max"][site].to_numpy(), level),
                         "closed": _interval(closed[site].to_numpy(), level),
                         "supplies": {item: float(np.median(mean)) * per
                                      for item, per in model.scenario.sites[n].supplies.items()}})
    return rows


def _interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
    return float(med), float(lo), float(hi)


def flows_year_table(exp) -> dict:
    """Flows per calendar year, one row per edge, for each variant: {variant: (years, rows)}."""
    table = _flows_by_year(exp)
    out = {}
    for v in exp.variants:
        t = table[table.variant == v]
        years = sorted(t.year.unique())
        rows = []
        for name, g in t.groupby("transition", sort=False):
            g = g.set_index("year")
            rows.append({"name": name, "cells": [(g.at[y, "median"], g.at[y, "low"], g.at[y, "high"]) for y in years]})
        out[v] = (years, rows)
    return out


def _wq(values, weights, q: float) -> float | None:
    """A people-weighted quantile of stay lengths (None when nobody stayed)."""
    x = weighted_quantile(values, weights, q)
    return None if np.isnan(x) else x


def evidence_rows(exp) -> list[dict]:
    """The evidence table (as `refuge check` shows it) of each variant, with each fact's source text."""
    model = exp.model()
    if not model.evidence:
        return []
    facts = {f["id"]: f for f in model.evidence}
    rows = []
    for v in exp.variants:
        table = exp.evidence(v)
        for r in table.to_dict("records"):
            r["variant"] = v
            r["fact"] = facts[r["id"]]["fact"]
            rows.append(r)
    return rows


# --- the page ---------------------------------------------------------------------------------------------


def _num(x: Any) -> str:
    """The report's number filter: `refuge.numbers.num` (autoescaping handles text)."""
    return num(x)


def _g(x: Any) -> str:
    """A number as written (a parameter name stays a name)."""
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def render(exp: Any, figures: list[Figure]) -> str:
    """The report's HTML for an Experiment and its figures."""
    import jinja2

    import refuge
    from refuge.evidence.outcomes import outcome_counts
    from refuge.experiments.compare import differences
    from refuge.inference.outputs import report_section

    template_text = (Path(__file__).parent / "report_template.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = _num
    env.filters["g"] = _g
    env.globals.update(band=band, interval=interval)  # one interval style: `median [low, high]`
    meta = exp.meta
    sc = exp.scenario
    finished = {v: len(exp.finished(v)) for v in exp.variants}
    diffs = differences(exp).to_dict("records") if len(exp.variants) > 1 else []
    return env.from_string(template_text).render(
        title=sc.title or sc.name, scenario=sc, meta=meta, finished=finished, exp=exp,
        variants=meta["variants"], complete=exp.complete,
        summary=[(f"{rows.label.iloc[0]} ({rows.unit.iloc[0]})", rows.to_dict("records"))
                 for _, rows in exp.summary().groupby("outcome", sort=False)],
        differences=diffs,
        figures={name: None for name in FIGURE_NAMES} | {f.name: f for f in figures}, evidence=evidence_rows(exp), waits=waits_table(exp),
        flows_year=flows_year_table(exp), sites=sites_table(exp),
        outcomes=[(o["label"], o["unit"], outcome_counts(o)) for o in exp.model().outcomes],
        parameters=parameters_table(exp), version=refuge.__version__,
        references=[(key, ref.model_copy(update={"url": ""}).citation(), ref.url) for key, ref in sc.sources.items()], calibration=report_section(exp),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        until=meta.get("until") or str(sc.end),
    )
