"""Random streams: one generator per mechanism, each a fixed child of the run seed."""

from __future__ import annotations

import hashlib

import numpy as np

STREAMS = ("arrivals", "departures", "durations", "splits", "groups")


def streams(seed: int) -> list[np.random.Generator]:
    """One generator per mechanism, each a fixed child of the run seed (common random numbers)."""
    root = np.random.SeedSequence(int(seed))
    return [np.random.Generator(np.random.PCG64(c)) for c in root.spawn(len(STREAMS))]


def network_stream(seed: int) -> np.random.Generator:
    """The route network's stream: the next child of the run seed after those of STREAMS, so adding a
    network leaves every other mechanism's numbers unchanged."""
    child = np.random.SeedSequence(int(seed)).spawn(len(STREAMS) + 1)[-1]
    return np.random.Generator(np.random.PCG64(child))


def keyed_stream(seed: int, name: str) -> np.random.Generator:
    """A stream of the run seed keyed by a name (a drifting parameter's): its draws depend on the seed and the
    name only, so declaring one more keyed draw changes no other number of the run."""
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(seed), key])))
