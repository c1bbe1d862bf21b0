"""A forecast's scores on held-out data, beside the baselines it must beat, and the verdict they add up to.

Every backtest scores its forecast on the data points dated after the cut (the *held-out points*), and scores
three baseline forecasts on the same points, each made from the data dated up to the cut and nothing else:

- **naive**: the last observed value carried forward (for a count over a period, its count per day times the
  days of the period forecast);
- **drift**: the last observed value plus the training period's average change per day (from its first to its
  last data point) times the days ahead, never below zero;
- **seasonal naive**, for a sub-annual series (data points at most 120 days apart, a year or more of training
  data): the value observed a whole number of years earlier (the latest such training point within a quarter
  of the spacing); no value otherwise.

One meaning per score (the names below are the ones printed):

- **relative error** of a point forecast f of the data y: |f - y| / max(y, 1);
- **ARD of the median**: the mean relative error of the median of the runs over the held-out points (not the
  daily ARD of each run that `refuge check` prints: that one is named *run ARD*);
- **skill** against a baseline: the model's ARD of the median over the baseline's, both on the points the
  baseline has a value at (a series with no training point before the cut has no baseline); below 1 the model
  is better;
- **coverage 50% / 90%**: the share of held-out points inside the central 50% / 90% band of the runs (`band`:
  the band an outcome drawn like the runs falls in with that chance, from the runs' order statistics);
- **CRPS** (continuous ranked probability score, `scoringrules`), of the runs as a predictive distribution,
  divided by max(y, 1) so that it reads on the scale of the relative error (for a single-valued forecast it
  *is* the relative error): lower is better, and a band that is too narrow or too wide both cost;
- **horizon** h: the h-th held-out data point of its series (1 = the first after the cut); pooled over series.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BASELINES = ("naive", "drift", "seasonal")
SEASON = 365.25
SUBANNUAL = 120  # days: data points at most this far apart (median) make a series sub-annual
HORIZON_BINS = ((1, 1), (2, 2), (3, 3), (4, 6), (7, 12), (13, 10**9))


def relative_error(forecast: Any, data: Any) -> np.ndarray:
    """|forecast - data| / max(data, 1), elementwise."""
    f, y = np.asarray(forecast, float), np.asarray(data, float)
    return np.abs(f - y) / np.maximum(y, 1.0)


def baselines(t_train: Any, y_train: Any, t_test: Any, length_train: Any = None,
              length_test: Any = None) -> dict[str, np.ndarray]:
    """The baseline forecasts at days `t_test` from the data (t_train, y_train) dated up to the cut.

    `length_*`: days each value counts over (a flow's period; 1 for a stock). A value is turned into a rate per
    day for the forecast, then back into a count over the forecast period. Missing values are NaN."""
    t0, y0 = np.asarray(t_train, float), np.asarray(y_train, float)
    t1 = np.asarray(t_test, float)
    l0 = np.ones_like(t0) if length_train is None else np.asarray(length_train, float)
    l1 = np.ones_like(t1) if length_test is None else np.asarray(length_test, float)
    ok = ~np.isnan(y0)
    t0, y0, l0 = t0[ok], y0[ok] / np.maximum(l0[ok], 1.0), l0[ok]
    nan = np.full(t1.shape, math.nan)
    if not t0.size:
        return {name: nan.copy() for name in BASELINES}
    last = y0[-1]
    naive = np.full(t1.shape, last)
    slope = (y0[-1] - y0[0]) / (t0[-1] - t0[0]) if t0.size > 1 and t0[-1] > t0[0] else 0.0
    drift = np.maximum(last + slope * (t1 - t0[-1]), 0.0)
    out = {"naive": naive * l1, "drift": drift * l1, "seasonal": nan.copy()}
    seasonal = seasonal_naive(t0, y0, t1)
    if seasonal is not None:
        out["seasonal"] = seasonal * l1
    return out


def seasonal_naive(t0: np.ndarray, y0: np.ndarray, t1: np.ndarray) -> np.ndarray | None:
    """The training value a whole number of years before each of `t1`, or None for a series that is not
    sub-annual (see the module docstring)."""
    if t0.size < 3:
        return None
    step = float(np.median(np.diff(t0)))
    if not 0 < step <= SUBANNUAL or t0[-1] - t0[0] < SEASON:
        return None
    out = np.full(t1.shape, math.nan)
    for i, t in enumerate(t1):
        k = max(math.ceil((t - t0[-1]) / SEASON), 1)
        target = t - k * SEASON
        j = int(np.argmin(np.abs(t0 - target)))
        if abs(t0[j] - target) <= max(step / 4, 3.0):
            out[i] = y0[j]
    return out


def crps(data: Any, runs: Any) -> np.ndarray:
    """CRPS of each column of `runs` (runs, points) as an ensemble forecast of `data` (points), divided by
    max(data, 1). Runs with NaN are left out of their column; a column with no run gives NaN."""
    import scoringrules as sr

    y = np.asarray(data, float)
    ens = np.atleast_2d(np.asarray(runs, float))
    out = np.full(y.shape, math.nan)
    for j in range(y.size):
        col = ens[:, j]
        col = col[~np.isnan(col)]
        if col.size and not math.isnan(y[j]):
            out[j] = float(sr.crps_ensemble(y[j], col)) / max(y[j], 1.0)
    return out


def band(runs: Any, level: float, axis: int | None = None) -> Any:
    """(low, high): the central `level` band of an ensemble of n runs (NaN left out), as a prediction interval:
    an outcome drawn like the runs is below the k-th smallest of them with chance k / (n + 1), so the band's
    ends are the order statistics at ranks q (n + 1), interpolated (NumPy's `weibull` quantiles; the ends are the
    smallest and largest run when n + 1 < 1 / q). The sample quantiles of the runs (NumPy's default) would
    hold less than `level` of such outcomes: 85% for a 90% band of 30 runs, 88% of 100."""
    q = (1 - level) / 2
    return np.nanquantile(np.asarray(runs, float), [q, 1 - q], axis=axis, method="weibull")


def inside(data: Any, runs: Any, level: float) -> np.ndarray:
    """Whether each data point is inside the central `level` band of its column of runs (`band`)."""
    y = np.asarray(data, float)
    ens = np.atleast_2d(np.asarray(runs, float))
    lo, hi = band(ens, level, axis=0)
    return (y >= lo - 1e-9) & (y <= hi + 1e-9)


def horizon_label(h: int) -> str:
    """The horizon bin a step belongs to: "1", "2", "3", "4-6", "7-12" or "13+"."""
    for a, b in HORIZON_BINS:
        if a <= h <= b:
            return str(a) if a == b else (f"{a}-{b}" if b < 10**9 else f"{a}+")
    return str(h)


def _mean(x: np.ndarray) -> float | None:
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b > 0:
        return None
    return a / b


def score(data: Any, runs: Any, horizon: Any, base: dict[str, Any]) -> dict:
    """The scores of a forecast on held-out points: ARD of the median, CRPS, coverage 50% and 90%, and for
    each baseline its ARD and the model's skill against it, overall and by horizon (see the module docstring).

    data: (points,); runs: (runs, points); horizon: (points,) steps after the cut; base: {name: (points,)}."""
    y = np.asarray(data, float)
    if not y.size:
        return {"points": 0, "ard_median": None, "crps": None, "coverage50": None, "coverage90": None,
                "baselines": {}, "by_horizon": []}
    ens = np.atleast_2d(np.asarray(runs, float)).reshape(-1, y.size)
    h = np.asarray(horizon, int)
    med = np.nanmedian(ens, axis=0)
    err = relative_error(med, y)
    rel_crps = crps(y, ens)
    in50, in90 = inside(y, ens, 0.5), inside(y, ens, 0.9)
    errs = {name: relative_error(v, y) for name, v in base.items()}

    def block(sel: np.ndarray) -> dict:
        out = {"points": int(sel.sum()), "ard_median": _mean(err[sel]), "crps": _mean(rel_crps[sel]),
               "coverage50": _mean(in50[sel]), "coverage90": _mean(in90[sel]), "baselines": {}}
        for name, e in errs.items():
            same = sel & ~np.isnan(e)  # the points this baseline has a value at: both scored on those alone
            b = _mean(e[same])
            if b is not None:
                model, model_crps = _mean(err[same]), _mean(rel_crps[same])
                out["baselines"][name] = {"points": int(same.sum()), "ard": b, "model_ard": model,
                                          "skill": _ratio(model, b), "crps_skill": _ratio(model_crps, b)}
        return out

    overall = block(np.ones(y.size, bool))
    labels = [horizon_label(int(x)) for x in h]
    overall["by_horizon"] = [{"horizon": lab, **block(np.array([x == lab for x in labels], bool))}
                             for lab in dict.fromkeys(horizon_label(x) for x in sorted(set(h.tolist())))]
    return overall


def pool(blocks: list[dict]) -> dict:
    """Scores of several backtests (each from `score`) pooled over their held-out points: each mean weighted by
    its points, skill recomputed from the pooled ARDs; by horizon likewise."""
    def merge(bs: list[dict]) -> dict:
        n = sum(b["points"] for b in bs)

        def wmean(key: str) -> float | None:
            pairs = [(b[key], b["points"]) for b in bs]
            pairs = [(v, w) for v, w in pairs if v is not None and w]
            return sum(v * w for v, w in pairs) / sum(w for _, w in pairs) if pairs else None

        out = {"points": n, **{k: wmean(k) for k in ("ard_median", "crps", "coverage50", "coverage90")},
               "baselines": {}}
        for name in BASELINES:
            have = [x["baselines"][name] for x in bs if name in x["baselines"] and x["baselines"][name]["points"]]
            m = sum(x["points"] for x in have)
            if m:
                b = sum(x["ard"] * x["points"] for x in have) / m
                model = sum(x["model_ard"] * x["points"] for x in have) / m
                out["baselines"][name] = {"points": m, "ard": b, "model_ard": model, "skill": _ratio(model, b)}
        return out

    out = merge(blocks)
    labels = dict.fromkeys(x["horizon"] for b in blocks for x in b.get("by_horizon", []))
    out["by_horizon"] = [{"horizon": lab, **merge([x for b in blocks for x in b.get("by_horizon", [])
                                                   if x["horizon"] == lab])} for lab in labels]
    out["by_horizon"].sort(key=lambda x: int(x["horizon"].split("-")[0].rstrip("+")))
    return out


def verdict(s: dict, reference: str = "") -> str:
    """One sentence a reader can act on, from `score` or `pool`: against the naive forecast by horizon and
    overall, and how often the 90% band held. `reference`: a clause naming another tool's error, appended."""
    if not s.get("points"):
        return "no held-out data point after the cut: nothing to judge the forecast by"
    parts = []
    naive = s["baselines"].get("naive")
    hz = [x for x in s.get("by_horizon", []) if x["baselines"].get("naive", {}).get("skill") is not None]
    if naive and naive["skill"] is not None:
        wins = sum(x["baselines"]["naive"]["skill"] < 1 for x in hz)
        word = "beats" if naive["skill"] < 1 else "does not beat"
        on = "" if naive["points"] == s["points"] else f" on the {naive['points']} points it has a value at"
        parts.append(f"{word} the naive forecast overall (ARD of the median {naive['model_ard']:.3f} against "
                     f"{naive['ard']:.3f}{on}, skill {naive['skill']:.2f}) and on {wins} of {len(hz)} horizons")
    cov = s.get("coverage90")
    if cov is not None:
        note = "" if 0.8 <= cov <= 0.97 else (" — too narrow: treat the band as optimistic" if cov < 0.8 else
                                              " — wider than it needs to be")
        parts.append(f"90% band held {cov:.0%} of {s['points']} held-out points{note}")
    if reference:
        parts.append(reference)
    return "; ".join(parts) + "."
