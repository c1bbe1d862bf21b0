"""A backtest's figure (forecast.png): per series, the runs' median and 90% band in sample and ahead of the cut,
the data, and the cut; and the axis format the rolling figures share (`thousands`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def thousands(ax: Any) -> None:
    """Counts on a figure's y axis with thousands separators (12,000, not 12000 or 1.2e4)."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def fitted_label(bt: Any) -> str:
    """How a backtest's runs were fitted, in words: "posterior" (ABC-SMC) or "fitted" (a search)."""
    return "posterior" if bt.method == "posterior" else "fitted"


def plot(bt: Any, path: Path) -> Path:
    """Per series: the median and 90% band of the runs at the data points and beyond, the data, the cut."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from refuge.results.files import save_figure

    fitted = fitted_label(bt)
    names = list(dict.fromkeys(bt.points["series"]))
    fig, axes = plt.subplots(len(names) or 1, 1, figsize=(8, 3.2 * max(len(names), 1)), squeeze=False)
    cols = ["date", "median", "low", "high"]
    for ax, name in zip(axes[:, 0], names):
        pts = bt.points[bt.points["series"] == name]
        fc = bt.forecast[bt.forecast["series"] == name]
        # a count over a period is drawn at the period's middle (a year's count dated 31 December sits inside its
        # year on the axis, not at the next year's tick)
        shift = pd.Timedelta(days=bt.periods.get(name, 0) / 2)
        train = pts[pts["split"] == "train"]
        held = pts[pts["split"] == "test"][cols]
        ahead = pd.concat([held, fc[cols]]) if len(fc) else held
        if len(train) and len(ahead) and bt.summary.get("start") == "observed":  # the forecast starts at the count
            last = train.iloc[-1]
            ahead = pd.concat([pd.DataFrame([{"date": last["date"], "median": last["data"], "low": last["data"],
                                              "high": last["data"]}]), ahead])
        for part, color, label in ((train[cols], "tab:blue", f"{fitted} runs, in sample"),
                                   (ahead, "tab:orange", "forecast")):
            if not len(part):
                continue
            part = part.astype({"median": float, "low": float, "high": float})
            x = pd.to_datetime(part["date"]) - shift
            ax.fill_between(x, part["low"], part["high"], alpha=0.3, color=color, label=f"{label}: 90% band")
            if len(x) == 1:  # a lone point has no band to fill: its interval as an error bar
                m = part["median"]
                ax.errorbar(x, m, [m - part["low"], part["high"] - m], color=color, capsize=4)
            ax.plot(x, part["median"], color=color, label=f"{label}: median")
        ax.plot(pd.to_datetime(pts["date"]) - shift, pts["data"], "o", color="black", label="data")
        if pd.Timestamp(bt.until) <= pd.to_datetime(pts["date"]).max() or len(fc):
            ax.axvline(pd.Timestamp(bt.until), color="tab:red", ls="--", label=f"trained up to {bt.until}")
            ax.set_title(name)
        else:
            ax.set_title(f"{name} (every point trained on)")
        ax.set_ylabel(bt.units.get(name, "people"), fontsize=8)
        thousands(ax)
        ax.legend(fontsize=7, loc="upper left")
    return save_figure(fig, path)
