"""What the page of `refuge app` offers to download besides the scenario: the runs' results and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.present.app_change import Change, changed_data, page_values

# --- downloads ------------------------------------------------------------------------------------------------


def results_table(session: Any) -> Any:
    """One row per run of the last ensemble and of the baseline: outcomes and evidence measures (pandas)."""
    import pandas as pd

    if session.last is None:
        raise RefugeError("no results yet: move a slider or press Run first")
    frames = []
    base = session.cache.get((Change(), len(session.last.runs), session.seed, session.scenario_key))
    for label, ens in (("baseline", base), ("changed", session.last)):
        if ens is None or (label == "changed" and ens.change.empty):
            continue
        df = pd.DataFrame(ens.stack("outcomes"), columns=[f"outcome:{o['name']}" for o in ens.model.outcomes])
        ev = ens.stack("evidence")
        for k, f in enumerate(ens.model.evidence):
            df[f"evidence:{f['id']}"] = ev[:, k]
        for name in dict(ens.values[0]) if ens.values else {}:  # each run's own (posterior draw)
            df[f"parameter:{name}"] = [dict(v)[name] for v in ens.values]
        df.insert(0, "run", np.arange(len(df)))
        df.insert(1, "seed", session.seed + np.arange(len(df)))
        df.insert(0, "variant", label)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def report_html(session: Any, runs: int | None = None) -> bytes:
    """The static report of the last change: baseline and changed as two variants when the change is of
    parameters only, otherwise the changed scenario alone."""
    import tempfile

    from refuge.experiments.ensemble import run_ensemble
    from refuge.present.report import write_report
    from refuge.scenario import parse

    change = session.last.change if session.last is not None else Change()
    runs = runs or (len(session.last.runs) if session.last else session.default_runs)
    draws = {}  # run r of each variant takes posterior draw r, as the page's runs did
    if session.draws is not None:
        from refuge.inference.posterior import sample_posterior

        draws = {"draws": sample_posterior(session.draws, runs, session.seed),
                 "draws_from": str(Path(session.draws).resolve())}
    values = page_values(session.scenario, change)
    with tempfile.TemporaryDirectory(prefix="refuge-app-report-") as tmp:
        if change.parameters_only:
            variants = [{"name": "baseline", "description": "the scenario as loaded", "set": {}}]
            if values:
                variants.append({"name": "changed", "description": "as set on the page", "set": values})
            exp = run_ensemble(session.scenario, runs=runs, seed=session.seed, variants=variants,
                               store=Path(tmp) / "exp", workers=session.workers, **draws)
        else:  # the rules and sites changed in the file; the values on top of each run's (as the page runs them)
            data, notes = changed_data(session.scenario, Change(rules_off=change.rules_off, sites=change.sites))
            sc = parse(data, "changed on the page")
            what = "; ".join(notes + [f"room or closures of {', '.join(n for n, _, _ in change.sites)}"] *
                             bool(change.sites))
            exp = run_ensemble(sc, runs=runs, seed=session.seed, store=Path(tmp) / "exp", workers=session.workers,
                               variants=[{"name": "changed", "description": f"as changed on the page ({what})",
                                          "set": values}], **draws)
        path = write_report(exp, Path(tmp) / "report.html")
        return path.read_bytes()


