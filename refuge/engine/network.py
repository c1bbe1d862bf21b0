"""Network movement: people move among locations (states) along routes, as Flee models flight to camps.

Semantics of one day `t` (shared with `refuge.engine.network_reference`, which does the same with one object
per person, and read from Flee's code at 02cd2cbd, which it follows where its summary differs). The day comes
after the kernel's steps (`refuge.engine.kernel`), with the parameter values and closed states in force after
its rules:

0. **The rest of the scenario.** People whom transitions, arrivals or events put into a location today start
   there as people who have not travelled yet; people taken from a camp by a transition or an event are any
   of the people counted there. (Only camps may be left that way, and nothing else enters or leaves the
   en-route state: the compiler sees to it.)
1. **Places.** A location is a conflict zone on the days a `conflicts` entry covers it (intensity `c`, begun on
   day `b`), else a town or a camp. Its score is 1, x `foreign_weight` outside the home country, x
   `camp_weight` for a camp, x `conflict_weight ** (decay(t - b) * c)` for a conflict zone, where `decay` is
   the factor of the interval (`decay_interval` days) since the conflict began.
2. **Spawning.** `spawn[t]` new people appear at the conflict zones, spread multinomially in proportion to
   population x intensity x decay (the decay of day t-1 unless a conflict began on day t, as Flee refreshes
   its weights). They have not travelled yet.
3. **Closures.** A route closed today (by `closures`, or because the location it leads to is closed by a
   `closed` period or a rule) is not chosen; people already on it turn back on arrival. People at a place with
   no open route stay until one opens, then try to leave as from that day.
4. **Decisions.** Everyone at a place (not on a route) leaves with the move chance of the place (conflict
   zone, town, camp, IDP camp) and picks a route out of it with weight
   `((weight_softening + score(end)) / (distance_softening + km) ** distance_power x taper(end)) ** weight_power`,
   where taper is 1 below `capacity_buffer` x room, 0 at the room (capacity x `capacity_scaling`) and linear
   in between. A camp whose taper is under 0.5 is not set out for (the person stays).
5. **Travel.** People on a route advance `speed` km a day (`walk_speed` on their first route when
   `start_on_foot`) and arrive once they have covered more than its length; whoever arrives with part of
   the day's distance left decides again at once (a town is left for sure when `avoid_short_stints` and the
   person's recent travel is short: (recent + km today / speed) / 2 < 0.5), and a new route starts with a
   full day's distance. `recent` halves each night and adds half the day's km / speed. The day's arrivals
   are taken by the day their people were made, oldest first (Flee moves its agents in the order it made
   them, which decides who reaches a camp that fills during the day).

Cost grows with the people who move: camps hold counts (a camp's leavers are a binomial draw and their
routes a multinomial one); only people at other places or on routes are kept one by one, and a person
who settles in a camp becomes a count again.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from refuge.engine.world import borrowed
from refuge.model.network import (
    CAMP,
    FORWARD,
    IDPCAMP,
    MV_CAMPW,
    MV_CAPBUF,
    MV_CAPSCALE,
    MV_CONFW,
    MV_DPOW,
    MV_DSOFT,
    MV_FOREIGNW,
    MV_MC_CAMP,
    MV_MC_CONFLICT,
    MV_MC_IDP,
    MV_MC_TOWN,
    MV_SPEED,
    MV_WALK,
    MV_WPOW,
    MV_WSOFT,
    NetModel,
)


class NetSpec(NamedTuple):
    """A compiled network as the step reads it (the arrays of `refuge.model.network.NetModel`)."""

    loc_kind: np.ndarray
    loc_foreign: np.ndarray
    loc_pop: np.ndarray
    loc_cap: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray
    link_km: np.ndarray
    adj_ptr: np.ndarray
    adj_link: np.ndarray
    link_closed: np.ndarray
    conflict: np.ndarray
    conflict_start: np.ndarray
    spawn: np.ndarray
    spawn_time: np.ndarray
    decay: np.ndarray
    move: np.ndarray
    loc_state: np.ndarray  # (L,) the state of each location
    flags: np.ndarray  # F_* below


F_DECAY_INTERVAL, F_ON_FOOT, F_AVOID_SHORT, F_AWARENESS, F_EN_ROUTE = range(5)


def net_spec(net: NetModel | None) -> NetSpec:
    """The step's view of a compiled network (the same arrays, no copies); without one, empty arrays of the same
    types, so that one compiled engine serves models with and without a network."""
    if net is None:
        i1, i2, f2 = np.zeros(0, np.int64), np.zeros((0, 0), np.int64), np.zeros((0, 0))
        return NetSpec(i1, np.zeros(0, np.bool_), i1, i1, i1, i1, i1, np.zeros(1, np.int64), i1,
                       np.zeros((0, 0), np.bool_), f2, i2, i1, i1, np.ones(1), i1, i1, np.zeros(5, np.int64))
    flags = np.array([net.decay_interval, net.start_on_foot, net.avoid_short_stints, net.awareness, net.en_route],
                     np.int64)
    return NetSpec(**{f: getattr(net, f) for f in NetSpec._fields if f != "flags"}, flags=flags)


# Entries of NetWorld.count: rows of the person table in use, free rows, people on routes, the table is full,
# chunks of the day lists in use, free chunks.
C_USED, C_FREE, C_TRAVELLING, C_FULL, C_CHUSED, C_CHFREE = range(6)
CH = 32  # entries per chunk of a day's list


class NetWorld(NamedTuple):
    """The network's state within a run (built by `new_net_world`), changed in place day by day.

    People not counted in a place are kept one by one in a table of PERSON records (one cache line each) of a
    fixed size, so that nothing is reallocated inside the loop: loc (place, or the start of the route while
    travelling), link (-1 at a place, -2 a free row), fresh (no route completed yet), recent and rday (recent
    travel as of the end of day rday), dep (day set out), m0 (km already covered that day), v (km a day on this
    route). Each person is in at most one day's list of events (with its day and kind): kind 0 = try to leave a
    place that day, 1 = arrive at the end of the route that day. A list is a chain of chunks of CH rows (the
    newest chunk first, each pointing to the one before), so that a day's people are read from contiguous
    memory and fetched some way ahead, not found one after another through the records (see `add_to_list`,
    `take_list`)."""

    g: Any  # the network's random stream (binomial draws)
    rng: np.ndarray  # xoshiro256+ state, seeded from g (uniform draws)
    count: np.ndarray  # C_*
    cnt_fresh: np.ndarray  # (L,) people counted at a place: not travelled yet ...
    cnt_vet: np.ndarray  # (L,) ... and travelled
    people: np.ndarray  # (L,) everyone at each place (counted or one by one), as floats for the taper
    last_close: np.ndarray  # (K,) the last day each route closed (-1: never), to turn back those on it
    blocked: np.ndarray  # (L,) first of the people at each place with no open route, linked through nxt (the
    # records' only link: the day lists are chunks)
    P: np.ndarray  # (rows,) PERSON records
    head: np.ndarray  # (T+1, 2) each day's lists: [t, 0] tries, [t, 1] arrivals (newest chunk, -1: empty)
    free: np.ndarray  # free rows, a stack
    ent: np.ndarray  # (chunks x CH,) the rows in the day lists' chunks ...
    ent_made: np.ndarray  # ... and, in an arrivals list, their day made + 1
    ch_prev: np.ndarray  # (chunks,) the chunk before in the same list (-1: none)
    ch_n: np.ndarray  # (chunks,) entries used
    ch_free: np.ndarray  # free chunks, a stack
    order: np.ndarray  # (rows,) today's list as taken (scratch) ...
    order_made: np.ndarray  # ... with each one's day made + 1 ...
    sorted_: np.ndarray  # ... and in order of the day made
    tally: np.ndarray  # (T+3,) counting sort's scratch
    # today (scores, move chances, room, route lengths and weights)
    score: np.ndarray
    mc: np.ndarray
    mc_prev: np.ndarray
    capacity: np.ndarray
    km: np.ndarray
    mv: np.ndarray
    closed: np.ndarray
    buf: np.ndarray
    base: np.ndarray
    cum: np.ndarray  # cumulative route weights per adjacency slot, kept until the place is `stale`
    tot: np.ndarray
    nopen: np.ndarray
    stale: np.ndarray
    near: np.ndarray  # (L,) today: people from which a place's neighbours weigh their routes again (`changed`)
    qpow: np.ndarray  # (L, QP) today: (1 - move chance) ** (1 .. QP) as `geometric0` makes them (`wait_days`)
    slot_to: np.ndarray  # (adjacency slots,) the end of each slot's route ...
    slot_km: np.ndarray  # ... and today its length
    days_speed: np.ndarray  # (K,) today: whole days on each route at `speed` ...
    days_walk: np.ndarray  # ... and at `walk_speed`
    wts: np.ndarray
    half: np.ndarray  # 0.5 ** n (0 from 63 on: below any recent travel that matters)
    is_camp: np.ndarray
    redraw: np.ndarray  # (L,) today: a place whose move chance changed
    short_left: np.ndarray  # (L,) today: a town left for sure after a short stint (avoid_short_stints)
    # daily records
    entered: np.ndarray  # (T, L) people entering each location by the network (arriving from a route, spawned)
    change: np.ndarray  # (T, L+1) change of each location's stock (and, last, of people en route) by the network
    spawned: np.ndarray  # (T,)


# One record of 64 bytes (a cache line) per person kept one by one: a visit reads one line, not one per field.
PERSON = np.dtype([("loc", np.int32), ("link", np.int32), ("rday", np.int32), ("dep", np.int32), ("day", np.int32),
                   ("nxt", np.int32), ("kind", np.int8), ("fresh", np.bool_), ("made", np.int32),
                   ("recent", np.float64), ("m0", np.float64), ("v", np.float64), ("pad", np.float64)], align=True)
assert PERSON.itemsize == 64


@njit(cache=True)
def people_table(n):
    """The person table, not written to: a row is filled when first used (`new_person`, then `schedule` or
    `set_out`), and rows past those in use are never read, so a run touches only the memory it needs."""
    return np.empty(n, PERSON)


@njit(cache=True)
def new_net_world(days, s, initial, rows, g):
    """The network's state before day 0 with a person table of `rows` rows; `initial` people at each place."""
    L = s.loc_kind.size
    K = s.link_from.size
    T = days
    N = max(rows, 1)
    Th = T + 1 if L > 0 else 1  # day lists: none without a network
    head = np.full((Th, 2), -1, np.int64)
    # chunks: every person is in at most one list, and each list has at most one chunk not full
    nch, Ns, Ntally = ((N + CH - 1) // CH + 2 * Th + 2, N, Th + 3) if L > 0 else (1, 1, 1)
    half = np.zeros(64)
    for j in range(63):
        half[j] = 0.5 ** j
    people = np.zeros(L, np.float64)
    for l in range(L):
        people[l] = initial[l]
    rng = np.ones(4, np.uint64)  # without a network, its stream (another's, then) is not drawn from
    if L > 0:
        rng = seed_uniforms(g)
    return NetWorld(
        g, rng, np.zeros(6, np.int64), np.zeros(L, np.int64), np.zeros(L, np.int64), people,
        np.full(K, -1, np.int64), np.full(L, -1, np.int64),
        people_table(N),
        head, np.zeros(N, np.int64),
        np.empty(nch * CH, np.int32), np.empty(nch * CH, np.int32), np.empty(nch, np.int32), np.empty(nch, np.int32),
        np.empty(nch, np.int32), np.empty(Ns, np.int32), np.empty(Ns, np.int32), np.empty(Ns, np.int32),
        np.zeros(Ntally, np.int64),
        np.ones(L), np.zeros(L), np.full(L, -1.0), np.full(L, -1.0), np.zeros(K), np.zeros(s.move.size),
        np.zeros(K, np.bool_), np.zeros(max(K, 1)), np.zeros(K), np.zeros(max(K, 1)), np.zeros(L),
        np.zeros(L, np.int64), np.ones(L, np.bool_), np.zeros(L), np.zeros((L, QP)), s.link_to[s.adj_link],
        np.zeros(s.adj_link.size),
        np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(L), half,
        (s.loc_kind == CAMP) | (s.loc_kind == IDPCAMP), np.zeros(L, np.bool_), np.zeros(L, np.bool_),
        np.zeros((T, L), np.int64), np.zeros((T, L + 1), np.int64), np.zeros(T, np.int64))


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
# The step reads the spec and the world through `borrowed` tuples (refuge.engine.world): arrays and the random
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
    x = math.floor(math.log(1.0 - u) / math.log(q))
    return int(x) if x < 1 << 40 else 1 << 40  # (a day far past any run, never an integer overflow)


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


QP = 8  # powers of (1 - move chance) kept per place


@njit(inline="always")
def wait_days(w, l):
    """Days before the next try to leave place `l`, with its daily move chance p (drawn only when p < 1):
    `geometric0`, whose comparisons for p >= 0.2 are here counted without a branch against the place's
    thresholds of the day (the same numbers: the thresholds fall, so the count is where the loop stops)."""
    p = w.mc[l]
    if p >= 1.0:
        return 0
    u = uniform(w.rng)
    if not p >= 0.2:
        return geometric0(u, p)
    k = 0
    for j in range(QP):
        k += u < w.qpow[l, j]
    if k < QP:
        return k
    q = 1.0 - p
    thr = w.qpow[l, QP - 1] * q
    while u < thr:
        k += 1
        thr *= q
    return k


@njit(inline="always")
def schedule(w, i, day, kind, T):
    """Person `i` into the list of events of `day` (kind 0: try to leave a place, 1: arrive at the end of a
    route); into none when that day is past the end of the run."""
    if day >= T:
        w.P[i].day = -1
        return
    w.P[i].day = day
    w.P[i].kind = kind
    add_to_list(w, i, day, kind)


@njit(inline="always")
def relist(t, w, T):
    """People at a place whose move chance changed today (`w.redraw`) draw their next try again (memoryless);
    then every day's lists from today on are made again from the people's days. A list only grows (nothing is
    taken out of the middle of a chunk), so taking people out means this; it happens only on the few days a
    move chance changes. It runs before the day's lists are taken, when every chunk in use belongs to a list of
    today or later: all are freed."""
    w.head[t:, :] = -1
    w.count[C_CHUSED] = 0
    w.count[C_CHFREE] = 0
    P = w.P
    for i in range(w.count[C_USED] - 1, -1, -1):  # so that each list runs in the order rows were taken
        if P[i].link == -2:
            continue
        if P[i].link == -1 and w.redraw[P[i].loc] and P[i].day != BLOCKED:
            P[i].day = t + wait_days(w, P[i].loc)
            P[i].kind = 0
            if P[i].day >= T:
                P[i].day = -1
        if P[i].day >= t:
            add_to_list(w, i, P[i].day, P[i].kind)


@njit(inline="always")
def rows_left(w, n):
    """Whether `n` more people fit in the person table; if not, the run is made again with a bigger one."""
    if w.count[C_USED] - w.count[C_FREE] + n <= w.P.shape[0]:
        return True
    w.count[C_FULL] = 1
    return False


@njit(inline="always")
def new_person(w, l, fresh, rday):
    """A row of the person table for someone at place `l` (a free one if any)."""
    c = w.count
    if c[C_FREE] > 0:
        c[C_FREE] -= 1
        i = nonneg(w.free[nonneg(c[C_FREE])])
    else:
        i = nonneg(c[C_USED])
        c[C_USED] += 1
    w.P[i].loc = l
    w.P[i].link = -1
    w.P[i].fresh = fresh
    w.P[i].recent = 0.0
    w.P[i].rday = rday
    w.P[i].made = rday + 1  # the day made + 1 (0: placed at the start)
    return i


@njit(inline="always")
def to_count(w, i, l, fresh):
    """Person `i` becomes one of the people counted at place `l`; its row is freed."""
    if fresh:
        w.cnt_fresh[l] += 1
    else:
        w.cnt_vet[l] += 1
    w.P[i].link = -2
    w.P[i].day = -1
    w.free[nonneg(w.count[C_FREE])] = i
    w.count[C_FREE] += 1


@njit(inline="always")
def changed(s, w, l, k, capbuf, capscale):
    """`k` people came to (or, negative, left) place `l`. Near its capacity taper, the places with a route to it
    weigh their routes again."""
    w.people[l] += k
    if w.people[l] >= w.near[l]:  # capbuf x capacity x capscale - 1 (none without a capacity)
        for j in range(s.adj_ptr[l], s.adj_ptr[l + 1]):
            w.stale[nonneg(s.link_to[nonneg(s.adj_link[nonneg(j)])])] = True


@njit(inline="always")
def choose_route(s, w, l, awareness, capbuf, capscale, wpow):
    """A route out of place `l` picked by weight: (its adjacency slot, whether it leads to a camp too full to
    set out for), or (-1, False) when no route is open. A place keeps its cumulative route weights (`cum` per
    adjacency slot, `tot`, `nopen`) until it is `stale`: scores, lengths or closures changed, or a route's end
    with room came near its taper."""
    adj_ptr, adj_link, closed, cum = s.adj_ptr, s.adj_link, w.closed, w.cum
    if w.stale[l]:
        capacity, people = w.capacity, w.people
        acc = 0.0
        n = 0
        for j in range(adj_ptr[l], adj_ptr[l + 1]):
            j = nonneg(j)
            k = nonneg(adj_link[j])
            if not closed[k]:
                n += 1
                wk = w.base[k]
                end = nonneg(s.link_to[k])
                if awareness != 0 and capacity[end] >= 0 and people[end] > capbuf * capacity[end] * capscale:
                    wk *= taper_w(people[end], capacity[end], capbuf, capscale, wpow)
                acc += wk
            cum[j] = acc
        w.tot[l] = acc
        w.nopen[l] = n
        w.stale[l] = False
    js = -1
    if w.nopen[l] > 0:
        if w.tot[l] > 0:
            # the first slot whose cumulative weight passes x: a closed route adds no weight, so that slot is
            # an open route (counted without a branch per slot, which the processor cannot guess)
            x = uniform(w.rng) * w.tot[l]
            j0, j1 = nonneg(adj_ptr[l]), adj_ptr[l + 1]
            below = 0
            for j in range(j0, j1):
                below += cum[nonneg(j)] <= x
            if below < j1 - j0:
                js = j0 + below
            else:  # rounding at the top end
                for j in range(adj_ptr[l + 1] - 1, adj_ptr[l] - 1, -1):
                    if not closed[adj_link[j]]:
                        js = j
                        break
        else:  # all weights zero: equal chances
            r = int(uniform(w.rng) * w.nopen[l])
            for j in range(adj_ptr[l], adj_ptr[l + 1]):
                if not closed[adj_link[j]]:
                    if r == 0:
                        js = j
                        break
                    r -= 1
    if js < 0:
        return js, False
    js = nonneg(js)
    end = nonneg(w.slot_to[js])
    return js, w.is_camp[end] and w.capacity[end] >= 0 and \
        taper(w.people[end], w.capacity[end], capbuf, capscale) < 0.5


BLOCKED = -3  # the day of a person at a place with no open route
POOL_AFTER = 8  # nights of rest after which recent travel (halved each night, now < 0.004) is taken as 0


# --- one day ------------------------------------------------------------------------------------------------


@njit(cache=True)
def network_day(t, spec, world, kw):
    """Day `t` of the network, after the kernel's moves of the day (`kw`: the kernel's world, whose parameter
    values, closed states, stocks and moves into and out of locations it reads): the semantics at the top of
    this module. Writes the stocks of the locations and of people en route into `kw.stock`.

    People at a place are visited only on the day they next try to leave (a geometric draw from the place's
    move chance, drawn again when that chance changes), and people on a route only on the day they arrive,
    so the cost grows with the moves, not with people x days."""
    if spec.loc_kind.size == 0:
        return
    s, w = borrowed(spec), borrowed(world)
    t = nonneg(t)
    pv = kw.pv
    places_today(t, s, w, pv, kw.closed_state)  # 1 (and 3: closures)
    exchange(t, s, w, kw)  # 0: people the kernel moved into and out of locations today
    spawn(t, s, w, pv)  # 2
    counted_leave(t, s, w)  # 4: people counted at a place
    tries(t, s, w)  # ... and people one by one whose try is today
    arrivals(t, s, w)  # 5
    L = s.loc_kind.size
    for l in range(L + 1):
        st = nonneg(s.loc_state[l] if l < L else s.flags[F_EN_ROUTE])
        now = int(w.people[l] + 0.5) if l < L else w.count[C_TRAVELLING]
        w.change[t, l] = now - kw.stock[st]
        kw.stock[st] = now


# Each step reads `spec` and `world` through borrowed copies (`s`, `w`); the caller's tuples own the arrays.


@njit(inline="always")
def places_today(t, s, w, pv, closed_state):
    """Today's movement numbers, route lengths and closures, scores and move chances; people placed at the
    start (on day 0), and people at a place whose move chance changed draw their next try again."""
    L, K = s.loc_kind.size, s.link_from.size
    T = w.head.shape[0] - 1
    mv, mc, score = w.mv, w.mc, w.score
    for i in range(s.move.size):
        mv[i] = pv[nonneg(s.move[i])]
    for k in range(K):
        w.km[k] = pv[nonneg(s.link_km[k])]
        # a closed location: routes into it are shut
        shut = s.link_closed[t, k] or closed_state[nonneg(s.loc_state[nonneg(s.link_to[k])])]
        if shut and not w.closed[k]:
            w.last_close[k] = t
        w.closed[k] = shut
    decay, interval = s.decay, s.flags[F_DECAY_INTERVAL]
    speed, walk = mv[MV_SPEED], mv[MV_WALK]
    for k in range(K):
        w.days_speed[k] = int(math.floor(w.km[k] / speed))
        w.days_walk[k] = int(math.floor(w.km[k] / walk))
    for j in range(s.adj_link.size):
        w.slot_km[j] = w.km[nonneg(s.adj_link[j])]
    for l in range(L):
        w.capacity[l] = pv[nonneg(s.loc_cap[l])] if s.loc_cap[l] >= 0 else -1.0
        w.near[l] = mv[MV_CAPBUF] * w.capacity[l] * mv[MV_CAPSCALE] - 1.0 if w.capacity[l] >= 0 else np.inf
        sc = 1.0
        if s.loc_foreign[l]:
            sc *= mv[MV_FOREIGNW]
        if w.is_camp[l]:
            sc *= mv[MV_CAMPW]
        c = s.conflict[t, l]
        kind = s.loc_kind[l]
        if c > 0:
            sc *= mv[MV_CONFW] ** (decay_factor(t - s.conflict_start[t, l], decay, interval) * c)
            mc[l] = mv[MV_MC_CONFLICT]
        elif kind == CAMP:
            mc[l] = mv[MV_MC_CAMP]
        elif kind == IDPCAMP:
            mc[l] = mv[MV_MC_IDP]
        elif kind == FORWARD:
            mc[l] = 1.0
        else:
            mc[l] = mv[MV_MC_TOWN]
        score[l] = sc
        w.short_left[l] = s.flags[F_AVOID_SHORT] != 0 and not w.is_camp[l] and c <= 0
        q = 1.0 - mc[l]
        thr = q
        for j in range(QP):  # geometric0's thresholds q, q^2, ... for this move chance, made the same way
            w.qpow[l, j] = thr
            thr *= q
    awareness = s.flags[F_AWARENESS]
    for k in range(K):
        if awareness == 0:
            w.base[k] = 1.0
        else:
            w.base[k] = ((mv[MV_WSOFT] + score[nonneg(s.link_to[k])]) / (mv[MV_DSOFT] + w.km[k]) ** mv[MV_DPOW]) \
                ** mv[MV_WPOW]
    w.stale[:] = True  # scores, lengths and closures are today's
    if t == 0:  # people placed at the start: counted in camps, one by one elsewhere
        for l in range(L):
            n0 = int(w.people[l] + 0.5)
            if w.is_camp[l]:
                w.cnt_fresh[l] = n0
                continue
            if not rows_left(w, n0):
                return
            for _ in range(n0):
                i = new_person(w, l, True, -1)
                schedule(w, i, t + wait_days(w, l), 0, T)
    # a place whose move chance changed: its people draw their next try again (memoryless)
    redraw = False
    for l in range(L):
        w.redraw[l] = t > 0 and not w.is_camp[l] and mc[l] != w.mc_prev[l]
        redraw |= w.redraw[l]
        w.mc_prev[l] = mc[l]
    if redraw:
        relist(t, w, T)
    # people at a place that had no open route, once one is open: their next try, from today
    for l in range(L):
        if w.blocked[l] < 0:
            continue
        for j in range(s.adj_ptr[l], s.adj_ptr[l + 1]):
            if not w.closed[nonneg(s.adj_link[j])]:
                i = w.blocked[l]
                w.blocked[l] = -1
                while i >= 0:
                    nxt = w.P[i].nxt
                    schedule(w, i, t + wait_days(w, l), 0, T)
                    i = nxt
                break


@njit(inline="always")
def newcomers(w, l, n, t, T):
    """`n` people who have not travelled yet appear at place `l` today: counted in a camp, one by one elsewhere
    (trying to leave from today). False when the person table is full (the run is made again)."""
    if w.is_camp[l]:
        w.cnt_fresh[l] += n
        return True
    if not rows_left(w, n):
        return False
    for _ in range(n):
        i = new_person(w, l, True, t - 1)
        schedule(w, i, t + wait_days(w, l), 0, T)
    return True


@njit(inline="always")
def exchange(t, s, w, kw):
    """The kernel's moves of today into and out of locations (transitions, arrivals, events): those who came are
    people who have not travelled yet (counted in a camp, one by one elsewhere, trying to leave from today);
    those taken from a camp's count are any of its people (so as many of them had not travelled as a draw
    without replacement says). Only camps lose people this way (the compiler sees to it)."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    capbuf, capscale = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    for l in range(L):
        st = nonneg(s.loc_state[l])
        out, come = kw.net_out[st], kw.net_in[st]
        if out == 0 and come == 0:
            continue
        kw.net_out[st] = 0
        kw.net_in[st] = 0
        if out > 0:
            fresh, vet = w.cnt_fresh[l], w.cnt_vet[l]
            for _ in range(min(out, fresh + vet)):  # one by one without replacement: hypergeometric
                if uniform(w.rng) * (fresh + vet) < fresh:
                    fresh -= 1
                else:
                    vet -= 1
            w.cnt_fresh[l], w.cnt_vet[l] = fresh, vet
        changed(s, w, l, come - out, capbuf, capscale)
        if come > 0 and not newcomers(w, l, come, t, T):
            return


@njit(inline="always")
def spawn(t, s, w, pv):
    """Today's new people at the conflict zones, multinomially by population x intensity x decay."""
    if s.spawn[t] <= 0:
        return
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    capbuf, capscale = w.mv[MV_CAPBUF], w.mv[MV_CAPSCALE]
    decay, interval = s.decay, s.flags[F_DECAY_INTERVAL]
    ts = s.spawn_time[t]
    wts = w.wts
    total = 0.0
    for l in range(L):
        c = s.conflict[ts, l] if s.conflict[t, l] > 0 else 0.0
        decayed = decay_factor(ts - s.conflict_start[ts, l], decay, interval)
        wts[l] = pv[nonneg(s.loc_pop[l])] * c * decayed if c > 0 else 0.0
        total += wts[l]
    left = s.spawn[t] if total > 0 else 0
    rest = total
    for l in range(L):
        if left == 0:
            break
        if wts[l] <= 0:
            continue
        k_l = left if wts[l] >= rest else w.g.binomial(left, min(1.0, wts[l] / rest))
        rest -= wts[l]
        if k_l == 0:
            continue
        left -= k_l
        w.spawned[t] += k_l
        w.entered[t, l] += k_l
        changed(s, w, l, k_l, capbuf, capscale)
        if not newcomers(w, l, k_l, t, T):
            return


@njit(inline="always")
def set_out(s, w, i, l, k, t, walk, moved, T):
    """Person `i` sets out from place `l` on route `k` at `walk_speed` (`walk`) or `speed`, `moved` km into the
    day; they arrive after the route's whole days at that speed."""
    w.P[i].link = k
    w.P[i].dep = t
    w.P[i].m0 = moved
    w.P[i].v = w.mv[MV_WALK] if walk else w.mv[MV_SPEED]
    schedule(w, i, t + (w.days_walk[k] if walk else w.days_speed[k]), 1, T)


@njit(inline="always")
def counted_leave(t, s, w):
    """People counted at a place (camps; people long kept from a full camp) leave by binomial draws, and take
    routes by multinomial ones."""
    L = s.loc_kind.size
    T = w.head.shape[0] - 1
    mv, closed, capacity, people, buf = w.mv, w.closed, w.capacity, w.people, w.buf
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness, on_foot = s.flags[F_AWARENESS], s.flags[F_ON_FOOT]
    adj_ptr, adj_link, link_to = s.adj_ptr, s.adj_link, s.link_to
    for l in range(L):
        if w.cnt_fresh[l] + w.cnt_vet[l] == 0:
            continue
        m = 0
        for j in range(adj_ptr[l], adj_ptr[l + 1]):  # weights of the open routes out of l
            k = nonneg(adj_link[j])
            if closed[k]:
                continue
            wk = w.base[k]
            end = nonneg(link_to[k])
            if awareness != 0 and capacity[end] >= 0:
                wk *= taper_w(people[end], capacity[end], capbuf, capscale, wpow)
            buf[m] = wk
            m += 1
        if m == 0:
            continue
        wsum = 0.0
        for j in range(m):
            wsum += buf[j]
        for cls in range(2):
            stay = w.cnt_fresh[l] if cls == 0 else w.cnt_vet[l]
            leave = w.g.binomial(stay, w.mc[l]) if stay > 0 else 0
            if leave == 0:
                continue
            rest = wsum if wsum > 0 else float(m)
            jj = 0
            for j in range(adj_ptr[l], adj_ptr[l + 1]):
                k = nonneg(adj_link[j])
                if closed[k]:
                    continue
                wk = buf[jj] if wsum > 0 else 1.0
                jj += 1
                if leave == 0:
                    break
                go = leave if wk >= rest else w.g.binomial(leave, min(1.0, wk / rest))
                rest -= wk
                leave -= go
                end = nonneg(link_to[k])
                if go == 0 or (w.is_camp[end] and capacity[end] >= 0 and
                               taper(people[end], capacity[end], capbuf, capscale) < 0.5):
                    continue
                if cls == 0:
                    w.cnt_fresh[l] -= go
                else:
                    w.cnt_vet[l] -= go
                if not rows_left(w, go):
                    return
                changed(s, w, l, -go, capbuf, capscale)
                walk = cls == 0 and on_foot != 0
                for _ in range(go):
                    i = new_person(w, l, cls == 0, t - 1)
                    set_out(s, w, i, l, k, t, walk, 0.0, T)
                w.count[C_TRAVELLING] += go


@njit(inline="always")
def tries(t, s, w):
    """People one by one whose try to leave is today: a route by weight, or they stay and try again."""
    T = w.head.shape[0] - 1
    mv = w.mv
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness, on_foot = s.flags[F_AWARENESS], s.flags[F_ON_FOOT]
    travelling = 0
    order = w.order
    n = take_list(w, t, 0)
    for j in range(n):
        if j + AHEAD < n:
            prefetch(w.P, order[j + AHEAD])
        i = nonneg(order[j])
        l = nonneg(w.P[i].loc)
        k, full = choose_route(s, w, l, awareness, capbuf, capscale, wpow)
        if k >= 0:
            k = nonneg(s.adj_link[k])
        if k >= 0 and not full:
            changed(s, w, l, -1, capbuf, capscale)
            set_out(s, w, i, l, k, t, w.P[i].fresh and on_foot != 0, 0.0, T)
            travelling += 1
        elif k >= 0 and t - w.P[i].rday >= POOL_AFTER:
            # kept from a full camp after resting long enough that their recent travel no longer matters:
            # they join the place's count (and leave by the daily binomial draw)
            to_count(w, i, l, w.P[i].fresh)
        elif k < 0:  # no open route: waits for one (`places_today` lets them try again)
            w.P[i].day = BLOCKED
            w.P[i].nxt = w.blocked[l]
            w.blocked[l] = i
        else:
            schedule(w, i, t + 1 + wait_days(w, l), 0, T)
    w.count[C_TRAVELLING] += travelling


AHEAD = 8  # people of a day's list fetched ahead of the one handled


@njit(inline="always")
def new_chunk(w):
    """A chunk for a day's list (a free one if any); -1 when none is left (the run is made again)."""
    c = w.count
    if c[C_CHFREE] > 0:
        c[C_CHFREE] -= 1
        return nonneg(w.ch_free[nonneg(c[C_CHFREE])])
    if c[C_CHUSED] < w.ch_n.size:
        c[C_CHUSED] += 1
        return c[C_CHUSED] - 1
    c[C_FULL] = 1
    return -1


@njit(inline="always")
def add_to_list(w, i, day, kind):
    """Person `i` into day `day`'s list of tries (kind 0) or arrivals (1, with the day they were made)."""
    row = 0 if kind == 0 else 1
    day = nonneg(day)
    m = w.P[i].made if kind != 0 else 0
    c = w.head[day, row]
    if c < 0 or w.ch_n[c] == CH:
        c2 = new_chunk(w)
        if c2 < 0:
            return
        w.ch_prev[c2] = c
        w.ch_n[c2] = 0
        w.head[day, row] = c2
        c = c2
    c = nonneg(c)
    e = nonneg(c * CH + w.ch_n[c])
    w.ent[e] = i
    w.ent_made[e] = m
    w.ch_n[c] += 1


@njit(inline="always")
def take_list(w, t, row):
    """Day `t`'s list of tries (row 0) or arrivals (1) into `w.order` (and their days made into
    `w.order_made`), newest first, as the day's people are handled; its chunks are freed. Returns its length."""
    n = 0
    c = w.head[t, row]
    w.head[t, row] = -1
    cnt = w.count
    while c >= 0:
        c = nonneg(c)
        base = c * CH
        for j in range(w.ch_n[c] - 1, -1, -1):
            e = nonneg(base + j)
            w.order[n] = w.ent[e]
            w.order_made[n] = w.ent_made[e]
            n += 1
        prev = w.ch_prev[c]
        w.ch_free[nonneg(cnt[C_CHFREE])] = c
        cnt[C_CHFREE] += 1
        c = prev
    return n


@njit(inline="always")
def sort_arrivals(t, w):
    """The people whose route ends on day `t`, newest in the list first, then put in order of the day each was
    made, oldest first, when they are not already (a counting sort over the days made found, which keeps the
    list's order among people made the same day): the array to take them from, and how many. One list a day,
    not one per day made and day: that table grew with the square of the days (6.8 GB for 80 years)."""
    n = take_list(w, t, 1)
    made = w.order_made
    if n == 0:
        return w.order, n
    lo, hi, before = made[0], made[0], made[0]
    in_order = True
    for j in range(n):
        lo = min(lo, made[j])
        hi = max(hi, made[j])
        in_order &= made[j] >= before
        before = made[j]
    if in_order:  # as it stands
        return w.order, n
    first = w.tally
    first[:hi - lo + 2] = 0
    for j in range(n):
        first[nonneg(made[j] - lo + 1)] += 1
    for m in range(1, hi - lo + 2):
        first[m] += first[m - 1]
    out = w.sorted_
    for j in range(n):
        b = nonneg(made[j] - lo)
        out[nonneg(first[b])] = w.order[j]
        first[b] += 1
    return out, n


@njit(inline="always")
def arrivals(t, s, w):
    """People whose route ends today arrive (or turn back from a route closed since they set out), and with
    part of the day's distance left decide again at once. They are taken by the day they were made (spawned,
    placed at the start, or out of a camp's count), oldest first, as Flee moves its agents in the order it made
    them: when a camp fills during the day, who gets there first decides who is turned away."""
    T = w.head.shape[0] - 1
    mv, km, half = w.mv, w.km, w.half
    S = mv[MV_SPEED]
    inv_s = 1.0 / S
    capbuf, capscale, wpow = mv[MV_CAPBUF], mv[MV_CAPSCALE], mv[MV_WPOW]
    awareness = s.flags[F_AWARENESS]
    travelling = 0
    order, n = sort_arrivals(t, w)
    for j in range(n):
        if j + AHEAD < n:
            prefetch(w.P, order[j + AHEAD])
        i = nonneg(order[j])
        k = nonneg(w.P[i].link)
        d = w.P[i].dep
        v = w.P[i].v
        # recent travel as of last night, and km covered today
        r = w.P[i].recent * half[nonneg(min(max(d - 1 - w.P[i].rday, 0), 63))]
        if t == d:
            moved = w.P[i].m0 + km[k]
        else:
            r = (r + (w.P[i].m0 + v) * inv_s) * 0.5
            f = half[nonneg(min(t - d - 1, 63))]
            r = r * f + (v * inv_s) * (1.0 - f)
            moved = km[k] - (t - d) * v
        w.P[i].fresh = False
        w.P[i].link = -1
        travelling -= 1
        back = w.last_close[k] > d  # the route closed since they set out
        l = nonneg(s.link_from[k] if back else s.link_to[k])
        # A place passed through today is not counted in and out again: its count is read by no decision
        # of this person's (no route leads from a place to itself), and with it unchanged the routes' weights
        # kept by its neighbours stay right. The place where they stay is counted at the end.
        if not back:
            w.entered[t, l] += 1
        going = False
        while not back and moved < v:
            chance = w.mc[l]
            if chance < 1.0 and not (w.short_left[l] and r + moved * inv_s < 1.0) and uniform(w.rng) >= chance:
                break  # stays (a town is left for sure after a short stint; a draw only when it is not sure)
            j2, full = choose_route(s, w, l, awareness, capbuf, capscale, wpow)
            if j2 < 0 or full:
                break
            v = S
            if w.slot_km[j2] < v:  # arrives today too: decides again there
                moved += w.slot_km[j2]
                l = nonneg(w.slot_to[j2])
                w.entered[t, l] += 1
                continue
            set_out(s, w, i, l, nonneg(s.adj_link[j2]), t, False, moved, T)
            travelling += 1
            w.P[i].recent, w.P[i].rday = r, t - 1
            going = True
            break
        w.P[i].loc = l
        if not going:
            # staying at l: recent travel as of tonight; a camp takes them as a count
            changed(s, w, l, 1, capbuf, capscale)
            w.P[i].recent, w.P[i].rday = (r + moved * inv_s) * 0.5, t
            if w.is_camp[l]:
                to_count(w, i, l, False)
            else:
                schedule(w, i, t + 1 + wait_days(w, l), 0, T)
    w.count[C_TRAVELLING] += travelling


# --- into the run's arrays ------------------------------------------------------------------------------------


def network_arrays(net: NetModel | None, S: int, world: Any) -> tuple:
    """(entered (days, S), net change (days, S), spawned (days,)) of a run's network, by state; Nones without one."""
    if net is None:
        return None, None, None
    entered, change, spawned = world
    days = entered.shape[0]
    ent = np.zeros((days, S), np.int64)
    ent[:, net.loc_state] = entered
    chg = np.zeros((days, S), np.int64)
    chg[:, net.loc_state] = change[:, :-1]
    chg[:, net.en_route] = change[:, -1]
    return ent, chg, spawned
