"""The simulation core, by mechanism.

    declare.py          how a mechanism declares its model arrays, run arrays and results (once)
    layout.py           the declarations joined: the engine's Spec and World, a run's results by name
    day.py              the day: the mechanisms' steps in order, written out once (its docstring is the spec)
    run.py              one run of the fast engine (tables that grow, results collected by name)
    reference.py        the same day person by person, in plain Python (the proof of the fast engine)
    invariants.py       what every run of either engine must satisfy
    streams.py          the random streams: one per decision, keyed by seed, name and day (and a Python twin)
    variates.py         exact binomial, Poisson, normal, exponential and gamma draws from a decision's stream
    hooks.py            the hooks through which a mechanism acts within another's step, from the declarations
    mechanisms/         one module (or folder) per mechanism: its declaration, its Numba steps, its reference
                        steps: parameters, rules, sites, queues, the service order, arrivals (and events),
                        moves, counted states, tracked stays, the route network
    borrow.py, tables.py   Numba plumbing (borrowed arrays, structrefs) and the engine's table constants

`docs/architecture.md` walks through it and through adding a mechanism.

Numba's disk cache (`cache=True`) checks only the source file of each compiled function, yet a function
carries the code of those it calls from other files: `day.run_days` holds every mechanism's steps. So that an
edit to any source of the core can never run with stale compiled code, the core's caches are emptied whenever
its sources change (a digest of them is kept beside the top one); the next run compiles again (a minute, once).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _drop_stale_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):  # a cache elsewhere is the user's to manage
        return
    here = Path(__file__).parent
    sources = sorted(here.rglob("*.py"))
    digest = hashlib.sha256(b"".join(str(p.relative_to(here)).encode() + p.read_bytes() for p in sources))
    stamp = here / "__pycache__" / "sim-sources.sha256"
    try:
        if stamp.read_text() == digest.hexdigest():
            return
    except OSError:  # no digest yet: whatever is cached is of unknown sources
        pass
    for cache in {p.parent / "__pycache__" for p in sources}:
        try:
            for f in cache.glob("*.nb[ic]"):
                f.unlink(missing_ok=True)
        except OSError:  # a cache this user cannot change: Numba copes
            pass
    try:
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:
        pass


_drop_stale_cache()
