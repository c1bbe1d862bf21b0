"""Routes of several steps for look-ahead route choice (`awareness` 2 and more, as Flee defines it).

With an awareness of A, someone deciding where to go weighs every way out of their place that passes no place
twice and has 1 to A steps (each step a route of the network); the weight of such a way is Flee's weight of
its last place, over the softened length of the whole way. The ways out of each place are fixed by the network's
routes (closures only make some of them unusable on some days), so they are listed once here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WAY_STEPS = 20_000_000  # steps of all the ways listed together: a network and awareness past this is refused


@dataclass
class Ways:
    """The ways out of each place: place l's are ways way_ptr[l] .. way_ptr[l+1]-1; way o's routes (links, in
    order) are links[link_ptr[o]:link_ptr[o+1]]; it ends at end[o]. origins[origin_ptr[l]:origin_ptr[l+1]] are the
    places with a way ending at l (whose weights change when l fills up)."""

    way_ptr: np.ndarray
    link_ptr: np.ndarray
    links: np.ndarray
    end: np.ndarray
    origin_ptr: np.ndarray
    origins: np.ndarray


def no_ways(L: int) -> Ways:
    """The table of a network without look-ahead (awareness 0 or 1): empty."""
    z = np.zeros(1, np.int64)
    return Ways(np.zeros(L + 1, np.int64), z, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(L + 1, np.int64),
                np.zeros(0, np.int64))


def list_ways(L: int, adj_ptr: np.ndarray, adj_link: np.ndarray, link_to: np.ndarray, depth: int,
              marker: np.ndarray | None = None) -> Ways | str:
    """Every way of 1 to `depth` steps out of each place that passes no place twice, in the order of a depth-first
    walk over each place's routes (a way, then the ways that extend it); a message instead when they are too
    many. A marker (Flee's `marker` location, `marker[l]`) is passed through: no way ends there and it is not
    counted as a step."""
    if marker is None:
        marker = np.zeros(L, bool)
    way_ptr = [0]
    link_ptr = [0]
    links: list[int] = []
    end: list[int] = []
    by_end: list[set[int]] = [set() for _ in range(L)]
    for origin in range(L):
        on_path = [False] * L
        on_path[origin] = True
        path: list[int] = []
        # depth-first, without recursion: a stack of (place, next adjacency slot to try, steps to it)
        stack = [(origin, int(adj_ptr[origin]), 0)]
        while stack:
            here, j, steps = stack[-1]
            if j >= adj_ptr[here + 1]:
                stack.pop()
                if path:
                    on_path[int(link_to[path.pop()])] = False
                continue
            stack[-1] = (here, j + 1, steps)
            k = int(adj_link[j])
            nxt = int(link_to[k])
            if on_path[nxt]:
                continue
            path.append(k)
            if not marker[nxt]:
                links.extend(path)
                link_ptr.append(len(links))
                end.append(nxt)
                by_end[nxt].add(origin)
                if len(links) > MAX_WAY_STEPS:
                    return (f"{MAX_WAY_STEPS:,} steps of the ways of at most {depth} routes out of every place "
                            "(lower the awareness)")
            if marker[nxt] or steps + 1 < depth:
                on_path[nxt] = True
                stack.append((nxt, int(adj_ptr[nxt]), steps + (0 if marker[nxt] else 1)))
            else:
                path.pop()
        way_ptr.append(len(end))
    origin_ptr = np.zeros(L + 1, np.int64)
    origin_ptr[1:] = np.cumsum([len(s) for s in by_end])
    origins = np.array([o for s in by_end for o in sorted(s)], np.int64)
    return Ways(np.array(way_ptr, np.int64), np.array(link_ptr, np.int64), np.array(links, np.int64),
                np.array(end, np.int64), origin_ptr, origins)
