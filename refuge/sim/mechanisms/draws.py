"""Draws every mechanism shares: whole numbers from a distribution, a split's probabilities, multinomial
counts, one pick by probability. Each takes the row `d` of the decision that draws: its numbers come from that
decision's stream today (`refuge.sim.streams`), by the exact methods of `refuge.sim.variates`."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from refuge.model.codes import EMPIRICAL, EXPONENTIAL, FIXED, GAMMA, LOGNORMAL
from refuge.sim.streams import uniform
from refuge.sim.variates import binomial, exponential, gamma, normal


@njit(cache=True)
def draw(m, w, d, code, a, b, emp):
    """Whole days (or people) from a distribution with parameter values `a`, `b`. A continuous draw `x` is
    rounded down or up at random, up with probability of its fraction, so the mean is kept."""
    if code == FIXED:
        return max(np.int64(round(a)), 0)
    if code == EXPONENTIAL:
        return whole(m, w, d, exponential(m, w, d, a))
    if code == GAMMA:
        shape = (a / b) ** 2
        return whole(m, w, d, gamma(m, w, d, shape, b * b / a))
    if code == LOGNORMAL:
        return whole(m, w, d, a * math.exp(b * normal(m, w, d)))
    if code == EMPIRICAL:
        u = uniform(m, w, d)
        lo, hi = m.emp_ptr[emp], m.emp_ptr[emp + 1]
        for k in range(lo, hi):
            if u < m.emp_cdf[k]:
                return m.emp_values[k]
        return m.emp_values[hi - 1]
    return np.int64(0)


@njit(cache=True)
def whole(m, w, d, x):
    """`x` (>= 0) to a whole number without bias: floor(x + U), U uniform, is floor(x) + 1 with probability
    x - floor(x)."""
    return np.int64(math.floor(x + uniform(m, w, d)))


@njit(cache=True)
def split_probs(m, w, j):
    """Probabilities of transition `j`'s targets into `w.probs`; `rest` takes what the others leave."""
    lo, hi = m.tr_edge_lo[j], m.tr_edge_hi[j]
    out = w.probs
    total = 0.0
    rest = -1
    for e in range(lo, hi):
        if m.edge_p[e] < 0:
            rest = e
            out[e - lo] = 0.0
        else:
            q = min(max(w.pv[m.edge_p[e]], 0.0), 1.0)
            out[e - lo] = q
            total += q
    if rest >= 0:
        out[rest - lo] = max(1.0 - total, 0.0)
        total = max(total, 1.0)
    if total <= 0.0:
        out[0] = 1.0
        total = 1.0
    for k in range(hi - lo):
        out[k] /= total


@njit(cache=True)
def multinomial(m, w, d, n, weights, size, total, out):
    """Split `n` among the first `size` categories in proportion to `weights` (summing to `total`) by
    successive binomials."""
    k_last = size - 1
    for k in range(k_last + 1):
        out[k] = 0
    rem_w = total
    for k in range(k_last + 1):
        if n <= 0:
            break
        wk = weights[k]
        got = n if k == k_last or rem_w <= wk else binomial(m, w, d, n, min(wk / rem_w, 1.0))
        out[k] = got
        n -= got
        rem_w -= wk


@njit(cache=True)
def pick(m, w, d, probs, n):
    """An index below `n` drawn with the given probabilities."""
    if n == 1:
        return 0
    u = uniform(m, w, d)
    acc = 0.0
    for k in range(n):
        acc += probs[k]
        if u < acc:
            return k
    return n - 1
