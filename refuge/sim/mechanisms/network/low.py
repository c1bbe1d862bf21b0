"""Small pieces of the network's step, inlined where they are used: compiler hints, Flee's capacity taper,
geometric waits, the network's own uniform generator."""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def nonneg(typingctx, x):
    """`x`, an integer the caller knows is not negative, with the compiler told so (LLVM's assume): an array
    indexed by it then needs no check for a negative index (Numba wraps every signed index around, a compare,
    a select and the array's length at each access, which in the step's loops took a fifth of its time)."""
    def codegen(context, builder, sig, args):
        v = args[0]
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(1)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.assume")
        builder.call(fn, [builder.icmp_signed(">=", v, ir.Constant(v.type, 0))])
        return v

    return x(x), codegen


@intrinsic
def prefetch(typingctx, arr, i):
    """Ask the processor to bring row `i` of a one-dimensional array into the cache (LLVM's prefetch: a hint,
    no effect on any result). The next person of a day's list is fetched while this one is handled."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, ir.IntType(8).as_pointer()), ir.Constant(i32, 1), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])  # for writing, keep in all cache levels, data
        return context.get_dummy_value()

    return types.none(arr, i), codegen


# --- small pieces, inlined where they are used --------------------------------------------------------------
# The step reads the spec and the world through `borrowed` tuples (refuge.sim.borrow): arrays and the random
# stream handed to an inlined helper then cost no reference counting, which in this loop would cost a third.


@njit(cache=True)
def decay_factor(days_since, decay, interval):
    i = int(days_since / interval) if days_since >= 0 else 0
    return decay[min(i, decay.size - 1)]


@njit(cache=True)
def taper(people, capacity, buffer, scaling):
    """Flee's capacity multiplier: 1 below buffer x room, 0 at the room, linear in between (no room: 1)."""
    cap = capacity * scaling
    if cap < 1.0:
        return 1.0
    if people <= buffer * cap:
        return 1.0
    if people >= cap:
        return 0.0
    return 1.0 - (people - buffer * cap) / (cap * (1.0 - buffer))


@njit(cache=True)
def taper_w(people, capacity, buffer, scaling, power):
    f = taper(people, capacity, buffer, scaling)
    if power == 1.0 or f == 1.0:
        return f
    return f ** power


@njit(cache=True)
def geometric0(u, p):
    """Failures before the first success of daily trials with chance p, from a uniform u (huge when p is 0)."""
    if p >= 1.0:
        return 0
    if p <= 0.0:
        return 1 << 40
    q = 1.0 - p
    if p >= 0.2:  # a few comparisons beat a logarithm: P(k or more) = q ** k
        k = 0
        thr = q
        while u < thr:
            k += 1
            thr *= q
        return k
    lq = math.log(q)
    if lq == 0.0:  # p under half a unit in the last place of 1: q rounds to 1, its logarithm to 0
        lq = math.log1p(-p)
    y = math.log(1.0 - u) / lq  # compared as a float first: Numba's floor is an int64, which a huge y overflows
    return int(math.floor(y)) if y < 1 << 40 else 1 << 40  # (a day far past any run, never an integer overflow)


@njit(inline="always")
def uniform(st):
    """A uniform number in [0, 1) from the network's own xoshiro256+ generator (state `st`, four words),
    inlined where it is drawn: a quarter of the cost of a NumPy Generator's draw, which Numba cannot inline."""
    s0, s1, s2, s3 = st[0], st[1], st[2], st[3]
    out = s0 + s3
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << np.uint64(45)) | (s3 >> np.uint64(19))
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return (out >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def seed_uniforms(g):
    """xoshiro256+'s state from the network's NumPy stream (splitmix64 of four of its draws, never all zero)."""
    st = np.zeros(4, np.uint64)
    for i in range(4):
        z = np.uint64(g.integers(0, 1 << 62)) + np.uint64(0x9E3779B97F4A7C15) * np.uint64(i + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        st[i] = z ^ (z >> np.uint64(31))
    return st
