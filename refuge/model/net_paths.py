"""Where look-ahead route choice can lead (`awareness` 2 and more, as Flee defines it).

With an awareness of A, someone deciding where to go weighs every way out of their place that passes no place
twice and has 1 to A steps (each step a route of the network); the weight of such a way is Flee's weight of
its last place over the softened length of the whole way. A marker (Flee's `marker` location) is passed
through: no way ends there and it is not counted as a step.

The ways themselves are not listed: on a large network at awareness 5 they number thousands per place (a
grid of 10,000 places joined to their 8 neighbours has about 145 million), too many to keep. Flee's weight of
a way is a product, (weight_softening + score(end)) ** weight_power x taper(end) ** weight_power x (distance_
softening + km) ** -(distance_power x weight_power), so the choice factors: the place the way ends at, by its
factor times the sum of the length factors of the open ways to it, then one of those ways by its length
factor. Compiled here is only, for each place, the places its ways can end at (those within A steps, by the
fewest steps, markers costing none) with that number of steps, which the engine uses to find the ways to one
end again without walking the others (`refuge.sim.mechanisms.network.ways`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WAY_ENDS = 20_000_000  # (place, end) pairs within reach of all places together: past this, refused


@dataclass
class Ways:
    """Where the ways out of each place end: place l's ends are end[way_ptr[l]:way_ptr[l+1]] (ascending), each
    `hops[o]` steps away at the fewest; origins[origin_ptr[l]:origin_ptr[l+1]] are the places with a way ending
    at l (whose weights change when l fills up), `origin_hops` their fewest steps to l. `depth` is the awareness
    and `width` the most routes a way can have (depth, and a route more for each marker passed)."""

    way_ptr: np.ndarray
    end: np.ndarray
    hops: np.ndarray
    origin_ptr: np.ndarray
    origins: np.ndarray
    depth: int = 0
    width: int = 0
    origin_hops: np.ndarray | None = None  # the fewest steps from each of `origins` (None: no ways)


def no_ways(L: int) -> Ways:
    """The table of a network without look-ahead (awareness 0 or 1, no marker): empty."""
    z = np.zeros(0, np.int64)
    return Ways(np.zeros(L + 1, np.int64), z, z, np.zeros(L + 1, np.int64), z)


def reach(L: int, link_from: np.ndarray, link_to: np.ndarray, depth: int, marker: np.ndarray | None = None) \
        -> Ways | str:
    """The places the ways of 1 to `depth` steps out of each place can end at, with the fewest steps to each
    (breadth first over the routes, all places at once as sparse products); a message instead when there are
    too many. A shortest way passes no place twice, so every place within `depth` steps is the end of a way."""
    import scipy.sparse as sp

    if marker is None:
        marker = np.zeros(L, bool)
    adj = sp.csr_matrix((np.ones(link_from.size, np.int8), (link_from, link_to)), shape=(L, L))
    adj.data[:] = 1
    to_marker = (adj @ sp.diags(marker.astype(np.int8), dtype=np.int8)).tocsr()
    to_place = (adj @ sp.diags((~marker).astype(np.int8), dtype=np.int8)).tocsr()
    hops = sp.identity(L, np.int32, format="csr")  # hops + 1 of every pair within reach (0: not yet)
    seen = _through_markers(sp.identity(L, np.int8, format="csr"), to_marker)
    hops = _stamp(hops, seen, 1)
    for step in range(1, depth + 1):
        seen = _through_markers(((seen + seen @ to_place) > 0).astype(np.int8), to_marker)
        hops = _stamp(hops, seen, step + 1)
        if seen.nnz > MAX_WAY_ENDS:
            return f"{seen.nnz:,} places within {step} routes of some place, counted over all places"
    hops = hops.tocsr()
    hops.setdiag(0)
    hops = hops @ sp.diags((~marker).astype(np.int32), dtype=np.int32)  # no way ends at a marker (nor where it started)
    hops.eliminate_zeros()
    hops = hops.tocsr()
    hops.sort_indices()
    back = hops.T.tocsr()
    back.sort_indices()
    return Ways(hops.indptr.astype(np.int64), hops.indices.astype(np.int64), (hops.data - 1).astype(np.int64),
                back.indptr.astype(np.int64), back.indices.astype(np.int64), depth,
                depth + int(min(marker.sum(), L)), (back.data - 1).astype(np.int64))


def _through_markers(seen, to_marker):
    """`seen` and every place reached from it through markers only (entering a marker is no step)."""
    while True:
        more = ((seen + seen @ to_marker) > 0).astype(np.int8)
        if more.nnz == seen.nnz:
            return more
        seen = more


def _stamp(hops, seen, value):
    """`hops` with `value` written where `seen` reaches a pair for the first time."""
    new = (seen.astype(np.int32) - (hops > 0).astype(np.int32))
    new.data[new.data < 0] = 0
    new.eliminate_zeros()
    return hops + new * value
