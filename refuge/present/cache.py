"""Data that figures and tables share, read from the experiment once per report."""

from __future__ import annotations

import weakref
from typing import Any

_CACHE: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _once(exp, key: str, compute):
    store = _CACHE.setdefault(exp, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def summaries(exp: Any) -> dict:
    """{variant: VariantSummary}: every file of the experiment read once (see refuge.present.summary)."""
    from refuge.present.summary import summarise

    return _once(exp, "summaries", lambda: {v: summarise(exp, v) for v in exp.variants})
