"""The route network's data: the compiled network as the step reads it (`NetSpec`), its state within a run
(`NetWorld`)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit

from refuge.model.network import (
    CAMP,
    IDPCAMP,
    NetModel,
)
from refuge.sim.mechanisms.network.low import seed_uniforms


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
    camp_closed: np.ndarray  # (T, L) a camp closed as a camp that day: it works as a town
    conflict: np.ndarray
    conflict_start: np.ndarray
    spawn: np.ndarray
    spawn_time: np.ndarray
    decay: np.ndarray
    move: np.ndarray
    loc_state: np.ndarray  # (L,) the state of each location
    flags: np.ndarray  # F_* below
    # with awareness 2 or more, where the ways of several routes out of each place end, by the fewest steps
    # (`refuge.model.net_paths.Ways`), and [the awareness, the most routes of a way]
    way_ptr: np.ndarray
    way_end: np.ndarray
    way_hops: np.ndarray
    way_size: np.ndarray
    origin_ptr: np.ndarray
    origins: np.ndarray
    origin_hops: np.ndarray
    at_state: np.ndarray  # (A,) states at a location (`at:`, processing there) ...
    at_loc: np.ndarray  # (A,) ... and that location: their people count in its population
    # flooding (`refuge.model.net_flood`; (0, 0) without floods): (T, L) move chance of a flooded place (-1: its
    # own), factor on its score, its spawn rule (a share of the population left, or a count: F_FLOOD_COUNT)
    flood_move: np.ndarray
    flood_weight: np.ndarray
    flood_spawn: np.ndarray


F_DECAY_INTERVAL, F_ON_FOOT, F_AVOID_SHORT, F_AWARENESS, F_EN_ROUTE, F_KEEP, F_SPAWN_MODE, F_SPAWN_RATE, \
    F_TAKE_POP, F_FLOOD_COUNT, F_SPAWN_SCALE = range(11)
N_FLAGS = 11
# F_KEEP: people who arrive at a camp stay one by one (with their recent travel) instead of joining its count: set
# when a camp is closed as a camp for a while (then a town, where recent travel decides short stints). F_SPAWN_MODE:
# spawning by a total (0) or by each conflict zone (`refuge.model.net_spawn`), F_SPAWN_RATE the slot of its per-day
# rate, F_TAKE_POP: people spawned leave their location's population (`refuge.sim.mechanisms.network.spawn`),
# F_SPAWN_SCALE the slot of the multiplier of the spawning total (-1: none)


def _origin_hops(wy) -> np.ndarray:
    """The fewest steps from each place with a way ending at a place (all 0, which prunes no walk, when a table
    made without them is read)."""
    return wy.origin_hops if wy.origin_hops is not None else np.zeros(wy.origins.size, np.int64)


def net_spec(net: NetModel | None) -> NetSpec:
    """The step's view of a compiled network (the same arrays, no copies); without one, empty arrays of the same
    types, so that one compiled engine serves models with and without a network."""
    if net is None:
        i1, i2, f2 = np.zeros(0, np.int64), np.zeros((0, 0), np.int64), np.zeros((0, 0))
        one = np.zeros(1, np.int64)
        return NetSpec(i1, np.zeros(0, np.bool_), i1, i1, i1, i1, i1, one, i1,
                       np.zeros((0, 0), np.bool_), np.zeros((0, 0), np.bool_), f2, i2, i1, i1, np.ones(1), i1, i1,
                       np.zeros(N_FLAGS, np.int64),
                       one, i1, i1, np.zeros(2, np.int64), one, i1, i1, i1, i1, f2, f2, f2)
    # the step's awareness: 2 (choose among ways) whenever ways are listed (look-ahead, or markers to look past)
    aware = 2 if net.ways.end.size else net.awareness
    fl = net.floods
    flags = np.array([net.decay_interval, net.start_on_foot, net.avoid_short_stints, aware, net.en_route,
                      net.camp_closed.any(), net.spawn_mode, net.spawn_rate, net.take_pop, fl.count,
                      net.spawn_scale], np.int64)
    wy = net.ways
    return NetSpec(**{f: getattr(net, f) for f in NetSpec._fields[:18]}, flags=flags, way_ptr=wy.way_ptr,
                   way_end=wy.end, way_hops=wy.hops, way_size=np.array([wy.depth, wy.width], np.int64),
                   origin_ptr=wy.origin_ptr,
                   origins=wy.origins, origin_hops=_origin_hops(wy),
                   at_state=net.at_state, at_loc=net.at_loc, flood_move=fl.move,
                   flood_weight=fl.weight, flood_spawn=fl.spawn)


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
    route), way and hop (with look-ahead: the way they follow, -1 none, and the index of its next route). Each
    person is in at most one day's list of events (with its day and kind): kind 0 = try to leave a
    place that day, 1 = arrive at the end of the route that day. A list is a chain of chunks of CH rows (the
    newest chunk first, each pointing to the one before), so that a day's people are read from contiguous
    memory and fetched some way ahead, not found one after another through the records (see `add_to_list`,
    `take_list`)."""

    g: Any  # the network's random stream (binomial draws)
    rng: np.ndarray  # xoshiro256+ state, seeded from g (uniform draws)
    count: np.ndarray  # C_*
    cnt_fresh: np.ndarray  # (L,) people counted at a place: not travelled yet ...
    cnt_vet: np.ndarray  # (L,) ... and travelled
    people: np.ndarray  # (L,) everyone at each place (counted or one by one, and in states at it), as floats for
    # the taper
    at_people: np.ndarray  # (L,) people in states at each place (`at:`), as of the day's hand-over ...
    at_now: np.ndarray  # (L,) ... and as counted today (scratch)
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
    taken: np.ndarray  # (L,) people spawned at each location so far (its population less them, take_from_population)
    half: np.ndarray  # 0.5 ** n (0 from 63 on: below any recent travel that matters)
    is_camp: np.ndarray
    redraw: np.ndarray  # (L,) today: a place whose move chance changed
    short_left: np.ndarray  # (L,) today: a town left for sure after a short stint (avoid_short_stints)
    # with look-ahead, per (place, end) of `NetSpec.way_end`: the sum of the length factors of the open ways
    # from the place to the end (`refuge.sim.mechanisms.network.ways`), their number (0: `way_shut`) ...
    way_kern: np.ndarray
    way_n: np.ndarray
    way_shut: np.ndarray
    way_cum: np.ndarray  # ... and the cumulative weights of a place's ends, kept until the place is `stale`
    # daily records
    entered: np.ndarray  # (T, L) people entering each location by the network (arriving from a route, spawned)
    change: np.ndarray  # (T, L+1) change of each location's stock (and, last, of people en route) by the network
    spawned: np.ndarray  # (T,)
    pop_left: np.ndarray  # (L,) with floods: each place's population left to spawn from (set on day 0)
    # with look-ahead: whether a place's way_kern and way_n are worked out for the lengths, closures and powers
    # of `kern_km`, `kern_closed` and `kern_mv` (a place's are worked out when someone first decides there) ...
    kern_ok: np.ndarray
    kern_km: np.ndarray
    kern_closed: np.ndarray
    kern_mv: np.ndarray
    # ... the walk over ways (scratch: the stack's place, adjacency slot, steps, km and route; places on it;
    # where each end of the place walked from sits among its ends) ...
    dfs_node: np.ndarray
    dfs_slot: np.ndarray
    dfs_steps: np.ndarray
    dfs_km: np.ndarray
    dfs_link: np.ndarray
    on_path: np.ndarray
    pos: np.ndarray
    way_path: np.ndarray  # ... and (rows, width + 1) the routes of the way each person follows (-1 after)
    # ... and the ways of (place, end) pairs listed as people first take one, while they fit (`ways.list_pair`):
    # where a pair's start (-1: not listed); per way, the running sum of the length factors of its pair's ways
    # up to it, its routes and their number; [ways listed]
    lw_start: np.ndarray
    lw_cum: np.ndarray
    lw_links: np.ndarray
    lw_len: np.ndarray
    lw_used: np.ndarray
    dist: np.ndarray  # (L,) scratch of the walks to one end (`ways.to_target`)


# One record of 64 bytes (a cache line) per person kept one by one: a visit reads one line, not one per field.
PERSON = np.dtype([("loc", np.int32), ("link", np.int32), ("rday", np.int32), ("dep", np.int32), ("day", np.int32),
                   ("nxt", np.int32), ("kind", np.int8), ("fresh", np.bool_), ("made", np.int32),
                   ("recent", np.float64), ("m0", np.float64), ("v", np.float64), ("way", np.int32), ("hop", np.int32)],
                  align=True)
assert PERSON.itemsize == 64


@njit(cache=True)
def people_table(n):
    """The person table, not written to: a row is filled when first used (`new_person`, then `schedule` or
    `set_out`), and rows past those in use are never read, so a run touches only the memory it needs."""
    return np.empty(n, PERSON)


@njit(cache=True)
def new_net_world(days, s, initial, rows, g, entered, change, spawned):
    """The network's state before day 0 with a person table of `rows` rows; `initial` people at each place;
    its daily records are the run's arrays `entered`, `change` and `spawned` (`refuge.sim.mechanisms.network`)."""
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
    way_rows = N if s.way_end.size else 1
    way_path = np.full((way_rows, s.way_size[1] + 1), -1, np.int32)
    lw_ways = min(LIST_WAYS, LIST_PER_END * s.way_end.size, LIST_ROUTES // max(s.way_size[1], 1))  # (not written
    # to until used)
    rng = np.ones(4, np.uint64)  # without a network, its stream (another's, then) is not drawn from
    if L > 0:
        rng = seed_uniforms(g)
    return NetWorld(
        g, rng, np.zeros(6, np.int64), np.zeros(L, np.int64), np.zeros(L, np.int64), people, np.zeros(L, np.int64),
        np.zeros(L, np.int64),
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
        np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(L), np.zeros(L, np.int64), half,
        (s.loc_kind == CAMP) | (s.loc_kind == IDPCAMP), np.zeros(L, np.bool_), np.zeros(L, np.bool_),
        np.zeros(s.way_end.size), np.zeros(s.way_end.size), np.zeros(s.way_end.size, np.bool_),
        np.zeros(s.way_end.size),
        entered, change, spawned, np.zeros(L),
        np.zeros(L, np.bool_), np.full(K, -1.0), np.zeros(K, np.bool_), np.full(3, np.nan),
        np.zeros(L + 2, np.int64), np.zeros(L + 2, np.int64), np.zeros(L + 2, np.int64), np.zeros(L + 2),
        np.zeros(L + 2, np.int64), np.zeros(L, np.bool_), np.full(L, -1, np.int64),
        way_path,
        np.full(s.way_end.size, -1, np.int64), np.empty(lw_ways), np.empty((lw_ways, s.way_size[1]), np.int32),
        np.empty(lw_ways, np.int32),
        np.zeros(1, np.int64), np.full(L, 1 << 30, np.int64))



LIST_WAYS = 1 << 21  # with look-ahead: the most ways kept listed (`ways.list_pair`) ...
LIST_PER_END = 64  # ... per (place, end) pair of the network, and routes of the most ways could have together
LIST_ROUTES = 1 << 23
QP = 8  # powers of (1 - move chance) kept per place
BLOCKED = -3  # the day of a person at a place with no open route
POOL_AFTER = 8  # nights of rest after which recent travel (halved each night, now < 0.004) is taken as 0
AHEAD = 8  # people of a day's list fetched ahead of the one handled
