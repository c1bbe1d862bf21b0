"""How well a scenario reproduces the facts it cites, over an ensemble; and what each run says per site and year.

    from refuge.experiments.check import check    # runs the ensemble (experiments layer) into a CheckResult
    result = check("north-korea-china", runs=200, seed=0)
    result.facts        # one row per evidence fact: median, 90% interval, holds in the median run, share of runs,
                        # best share any rate could reach, probability score (refuge.evidence.scores)
    result.sites        # per site: entries, person-days, occupancy, days closed, time in the site, daily supply needs
    result.stays        # per state whose time in state is tracked: days in that state (one step, not the site)
    result.yearly       # per calendar year: the scenario's total outcomes (its `outcomes:`, or defaults by kind)
    result.failed_required   # ids of required facts whose bound fails in the median run

For one run, `site_table(run)` and `year_table(run)` give the same per-site and per-year figures;
`refuge.evidence.check_text.print_report(result)` prints them all for a terminal.

Run `r` uses seed `seed + r`, whatever the number of workers, so a check is reproducible.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from refuge.evidence.outcomes import outcomes_by_year, yearly_outcomes
from refuge.evidence.series import series_table
from refuge.model.compiler import A_TARGET, T_SRC, Model
from refuge.numbers import central, json_ready
from refuge.results.run import Run

LEVEL = 0.90

# Per-site figures of one run, in this order. Time in the site runs from entering the site to leaving it, across
# its states (refuge.results.site_time): mean, median, 90th percentile and longest over everyone who entered,
# people still inside counted to the last day; then the people still inside at the end.
SITE_METRICS = ("entries", "person_days", "mean_occupancy", "peak_occupancy", "days_closed", "days_in_site_mean",
                "days_in_site_median", "days_in_site_p90", "days_in_site_longest", "still_inside")
# Per tracked state of one run: days in that state (completed stays and stays still going at the end).
STAY_METRICS = ("people", "days_median", "days_p90", "days_longest")


# --- one run ---------------------------------------------------------------------------------------------


def report_sites(model: Model) -> list[int]:
    """Sites that hold at least one state (an embassy compound, a camp, a reception centre), in file order."""
    return sorted({int(n) for n in model.state_site if n >= 0})


def supplies(model: Model) -> list[str]:
    """Every supply item named by a site, in first-seen order."""
    items: list[str] = []
    for n in report_sites(model):
        for item in model.scenario.sites[n].supplies:
            if item not in items:
                items.append(item)
    return items


def _entering(model: Model, site: int) -> tuple[list[int], list[int]]:
    """(edges, arrival streams) that bring people into a site's states from outside the site."""
    inside = model.state_site == site
    src = model.trans[model.edge_trans, T_SRC] if len(model.edge_names) else np.zeros(0, np.int64)
    edges = [e for e in range(len(model.edge_names)) if inside[model.edge_target[e]] and not inside[src[e]]]
    streams = [a for a, row in enumerate(model.arr) if inside[row[A_TARGET]]]
    return edges, streams


def _waits(run: Run, states: list[int]) -> np.ndarray:
    """Days spent by each person in these states: completed stays, and stays still going at the end."""
    sel = np.isin(run.stays[:, 0], states)
    done = np.repeat(run.stays[sel, 2] - run.stays[sel, 1], run.stays[sel, 3])
    on = np.isin(run.ongoing[:, 0], states)
    ongoing = np.repeat((run.days - 1) - run.ongoing[on, 2], run.ongoing_size[on])
    return np.concatenate([done, ongoing])


def site_matrix(run: Run) -> np.ndarray:
    """(sites, SITE_METRICS) for one run; times are NaN for a site nobody entered."""
    from refuge.results.site_time import time_figures

    m = run.model
    sites = report_sites(m)
    occ = run.site_occupancy
    out = np.full((len(sites), len(SITE_METRICS)), math.nan)
    for i, n in enumerate(sites):
        edges, streams = _entering(m, n)
        out[i, :5] = (run.flows[:, edges].sum() + run.arrived[:, streams].sum(), occ[:, n].sum(),
                      occ[:, n].mean() if run.days else math.nan, occ[:, n].max(initial=0),
                      run.closed_sites[:, n].sum())
        out[i, 5:] = time_figures(run, n)
    return out


def tracked_states(model: Model) -> list[int]:
    """States whose time in state is tracked (the engine records each stay), in file order."""
    return [int(s) for s in np.flatnonzero(model.tracked)]


def stay_matrix(run: Run) -> np.ndarray:
    """(tracked states, STAY_METRICS) for one run: people who stayed, and the median, 90th percentile and
    longest days in the state (stays still going at the end counted to the last day); NaN where nobody stayed."""
    states = tracked_states(run.model)
    out = np.full((len(states), len(STAY_METRICS)), math.nan)
    for i, s in enumerate(states):
        waits = _waits(run, [s])
        out[i, 0] = waits.size
        if waits.size:
            out[i, 1:] = (np.median(waits), np.quantile(waits, 0.9), waits.max())
    return out


def year_matrix(run: Run) -> tuple[list[int], np.ndarray]:
    """(years, (years, totals)) for one run: each total outcome of the scenario per calendar year."""
    return outcomes_by_year(run)


def site_table(run: Run) -> Any:
    """Per site for one run: the figures of SITE_METRICS and the mean and peak daily need of each supply."""
    import pandas as pd

    m = run.model
    sites = report_sites(m)
    df = pd.DataFrame(site_matrix(run), columns=list(SITE_METRICS))
    df.insert(0, "site", [m.site_names[n] for n in sites])
    for item in supplies(m):
        per_person = np.array([m.scenario.sites[n].supplies.get(item, 0.0) for n in sites])
        df[f"{item}_per_day_mean"] = df["mean_occupancy"] * per_person
        df[f"{item}_per_day_peak"] = df["peak_occupancy"] * per_person
    return df


def year_table(run: Run) -> Any:
    """Per calendar year for one run: one column per total outcome (named as in the scenario)."""
    import pandas as pd

    labels, values = year_matrix(run)
    df = pd.DataFrame(values, columns=[o["name"] for o in yearly_outcomes(run.model)])
    df.insert(0, "year", labels)
    return df


# --- the ensemble (run by refuge.experiments.check) --------------------------------------------------------


@dataclass
class CheckResult:
    model: Model
    runs: int
    seed: int
    values: np.ndarray  # (runs, facts) simulated value of each fact in each run
    site_values: np.ndarray  # (runs, sites, SITE_METRICS)
    year_values: np.ndarray  # (runs, years, total outcomes)
    years: list[int]
    level: float = LEVEL
    series_values: list[np.ndarray] | None = None  # per series: (runs, days scored) simulated values
    stay_values: np.ndarray | None = None  # (runs, tracked states, STAY_METRICS)

    @property
    def series(self) -> Any:
        """One row per time series and per group of series: ARD and rescaled ARD (median, low, high over the
        runs) and coverage (share of data points inside the interval)."""
        return series_table(self.model.series, self.series_values or [], level=self.level)

    @property
    def facts(self) -> Any:
        """One row per fact: id, source, fact, when, measure, bound, median, low, high, holds_median,
        share_holding, best_share, score, required."""
        from refuge.evidence.measures import evaluate

        df = evaluate(self.model, self.values, level=self.level)
        df.insert(2, "fact", [f["fact"] for f in self.model.evidence])
        return df

    @property
    def series_points(self) -> Any:
        """One row per data point of each series: series, date, data, median, low, high, error (relative to
        the data), inside (the interval)."""
        import pandas as pd

        lo_q, hi_q = (1 - self.level) / 2, 1 - (1 - self.level) / 2
        rows = []
        for s, vals in zip(self.model.series, self.series_values or []):
            for j, k in enumerate(s["obs"]):
                col = vals[:, k]
                col = col[~np.isnan(col)]
                data = float(s["data"][k])
                med, lo, hi = ((float(np.median(col)), *map(float, np.quantile(col, [lo_q, hi_q]))) if col.size
                               else (math.nan,) * 3)
                rows.append({"series": s["id"], "date": str(self.model.start + dt.timedelta(days=int(s["grid"][k]))),
                             "data": data, "median": med, "low": lo, "high": hi,
                             "error": abs(med - data) / max(data, 1.0), "inside": bool(lo <= data <= hi)})
        return pd.DataFrame(rows, columns=["series", "date", "data", "median", "low", "high", "error", "inside"])

    @property
    def share_holding(self) -> float:
        """Share of facts whose bound holds in the median run (NaN without facts)."""
        df = self.facts
        return float(df["holds_median"].mean()) if len(df) else math.nan

    @property
    def failed_required(self) -> list[str]:
        """Ids of `required` facts whose bound fails in the median run."""
        df = self.facts
        return df.loc[df["required"].astype(bool) & ~df["holds_median"].astype(bool), "id"].tolist()

    @property
    def sites(self) -> Any:
        """Long table: site, metric, median, low, high over the runs (supply needs included)."""
        import pandas as pd

        m = self.model
        rows = []
        for i, n in enumerate(report_sites(m)):
            cols = {name: self.site_values[:, i, k] for k, name in enumerate(SITE_METRICS)}
            for item in supplies(m):
                per_person = m.scenario.sites[n].supplies.get(item, 0.0)
                cols[f"{item}_per_day_mean"] = cols["mean_occupancy"] * per_person
                cols[f"{item}_per_day_peak"] = cols["peak_occupancy"] * per_person
            rows += [{"site": m.site_names[n], "metric": name, **_band(x, self.level)} for name, x in cols.items()]
        return pd.DataFrame(rows, columns=["site", "metric", "median", "low", "high"])

    @property
    def stays(self) -> Any:
        """Long table: state, metric (STAY_METRICS), median, low, high over the runs: days in each tracked state
        on its own (one step inside a site, not the time in the site)."""
        import pandas as pd

        rows = []
        if self.stay_values is not None:
            for i, s in enumerate(tracked_states(self.model)):
                rows += [{"state": self.model.state_names[s], "metric": name,
                          **_band(self.stay_values[:, i, k], self.level)} for k, name in enumerate(STAY_METRICS)]
        return pd.DataFrame(rows, columns=["state", "metric", "median", "low", "high"])

    @property
    def yearly(self) -> Any:
        """Long table: year, metric (a total outcome's name), label, unit, median, low, high over the runs."""
        import pandas as pd

        totals = yearly_outcomes(self.model)
        rows = [{"year": y, "metric": o["name"], "label": o["label"], "unit": o["unit"],
                 **_band(self.year_values[:, i, k], self.level)}
                for i, y in enumerate(self.years) for k, o in enumerate(totals)]
        return pd.DataFrame(rows, columns=["year", "metric", "label", "unit", "median", "low", "high"])


def _band(x: np.ndarray, level: float) -> dict[str, float]:
    ok = x[~np.isnan(x)]
    if not ok.size:
        return {"median": math.nan, "low": math.nan, "high": math.nan}
    lo, hi = np.quantile(ok, central(level))
    return {"median": float(np.median(ok)), "low": float(lo), "high": float(hi)}




# --- output -------------------------------------------------------------------------------------------------


def to_json(result: CheckResult) -> dict:
    """Everything `refuge check --format json` prints: summary, facts, sites and years (NaN as null)."""
    facts = result.facts
    return json_ready({
        "scenario": result.model.scenario.name,
        "runs": result.runs,
        "seed": result.seed,
        "level": result.level,
        "facts_holding_median": int(facts["holds_median"].sum()),
        "facts": len(facts),
        "share_holding_median": result.share_holding,
        "mean_score": float(facts["score"].mean()) if len(facts) else math.nan,
        "failed_required": result.failed_required,
        "evidence": facts.to_dict(orient="records"),
        "sites": result.sites.to_dict(orient="records"),
        "stays": result.stays.to_dict(orient="records"),
        "years": result.yearly.to_dict(orient="records"),
        "series": result.series.to_dict(orient="records") if result.model.series else [],
        "series_points": result.series_points.to_dict(orient="records") if result.model.series else [],
    })
