"""`refuge check` for people: the evidence, time series, per-site, per-state and per-year tables in a terminal.

A table is printed as a grid when it fits the console (the terminal's width; 80 columns when piped). When it
does not, each table has a layout made for narrow terminals and pipes (`refuge.console.print_table`): the
evidence as a compact block per fact (its id and whether it holds, the fact in its source's words, then one line
of figures), and tables of many short rows (a series' data points) as one line a row without borders.
"""

from __future__ import annotations

import math
from typing import Any

from refuge.console import print_table
from refuge.evidence.check import SITE_METRICS, CheckResult, supplies
from refuge.evidence.outcomes import outcome_text, yearly_outcomes
from refuge.numbers import band, num, plural

# What each per-site column says, in the table's header (time in days, the rest in people).
SITE_HEADERS = {"entries": "entries", "person_days": "person-days", "peak_occupancy": "peak",
                "days_closed": "days closed", "days_in_site_mean": "days in site: mean",
                "days_in_site_median": "median", "days_in_site_p90": "90th pct", "days_in_site_longest": "longest",
                "still_inside": "still inside at the end"}
SITE_COLUMNS = tuple(c for c in SITE_METRICS if c in SITE_HEADERS)
STAY_HEADERS = {"people": "people", "days_median": "days: median", "days_p90": "90th pct",
                "days_longest": "longest"}


def print_report(result: CheckResult, console: Any = None) -> None:
    """The evidence table, then per-site, per-state and per-year tables, for a terminal."""
    from rich.console import Console

    console = console or Console()
    facts = result.facts
    if len(facts):
        print_table(facts_table(result), console, stacked=lambda: _fact_blocks(result, console))
    elif not result.model.series:
        console.print(f"{result.model.scenario.name} cites no evidence facts ({plural(result.runs, 'run')}).")
    if result.model.series:
        print_table(_series_table(result), console)
        print_table(_points_table(result), console, stacked=lambda: print_table(_points_narrow(result), console))
    _summary_lines(result, console)
    if len(result.sites):
        print_table(_sites_table(result, SITE_COLUMNS, "people; time in the site in days, from entering it to "
                                 "leaving it (people still inside counted to the last day)"), console)
        needs = [f"{item}_per_day_{x}" for item in supplies(result.model) for x in ("mean", "peak")]
        if needs:
            print_table(_sites_table(result, needs, "daily needs (mean and peak day)"), console)
    if len(result.stays):
        print_table(_stays_table(result), console)
    if yearly_outcomes(result.model):
        print_table(_years_table(result), console)
    console.print(f"[bold]verdict:[/] {verdict(result)}")


def verdict(result: CheckResult) -> str:
    """One sentence on how the runs reproduce the evidence: facts holding, the share of series data points
    inside the band and each group's run ARD; in sample, so it says where a forecast is judged."""
    parts = []
    facts = result.facts
    if len(facts):
        parts.append(f"{int(facts['holds_median'].sum())} of {len(facts)} facts hold in the median run")
    if result.model.series:
        pts = result.series_points
        pct = f"{100 * result.level:.0f}%"
        if len(pts):
            cov = float(pts["inside"].mean())
            note = " — too narrow to trust as a forecast band" if cov < 0.8 else ""
            parts.append(f"the runs' {pct} band held {cov:.0%} of {len(pts)} series data points{note}")
        from refuge.evidence.other_error import check_clauses

        rows = result.series
        mine = {}
        for r in rows[rows["measure"] == "group"].itertuples(index=False):
            parts.append(f"run ARD of {r.id} {r.ard:.3f} (median over runs)")
            mine[str(r.id).removeprefix("group ")] = float(r.ard)
        parts.extend(check_clauses(result.model, mine))
        parts.append("all in sample: `refuge backtest` judges a forecast on data it was not fitted to")
    return "; ".join(parts) + "." if parts else "nothing to judge: the scenario cites no evidence."


def _summary_lines(result: CheckResult, console: Any) -> None:
    facts = result.facts
    held, total = int(facts["holds_median"].sum()), len(facts)
    if total:
        required = facts[facts["required"].astype(bool)]
        console.print(f"{held} of {total} facts hold in the median run ({100 * held / total:.0f}%); "
                      f"required: {int(required['holds_median'].sum())} of {len(required)} hold.")
    if result.failed_required:
        console.print("[bold red]required facts failing:[/] " + ", ".join(result.failed_required))
    if total:
        console.print(f"probability score (share of runs holding / best share any rate could reach, at most 1): "
                      f"mean {facts['score'].mean():.2f}; {int((facts['score'] >= 0.5).sum())} of {total} facts "
                      "score 0.5 or more.")


def _title(result: CheckResult) -> str:
    return (f"{result.model.scenario.name}: evidence over {plural(result.runs, 'run')} (seeds {result.seed}–"
            f"{result.seed + result.runs - 1})")


def _mark(row: Any) -> str:
    return "[green]yes[/]" if row.holds_median else ("[bold red]NO[/]" if row.required else "[yellow]no[/]")


def _holding(row: Any) -> str:
    best = "" if row.best_share >= 1 else f" (best {100 * row.best_share:.0f}%)"
    return f"{100 * row.share_holding:.0f}%{best}"


def facts_table(result: CheckResult) -> Any:
    """The evidence as a grid: each fact's id, its words, source, period, bound, the runs' median and interval,
    whether it holds in the median run, the share of runs holding and the probability score."""
    from rich.table import Table

    table = Table(title=_title(result))
    table.add_column("fact", overflow="fold")
    table.add_column("what the source says", overflow="fold", min_width=24)
    table.add_column("source", overflow="fold")
    table.add_column("when", overflow="fold")
    table.add_column("bound", no_wrap=True)
    table.add_column(f"median [{100 * result.level:.0f}% interval]", justify="right", no_wrap=True)
    table.add_column("holds", no_wrap=True)
    table.add_column("runs holding", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    for row in result.facts.itertuples(index=False):
        name = row.id + (" (required)" if row.required else "")
        table.add_row(name, row.fact, row.citation, row.when, row.bound, band(row.median, row.low, row.high),
                      _mark(row), _holding(row), num(row.score))
    return table


def _fact_blocks(result: CheckResult, console: Any) -> None:
    """The evidence for a narrow terminal or a pipe: a block of two or three lines per fact."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.text import Text

    console.print(Text(_title(result), style="bold"))
    pct = f"{100 * result.level:.0f}%"
    for row in result.facts.itertuples(index=False):
        head = Text.from_markup(f"[bold]{escape(row.id)}[/]" + (" (required)" if row.required else "")
                                + " — holds: " + _mark(row))
        console.print(head)
        console.print(Padding(Text(f"“{row.fact}”"), (0, 0, 0, 2)))
        figures = (f"{row.bound} · model {band(row.median, row.low, row.high)} ({pct}) · "
                   f"{_holding(row)} of runs hold · score {num(row.score)} · {row.when} · {row.citation}")
        console.print(Padding(Text(figures, style="dim"), (0, 0, 0, 2)))


def _points_table(result: CheckResult) -> Any:
    from rich.table import Table

    pct = f"{100 * result.level:.0f}%"
    table = Table(title=f"Data beside the model: each data point of each series, median [{pct} interval] over "
                        f"{plural(result.runs, 'run')}")
    for c in ("series", "date", "data", "model", "relative error", "inside"):
        table.add_column(c, justify="left" if c in ("series", "date") else "right", no_wrap=True)
    for r in result.series_points.itertuples(index=False):
        table.add_row(r.series, r.date, num(r.data), band(r.median, r.low, r.high), f"{r.error:.2f}",
                      "yes" if r.inside else "[yellow]no[/]")
    return table


def _points_narrow(result: CheckResult) -> Any:
    """The data points for a narrow terminal or a pipe: one line a point under a line naming its series."""
    from rich import box
    from rich.table import Table

    pct = f"{100 * result.level:.0f}%"
    table = Table(title=f"Data beside the model ({plural(result.runs, 'run')}, median [{pct}])",
                  box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False)
    for c in ("date", "data", "model", "error", "inside"):
        table.add_column(c, justify="left" if c == "date" else "right", no_wrap=True)
    last = None
    for r in result.series_points.itertuples(index=False):
        if r.series != last:
            table.add_row(f"[bold]{r.series}[/]", "", "", "", "")
            last = r.series
        table.add_row(r.date, num(r.data), band(r.median, r.low, r.high), f"{r.error:.2f}",
                      "yes" if r.inside else "[yellow]no[/]")
    return table


def _series_table(result: CheckResult) -> Any:
    from rich.table import Table

    pct = f"{100 * result.level:.0f}%"
    table = Table(title=f"{result.model.scenario.name}: time series over {plural(result.runs, 'run')} — run ARD: "
                        f"each run's averaged relative difference (Flee's ARD; lower is better), median [{pct} "
                        f"interval] over runs; rescaled only for groups of two or more series; coverage: share of "
                        f"data points inside the {pct} band")
    for c in ("series", "source", "points", "run ARD", "run ARD rescaled", "coverage"):
        table.add_column(c, overflow="fold", justify="left" if c in ("series", "source") else "right")
    for row in result.series.itertuples(index=False):
        name = f"[bold]{row.id}[/]" if row.measure == "group" else row.id
        table.add_row(name, row.source, str(row.points),
                      band(row.ard, row.ard_low, row.ard_high),
                      "–" if math.isnan(row.ard_rescaled) else band(row.ard_rescaled, row.ard_rescaled_low,
                                                                      row.ard_rescaled_high),
                      "–" if math.isnan(row.coverage) else f"{100 * row.coverage:.0f}%")
    return table


def _sites_table(result: CheckResult, columns: tuple[str, ...] | list[str], what: str) -> Any:
    from rich.table import Table

    df = result.sites
    table = Table(title=f"Per site, {what}: median [{100 * result.level:.0f}% interval] over "
                        f"{plural(result.runs, 'run')}")
    table.add_column("site", no_wrap=True)
    for c in columns:
        table.add_column(SITE_HEADERS.get(c) or c.replace("_per_day_", "/day ").replace("_", " "), justify="right")
    wide = {(r.site, r.metric): r for r in df.itertuples(index=False)}
    titles = {s.name: s.title for s in result.model.scenario.sites}
    for site in dict.fromkeys(df["site"]):
        cells = [wide[(site, c)] for c in columns]
        table.add_row(titles.get(site, site), *[band(x.median, x.low, x.high) for x in cells])
    return table


def _stays_table(result: CheckResult) -> Any:
    from rich.table import Table

    df = result.stays
    table = Table(title=f"Per state whose time in state is tracked: days in that state alone (one step; a site's "
                        f"time is above), stays still going counted to the last day: median "
                        f"[{100 * result.level:.0f}% interval] over {plural(result.runs, 'run')}")
    table.add_column("state", no_wrap=True)
    for header in STAY_HEADERS.values():
        table.add_column(header, justify="right")
    wide = {(r.state, r.metric): r for r in df.itertuples(index=False)}
    titles = {s.name: s.title for s in result.model.scenario.states}
    for state in dict.fromkeys(df["state"]):
        cells = [wide[(state, c)] for c in STAY_HEADERS]
        table.add_row(titles.get(state, state), *[band(x.median, x.low, x.high) for x in cells])
    return table


def _years_table(result: CheckResult) -> Any:
    from rich.table import Table

    df = result.yearly
    totals = yearly_outcomes(result.model)
    legend = "; ".join(f"{o['name']}: {outcome_text(o)}" for o in totals)
    table = Table(title=f"Per year: median [{100 * result.level:.0f}% interval] over {plural(result.runs, 'run')} "
                        f"({legend})")
    table.add_column("year")
    for o in totals:
        table.add_column(o["name"], justify="right", no_wrap=True)
    wide = {(r.year, r.metric): r for r in df.itertuples(index=False)}
    for y in result.years:
        table.add_row(str(y), *[band(wide[(y, o["name"])].median, wide[(y, o["name"])].low,
                                     wide[(y, o["name"])].high) for o in totals])
    return table
