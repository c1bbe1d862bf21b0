"""Engines: the fast kernel (`refuge.engine.kernel`), the per-person reference (`refuge.engine.reference`)
and the random streams they share (`refuge.engine.streams`).

Numba's disk cache (`cache=True`) checks only the source file of each compiled function, yet a function
carries the code of those it calls from other files: the kernel's `run_days` holds the route network's step
(`network.py`) and the structures of `world.py`. So that an edit to any engine file can never run with stale
compiled code, the cache of this package is emptied whenever the engine's sources change (a digest of them is
kept beside it); the next run compiles again (about a minute, once).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _drop_stale_cache() -> None:
    if os.environ.get("NUMBA_CACHE_DIR"):  # a cache elsewhere is the user's to manage
        return
    here = Path(__file__).parent
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))).hexdigest()
    cache = here / "__pycache__"
    stamp = cache / "engine-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:  # no digest yet: whatever is cached is of unknown sources
        pass
    try:
        for f in cache.glob("*.nb[ic]"):
            f.unlink(missing_ok=True)
    except OSError:  # a cache this user cannot change: Numba copes
        pass
    try:
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass


_drop_stale_cache()
