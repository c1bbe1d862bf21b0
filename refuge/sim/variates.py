"""Exact draws from the uniforms of one decision's stream (`refuge.sim.streams.uniform`): binomial, Poisson,
normal, exponential and gamma variates for the fast engine's steps.

Each takes the model's and the run's arrays (`m`, `w`) and the row `d` of the decision that draws; every
number it uses comes from that decision's stream today, so a draw never moves another decision's numbers.
The methods are exact (no normal approximation), and each is the textbook one, written here in our own words:

- binomial: inversion (walk up the probabilities from 0) while n x min(p, 1-p) < 10; above, Hormann's
  transformed rejection with decomposition, BTRD (W. Hormann, "The generation of binomial random variates",
  J. Statist. Comput. Simul. 46, 1993), whose acceptance test evaluates the ratio of the probabilities of
  k and of the mode exactly (a product when they are close, Stirling's series with its correction terms
  otherwise);
- Poisson: inversion below a mean of 10; above, Hormann's PTRS, transformed rejection with squeeze
  (W. Hormann, "The transformed rejection method for generating Poisson random variables", Insurance:
  Mathematics and Economics 12, 1993);
- normal: Box and Muller's transform of two uniforms (one of the pair is used);
- exponential: inversion, -log(U);
- gamma: Marsaglia and Tsang's squeeze and rejection on a cubed normal ("A simple method for generating
  gamma variables", ACM TOMS 26, 2000); a shape below 1 is boosted by one and scaled by U^(1/shape).

`tests/test_streams.py` checks them against the exact distributions (moments, chi-square).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from refuge.sim.streams import uniform

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@njit(cache=True)
def binomial(m, w, d, n, p):
    """Binomial(n, p) people (exact)."""
    if n <= 0 or p <= 0.0:
        return np.int64(0)
    if p >= 1.0:
        return np.int64(n)
    if p > 0.5:
        return n - _binomial_low(m, w, d, n, 1.0 - p)
    return _binomial_low(m, w, d, n, p)


@njit(cache=True)
def _binomial_low(m, w, d, n, p):
    """Binomial(n, p) for p <= 1/2."""
    if n * p < 10.0:
        return _binomial_inversion(m, w, d, n, p)
    return _btrd(m, w, d, n, p)


@njit(cache=True)
def _binomial_inversion(m, w, d, n, p):
    """Walk up from k = 0, each probability from the one before (q^n, then x (n-k+1)/k x p/q), until the
    uniform is used up; started again with a fresh uniform if rounding runs past n."""
    q = 1.0 - p
    s = p / q
    a = (n + 1) * s
    first = math.exp(n * math.log1p(-p))
    while True:
        u = uniform(m, w, d)
        r = first
        k = 0
        while u > r:
            u -= r
            k += 1
            if k > n:
                break
            r *= a / k - s
        if k <= n:
            return np.int64(k)


@njit(cache=True)
def _stirling_tail(k):
    """log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(sqrt(2 pi))]: the error of Stirling's formula."""
    if k < 10:
        return math.lgamma(k + 1.0) - (k + 0.5) * math.log(k + 1.0) + (k + 1.0) - _LOG_SQRT_2PI
    r = 1.0 / (k + 1.0)
    r2 = r * r
    return (1.0 / 12.0 - (1.0 / 360.0 - r2 / 1260.0) * r2) * r


@njit(cache=True)
def _btrd(m, w, d, n, p):
    """BTRD for n p >= 10, p <= 1/2: a candidate k from a transformed uniform (accepted at once inside the
    table mountain's centre), otherwise accepted when a second uniform falls under the ratio of the
    probability of k to that of the mode."""
    q = 1.0 - p
    mode = np.int64((n + 1) * p)
    npq = n * p * q
    spq = math.sqrt(npq)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    alpha = (2.83 + 5.1 / b) * spq
    vr = 0.92 - 4.2 / b
    urvr = 0.86 * vr
    r = p / q
    nr = (n + 1) * r
    while True:
        v = uniform(m, w, d)
        if v <= urvr:  # the centre: accepted at once
            u = v / vr - 0.43
            return np.int64(math.floor((2.0 * a / (0.5 - abs(u)) + b) * u + c))
        if v >= vr:
            u = uniform(m, w, d) - 0.5
        else:
            u = v / vr - 0.93
            u = math.copysign(0.5, u) - u
            v = uniform(m, w, d) * vr
        us = 0.5 - abs(u)
        k = np.int64(math.floor((2.0 * a / us + b) * u + c))
        if k < 0 or k > n:
            continue
        v = v * alpha / (a / (us * us) + b)
        km = abs(k - mode)
        if km <= 15:  # the ratio f(k)/f(mode) as a product
            f = 1.0
            if mode < k:
                for i in range(mode + 1, k + 1):
                    f *= nr / i - r
            elif mode > k:
                for i in range(k + 1, mode + 1):
                    v *= nr / i - r
            if v <= f:
                return k
            continue
        v = math.log(v)  # squeezes around the normal shape, then the exact log ratio
        rho = (km / npq) * (((km / 3.0 + 0.625) * km + 1.0 / 6.0) / npq + 0.5)
        tt = -km * km / (2.0 * npq)
        if v < tt - rho:
            return k
        if v > tt + rho:
            continue
        nm = n - mode + 1
        h = (mode + 0.5) * math.log((mode + 1) / (r * nm)) + _stirling_tail(mode) + _stirling_tail(n - mode)
        nk = n - k + 1
        if v <= h + (n + 1) * math.log(nm / nk) + (k + 0.5) * math.log(nk * r / (k + 1)) \
                - _stirling_tail(k) - _stirling_tail(n - k):
            return k


@njit(cache=True)
def poisson(m, w, d, lam):
    """Poisson(lam) (exact): inversion below a mean of 10, PTRS above."""
    if lam <= 0.0:
        return np.int64(0)
    if lam < 10.0:
        u = uniform(m, w, d)
        pk = math.exp(-lam)
        k = 0
        while u > pk and k < 1000:  # (the tail past 1,000 has probability below 1e-300 at a mean under 10)
            u -= pk
            k += 1
            pk *= lam / k
        return np.int64(k)
    return _ptrs(m, w, d, lam)


@njit(cache=True)
def _ptrs(m, w, d, lam):
    """PTRS for lam >= 10: a candidate from a transformed uniform, accepted in a squeeze or when a second
    uniform falls under the exact probability ratio."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = uniform(m, w, d) - 0.5
        v = uniform(m, w, d)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return np.int64(k)
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= -lam + k * loglam - math.lgamma(k + 1.0):
            return np.int64(k)


@njit(cache=True)
def normal(m, w, d):
    """A standard normal (Box-Muller)."""
    u1 = uniform(m, w, d)
    u2 = uniform(m, w, d)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True)
def exponential(m, w, d, mean):
    """An exponential of the given mean (inversion)."""
    return -mean * math.log(uniform(m, w, d))


@njit(cache=True)
def gamma(m, w, d, shape, scale):
    """A gamma of the given shape and scale (Marsaglia-Tsang)."""
    if shape <= 0.0 or scale <= 0.0:
        return 0.0
    boost = 1.0
    if shape < 1.0:
        boost = uniform(m, w, d) ** (1.0 / shape)
        shape += 1.0
    dd = shape - 1.0 / 3.0
    cc = 1.0 / math.sqrt(9.0 * dd)
    while True:
        x = normal(m, w, d)
        v = 1.0 + cc * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = uniform(m, w, d)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + dd * (1.0 - v + math.log(v)):
            return dd * v * scale * boost
