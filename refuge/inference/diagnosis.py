"""Which facts the posterior cannot reach, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from refuge.inference.calibrate import Calibration


def diagnose(cal: Calibration, history: Any, facts: list[dict], excluded: tuple[str, ...] = ()) -> list[dict]:
    """For each fact holding in under half the posterior runs: prior reach, tension, noise."""
    from refuge.evidence.measures import holds

    pred = cal.predictive
    prior_vals = _facts_of(history, 0)
    ok_prior = np.array([[holds(f, x) for f, x in zip(facts, row)] for row in prior_vals], bool)
    out = []
    for k, f in enumerate(facts):
        share = float(pred.share_holding.iat[k])
        if share >= 0.5:
            continue
        item = {"id": f["id"], "share_holding": share, "prior_share": float(ok_prior[:, k].mean())}
        col = prior_vals[:, k]
        col = col[~np.isnan(col)]
        item["prior_range"] = [float(np.quantile(col, 0.05)), float(np.quantile(col, 0.95))] if col.size else []
        item["reason"] = _reason(k, f, item, ok_prior, pred)
        if f["id"] in excluded:
            item["reason"] = "left out of the calibration's distance (--exclude); " + item["reason"]
        out.append(item)
    return out


def _facts_of(history, t: int) -> np.ndarray:
    pop = history.get_population(t)
    return np.array([p.sum_stat["facts"] for p in pop.particles], float)


def _reason(k: int, fact: dict, item: dict, ok_prior: np.ndarray, pred) -> str:
    from refuge.evidence.measures import bound_text
    from refuge.numbers import interval

    bound = bound_text(fact)
    rng = item["prior_range"]
    where = interval(*rng) if rng else "undefined"
    if _exact_incident(fact):
        days = fact["days"][1] - fact["days"][0] + 1
        return (f"an exact count of people moved in {days} day{'s' if days > 1 else ''} (bound {bound}): the model "
                "draws how many groups move each day at random, so even at the best rate the count comes out "
                "exactly right in a minority of runs (one event happens with probability at most 1/e ≈ 37%); "
                "only a scheduled, certain event or a looser bound (about, range) could hold in half of them")
    if item["prior_share"] == 0:
        return (f"never holds across the prior (5–95% of prior runs: {where}; bound {bound}): the uncertain "
                "parameters cannot move it there, so a fixed number or the model's structure limits it")
    with_it = ok_prior[ok_prior[:, k]]
    if len(with_it) >= 10:
        others = [(with_it[:, j].mean() - ok_prior[:, j].mean(), j) for j in range(ok_prior.shape[1]) if j != k]
        drop, j = min(others) if others else (0.0, -1)
        if j >= 0 and drop < -0.2:
            return (f"holds in {item['prior_share']:.0%} of prior runs, but in those `{pred.id.iat[j]}` holds "
                    f"{-drop:.0%} less often (of runs): the two facts pull the parameters in opposite directions")
    return (f"reachable (holds in {item['prior_share']:.0%} of prior runs) but the posterior runs spread over "
            f"{interval(pred.low.iat[k], pred.high.iat[k])} against the bound {bound}: run-to-run chance, or "
            "other facts the same parameters must also meet, make it miss often")


def _exact_incident(fact: dict) -> bool:
    """An exact count of movements over a week or less: a one-off incident in the news."""
    if fact["bound"] != "exact" or fact["kind"] not in ("flow", "arrivals"):
        return False
    d0, d1 = fact["days"]
    return d1 - d0 < 7
