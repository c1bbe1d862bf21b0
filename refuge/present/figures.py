"""The report's figures: people in each state, sites against their room, stays, flows per year, time series
against their data. Each panel is titled by the name of what it shows; its description is in the caption."""

from __future__ import annotations

from typing import Any

import numpy as np

from refuge.present.cache import _once, summaries
from refuge.present.plotting import (
    BANDS_TEXT,
    DATA_COLOR,
    MAX_FLOW_PANELS,
    SHADE_MOST,
    SHADE_SOME,
    Figure,
    _band,
    _color,
    _dates,
    _grid,
    _largest,
    _legend,
    _png,
    _style,
    _title,
)
from refuge.present.tables import _flows_by_year, _wq
from refuge.present.titles import Titles, _short

FIGURE_NAMES = ("stocks", "occupancy", "waits", "flows", "series")  # a scenario without sites, tracked states,
# transitions or time series has fewer


def make_figures(exp: Any) -> list[Figure]:
    """The report's figures for an Experiment: stocks, site occupancy, waits, flows and time series against
    their data (those that apply), drawn one after the other."""
    import matplotlib

    matplotlib.use("Agg")
    figs = [maker(exp) for maker in FIGURE_MAKERS]
    return [f for f in figs if f is not None]


def stocks_figure(exp: Any) -> Figure:
    """People in each state over time: a panel per state (the largest when there are many), bands per variant."""
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
                  "People in each state at the end of each day, each panel titled by the state's name in the "
                  "scenario. " + BANDS_TEXT + step, _png(fig), tuple(names), titles.key("state", names))


def occupancy_figure(exp: Any) -> Figure | None:
    """Each site's occupancy against its room, with the days it was closed shaded (None without sites)."""
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
                  "People in each site (all its states together) at the end of each day. " + BANDS_TEXT + " Dotted: "
                  "the site's capacity in force (median over runs when rules change it). Shaded in sand: the days it "
                  f"was closed to entry, darker where most runs had it closed, light where some did (variant {base})."
                  , _png(fig), tuple(sites), titles.key("site", sites))


def waits_figure(exp: Any) -> Figure | None:
    """Completed stays in each tracked state, one panel per state; states where every stay took 0 days (people
    moved on the same day) are named in the caption instead of drawn."""
    names = exp.names("max_stay")
    if not names:
        return None
    summ = summaries(exp)
    done = {v: {n: s.stay_people[n][1] for n in names if n in s.stay_people} for v, s in summ.items()}
    base = done[exp.variants[0]]
    stayed = [n for n in names if n in base and base[n].sum() > 0]
    same_day = [n for n in stayed if base[n][1:].sum() == 0]
    names = [n for n in stayed if n not in same_day]
    if not names:
        return None
    titles = Titles(exp.scenario)
    fig, axes = _grid(len(names), xlabel=True)
    for ax, name in zip(axes, names):
        _stay_panel(ax, name, base[name], {v: done[v].get(name) for v in exp.variants})
        _title(ax, titles.state(name))
    _legend(fig, axes, len(exp.variants))
    zero = (f" Every stay in {', '.join(titles.state(n) for n in same_day)} took 0 days (people moved on the same "
            "day): not drawn."
            if same_day else "")
    return Figure("waits", "How long people stay in each state",
                  "Distribution of completed stays in each state where time in state is tracked: days in that state "
                  "alone (one step; a site's time from entering to leaving it is in the sites table), weighted by "
                  "people and pooled over runs (the baseline filled grey; the last bin holds the longest 1%)."
                  + zero, _png(fig), tuple(names), titles.key("state", names))


def _stay_panel(ax, name: str, counts: np.ndarray, by_variant: dict) -> None:
    """One state's histogram of completed stays: whole-day bins from 0 to the baseline's 99th percentile."""
    from matplotlib.ticker import MaxNLocator

    days = np.arange(len(counts))
    top = max(1.0, _wq(days, counts, 0.99) or 1.0)
    width = max(1, int(np.ceil((top + 1) / 40)))  # stays are whole days: bins of whole days, no aliasing
    bins = np.arange(0, top + width + 1, width) - 0.5
    for k, (v, c) in enumerate(by_variant.items()):
        if c is None or c.sum() <= 0:
            continue
        d = np.arange(len(c))
        ax.hist(np.minimum(d[c > 0], bins[-1] - 0.5), bins=bins, weights=c[c > 0], density=True,
                histtype="stepfilled" if k == 0 else "step", alpha=0.35 if k == 0 else 1,
                color="#7f7f7f" if k == 0 else _color(k), label=v, lw=1.4, zorder=2 if k == 0 else 3)
    ax.set_xlim(-0.5, bins[-1] + width)
    ax.xaxis.set_major_locator(MaxNLocator(6, integer=True))
    ax.set_xlabel("days in the state (completed stays)", fontsize=8)
    ax.set_ylabel("share of people per day", fontsize=8)
    ax.tick_params(labelsize=7.5)
    ax.grid(alpha=0.25, lw=0.5)


def flows_figure(exp: Any) -> Figure | None:
    """People moved along each transition per calendar year, a panel per edge (None without any)."""
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
    shift = 0.5 / max(nv, 1)
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

        _year_ticks(ax, sorted(set(table.year)))
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.grid(alpha=0.25, lw=0.5)
        ax.set_ylim(bottom=0)
    _legend(fig, axes, nv)
    shown = "" if len(names) == len(exp.names("flows")) else (
        f" The {len(names)} largest of {len(exp.names('flows'))} flows; the table below has them all.")
    return Figure("flows", "Flows per year",
                  "People moved along each transition per calendar year (a panel per transition and target, titled "
                  "`transition → target`): median over runs (marker; the baseline black squares, dashed), with bars "
                  "over the central 90% of runs" + (", variants side by side around each year's tick" if nv > 1
                                                     else "") + ". A partial first or last year has smaller totals."
                  + shown, _png(fig), tuple(titles.flow(n) for n in names), titles.key("flow", names))


SERIES_LEVEL = 0.90  # the band drawn against the data, and the interval coverage is measured with


def _year_ticks(ax, years: list[int]) -> None:
    """Ticks on the years themselves (a few of them when there are many), the points of each year around its tick."""
    step = max(1, -(-len(years) // 7))
    ax.set_xticks(years[::step], [str(y) for y in years[::step]])
    ax.set_xlim(years[0] - 0.6, years[-1] + 0.6)


def series_values(exp: Any) -> dict[str, list]:
    """{variant: per time series, (runs, its grid) simulated values, or None where the store lacks them}."""
    summ = summaries(exp)
    return {v: summ[v].series for v in exp.variants if summ[v].runs}


def _series_title(exp, titles: Titles, s: dict) -> str:
    """A series' title: the camp (location) it counts when it counts one, else its id."""
    if s["kind"] == "stock" and len(s["states"]) == 1:
        return titles.state(exp.model().state_names[s["states"][0]])
    return _short(s.get("fact") or "", 60).split(":")[0] or str(s["id"])


def series_figure(exp: Any) -> Figure | None:
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
        # a count over a period is drawn at the period's middle (a year's count on its year), a stock on its day
        mid = grid if s["kind"] == "stock" else (np.asarray(s["starts"]) + grid) // 2
        when = dates[mid[ok]]
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
            else:  # variants side by side around the period's middle, as in the flows figure
                span = (when[-1] - when[0]) if len(when) > 1 else np.timedelta64(365, "D")
                shift = (j - (len(values) - 1) / 2) * span / max(60, 12 * len(when))
                ax.errorbar(when + shift, med, yerr=[med - low, high - med], fmt="s" if kk == 0 else "o", ms=3,
                            lw=1, color=color, label=v, capsize=2)
        obs = s["obs"]
        at = grid[obs] < len(dates)
        # the data: hollow vermillion diamonds (a shape and fill no variant has), joined for counts of people
        ax.plot(dates[mid[obs][at]], s["data"][obs][at], "D-" if s["kind"] == "stock" else "D", color=DATA_COLOR,
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
                      f"central {pct} of runs at the middle of the period it counts." if flows else ""), _png(fig),
                  tuple(_series_title(exp, titles, model.series[k]) for k in shown))


FIGURE_MAKERS = (stocks_figure, occupancy_figure, waits_figure, flows_figure, series_figure)  # page order


def series_rows(exp: Any) -> list[dict]:
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
