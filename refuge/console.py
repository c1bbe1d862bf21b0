"""Tables for people, readable at any width: a rich table when it fits the console (the terminal's width, or
80 columns when piped to a file); else the same table without borders, one line a row, when that fits; else
each row as a heading and its other columns as `name: value` lines (or a layout the caller gives)."""

from __future__ import annotations

from typing import Any

STACK_SEPARATOR = " · "


def fits(table: Any, console: Any) -> bool:
    """Whether a rich table fits the console without wrapping a cell."""
    from rich.measure import Measurement

    wide = console.options.update_width(10_000)  # measured unconstrained: its natural width
    return Measurement.get(console, wide, table).maximum <= console.width


def print_table(table: Any, console: Any = None, stacked: Any = None) -> None:
    """Print a rich table as it is when it fits the console, else one line a row without borders when that
    fits, else stacked: by `stacked()` when given, else a heading per row (see the module docstring)."""
    from rich.console import Console

    console = console or Console()
    if fits(table, console):
        console.print(table)
        return
    if _borderless(table, console):
        return
    if stacked is not None:
        stacked()
        return
    from rich.padding import Padding
    from rich.text import Text

    if table.title:
        console.print(Text.from_markup(str(table.title), style="bold"))
    columns = table.columns
    headers = [str(c.header) for c in columns]
    cells = [list(c.cells) for c in columns]
    for r in range(table.row_count):
        console.print(Text.from_markup(str(cells[0][r])) if isinstance(cells[0][r], str) else cells[0][r])
        parts = Text()
        for k in range(1, len(columns)):
            value = cells[k][r]
            text = Text.from_markup(value) if isinstance(value, str) else Text(str(value))
            if k > 1:
                parts.append(STACK_SEPARATOR)
            parts.append(f"{headers[k]}: ", style="dim")
            parts.append(text)
        console.print(Padding(parts, (0, 0, 0, 2), expand=False))


def _borderless(table: Any, console: Any) -> bool:
    """Print the table without borders or cell padding, one line a row, if that fits; whether it was printed."""
    from rich.text import Text

    box, padding, edge = table.box, table.padding, table.show_edge
    table.box, table.padding, table.show_edge = None, (0, 1, 0, 0), False
    title, table.title = table.title, None
    try:
        if not fits(table, console):
            return False
        if title:
            console.print(Text.from_markup(str(title), style="bold"))
        console.print(table)
        return True
    finally:
        table.box, table.padding, table.show_edge, table.title = box, padding, edge, title
