"""A self-contained HTML report of an experiment: figures with bands, evidence, parameters and sources.

`write_report(experiment)` writes `report.html` (figures embedded as base64 PNG, so the
one file can be mailed or archived) and the same figures as PNG files beside it.
Bands are the median with the central 50% and 90% of runs. The figures are in `refuge.present.figures`, the
tables in `refuge.present.tables`, the drawing style in `refuge.present.plotting`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from refuge.numbers import band, interval
from refuge.present.cache import summaries
from refuge.present.figures import (
    FIGURE_NAMES,
    SERIES_LEVEL,
    make_figures,
    series_rows,
)
from refuge.present.plotting import QUANTILES, Figure, _color
from refuge.present.tables import (
    _g,
    _num,
    evidence_rows,
    flows_year_table,
    parameters_table,
    rules_table,
    site_time_rows,
    sites_table,
    waits_table,
)
from refuge.present.titles import Titles, with_unit

__all__ = ["write_report", "Figure", "make_figures", "render", "Titles", "summaries", "QUANTILES",
           "parameters_table", "waits_table", "sites_table", "flows_year_table", "series_rows"]


def write_report(experiment: Any, out: str | Path | None = None) -> Path:
    """Write the HTML report of an experiment (a directory or an Experiment); return its path."""
    from refuge.experiments.store import Experiment
    from refuge.results.files import atomic_write

    exp = experiment if isinstance(experiment, Experiment) else Experiment(experiment)
    if not any(exp.finished(v) for v in exp.variants):
        from refuge.errors import RefugeError

        raise RefugeError(f"{exp.path}: no finished runs to report; run the ensemble first")
    damaged = exp.cut_short()  # the report reads the runs' summaries, not every file: a quick look at the rest
    if damaged:
        from refuge.errors import RefugeError

        raise RefugeError(f"{exp.path}: {len(damaged)} run file{'s' if len(damaged) > 1 else ''} damaged since "
                          f"written (e.g. {damaged[0].relative_to(exp.path)}: cut short or overwritten); run the "
                          "same command again to recompute damaged runs")
    out = Path(out) if out is not None else exp.path / "report.html"
    figures = make_figures(exp)
    fig_dir = out.with_name(out.stem + "-figures")
    for f in figures:
        atomic_write(fig_dir / f"{f.name}.png", lambda p, f=f: p.write_bytes(f.png))
    page = render(exp, figures)
    atomic_write(out, lambda p: p.write_text(page, encoding="utf-8"))
    return out


def page_context(exp: Any) -> dict:
    """Everything the report's page shows but its figures: the tables and what was run."""
    import refuge
    from refuge.evidence.outcomes import outcome_counts
    from refuge.experiments.compare import differences
    from refuge.inference.backtest_posterior import report_section as backtest_section
    from refuge.inference.outputs import report_section

    meta = exp.meta
    sc = exp.scenario
    finished = {v: len(exp.finished(v)) for v in exp.variants}
    diffs = differences(exp).to_dict("records") if len(exp.variants) > 1 else []
    return dict(
        title=sc.title or sc.name, scenario=sc, meta=meta, finished=finished, exp=exp,
        variants=meta["variants"], complete=exp.complete,
        summary=[(with_unit(rows.label.iloc[0], rows.unit.iloc[0]), rows.to_dict("records"))
                 for _, rows in exp.summary().groupby("outcome", sort=False)],
        differences=diffs, evidence=evidence_rows(exp),
        waits=waits_table(exp), flows_year=flows_year_table(exp), sites=sites_table(exp), series=series_rows(exp),
        rules=rules_table(exp), needs=any(s.supplies for s in sc.sites),
        series_level=SERIES_LEVEL,
        outcomes=[(o["label"], o["unit"], outcome_counts(o)) for o in exp.model().outcomes],
        parameters=parameters_table(exp), version=refuge.__version__,
        references=[(key, ref.model_copy(update={"url": ""}).citation(), ref.url) for key, ref in sc.sources.items()],
        calibration=report_section(exp),
        backtest=backtest_section(exp),
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        until=meta.get("until") or str(sc.end), colors={v: _color(k) for k, v in enumerate(exp.variants)},
    )


def render(exp: Any, figures: list[Figure], context: dict | None = None) -> str:
    """The report's HTML for an Experiment and its figures (and its `page_context`, when already made)."""
    import jinja2

    template_text = (Path(__file__).parent / "report_template.html").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["num"] = _num
    env.filters["g"] = _g
    env.globals["with_unit"] = with_unit
    env.globals["site_time_rows"] = site_time_rows
    env.globals.update(band=band, interval=interval)  # one interval style: `median [low, high]`
    env.filters["basename"] = lambda p: Path(str(p)).name  # the report is mailed around: no paths of this machine
    context = context if context is not None else page_context(exp)
    return env.from_string(template_text).render(
        **context, figures={name: None for name in FIGURE_NAMES} | {f.name: f for f in figures})
