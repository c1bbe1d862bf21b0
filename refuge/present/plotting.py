"""The report's drawing style: colours, panel grids, bands, titles and legends (matplotlib, imported lazily)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np

from refuge.present.cache import summaries
from refuge.present.titles import _wrap

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies; no red against green).
# The baseline is drawn in black, dashed, on top of the variants: visible even where a variant coincides with it.
BASELINE_COLOR = "#000000"
DATA_COLOR = "#D55E00"  # observed data against the runs (time series)
COLORS = ["#0072B2", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#009E73", "#F0E442"]
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHADE_MOST, SHADE_SOME = "#e8d77a", "#f7efc4"  # closures: pale sand, neither a variant's colour nor the baseline grey
MAX_PANELS = 30  # beyond this, a grid is unreadable: the report shows the largest members
MAX_FLOW_PANELS = 18


@dataclass
class Figure:
    """One figure of the report: its name (an anchor), title, caption and PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes
    panels: tuple[str, ...] = ()  # each panel's title, in order
    key: list[tuple[str, str]] = field(default_factory=list)  # (panel title, its description), for the caption

    @property
    def data_uri(self) -> str:
        """The PNG as a `data:` URI, so the HTML file stands alone."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _grid(n: int, cols: int = 3, w: float = 4.2, h: float = 2.9, xlabel: bool = False):
    """A grid of panels with fixed margins (in inches): room for a legend on top, two-line titles and tick labels
    between panels. Fixed margins, not a layout engine: the figures of a long scenario draw twice as fast."""
    import matplotlib.pyplot as plt

    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    top, bottom, left, right, gap_x, gap_y = 0.95, 0.45 + 0.2 * xlabel, 0.8, 0.15, 0.8, 0.85 + 0.2 * xlabel
    width, height = w * cols, h * rows + top
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    panel_w = (width - left - right - gap_x * (cols - 1)) / cols
    panel_h = (height - top - bottom - gap_y * (rows - 1)) / rows
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height,
                        wspace=gap_x / panel_w, hspace=gap_y / panel_h)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _png(fig) -> bytes:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _color(k: int) -> str:
    return BASELINE_COLOR if k == 0 else COLORS[(k - 1) % len(COLORS)]


def _band(ax, dates, q: np.ndarray, k: int, label: str, alone: bool = False) -> None:
    """Median line over the central 50% and 90% bands; the baseline (k = 0) grey bands, a black dashed line on top.
    A variant `alone` in its experiment is drawn in colour, with a solid line."""
    if alone:
        k = 1
    color = _color(k)
    fill = "#7f7f7f" if k == 0 else color
    ax.fill_between(dates, q[0], q[4], color=fill, alpha=0.13, lw=0)
    ax.fill_between(dates, q[1], q[3], color=fill, alpha=0.25, lw=0)
    ax.plot(dates, q[2], color=color, lw=1.3 if k == 0 else 1.5, ls=(0, (4, 2)) if k == 0 else "-",
            label=label, zorder=4 if k == 0 else 3)


def _style(ax, title: str, ylabel: str = "people") -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    _title(ax, title)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7.5)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.grid(alpha=0.25, lw=0.5)
    ax.set_ylim(bottom=0)
    _empty(ax)


def _empty(ax) -> None:
    """A panel whose lines are all zero gets a 0-to-1 axis and says so, not an axis to 0.045."""
    if ax.dataLim.y1 <= 0:
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.55, "nobody here in any run", transform=ax.transAxes, ha="center", va="center",
                fontsize=8.5, color="#555555")


def _title(ax, text: str) -> None:
    """A panel's title, wrapped to two lines. Placed at the top of the panel (no ticks or labels there), which
    spares matplotlib its search for room above the ticks at every draw (a sixth of a figure's time)."""
    ax.set_title(_wrap(text), fontsize=9.5, y=1.0)


def _legend(fig, axes, n_variants: int, extra: list | None = None) -> None:
    """One legend for the whole figure, above its panels."""
    handles, labels = axes[0].get_legend_handles_labels()
    for h, lab in extra or []:
        handles.append(h)
        labels.append(lab)
    if n_variants > 1 or extra:
        fits = max(1, int(fig.get_figwidth() / 2.4))  # legend entries that fit on one line
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(labels), fits),
                   fontsize=8.5, frameon=False)


def _dates(exp, summary) -> np.ndarray:
    return exp.dates.values[summary.sample]


def _largest(exp, what: str, names: list[str]) -> list[str]:
    """The members with the largest medians, in declaration order, when there are too many to draw."""
    if len(names) <= MAX_PANELS:
        return names
    base = summaries(exp)[exp.variants[0]]
    peaks = {n: float(base.bands[f"{what}:{n}"][2].max()) if f"{what}:{n}" in base.bands else 0.0 for n in names}
    keep = set(sorted(names, key=lambda n: -peaks[n])[:MAX_PANELS])
    return [n for n in names if n in keep]

BANDS_TEXT = ("Line: median over runs (the baseline black and dashed, drawn over the variants, its bands grey); "
              "dark band: the central 50% of runs; light band: the central 90%.")
