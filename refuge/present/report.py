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

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies; no red against green).
# The baseline is drawn in black, dashed, on top of the variants: visible even where a variant coincides with it.
BASELINE_COLOR = "#000000"
DATA_COLOR = "#D55E00"  # observed data against the runs (time series)
COLORS = ["#0072B2", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#009E73", "#F0E442"]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHADE_MOST, SHADE_SOME = "#e8d77a", "#f7efc4"  # closures: pale sand, neither a variant's colour nor the baseline grey
MAX_PANELS = 30  # beyond this, a grid is unreadable: the report shows the largest members
MAX_FLOW_PANELS = 18


@dataclass
class Figure:
    """One figure of the report: its name (an anchor), title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes
    panels: tuple[str, ...] = ()  # each panel's title, in order

    @property
    def data_uri(self) -> str:
        """The PNG as a `data:` URI, so the HTML file stands alone."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def write_report(experiment: Any, out: str | Path | None = None) -> Path:
    """Write the HTML report of an experiment (a directory or an Experiment); return its path."""
    from refuge.experiments.store import Experiment
    from refuge.results.files import atomic_write

    exp = experiment if isinstance(experiment, Experiment) else Experiment(experiment)
    if not any(exp.finished(v) for v in exp.variants):
        from refuge.errors import RefugeError

        raise RefugeError(f"{exp.path}: no finished runs to report; run the ensemble first")
    damaged = exp.cut_short()  # the report reads the runs' summaries, not every file: a quick look at the rest
    if damaged:
        from refuge.errors import RefugeError

        raise RefugeError(f"{exp.path}: {len(damaged)} run file{'s' if len(damaged) > 1 else ''} damaged since "
                          f"written (e.g. {damaged[0].relative_to(exp.path)}: cut short or overwritten); run the "
                          "same command again to recompute damaged runs")
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


def summaries(exp) -> dict:
    """{variant: VariantSummary}: every file of the experiment read once (see refuge.present.summary)."""
    from refuge.present.summary import summarise

    return _once(exp, "summaries", lambda: {v: summarise(exp, v) for v in exp.variants})


# --- names people read ----------------------------------------------------------------------------------


def _short(text: str, limit: int = 70) -> str:
    """The first clause of a description, cut at a word within `limit` characters."""
    text = " ".join(text.split())
    for stop in (". ", "; ", " ("):
        if stop in text:
            text = text[: text.index(stop)]
    if len(text) > limit:
        text = text[: text.rfind(" ", 0, limit)] + "…"
    return text


def _human(name: str) -> str:
    return name.replace("_", " ").replace("->", " → ")


class Titles:
    """Figure titles from the scenario's descriptions (a state in a site is named by its site)."""

    def __init__(self, scenario):
        self.sites = {s.name: _short(s.description) or _human(s.name) for s in scenario.sites}
        self.states = {}
        for st in scenario.states:
            text = _short(st.description) if st.description else ""
            if not text and st.site:
                text = "in " + self.sites.get(st.site, _human(st.site))
            self.states[st.name] = text or _human(st.name)
        self.transitions = {t.name: _short(t.description) for t in scenario.transitions}

    def state(self, name: str) -> str:
        return self.states.get(name, _human(name))

    def site(self, name: str) -> str:
        return self.sites.get(name, _human(name))

    def flow(self, label: str) -> str:
        """`transition->target` (perhaps `(redirected)`): the transition's description, or from → to."""
        redirected = label.endswith("(redirected)") or label.endswith("'")
        base = label.split(" (redirected)")[0].rstrip("'")
        trans, _, target = base.partition("->")
        text = self.transitions.get(trans) or ""
        if not text:
            text = _human(trans)
        if target:
            text += " → " + self.state(target)
        return text + (" (redirected)" if redirected else "")


def _wrap(text: str, width: int = 44) -> str:
    import textwrap

    lines = textwrap.wrap(text, width)
    if len(lines) > 2:
        lines = [lines[0], lines[1][: width - 1] + "…"]
    return "\n".join(lines)


# --- figures ------------------------------------------------------------------------------------------


FIGURE_NAMES = ("stocks", "occupancy", "waits", "flows", "series")  # a scenario without sites, tracked states,
# transitions or time series has fewer


def make_figures(exp: Any) -> list[Figure]:
    """The report's figures for an Experiment: stocks, site occupancy, waits, flows and time series against
    their data (those that apply), drawn one after the other."""
    import matplotlib

    matplotlib.use("Agg")
    figs = [maker(exp) for maker in FIGURE_MAKERS]
    return [f for f in figs if f is not None]


def _grid(n: int, cols: int = 3, w: float = 4.2, h: float = 2.9, xlabel: bool = False):
    """A grid of panels with fixed margins (in inches): room for a legend on top, two-line titles and tick labels
    between panels. Fixed margins, not a layout engine: the figures of a long scenario draw twice as fast."""
    import matplotlib.pyplot as plt

    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    top, bottom, left, right, gap_x, gap_y = 0.95, 0.45 + 0.2 * xlabel, 0.8, 0.15, 0.8, 0.85 + 0.2 * xlabel
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


def _color(k: int) -> str:
    return BASELINE_COLOR if k == 0 else COLORS[(k - 1) % len(COLORS)]


def _band(ax, dates, q: np.ndarray, k: int, label: str, alone: bool = False) -> None:
    """Median line over the central 50% and 90% bands; the baseline (k = 0) grey bands, a black dashed line on top.
    A variant `alone` in its experiment is drawn in colour, with a solid line."""
    if alone:
        k = 1
    color = _color(k)
    fill = "#7f7f7f" if k == 0 else color
    ax.fill_between(dates, q[0], q[4], color=fill, alpha=0.13, lw=0)
    ax.fill_between(dates, q[1], q[3], color=fill, alpha=0.25, lw=0)
    ax.plot(dates, q[2], color=color, lw=1.3 if k == 0 else 1.5, ls=(0, (4, 2)) if k == 0 else "-",
            label=label, zorder=4 if k == 0 else 3)


def _style(ax, title: str, ylabel: str = "people") -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    _title(ax, title)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7.5)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.grid(alpha=0.25, lw=0.5)
    ax.set_ylim(bottom=0)


def _title(ax, text: str) -> None:
    """A panel's title, wrapped to two lines. Placed at the top of the panel (no ticks or labels there), which
    spares matplotlib its search for room above the ticks at every draw (a sixth of a figure's time)."""
    ax.set_title(_wrap(text), fontsize=9.5, y=1.0)


def _legend(fig, axes, n_variants: int, extra: list | None = None) -> None:
    """One legend for the whole figure, above its panels."""
    handles, labels = axes[0].get_legend_handles_labels()
    for h, lab in extra or []:
        handles.append(h)
        labels.append(lab)
    if n_variants > 1 or extra:
        fits = max(1, int(fig.get_figwidth() / 2.4))  # legend entries that fit on one line
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(labels), fits),
                   fontsize=8.5, frameon=False)


def _dates(exp, summary) -> np.ndarray:
    return exp.dates.values[summary.sample]


def _largest(exp, what: str, names: list[str]) -> list[str]:
    """The members with the largest medians, in declaration order, when there are too many to draw."""
    if len(names) <= MAX_PANELS:
        return names
    base = summaries(exp)[exp.variants[0]]
    peaks = {n: float(base.bands[f"{what}:{n}"][2].max()) if f"{what}:{n}" in base.bands else 0.0 for n in names}
    keep = set(sorted(names, key=lambda n: -peaks[n])[:MAX_PANELS])
    return [n for n in names if n in keep]


BANDS_TEXT = ("Line: median over runs (the baseline black and dashed, drawn over the variants, its bands grey); "
              "dark band: the central 50% of runs; light band: the central 90%.")


def stocks_figure(exp) -> Figure:
    summ = summaries(exp)
    names = _largest(exp, "stocks", exp.names("stocks"))
    titles = Titles(exp.scenario)
    fig, axes = _grid(len(names))
    for ax, name in zip(axes, names):
        for k, v in enumerate(exp.variants):
            s = summ[v]
            if s.runs:
                _band(ax, _dates(exp, s), s.bands[f"stocks:{name}"], k, v, len(exp.variants) == 1)
        _style(ax, titles.state(name))
    _legend(fig, axes, len(exp.variants))
    first = next(iter(summ.values()))
    step = "" if len(first.sample) >= first.days else f" Drawn every {int(first.sample[1] - first.sample[0])} days."
    return Figure("stocks", "People in each state over time",
                  "People in each state at the end of each day. " + BANDS_TEXT + step, _png(fig))


def occupancy_figure(exp) -> Figure | None:
    from matplotlib.patches import Patch

    sites = exp.names("sites")
    if not sites:
        return None
    summ = summaries(exp)
    base = exp.variants[0]
    titles = Titles(exp.scenario)
    with_room = set(exp.names("capacity"))
    fig, axes = _grid(len(sites), cols=2, w=6.0 if len(sites) > 1 else 9.0, h=3.1 if len(sites) > 1 else 3.6)
    all_days = exp.dates.values
    for ax, site in zip(axes, sites):
        share = summ[base].closed_share.get(site)
        if share is not None and summ[base].runs:
            ax.fill_between(all_days, 0, 1, where=share > 0, transform=ax.get_xaxis_transform(),
                            color=SHADE_SOME, lw=0, step="mid")
            ax.fill_between(all_days, 0, 1, where=share >= 0.5, transform=ax.get_xaxis_transform(),
                            color=SHADE_MOST, lw=0, step="mid")
        for k, v in enumerate(exp.variants):
            s = summ[v]
            if s.runs:
                _band(ax, _dates(exp, s), s.bands[f"sites:{site}"], k, v, len(exp.variants) == 1)
        if site in with_room and summ[base].runs:
            ax.step(_dates(exp, summ[base]), summ[base].bands[f"capacity:{site}"][2], where="mid", color="#555555",
                    lw=1, ls=":")
        _style(ax, titles.site(site))
    extra = [(Patch(color=SHADE_MOST), f"closed in most runs ({base})"),
             (Patch(color=SHADE_SOME), f"closed in some runs ({base})")]
    if with_room:
        from matplotlib.lines import Line2D

        extra.insert(0, (Line2D([], [], color="#555555", ls=":", lw=1), "room (capacity)"))
    _legend(fig, axes, len(exp.variants), extra)
    return Figure("occupancy", "Each site's occupancy against its room",
                  "People sheltering in each site. " + BANDS_TEXT + " Dotted: the site's capacity in force (median "
                  "over runs when rules change it). Shaded in sand: the days it was closed to entry, darker where "
                  f"most runs had it closed, light where some did (variant {base}).", _png(fig))


def waits_figure(exp) -> Figure | None:
    names = exp.names("max_stay")
    if not names:
        return None
    summ = summaries(exp)
    done = {v: {n: s.stay_people[n][1] for n in names if n in s.stay_people} for v, s in summ.items()}
    base = done[exp.variants[0]]
    names = [n for n in names if n in base and base[n].sum() > 0]
    if not names:
        return None
    titles = Titles(exp.scenario)
    fig, axes = _grid(len(names), xlabel=True)
    for ax, name in zip(axes, names):
        counts = base[name]
        days = np.arange(len(counts))
        top = _wq(days, counts, 0.99) or 1.0
        width = max(1, int(np.ceil((top + 1) / 40)))  # stays are whole days: bins of whole days, no aliasing
        bins = np.arange(0, top + width + 1, width) - 0.5
        for k, v in enumerate(exp.variants):
            c = done[v].get(name)
            if c is None or c.sum() <= 0:
                continue
            d = np.arange(len(c))
            ax.hist(np.minimum(d[c > 0], bins[-1] - 0.5), bins=bins, weights=c[c > 0], density=True,
                    histtype="stepfilled" if k == 0 else "step", alpha=0.35 if k == 0 else 1,
                    color="#7f7f7f" if k == 0 else _color(k), label=v, lw=1.4, zorder=2 if k == 0 else 3)
        _title(ax, titles.state(name))
        ax.set_xlabel("days in the state (completed stays)", fontsize=8)
        ax.set_ylabel("share of people per day", fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.25, lw=0.5)
    _legend(fig, axes, len(exp.variants))
    return Figure("waits", "How long people stay",
                  "Distribution of completed stays in each state where time in state is tracked, weighted by "
                  "people and pooled over runs (the baseline filled grey; the last bin holds the longest 1%).",
                  _png(fig))


def _flows_by_year(exp):
    """Per variant, edge and year: median and central 90% over runs of the people moved."""
    import pandas as pd

    summ = summaries(exp)
    rows = []
    for v in exp.variants:
        s = summ[v]
        if not s.runs:
            continue
        for name in exp.names("flows"):
            totals = s.year_totals[f"flows:{name}"]
            med, low, high = np.quantile(totals, [0.5, 0.05, 0.95], axis=0)
            for k, y in enumerate(s.years):
                rows.append({"variant": v, "transition": name, "year": int(y), "days": int(s.year_days[k]),
                             "median": float(med[k]), "low": float(low[k]), "high": float(high[k])})
    return pd.DataFrame(rows, columns=["variant", "transition", "year", "days", "median", "low", "high"])


def flows_figure(exp) -> Figure | None:
    table = _once(exp, "flows_by_year", lambda: _flows_by_year(exp))
    if not len(table):
        return None
    base = table[table.variant == exp.variants[0]]
    totals = base.groupby("transition", sort=False)["median"].sum()
    names = [n for n in exp.names("flows") if n in set(totals[totals > 0].sort_values(ascending=False)
                                                         .index[:MAX_FLOW_PANELS])]
    if not names:
        return None
    titles = Titles(exp.scenario)
    fig, axes = _grid(len(names), xlabel=True)
    nv = len(exp.variants)
    shift = 0.6 / max(nv, 1)
    for ax, name in zip(axes, names):
        for k, v in enumerate(exp.variants):
            rows = table[(table.transition == name) & (table.variant == v)]
            x = rows.year.to_numpy() + (k - (nv - 1) / 2) * shift
            med = rows["median"].to_numpy()
            err = np.vstack([med - rows["low"].to_numpy(), rows["high"].to_numpy() - med])
            ax.errorbar(x, med, yerr=err, fmt="o-" if k else "s--", ms=3, lw=1, elinewidth=0.9, color=_color(k),
                        label=v, zorder=4 if k == 0 else 3)
        _title(ax, titles.flow(name))
        ax.set_ylabel("people per year", fontsize=8)
        ax.set_xlabel("year", fontsize=8)
        ax.tick_params(labelsize=7.5)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.grid(alpha=0.25, lw=0.5)
        ax.set_ylim(bottom=0)
    _legend(fig, axes, nv)
    shown = "" if len(names) == len(exp.names("flows")) else (
        f" The {len(names)} largest of {len(exp.names('flows'))} flows; the table below has them all.")
    return Figure("flows", "Flows per year",
                  "People moved along each transition per calendar year: median over runs (marker; the baseline "
                  "black squares, dashed), with bars over the central 90% of runs. A partial first or last year has "
                  "smaller totals." + shown, _png(fig))


SERIES_LEVEL = 0.90  # the band drawn against the data, and the interval coverage is measured with


def series_values(exp) -> dict[str, list]:
    """{variant: per time series, (runs, its grid) simulated values, or None where the store lacks them}."""
    summ = summaries(exp)
    return {v: summ[v].series for v in exp.variants if summ[v].runs}


def _series_title(exp, titles: Titles, s: dict) -> str:
    """A series' title: the camp (location) it counts when it counts one, else its id."""
    if s["kind"] == "stock" and len(s["states"]) == 1:
        return titles.state(exp.model().state_names[s["states"][0]])
    return _short(s.get("fact") or "", 60).split(":")[0] or str(s["id"])


def series_figure(exp) -> Figure | None:
    """Each time series with data: the simulated band (central SERIES_LEVEL of runs) and median against the
    data points, one panel per series (a camp, for a Flee case), one colour per variant."""
    model = exp.model()
    values = series_values(exp)
    days = len(exp.dates)  # a run stopped early (`until`) may end before a series' data
    shown = [k for k, s in enumerate(model.series) if (s["grid"][s["obs"]] < days).any()
             and any(vals[k] is not None for vals in values.values())]
    if not shown:
        return None
    titles = Titles(exp.scenario)
    dates = exp.dates.values
    lo_q, hi_q = (1 - SERIES_LEVEL) / 2, 1 - (1 - SERIES_LEVEL) / 2
    fig, axes = _grid(len(shown))
    alone = len(values) == 1
    flows = False
    for ax, k in zip(axes, shown):
        s = model.series[k]
        grid = s["grid"]
        ok = grid < len(dates)
        when = dates[grid[ok]]
        for j, v in enumerate(exp.variants):
            vals = values.get(v, [None] * len(model.series))[k]
            if vals is None:
                continue
            vals = vals[:, ok]
            kk = 1 if alone else j
            color = _color(kk)
            low, med, high = np.nanquantile(vals, [lo_q, 0.5, hi_q], axis=0)
            if s["kind"] == "stock":
                ax.fill_between(when, low, high, color="#7f7f7f" if kk == 0 else color, alpha=0.25, lw=0)
                ax.plot(when, med, color=color, lw=1.3, ls=(0, (4, 2)) if kk == 0 else "-", label=v)
            else:  # variants side by side around the period's last day, as in the flows figure
                span = (when[-1] - when[0]) if len(when) > 1 else np.timedelta64(365, "D")
                shift = (j - (len(values) - 1) / 2) * span / max(60, 12 * len(when))
                ax.errorbar(when + shift, med, yerr=[med - low, high - med], fmt="s" if kk == 0 else "o", ms=3,
                            lw=1, color=color, label=v, capsize=2)
        obs = s["obs"]
        at = grid[obs] < len(dates)
        # the data: hollow vermillion diamonds (a shape and fill no variant has), joined for counts of people
        ax.plot(dates[grid[obs][at]], s["data"][obs][at], "D-" if s["kind"] == "stock" else "D", color=DATA_COLOR,
                mfc="white", mew=1.2, ms=3.6, lw=0.8, label="data", zorder=5)
        flows |= s["kind"] != "stock"
        _style(ax, _series_title(exp, titles, s), "people" if s["kind"] == "stock" else "people in the period")
    pct = f"{100 * SERIES_LEVEL:g}%"
    bands = []
    if any(model.series[k]["kind"] == "stock" for k in shown):
        from matplotlib.patches import Patch

        bands = [(Patch(color="#7f7f7f" if not alone else _color(1), alpha=0.25, lw=0), f"central {pct} of runs")]
    _legend(fig, axes, 2, bands)
    return Figure("series", "Simulated counts against the data",
                  f"Each time series the scenario cites (for a Flee case: the registered people in each camp), "
                  f"against its data (hollow diamonds: the dated counts, joined by a line). Line: median over runs "
                  f"(the baseline black and dashed); band: the central {pct} of runs ({(100 * lo_q):g}th to "
                  f"{(100 * hi_q):g}th percentile) on each day." + (
                      " A count over a period (people arriving, for instance) is a marker with a bar over the "
                      f"central {pct} of runs at the period's last day." if flows else ""), _png(fig),
                  tuple(_series_title(exp, titles, model.series[k]) for k in shown))


FIGURE_MAKERS = (stocks_figure, occupancy_figure, waits_figure, flows_figure, series_figure)  # page order


def series_rows(exp) -> list[dict]:
    """Per time series and group of series (Flee's `overall`), and per variant: the ARD and rescaled ARD
    (median and central 90% over runs) and the share of data points inside the runs' central 90%
    (`refuge.evidence.series.series_table` over the runs of the store)."""
    from refuge.evidence.series import series_table

    model = exp.model()
    if not model.series:
        return []
    titles = Titles(exp.scenario)
    rows = []
    for v, vals in series_values(exp).items():
        if any(x is None for x in vals):  # a store of an older refuge lacks a count over a period
            continue
        for r in series_table(model.series, vals, level=SERIES_LEVEL).to_dict("records"):
            k = next((j for j, s in enumerate(model.series) if s["id"] == r["id"]), None)
            r["title"] = (f"all of group {r['group']} together" if k is None
                          else _series_title(exp, titles, model.series[k]))
            rows.append({**r, "variant": v})
    return rows


# --- tables ---------------------------------------------------------------------------------------------


def parameters_table(exp) -> list[dict]:
    """Every parameter: value (per variant when they differ), unit, description, sources or assumption, prior."""
    sc = exp.scenario
    scheduled: dict[str, list[str]] = {}
    for sch in sc.schedules:
        scheduled.setdefault(sch.parameter, []).extend(sch.describe())
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
    summ = summaries(exp)
    rows = []
    for name in names:
        for v in exp.variants:
            s = summ[v]
            hist = s.stay_people.get(name)
            if hist is None:
                hist = np.zeros((2, s.days + 1))
            days = np.arange(hist.shape[1])
            done = hist[1]
            seen = np.flatnonzero(hist.sum(axis=0) > 0)
            still = s.still_there.get(name, np.zeros(s.runs))
            rows.append({"state": name, "variant": v, "people": int(done.sum()),
                         "median": _wq(days, done, 0.5), "p90": _wq(days, done, 0.9),
                         "longest": int(seen.max()) if len(seen) else None,
                         "still_there": float(np.median(still)) if len(still) else None})
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
    flow_names, stream_names = exp.names("flows"), exp.names("arrivals")
    entering = {n: _entering(model, n) for n in sites}
    titles = Titles(exp.scenario)
    summ = summaries(exp)
    rows = []
    for v in exp.variants:
        s = summ[v]
        if not s.runs:
            continue
        for n in sites:
            site = model.site_names[n]
            mean = s.run_mean[f"sites:{site}"]
            edges, into = entering[n]
            entries = np.zeros(s.runs)
            for e in edges:
                entries = entries + s.run_sum[f"flows:{flow_names[e]}"]
            for k in into:
                entries = entries + s.run_sum[f"arrivals:{stream_names[k]}"]
            room = s.run_mean.get(f"capacity:{site}")
            rows.append({"site": site, "title": titles.site(site), "variant": v,
                         "room": float(np.median(room)) if room is not None else None,
                         "entries": _interval(entries, level), "mean": _interval(mean, level),
                         "peak": _interval(s.run_max[f"sites:{site}"], level),
                         "closed": _interval(s.run_sum[f"closed:{site}"], level),
                         "supplies": {item: float(np.median(mean)) * per
                                      for item, per in model.scenario.sites[n].supplies.items()}})
    return rows


def _interval(x: np.ndarray, level: float) -> tuple[float, float, float]:
    lo, med, hi = np.quantile(x, [(1 - level) / 2, 0.5, 1 - (1 - level) / 2])
    return float(med), float(lo), float(hi)


def flows_year_table(exp) -> dict:
    """Flows per calendar year, one row per edge, for each variant: {variant: (years, rows)}."""
    table = _once(exp, "flows_by_year", lambda: _flows_by_year(exp))
    titles = Titles(exp.scenario)
    out = {}
    for v in exp.variants:
        t = table[table.variant == v]
        years = sorted(t.year.unique())
        rows = []
        for name, g in t.groupby("transition", sort=False):
            g = g.set_index("year")
            rows.append({"name": name, "title": titles.flow(name),
                         "cells": [(g.at[y, "median"], g.at[y, "low"], g.at[y, "high"]) for y in years]})
        out[v] = (years, rows)
    return out


def _wq(values, weights, q: float) -> float | None:
    """A people-weighted quantile of stay lengths (None when nobody stayed)."""
    x = weighted_quantile(values, weights, q)
    return None if np.isnan(x) else x


def evidence_rows(exp) -> list[dict]:
    """The evidence table, one row per fact with one cell per variant (as `refuge check` measures it)."""
    model = exp.model()
    if not model.evidence:
        return []
    tables = {v: {r["id"]: r for r in exp.evidence(v).to_dict("records")} for v in exp.variants
              if exp.finished(v)}
    rows = []
    for f in model.evidence:
        first = next(iter(tables.values()))[f["id"]]
        rows.append({"id": f["id"], "fact": f["fact"], "source": first["source"],
                     "citation": first.get("citation", first["source"]), "when": first["when"],
                     "measure": first["measure"], "bound": first["bound"], "required": first["required"],
                     "cells": {v: t[f["id"]] for v, t in tables.items()}})
    return rows


# --- the page ---------------------------------------------------------------------------------------------


def _num(x: Any, digits: int | None = None) -> str:
    """The report's number filter: `refuge.numbers.num`, or a fixed number of decimals when given (scores, ARD)."""
    if digits is None:
        return num(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return "–" if v != v else f"{v:,.{digits}f}"


def _g(x: Any) -> str:
    """A number as written (a parameter name stays a name)."""
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def page_context(exp: Any) -> dict:
    """Everything the report's page shows but its figures: the tables and what was run."""
    import refuge
    from refuge.evidence.outcomes import outcome_counts
    from refuge.experiments.compare import differences
    from refuge.inference.backtest_posterior import report_section as backtest_section
    from refuge.inference.outputs import report_section

    meta = exp.meta
    sc = exp.scenario
    finished = {v: len(exp.finished(v)) for v in exp.variants}
    diffs = differences(exp).to_dict("records") if len(exp.variants) > 1 else []
    return dict(
        title=sc.title or sc.name, scenario=sc, meta=meta, finished=finished, exp=exp,
        variants=meta["variants"], complete=exp.complete,
        summary=[(f"{rows.label.iloc[0]} ({rows.unit.iloc[0]})", rows.to_dict("records"))
                 for _, rows in exp.summary().groupby("outcome", sort=False)],
        differences=diffs, evidence=evidence_rows(exp),
        waits=waits_table(exp), flows_year=flows_year_table(exp), sites=sites_table(exp), series=series_rows(exp),
        series_level=SERIES_LEVEL,
        outcomes=[(o["label"], o["unit"], outcome_counts(o)) for o in exp.model().outcomes],
        parameters=parameters_table(exp), version=refuge.__version__,
        references=[(key, ref.model_copy(update={"url": ""}).citation(), ref.url) for key, ref in sc.sources.items()],
        calibration=report_section(exp),
        backtest=backtest_section(exp),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        until=meta.get("until") or str(sc.end), colors={v: _color(k) for k, v in enumerate(exp.variants)},
    )


def render(exp: Any, figures: list[Figure], context: dict | None = None) -> str:
    """The report's HTML for an Experiment and its figures (and its `page_context`, when already made)."""
    import jinja2

    template_text = (Path(__file__).parent / "report_template.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = _num
    env.filters["g"] = _g
    env.globals.update(band=band, interval=interval)  # one interval style: `median [low, high]`
    env.filters["basename"] = lambda p: Path(str(p)).name  # the report is mailed around: no paths of this machine
    context = context if context is not None else page_context(exp)
    return env.from_string(template_text).render(
        **context, figures={name: None for name in FIGURE_NAMES} | {f.name: f for f in figures})
