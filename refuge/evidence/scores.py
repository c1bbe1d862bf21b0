"""How probable an observation is under the model: a score beside "holds / does not hold".

A news report's exact count of one incident ("five tried to get in on Wednesday") cannot come
out right in most runs of a stochastic model, whatever its rates: if groups arrive at random,
one group on a given day happens with probability at most 1/e. Calling such a fact a failure
because it misses in the median run blames the model for chance.

The score of a fact is the share of runs in which its bound holds (the model's probability of the
observation, estimated from the ensemble), divided by the best share that *any* rate could reach
for that observation, capped at 1:

    score = min(1, share_holding / best_share)

`best_share` treats a counted measure (people moved, arriving, or present) as compound Poisson:
a Poisson number of groups whose sizes follow the measured transitions' group-size distribution
(single people where there is none), and takes the highest probability of the bound over the
Poisson mean. Exactly k single people: best_share = P(Poisson(k) = k), 0.37 for k = 1, 0.22 for
k = 3. One group of exactly 25: 1/e. A one-sided bound (at least, at most, ...) or a measure
that is not a count (a share, a mean stay, a closure) can hold in every run: best_share = 1 and
the score is the share of runs holding.

A score of 1 means the model reproduces the observation as often as a model of its kind can;
a score near 0, that the model makes it improbable. The score is a diagnostic, not a p-value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

COUNT_KINDS = ("flow", "arrivals", "stock")
TWO_SIDED = ("exact", "about", "range")


def count_range(fact: dict) -> tuple[int, int] | None:
    """The whole counts a two-sided bound on a count allows, or None when the bound is one-sided."""
    b = fact["bound"]
    if b not in TWO_SIDED:
        return None
    if b == "exact":
        v = fact["value"]
        return (int(v), int(v)) if float(v).is_integer() and v >= 0 else (1, 0)  # a fractional count: empty
    if b == "about":
        v, tol = fact["value"], fact["tolerance"]
        lo, hi = v - tol * abs(v) - 1e-9, v + tol * abs(v) + 1e-9
    else:
        lo, hi = fact["low"], fact["high"]
    return max(math.ceil(lo), 0), math.floor(hi)


def compound_poisson_pmf(lam: float, size_pmf: np.ndarray, kmax: int) -> np.ndarray:
    """P(S = k) for k = 0..kmax, S the total of Poisson(lam) groups with sizes drawn from `size_pmf`
    (`size_pmf[n]` = P(size = n), size_pmf[0] = 0). Panjer's recursion."""
    f = np.zeros(kmax + 1)
    m = min(len(size_pmf), kmax + 1)
    f[:m] = size_pmf[:m]
    jf = np.arange(kmax + 1) * f  # j * f[j], the products the sum below takes term by term, made once
    p = np.zeros(kmax + 1)
    p[0] = math.exp(-lam)
    for k in range(1, kmax + 1):  # slices, not index arrays: the same terms in the same order, half the time
        p[k] = lam / k * float(np.sum(jf[1:k + 1] * p[k - 1::-1]))
    return p


EXACT_UP_TO = 400  # counts above this use a normal approximation of the compound Poisson


def best_share(lo: int, hi: int, size_pmf: np.ndarray | None = None) -> float:
    """The highest probability that a compound Poisson count falls in [lo, hi], over its Poisson mean."""
    if hi < lo:
        return 0.0
    if lo == 0:
        return 1.0  # no group at all is as likely as you like
    size_pmf = np.array([0.0, 1.0]) if size_pmf is None else np.asarray(size_pmf, float)
    sizes = np.arange(len(size_pmf))
    m1, m2 = float(np.sum(sizes * size_pmf)), float(np.sum(sizes**2 * size_pmf))

    if hi <= EXACT_UP_TO:
        def prob(lam: float) -> float:
            return float(compound_poisson_pmf(lam, size_pmf, hi)[lo:hi + 1].sum())
    else:
        from scipy.special import ndtr  # the normal CDF (scipy.stats.norm.cdf), without importing scipy.stats

        def prob(lam: float) -> float:  # mean lam E[size], variance lam E[size^2]
            mu, sd = lam * m1, math.sqrt(lam * m2)
            return float(ndtr((hi + 0.5 - mu) / sd) - ndtr((lo - 0.5 - mu) / sd))

    # the best mean number of groups lies between "one group" and "enough groups to reach hi"
    grid = np.geomspace(1e-3, max(2.0 * hi / max(m1, 1e-9), 2.0), 120)
    values = [prob(x) for x in grid]
    i = int(np.argmax(values))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    for _ in range(40):  # golden-section refinement around the best grid point
        c, d = b - (b - a) / 1.618, a + (b - a) / 1.618
        if prob(c) >= prob(d):
            b = d
        else:
            a = c
    return min(max(max(values), prob((a + b) / 2)), 1.0)


def group_size_pmf(model: Any, fact: dict) -> np.ndarray | None:
    """P(size = n) of the groups a counted fact measures, at the parameter values of the fact's first day;
    None (single people) when the measured transitions or streams have no group size or differ in it."""
    from refuge.model.compiler import A_GRP, A_GRP_A, A_GRP_B, A_GRP_EMP, T_GRP, T_GRP_A, T_GRP_B, T_GRP_EMP

    if fact["kind"] == "flow":
        rows = [tuple(model.trans[model.edge_trans[e], [T_GRP, T_GRP_A, T_GRP_B, T_GRP_EMP]])
                for e in fact["edges"]]
    elif fact["kind"] == "arrivals":
        rows = [tuple(model.arr[a, [A_GRP, A_GRP_A, A_GRP_B, A_GRP_EMP]]) for a in fact["arrivals"]]
    else:
        return None
    if not rows or len(set(rows)) != 1 or rows[0][0] < 0:
        return None
    day = fact["days"][0] if "days" in fact else fact["day"]
    pv = model.pbase[min(max(day, 0), model.days - 1)]
    code, a, b, emp = (int(x) for x in rows[0])
    return _size_pmf(model, code, float(pv[a]), float(pv[b]), emp)


def _size_pmf(model, code: int, a: float, b: float, emp: int, nmax: int = 400) -> np.ndarray:
    """Group sizes as the engine draws them: continuous draws rounded up, at least 1."""
    from scipy import special  # the three CDFs as scipy.stats computes them, without importing scipy.stats (0.5 s)

    from refuge.model.compiler import EMPIRICAL, EXPONENTIAL, FIXED, GAMMA

    if code == FIXED:
        n = max(int(round(a)), 1)
        out = np.zeros(n + 1)
        out[n] = 1.0
        return out
    if code == EMPIRICAL:
        lo, hi = model.emp_ptr[emp], model.emp_ptr[emp + 1]
        values = np.maximum(model.emp_values[lo:hi], 1)
        cdf = model.emp_cdf[lo:hi]
        w = np.diff(np.concatenate([[0.0], cdf]))
        out = np.zeros(int(values.max()) + 1)
        np.add.at(out, values, w)
        return out / out.sum()
    x = np.arange(1, nmax + 1, dtype=np.float64)  # the CDF is 0 at 0 for all three
    if code == EXPONENTIAL:
        inner = -special.expm1(-(x / a))  # expon(scale=a).cdf
    elif code == GAMMA:
        scale = b * b / a
        inner = special.gammainc((a / b) ** 2, x / scale)  # gamma((a/b)^2, scale=b^2/a).cdf
    else:
        if not b > 0:
            return _size_pmf(model, FIXED, math.ceil(a), 0.0, -1)
        inner = special.ndtr(np.log(x / a) / b)  # lognorm(b, scale=a).cdf
    cdf = np.concatenate([[0.0], inner])  # ceil(X) = n  <=>  n-1 < X <= n
    out = np.diff(np.concatenate([[0.0], cdf]))
    out[1] += out[0]  # sizes round up to at least 1
    out[0] = 0.0
    return out / out.sum()


_REFERENCE: dict[tuple, float] = {}  # (model digest, fact id) -> best share: a check asks several times


def reference_share(model: Any, fact: dict) -> float:
    """The best share of runs any rate could give this fact's bound (1 unless it is a two-sided bound on a count)."""
    if fact["kind"] not in COUNT_KINDS:
        return 1.0
    rng = count_range(fact)
    if rng is None:
        return 1.0
    key = (model.digest, fact["id"], rng)
    if key not in _REFERENCE:
        if len(_REFERENCE) > 10000:
            _REFERENCE.clear()
        _REFERENCE[key] = best_share(rng[0], rng[1], group_size_pmf(model, fact))
    return _REFERENCE[key]


def score(share_holding: float, reference: float) -> float:
    """share / best reachable share, capped at 1 (NaN when nothing could reach the bound)."""
    if reference <= 0:
        return math.nan
    return min(share_holding / reference, 1.0)
