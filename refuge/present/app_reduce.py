"""The page's answer: an ensemble of the changed scenario and the baseline reduced to bands, yearly totals,
sites, evidence and paired differences, as JSON-ready numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _q(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.quantile(x, QUANTILES, axis=axis)


def _clean(obj: Any) -> Any:
    """JSON-ready: numpy to lists, NaN to None, numbers rounded to what a page shows."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "iub":
            return obj.tolist()
        a = np.round(obj.astype(np.float64), 3)
        if np.isfinite(a).all():
            return a.tolist()
        return np.where(np.isfinite(a), a, None).tolist()  # NaN and infinities become null
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else round(x, 3)
    return obj


def reduce(session: Any, base: Any, ens: Any) -> dict:
    """Bands, yearly totals, missions, evidence and paired differences, as the page draws them."""
    from refuge.evidence.check import SITE_METRICS, STAY_METRICS, report_sites, tracked_states
    from refuge.evidence.measures import evaluate
    from refuge.evidence.outcomes import yearly_outcomes
    from refuge.experiments.compare import _diff_stats, _nanmedian
    from refuge.present.report import Titles

    m = ens.model
    titles = Titles(m.scenario)
    days = np.arange(0, m.days, session.step)
    start = np.datetime64(m.start, "D")
    x = ((start + days) - np.datetime64("1970-01-01", "D")).astype(np.int64) * 86400  # uPlot: seconds
    series = {}
    stocks, bstocks = ens.stack("stocks"), base.stack("stocks")
    for k, name in enumerate(m.state_names):
        series[f"state:{name}"] = {"title": titles.state(name), "q": _q(stocks[:, :, k]),
                                   "base": np.median(bstocks[:, :, k], axis=0)}
    sites, bsites = ens.stack("sites"), base.stack("sites")
    for k, name in enumerate(m.site_names):
        p = m.capacity_param[k]
        room = m.pbase[days, p] if p >= 0 else None
        series[f"site:{name}"] = {"title": titles.site(name), "q": _q(sites[:, :, k]),
                                  "base": np.median(bsites[:, :, k], axis=0), "room": room}
    flows, bflows = ens.stack("flows"), base.stack("flows")
    per = "people moved a day" if session.step == 1 else f"people moved per {session.step} days"
    for k, name in enumerate(m.transition_names):
        series[f"flow:{name}"] = {"title": titles.transition(name), "q": _q(flows[:, :, k]),
                                  "base": np.median(bflows[:, :, k], axis=0), "unit": per}
    years = sorted(set(m.dates.year.tolist()))
    yv, byv = ens.stack("years"), base.stack("years")
    yearly = [{"name": o["name"], "label": o["label"], "unit": o["unit"],
               "q": np.quantile(yv[:, :, j], (0.05, 0.5, 0.95), axis=0), "base": np.median(byv[:, :, j], axis=0)}
              for j, o in enumerate(yearly_outcomes(m))]
    lo_q, hi_q = 0.05, 0.95
    outs, bouts = ens.stack("outcomes"), base.stack("outcomes")
    outcomes = []
    for j, o in enumerate(m.outcomes):
        d = _diff_stats(outs[:, j] - bouts[:, j], lo_q, hi_q)
        outcomes.append({"key": o["name"], "label": o["label"], "unit": o["unit"], "baseline": _nanmedian(bouts[:, j]),
                         "value": _nanmedian(outs[:, j]), **d})
    ev = evaluate(m, ens.stack("evidence")) if m.evidence else None
    bev = evaluate(base.model, base.stack("evidence")) if m.evidence else None
    facts = []
    if ev is not None:
        text = {f["id"]: f["fact"] for f in m.evidence}
        for r, b in zip(ev.to_dict("records"), bev.to_dict("records")):
            extra = {k: v for k, v in r.items() if k not in ("id", "source", "when", "measure", "bound", "median",
                                                             "low", "high", "holds_median", "share_holding",
                                                             "required") and isinstance(v, (int, float))}
            facts.append({**{k: r[k] for k in ("id", "source", "when", "bound", "median", "low", "high",
                                                "holds_median", "share_holding", "required")},
                          "fact": text[r["id"]], "base_holds": b["holds_median"], "base_share": b["share_holding"],
                          "base_median": b["median"], "scores": extra})
    missions = _table(ens.stack("sites_table"), [m.site_names[n] for n in report_sites(m)], SITE_METRICS,
                      titles.site, "mission")
    stays = _table(ens.stack("stays_table"), [m.state_names[s] for s in tracked_states(m)], STAY_METRICS,
                   titles.state, "state")
    return _clean({"runs": len(ens.runs), "seed": session.seed, "x": x, "step": session.step,
                   "series": series, "years": years, "yearly": yearly, "outcomes": outcomes,
                   "evidence": facts, "missions": missions, "stays": stays, "changed": not ens.change.empty,
                   "simulated_seconds": round(ens.seconds + (0 if ens is base else base.seconds), 3)})


def _table(values: np.ndarray, names: list[str], metrics: tuple[str, ...], title: Any, key: str) -> list[dict]:
    """Rows of a per-run table (runs, rows, metrics): each metric's 5%, median and 95% over the runs that have it."""
    rows = []
    for i, name in enumerate(names):
        row = {key: name, "title": title(name)}
        for j, metric in enumerate(metrics):
            col = values[:, i, j]
            col = col[~np.isnan(col)]
            row[metric] = np.quantile(col, (0.05, 0.5, 0.95)) if len(col) else None
        rows.append(row)
    return rows
