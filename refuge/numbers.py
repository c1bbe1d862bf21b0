"""Numbers as refuge computes and prints them, each done once: a weighted quantile, a central interval, and
one way to write a number and an interval for people (`12 [3, 40]`, `+1.5 [-0.2, +3.1]`)."""

from __future__ import annotations

import math
from typing import Any, Sequence

DASH = "–"  # what a missing value prints as


def weighted_quantile(x: Sequence[float], weights: Sequence[float], q: float | Sequence[float]) -> Any:
    """Quantile(s) of `x` with `weights` (the inverse of the weighted empirical CDF). NaN without weight."""
    import numpy as np  # here, not at the top: the command line imports this module for `num`

    x, w = np.asarray(x, float), np.asarray(weights, float)
    if not len(x) or w.sum() <= 0:
        return np.full(np.shape(q), np.nan) if np.ndim(q) else math.nan
    out = np.quantile(x, q, weights=w, method="inverted_cdf")
    return float(out) if np.ndim(out) == 0 else out


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 rule`, `2 rules` (`many` when the plural is not the word with an s)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def central(level: float) -> tuple[float, float]:
    """The quantiles that bound a central interval: 0.90 -> (0.05, 0.95)."""
    return (1 - level) / 2, 1 - (1 - level) / 2


def num(x: Any, signed: bool = False) -> str:
    """A number for people: whole numbers (and anything from 100 up) with thousands separators, one decimal from
    10 up, three significant digits below; `–` for a missing value; a sign when `signed`."""
    if x is None:
        return DASH
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(v):
        return DASH
    if math.isinf(v):
        text = "∞" if v > 0 else "-∞"
    elif abs(v) >= 99.95 or (v == round(v) and abs(v) < 1e15):
        text = f"{v:,.0f}"
    elif abs(v) >= 9.995:
        text = f"{v:,.1f}"
    else:
        text = f"{v:.3g}"
    if text.lstrip("-").strip("0.,") == "":
        text = "0"
    return "+" + text if signed and text != "0" and not text.startswith("-") else text


def interval(low: Any, high: Any, signed: bool = False) -> str:
    """`[low, high]`: the one way an interval is written."""
    return f"[{num(low, signed)}, {num(high, signed)}]"


def band(median: Any, low: Any, high: Any, signed: bool = False) -> str:
    """`median [low, high]`: a median with its interval."""
    return f"{num(median, signed)} {interval(low, high, signed)}"


def json_ready(obj: Any) -> Any:
    """The same structure with NumPy scalars as Python ones and NaN as None, for `json.dumps`."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if math.isnan(obj) else float(obj)
    return obj
