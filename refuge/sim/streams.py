"""Random streams: one per decision, keyed by the run seed, the decision's name and the day (common random
numbers that stay aligned).

Every random decision of a run has a stream of its own: each transition (whether people leave by it; the
split among its targets; the sizes of the groups that take it; the time in state it gives), each state's
constant-rate exits for people counted one by one (whether a unit leaves today, and by which exit), each
arrival stream and event (how many come; the sizes of their groups). A decision is known by a stable hash
of its name (`transition:NAME/split`, ...), not by its position, so adding or reordering decisions leaves the
others' numbers alone.

The generator is counter-based: the k-th uniform a decision draws on day t is a hash of (seed, decision, t, k).
On each day a decision starts again from k = 0, so a change to one decision (a rate, one more person in a
queue) never shifts the numbers another decision draws, nor its own numbers on later days. The hash is
splitmix64's output function (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014; the finaliser constants are Stafford's "Mix13"): a decision's key for the day is the hash of its
name's hash xor the day's key, and its k-th number is the hash of key + (k + 1) x the golden-ratio increment,
which is splitmix64's own sequence started from that key. Its 53 high bits give a uniform in (0, 1).

`uniform` is the Numba version the fast engine's steps call; `Streams` is the plain-Python twin the reference
engine uses (the same numbers for the same seed key, decision, day and counter; `tests/test_streams.py` checks
it). The route network keeps one stream of its own (`network_stream`), a child of the run seed.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit

from refuge.sim.declare import Array, Mechanism

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio, odd: splitmix64's increment
M1, M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # Stafford's Mix13 multipliers
REFERENCE_SALT = 0x5EF0_5EF0_5EF0_5EF0  # the reference engine's seed key differs from the fast engine's

# What each transition, state and arrival stream decides, in the order of their columns in `dec_trans`, ...
TRANSITION_DECISIONS = ("leave", "split", "group", "duration")
ARRIVAL_DECISIONS = ("count", "group")
LEAVE, SPLIT, GROUP, DURATION = range(len(TRANSITION_DECISIONS))  # columns of `dec_trans`
COUNT, ARRIVAL_GROUP = range(len(ARRIVAL_DECISIONS))  # columns of `dec_arr`


def mix_int(z: int) -> int:
    """splitmix64's output function on a Python int (taken modulo 2^64)."""
    z &= MASK
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def name_key(name: str) -> int:
    """A stable 64-bit key of a decision's name (not Python's salted `hash`)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def seed_key(seed: int, salt: int = 0) -> int:
    """The run's key from its seed (any whole number, taken modulo 2^64)."""
    return mix_int(mix_int(int(seed) & MASK) ^ salt)


def day_key(key: int, t: int) -> int:
    """The key of day `t` (-1: the placing of the people there at the start) of a run of key `key`."""
    return mix_int((key + (t + 2) * GOLDEN) & MASK)


def _unique(names: list[str]) -> list[str]:
    """Names made unique by their occurrence (`x`, `x#2`, ...), so two decisions never share a stream."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def decision_names(m: Any) -> list[str]:
    """Every decision of a model, in the order of their rows: states, then transitions, then arrivals."""
    out = [f"state:{n}" for n in _unique(list(m.state_names))]
    out += [f"transition:{n}/{d}" for n in _unique(list(m.transition_names)) for d in TRANSITION_DECISIONS]
    out += [f"arrival:{n}/{d}" for n in _unique(list(m.arrival_names)) for d in ARRIVAL_DECISIONS]
    return out


def stream_base(m: Any) -> np.ndarray:
    """The key of each decision's name, by row (`decision_names`)."""
    return _keys(tuple(decision_names(m))).copy()


@lru_cache(maxsize=64)
def _keys(names: tuple[str, ...]) -> np.ndarray:
    return np.array([name_key(n) for n in names] or [0], np.uint64)


def dec_state(m: Any) -> np.ndarray:
    """The row of each state's decision (its constant-rate exits, for people counted one by one)."""
    return np.arange(len(m.state_names), dtype=np.int64)


def dec_trans(m: Any) -> np.ndarray:
    """The rows of each transition's decisions (`TRANSITION_DECISIONS`), at least one row of them."""
    S, J, k = len(m.state_names), len(m.transition_names), len(TRANSITION_DECISIONS)
    return (S + np.arange(max(J, 1) * k, dtype=np.int64)).reshape(max(J, 1), k)


def dec_arr(m: Any) -> np.ndarray:
    """The rows of each arrival stream's (and event's) decisions (`ARRIVAL_DECISIONS`)."""
    S, J, A, k = len(m.state_names), len(m.transition_names), len(m.arrival_names), len(ARRIVAL_DECISIONS)
    first = S + J * len(TRANSITION_DECISIONS)
    return (first + np.arange(A * k, dtype=np.int64)).reshape(A, k)


def _decisions(m: Any) -> int:
    return len(_keys(tuple(decision_names(m))))


DECL = Mechanism(
    "random streams",
    spec=("stream_base", "dec_state", "dec_trans", "dec_arr"),
    derive={"stream_base": stream_base, "dec_state": dec_state, "dec_trans": dec_trans, "dec_arr": dec_arr},
    dims={"D": _decisions},
    world=(Array("rng_seed", "2", "u8", doc="the run's key (from its seed) and today's key"),
           Array("rng_key", "D", "u8", doc="each decision's key for today (set at its first draw of the day)"),
           Array("rng_ctr", "D", doc="uniforms each decision has drawn today")),
)


# --- the fast engine's generator (Numba) ------------------------------------------------------------------------------

_M1, _M2, _GOLDEN = np.uint64(M1), np.uint64(M2), np.uint64(GOLDEN)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def mix(z):
    """splitmix64's output function (uint64 in, uint64 out; arithmetic modulo 2^64)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def start_streams(t, w):
    """Day `t` begins (-1: placing the people there at the start): every decision starts its count again."""
    w.rng_seed[1] = mix(w.rng_seed[0] + np.uint64(t + 2) * _GOLDEN)
    w.rng_ctr[:] = 0


@njit(cache=True, inline="always")
def uniform(m, w, d):
    """The next uniform in (0, 1) of decision `d` today."""
    c = w.rng_ctr[d]
    if c == 0:
        w.rng_key[d] = mix(m.stream_base[d] ^ w.rng_seed[1])
    w.rng_ctr[d] = c + 1
    x = mix(w.rng_key[d] + np.uint64(c + 1) * _GOLDEN)
    return (np.float64(x >> _S11) + 0.5) * _TWO_M53


# --- the reference engine's twin (plain Python and NumPy) -------------------------------------------------------------


class Streams:
    """The same generator in plain Python: `uniform(d)` and `uniforms(d, n)` of decision `d` on the current day
    (`day(t)`), numbered as the fast engine numbers them."""

    def __init__(self, base: np.ndarray, key: int):
        self.base = [int(b) for b in base]
        self.key = key
        self.ctr = [0] * len(self.base)
        self.dkey = [0] * len(self.base)
        self.day(-1)

    def day(self, t: int) -> None:
        """Day `t` begins: every decision starts its count again."""
        self.today = day_key(self.key, t)
        self.ctr = [0] * len(self.base)

    def _key(self, d: int) -> int:
        if self.ctr[d] == 0:
            self.dkey[d] = mix_int(self.base[d] ^ self.today)
        return self.dkey[d]

    def uniform(self, d: int) -> float:
        """The next uniform in (0, 1) of decision `d`."""
        key, c = self._key(d), self.ctr[d]
        self.ctr[d] = c + 1
        return ((mix_int(key + (c + 1) * GOLDEN) >> 11) + 0.5) * _TWO_M53

    def uniforms(self, d: int, n: int) -> np.ndarray:
        """The next `n` uniforms of decision `d`, as an array (NumPy's uint64 arithmetic wraps modulo 2^64)."""
        key, c = self._key(d), self.ctr[d]
        self.ctr[d] = c + n
        z = np.uint64(key) + np.arange(c + 1, c + n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(M2)
        z ^= z >> np.uint64(31)
        return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_M53


def network_stream(seed: int) -> np.random.Generator:
    """The route network's stream, a child of the run seed (its own, whatever the other decisions draw)."""
    child = np.random.SeedSequence(int(seed)).spawn(6)[-1]
    return np.random.Generator(np.random.PCG64(child))


def keyed_normals(seed: int, name: str, n: int) -> np.ndarray:
    """`n` standard normals drawn before the run from the stream of the decision `name` (a drifting parameter's
    walk: `drift:NAME`), keyed like every other decision by the run seed and the name, on day -1 (Box and
    Muller's transform of its uniforms): declaring one more keyed draw changes no other number of the run."""
    u = Streams(np.array([name_key(name)], np.uint64), seed_key(seed)).uniforms(0, 2 * max(n, 0))
    return np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2.0 * np.pi * u[1::2])
