"""The counter-based streams (refuge.sim.streams) and the exact draws built on them (refuge.sim.variates): the
Numba generator and its plain-Python twin give the same numbers; a decision's numbers depend on the seed, its
name and the day only; binomial, Poisson, gamma and normal draws follow their distributions (moments and
chi-square or Kolmogorov-Smirnov tests at fixed seeds, each drawn one a day as the engine draws them)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from numba import njit
from scipy import stats

from refuge.sim.streams import Streams, name_key, seed_key, start_streams, uniform
from refuge.sim.variates import binomial, gamma, normal, poisson

M = namedtuple("M", "stream_base")
W = namedtuple("W", "rng_seed rng_key rng_ctr")
NAMES = ("transition:apply/leave", "transition:apply/split", "arrival:boats/count")


def _world(seed: int, names=NAMES):
    base = np.array([name_key(n) for n in names], np.uint64)
    w = W(np.array([seed_key(seed), 0], np.uint64), np.zeros(len(names), np.uint64), np.zeros(len(names), np.int64))
    return M(base), w, base


@njit(cache=True)
def _uniforms(m, w, t, d, n):
    start_streams(t, w)
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(m, w, d)
    return out


@njit(cache=True)
def _daily(m, w, kind, a, b, days):
    """One draw a day from decision 0: kind 0 binomial(a, b), 1 Poisson(a), 2 gamma(a, b), 3 normal."""
    out = np.empty(days)
    for t in range(days):
        start_streams(t, w)
        if kind == 0:
            out[t] = binomial(m, w, 0, np.int64(a), b)
        elif kind == 1:
            out[t] = poisson(m, w, 0, a)
        elif kind == 2:
            out[t] = gamma(m, w, 0, a, b)
        else:
            out[t] = normal(m, w, 0)
    return out


def test_the_numba_generator_and_its_python_twin_give_the_same_numbers():
    m, w, base = _world(7)
    twin = Streams(base, seed_key(7))
    for t in (-1, 0, 1, 365, 10_000):
        for d in range(len(NAMES)):
            fast = _uniforms(m, w, t, d, 50)
            twin.day(t)
            one_by_one = [twin.uniform(d) for _ in range(20)]
            assert fast[:20].tolist() == one_by_one  # bit for bit
            assert np.array_equal(twin.uniforms(d, 30), fast[20:])  # the vectorised twin goes on from there
            assert 0.0 < fast.min() and fast.max() < 1.0


def test_a_decision_s_numbers_depend_on_seed_name_and_day_only():
    m, w, base = _world(3)
    first = _uniforms(m, w, 5, 1, 10)
    _uniforms(m, w, 5, 0, 1000)  # another decision draws a lot the same day
    assert np.array_equal(_uniforms(m, w, 5, 1, 10), first)
    # the same name at another row (decisions reordered or added) draws the same numbers
    m2, w2, _ = _world(3, names=("state:new", *NAMES))
    assert np.array_equal(_uniforms(m2, w2, 5, 2, 10), first)
    assert not np.array_equal(_uniforms(m, w, 6, 1, 10), first)  # another day
    assert not np.array_equal(_uniforms(m, w, 5, 2, 10), first)  # another decision
    m3, w3, _ = _world(4)
    assert not np.array_equal(_uniforms(m3, w3, 5, 1, 10), first)  # another seed


def test_uniforms_are_uniform_and_uncorrelated():
    m, w, _ = _world(11)
    u = np.concatenate([_uniforms(m, w, t, t % 3, 200) for t in range(100)])
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.03
    # the first number of each day of one decision (how the engine mostly draws) is uniform too
    firsts = np.array([_uniforms(m, w, t, 0, 1)[0] for t in range(5000)])
    assert stats.kstest(firsts, "uniform").pvalue > 1e-3


def _chi_square(draws: np.ndarray, pmf) -> float:
    """p-value of a chi-square test of whole-number draws against `pmf`, cells pooled to >= 5 expected."""
    n, hi = len(draws), int(draws.max())
    probs = pmf(np.arange(hi + 1))
    probs[-1] += max(1.0 - probs.sum(), 0.0)  # the upper tail into the last cell
    observed = np.bincount(draws.astype(np.int64), minlength=hi + 1)
    obs, exp, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(observed, probs * n):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            obs.append(acc_o)
            exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    exp = np.array(exp) * n / sum(exp)
    return stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("n, p", [(5, 0.3), (40, 0.2), (30, 0.9), (100, 0.3), (1000, 0.7), (2_000_000, 0.02),
                                  (60, 0.5), (20, 0.5)])
def test_binomial_draws_follow_the_binomial(n, p):
    m, w, _ = _world(n)
    x = _daily(m, w, 0, n, p, 20_000)
    assert x.min() >= 0 and x.max() <= n
    mean, var = n * p, n * p * (1 - p)
    assert abs(x.mean() - mean) < 4.5 * np.sqrt(var / len(x))
    assert abs(x.var() / var - 1) < 0.06
    assert _chi_square(x, lambda k: stats.binom.pmf(k, n, p)) > 1e-3


@pytest.mark.parametrize("lam", [0.4, 6.0, 30.0, 5000.0])
def test_poisson_draws_follow_the_poisson(lam):
    m, w, _ = _world(int(lam * 10))
    x = _daily(m, w, 1, lam, 0.0, 20_000)
    assert abs(x.mean() - lam) < 4.5 * np.sqrt(lam / len(x))
    assert abs(x.var() / lam - 1) < 0.06
    assert _chi_square(x, lambda k: stats.poisson.pmf(k, lam)) > 1e-3


@pytest.mark.parametrize("shape, scale", [(0.4, 2.0), (1.0, 1.0), (6.25, 4.0)])
def test_gamma_and_normal_draws_follow_their_distributions(shape, scale):
    m, w, _ = _world(int(shape * 100))
    x = _daily(m, w, 2, shape, scale, 20_000)
    assert stats.kstest(x, stats.gamma(shape, scale=scale).cdf).pvalue > 1e-3
    z = _daily(m, w, 3, 0.0, 0.0, 20_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_degenerate_parameters():
    m, w, _ = _world(1)
    assert _daily(m, w, 0, 0, 0.5, 3).tolist() == [0, 0, 0]
    assert _daily(m, w, 0, 9, 0.0, 3).tolist() == [0, 0, 0]
    assert _daily(m, w, 0, 9, 1.0, 3).tolist() == [9, 9, 9]
    assert _daily(m, w, 1, 0.0, 0.0, 3).tolist() == [0, 0, 0]


@njit(cache=True)
def _one(m, w, kind, a, b):
    start_streams(0, w)
    if kind == 0:
        return float(binomial(m, w, 0, np.int64(a), b))
    return float(poisson(m, w, 0, a))


def test_draws_stay_in_range_for_any_parameters():
    """Whatever the counts and chances a run reaches (up to 2^53 people, chances down to 1e-300), a draw ends,
    and stays between 0 and n (Poisson: finite, near its mean when the mean is huge)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    m, w, _ = _world(5)

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.integers(0, 2**53), st.one_of(st.floats(0.0, 1.0), st.sampled_from([1e-300, 1e-12, 0.5, 1 - 1e-12])))
    def binomial_in_range(n, p):
        x = _one(m, w, 0, float(n), p)
        assert 0 <= x <= n

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(st.one_of(st.floats(0.0, 1e15), st.sampled_from([0.0, 1e-300, 9.999999, 10.0, 1e15])))
    def poisson_in_range(lam):
        x = _one(m, w, 1, lam, 0.0)
        assert 0 <= x < np.inf and (lam < 1e6 or abs(x - lam) < 10 * np.sqrt(lam))

    binomial_in_range()
    poisson_in_range()


def test_keyed_normals_of_a_drift_are_normal_and_keyed_by_seed_and_name():
    from refuge.sim.streams import keyed_normals

    z = keyed_normals(3, "drift:arrival_rate", 20_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert np.array_equal(keyed_normals(3, "drift:arrival_rate", 10), z[:10])  # a shorter walk: the same start
    assert not np.array_equal(keyed_normals(4, "drift:arrival_rate", 10), z[:10])
    assert not np.array_equal(keyed_normals(3, "drift:capacity", 10), z[:10])
    assert len(keyed_normals(3, "drift:x", 0)) == 0
