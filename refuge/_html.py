"""Small HTML pieces for notebook displays (`_repr_html_` of models, runs and experiments)."""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Sequence


def html_table(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], note: str = "") -> str:
    """A titled table; numbers are right-aligned. Everything is escaped."""
    def cell(x: Any, tag: str) -> str:
        align = ' style="text-align:right"' if isinstance(x, (int, float)) and not isinstance(x, bool) else ""
        text = f"{x:,}" if isinstance(x, int) and not isinstance(x, bool) else str(x)
        return f"<{tag}{align}>{escape(text)}</{tag}>"

    head = "".join(cell(h, "th") for h in header)
    body = "".join("<tr>" + "".join(cell(x, "td") for x in row) + "</tr>" for row in rows)
    extra = f"<p>{escape(note)}</p>" if note else ""
    return f"<div><strong>{escape(title)}</strong>{extra}<table><tr>{head}</tr>{body}</table></div>"
