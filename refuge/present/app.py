"""`refuge app`: a live what-if page for a scenario, served on this machine.

Why this stack: a standard-library HTTP server (no web framework to install or start) serving one
page whose charts are drawn by uPlot, a 50 KB JavaScript library shipped in `static/` with its
licence, so the page works offline. The browser only draws; the simulations run in this process's
pool of worker processes (the same pool as `refuge run --runs`), where the Numba engine stays
compiled and each worker keeps the compiled model of the last scenarios it saw. A slider change
costs one small JSON request: 50 runs of the changed scenario (the baseline's runs are kept), reduced
here to bands, yearly totals, evidence and paired differences, a few hundred kilobytes.

What a change can be (a "patch"): parameter values (within their prior's range on the page), declared
variants switched on, rules switched off, and a site's capacity or closures. The baseline is the
scenario as loaded, run with the same seeds (common random numbers), so differences are paired as
`refuge compare` takes them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError

DEFAULT_RUNS = 50
MAX_RUNS = 1000
POINTS = 400  # days drawn per series at most
CHUNK = 5  # runs per task: small enough for progress and cancelling, large enough to hide the hand-over
STATIC = Path(__file__).parent / "static"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


# --- the scenario and a patch ------------------------------------------------------------------------------


def describe(scenario: Any, origin: str) -> dict:
    """What the page shows and lets a user change: title, period, parameters with a prior (slider range,
    unit, source), rules, variants, sites (capacity, closures), states."""
    sc = scenario
    params = []
    for name, p in sc.parameters.items():
        if p.prior is None:
            continue
        pr = p.prior
        if pr.dist in ("uniform", "loguniform"):
            low, high = float(pr.low), float(pr.high)
        else:
            low, high = max(0.0, float(pr.mean) - 3 * float(pr.sd)), float(pr.mean) + 3 * float(pr.sd)
        low, high = min(low, p.value), max(high, p.value)
        params.append({"name": name, "value": p.value, "low": low, "high": high, "log": pr.dist == "loguniform",
                       "unit": p.unit, "description": p.description, "assumption": p.assumption,
                       "sources": [sc.cite(s) for s in p.all_sources()]})
    sites = []
    for s in sc.sites:
        cap = s.capacity
        value = sc.parameters[cap].value if isinstance(cap, str) and cap in sc.parameters else cap
        sites.append({"name": s.name, "description": s.description, "capacity": value,
                      "capacity_parameter": cap if isinstance(cap, str) else None,
                      "closed": [{"from": str(c.start), "to": str(c.end)} for c in s.closed]})
    from refuge.present.report import Titles

    titles = Titles(sc)
    return {
        "name": sc.name, "title": sc.title or sc.name, "description": sc.description, "origin": Path(origin).name,
        "start": str(sc.start), "end": str(sc.end), "parameters": params,
        "rules": [{"name": r.name, "description": r.description} for r in sc.rules],
        "variants": [{"name": v.name, "description": v.description, "set": v.set} for v in sc.variants],
        "sites": sites,
        "states": [{"name": s.name, "kind": s.kind, "site": s.site, "title": titles.state(s.name)} for s in sc.states],
        "evidence": len(sc.evidence),
    }


@dataclass(frozen=True)
class Change:
    """A user's change to the scenario, checked against it."""

    values: tuple[tuple[str, float], ...] = ()
    variants: tuple[str, ...] = ()
    rules_off: tuple[str, ...] = ()
    sites: tuple[tuple[str, Any, tuple[tuple[str, str], ...] | None], ...] = ()  # (site, capacity, closures)

    @property
    def empty(self) -> bool:
        """Whether the change changes nothing."""
        return not (self.values or self.variants or self.rules_off or self.sites)

    @property
    def parameters_only(self) -> bool:
        """Whether only parameter values change (no rule switched off, no site changed)."""
        return not (self.rules_off or self.sites)


def parse_change(scenario: Any, data: Any) -> Change:
    """A Change from the page's JSON; a RefugeError naming the field for anything that does not fit."""
    if data is None:
        return Change()
    if not isinstance(data, dict):
        raise RefugeError("change: expected an object")
    values = []
    for name, x in (data.get("values") or {}).items():
        if name not in scenario.parameters:
            raise RefugeError(f"values.{name}: not a parameter of scenario `{scenario.name}`")
        values.append((name, _number(x, f"values.{name}")))
    declared = {v.name for v in scenario.variants}
    variants = tuple(v for v in data.get("variants") or [] if _known(v, declared, "variants"))
    rules = {r.name for r in scenario.rules}
    rules_off = tuple(r for r in data.get("rules_off") or [] if _known(r, rules, "rules_off"))
    site_names = {s.name for s in scenario.sites}
    sites = []
    for name, s in (data.get("sites") or {}).items():
        _known(name, site_names, "sites")
        cap = s.get("capacity")
        if cap is not None:
            cap = _number(cap, f"sites.{name}.capacity")
            if cap < 0:
                raise RefugeError(f"sites.{name}.capacity: expected a number >= 0; found {cap:g}")
        closed = None
        if s.get("closed") is not None:
            closed = []
            for k, c in enumerate(s["closed"]):
                where = f"sites.{name}.closed[{k}]"
                a, b = _date(c.get("from"), where + ".from"), _date(c.get("to"), where + ".to")
                if b < a:
                    raise RefugeError(f"{where}: the closure ends ({b}) before it starts ({a})")
                if a < scenario.start or b > scenario.end:
                    raise RefugeError(f"{where}: expected dates within {scenario.start}..{scenario.end}; "
                                      f"found {a}..{b}")
                closed.append((str(a), str(b)))
            closed = tuple(closed)
        sites.append((name, cap, closed))
    return Change(tuple(sorted(values)), variants, rules_off, tuple(sorted(sites, key=lambda s: s[0])))


def _number(x: Any, where: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise RefugeError(f"{where}: expected a number; found {x!r}") from None
    if not math.isfinite(v):
        raise RefugeError(f"{where}: expected a finite number; found {x!r}")
    return v


def _date(x: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(x))
    except ValueError:
        raise RefugeError(f"{where}: expected a date (YYYY-MM-DD); found {x!r}") from None


def _known(name: str, names: set, where: str) -> bool:
    if name not in names:
        from refuge.errors import suggest

        raise RefugeError(f"{where}: no `{name}` in the scenario{suggest(name, names)}")
    return True


def changed_data(scenario: Any, change: Change) -> tuple[dict, list[str]]:
    """The scenario as a mapping (for YAML) with the change applied, and notes on what was dropped with a rule."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    values = dict(change.values)
    for v in scenario.variants:
        if v.name in change.variants:
            values.update(v.set)
    for name, x in values.items():
        data["parameters"][name]["value"] = x
    notes = []
    for name, cap, closed in change.sites:
        site = next(s for s in data["sites"] if s["name"] == name)
        if cap is not None:
            site["capacity"] = cap
        if closed is not None:
            site["closed"] = [{"from": a, "to": b} for a, b in closed]
            if not closed:
                site.pop("closed", None)
    if change.rules_off:
        data["rules"] = [r for r in data.get("rules", []) if r["name"] not in change.rules_off]
        kept = []
        for e in data.get("evidence", []):
            if set(e.get("measure", {}).get("active") or []) & set(change.rules_off):
                notes.append(f"evidence `{e['id']}` measures a rule switched off; left out")
            else:
                kept.append(e)
        data["evidence"] = kept
        notes.insert(0, "rules switched off: " + ", ".join(change.rules_off))
    return data, notes


def changed_scenario(scenario: Any, origin: str, change: Change) -> Any:
    """The changed Scenario for running: values, variants and sites applied (rules stay: they are switched
    off in the compiled model, so evidence about them is still measured)."""
    from refuge.scenario import parse

    data, _ = changed_data(scenario, Change(change.values, change.variants, (), change.sites))
    return parse(data, f"{Path(origin).name} (changed on the page)")


def scenario_yaml(scenario: Any, change: Change) -> str:
    """The changed scenario as a YAML file's text (what the page offers to download)."""
    import yaml

    data, notes = changed_data(scenario, change)
    head = [f"# {scenario.name}, changed in `refuge app` on {dt.date.today()}"] + [f"# {n}" for n in notes]
    if change.values or change.variants:
        head.append("# parameters set: " + ", ".join(f"{k}={v:g}" for k, v in change.values) +
                    (("; variants applied: " + ", ".join(change.variants)) if change.variants else ""))
    return "\n".join(head) + "\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


# --- what a worker does ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    scenario: Any
    origin: str
    key: str  # digest of the changed scenario and the rules switched off
    rules_off: tuple[str, ...]
    step: int


_MODELS: dict[str, Any] = {}


@dataclass
class _Compiled:
    """A compiled model and what reducing its runs needs, made once per worker and scenario."""

    model: Any
    year: np.ndarray  # per day: index of its calendar year
    totals: list[dict]  # the outcomes that are totals, shown per year


def _compiled(spec: _Spec) -> _Compiled:
    from refuge.evidence.outcomes import yearly_outcomes
    from refuge.model.compiler import compile_scenario

    c = _MODELS.get(spec.key)
    if c is None:
        m = compile_scenario(spec.scenario, spec.origin)
        if spec.rules_off:  # a rule outside its period is never evaluated: off
            idx = [m.rule_names.index(r) for r in spec.rules_off]
            m.rule_start, m.rule_end = m.rule_start.copy(), m.rule_end.copy()
            m.rule_start[idx], m.rule_end[idx] = m.days, -1
        years = np.asarray(m.dates.year)
        c = _Compiled(model=m, year=np.searchsorted(np.unique(years), years), totals=yearly_outcomes(m))
        if len(_MODELS) >= 16:
            _MODELS.clear()
        _MODELS[spec.key] = c
    return c


def _model(spec: _Spec):
    return _compiled(spec).model


def _years(c: _Compiled, run) -> np.ndarray:
    """(years, total outcomes) for one run, as `refuge.evidence.outcomes.outcomes_by_year` counts them,
    without rebuilding the calendar for every run."""
    from refuge.evidence.outcomes import _daily_total

    n = int(c.year.max()) + 1
    year = c.year[: run.days]
    out = np.zeros((n, len(c.totals)))
    for j, o in enumerate(c.totals):
        out[:, j] = np.bincount(year, weights=_daily_total(run, o).astype(np.float64), minlength=n)
    return out


def _runs(spec: _Spec, seeds: list[int]) -> list[dict]:
    """Simulate and reduce each run to what the page draws: sampled stocks and occupancy, outcomes, evidence
    measures, per-year and per-mission figures."""
    from refuge.api import simulate
    from refuge.evidence.check import site_matrix
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes

    cpu = time.process_time()
    c = _compiled(spec)
    out = []
    for seed in seeds:
        run = simulate(c.model, seed=seed)
        out.append({"stocks": run.stocks[::spec.step].astype(np.int32),
                    "sites": run.site_occupancy[::spec.step].astype(np.int32),
                    "outcomes": np.array(list(outcomes(run).values()), float),
                    "evidence": np.asarray(measure_all(run), float),
                    "years": _years(c, run), "sites_table": site_matrix(run)})
    out[0]["cpu"] = time.process_time() - cpu  # the worker's CPU time for these runs (benchmarks report it)
    return out


# --- an ensemble on the page ---------------------------------------------------------------------------------


class Cancelled(Exception):
    """A run of the page's ensemble was overtaken by a newer request."""


@dataclass
class Ensemble:
    change: Change
    model: Any  # compiled, for names and evidence
    runs: list[dict]
    seconds: float

    @property
    def cpu(self) -> float:
        """CPU seconds the workers spent on these runs (wall time grows when other jobs share the cores)."""
        return float(sum(r.get("cpu", 0.0) for r in self.runs))

    def stack(self, key: str) -> np.ndarray:
        """One array of a quantity over the ensemble's runs (runs first)."""
        return np.stack([r[key] for r in self.runs])


class Session:
    """The scenario on the page, its baseline, the latest ensemble, and the worker pool; one per server."""

    def __init__(self, scenario: str | Path | None = None, workers: int | None = None, runs: int = DEFAULT_RUNS,
                 seed: int = 0):
        from refuge.experiments.ensemble import default_workers

        self.workers = workers or default_workers()
        self.default_runs = runs
        self.seed = seed
        self.lock = threading.Lock()  # one ensemble at a time; a newer request cancels the older one
        self.job = 0
        self.progress = {"done": 0, "total": 0, "job": 0}
        self.cache: dict[tuple, Ensemble] = {}
        self.last: Ensemble | None = None
        self.load(scenario or "north-korea-china")

    # -- scenarios
    def load(self, what: str | Path, text: str | None = None) -> dict:
        """A built-in scenario by name, a YAML file, or YAML text (from the page's file picker)."""
        from refuge.experiments.ensemble import resolve_scenario
        from refuge.model.compiler import compile_scenario

        if text is not None:
            import yaml

            from refuge.scenario import parse

            origin = Path(str(what)).name or "uploaded.yaml"
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise RefugeError(f"{origin}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
            sc = parse(data, origin)
        else:
            sc, origin = resolve_scenario(what)
        model = compile_scenario(sc, origin)  # every problem shows now, before any run
        with self.lock:
            self.scenario, self.origin, self.base_model = sc, origin, model
            self.step = max(1, math.ceil(model.days / POINTS))
            self.cache.clear()
            self.last = None
        return describe(sc, origin)

    def description(self) -> dict:
        """What the page shows of the scenario (see `describe`), with the default number of runs."""
        return {**describe(self.scenario, self.origin), "runs": self.default_runs}

    # -- running
    def _spec(self, change: Change) -> _Spec:
        from refuge.model.compiler import scenario_digest

        sc = self.scenario if change.empty else changed_scenario(self.scenario, self.origin, change)
        key = scenario_digest(sc) + "/" + ",".join(change.rules_off)
        return _Spec(scenario=sc, origin=self.origin, key=key, rules_off=change.rules_off, step=self.step)

    def ensemble(self, change: Change, runs: int, job: int | None) -> Ensemble:
        """`runs` runs of the changed scenario (seeds seed .. seed + runs - 1), cached by change."""
        from refuge.model.compiler import compile_scenario

        key = (change, runs, self.seed, self.scenario_key)
        if key in self.cache:
            return self.cache[key]
        spec = self._spec(change)
        model = _model(spec) if change.empty else compile_scenario(spec.scenario, spec.origin)  # errors here
        t0 = time.perf_counter()
        seeds = list(range(self.seed, self.seed + runs))
        chunks = [seeds[k:k + CHUNK] for k in range(0, len(seeds), CHUNK)]
        results: list = [None] * len(chunks)
        self.progress = {"done": 0, "total": runs, "job": job}
        if self.workers == 1:
            for i, c in enumerate(chunks):
                self._check(job)
                results[i] = _runs(spec, c)
                self.progress["done"] += len(c)
        else:
            from concurrent.futures import FIRST_COMPLETED, wait

            from refuge.experiments.ensemble import _pool

            pool = _pool(self.workers)
            pending = {pool.submit(_runs, spec, c): i for i, c in enumerate(chunks)}
            try:
                while pending:
                    done, _ = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                    self._check(job)
                    for fut in done:
                        i = pending.pop(fut)
                        results[i] = fut.result()
                        self.progress["done"] += len(chunks[i])
            finally:
                for fut in pending:
                    fut.cancel()
        ens = Ensemble(change, model, [r for chunk in results for r in chunk], time.perf_counter() - t0)
        if len(self.cache) > 32:
            self.cache.clear()
        self.cache[key] = ens
        return ens

    @property
    def scenario_key(self) -> str:
        """Identifies the scenario a result belongs to (digest and origin)."""
        return self.base_model.digest + self.origin

    def _check(self, job: int | None) -> None:
        if job is not None and job != self.job:
            raise Cancelled()

    def warm(self) -> None:
        """Start the workers and run the baseline before the page asks (not cancelled by the page)."""
        try:
            with self.lock:
                self.ensemble(Change(), self.default_runs, None)
        except Exception:
            pass

    def cancel(self) -> None:
        """Stop the ensemble under way: its remaining runs are dropped."""
        self.job += 1

    def run(self, change_data: Any, runs: int | None = None) -> dict:
        """The page's request: the baseline and the changed scenario, reduced for drawing."""
        runs = int(runs or self.default_runs)
        if not 1 <= runs <= MAX_RUNS:
            raise RefugeError(f"runs: expected a whole number from 1 to {MAX_RUNS}; found {runs}")
        change = parse_change(self.scenario, change_data)
        self.job += 1  # a newer request makes any older one stop at its next chunk
        job = self.job
        t0 = time.perf_counter()
        with self.lock:
            base = self.ensemble(Change(), runs, job)
            ens = base if change.empty else self.ensemble(change, runs, job)
            self.last = ens
            cpu = time.thread_time()
            page = reduce(self, base, ens)
            cpu = time.thread_time() - cpu
        page["seconds"] = round(time.perf_counter() - t0, 3)
        page["cpu"] = {"runs": round(ens.cpu, 3), "reduce": round(cpu, 3)}
        return page


def _q(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.quantile(x, QUANTILES, axis=axis)


def _clean(obj: Any) -> Any:
    """JSON-ready: numpy to lists, NaN to None, numbers rounded to what a page shows."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "iub":
            return obj.tolist()
        a = np.round(obj.astype(np.float64), 3)
        if np.isfinite(a).all():
            return a.tolist()
        return np.where(np.isfinite(a), a, None).tolist()  # NaN and infinities become null
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else round(x, 3)
    return obj


def reduce(session: Session, base: Ensemble, ens: Ensemble) -> dict:
    """Bands, yearly totals, missions, evidence and paired differences, as the page draws them."""
    from refuge.evidence.check import SITE_METRICS, report_sites
    from refuge.evidence.measures import evaluate
    from refuge.evidence.outcomes import yearly_outcomes
    from refuge.experiments.compare import _diff_stats, _nanmedian
    from refuge.present.report import Titles

    m = ens.model
    titles = Titles(m.scenario)
    days = np.arange(0, m.days, session.step)
    start = np.datetime64(m.start, "D")
    x = ((start + days) - np.datetime64("1970-01-01", "D")).astype(np.int64) * 86400  # uPlot: seconds
    series = {}
    stocks, bstocks = ens.stack("stocks"), base.stack("stocks")
    for k, name in enumerate(m.state_names):
        series[f"state:{name}"] = {"title": titles.state(name), "q": _q(stocks[:, :, k]),
                                   "base": np.median(bstocks[:, :, k], axis=0)}
    sites, bsites = ens.stack("sites"), base.stack("sites")
    for k, name in enumerate(m.site_names):
        p = m.capacity_param[k]
        room = m.pbase[days, p] if p >= 0 else None
        series[f"site:{name}"] = {"title": titles.site(name), "q": _q(sites[:, :, k]),
                                  "base": np.median(bsites[:, :, k], axis=0), "room": room}
    years = sorted(set(m.dates.year.tolist()))
    yv, byv = ens.stack("years"), base.stack("years")
    yearly = [{"name": o["name"], "label": o["label"], "unit": o["unit"],
               "q": np.quantile(yv[:, :, j], (0.05, 0.5, 0.95), axis=0), "base": np.median(byv[:, :, j], axis=0)}
              for j, o in enumerate(yearly_outcomes(m))]
    lo_q, hi_q = 0.05, 0.95
    outs, bouts = ens.stack("outcomes"), base.stack("outcomes")
    outcomes = []
    for j, o in enumerate(m.outcomes):
        d = _diff_stats(outs[:, j] - bouts[:, j], lo_q, hi_q)
        outcomes.append({"key": o["name"], "label": o["label"], "unit": o["unit"], "baseline": _nanmedian(bouts[:, j]),
                         "value": _nanmedian(outs[:, j]), **d})
    ev = evaluate(m, ens.stack("evidence")) if m.evidence else None
    bev = evaluate(base.model, base.stack("evidence")) if m.evidence else None
    facts = []
    if ev is not None:
        text = {f["id"]: f["fact"] for f in m.evidence}
        for r, b in zip(ev.to_dict("records"), bev.to_dict("records")):
            extra = {k: v for k, v in r.items() if k not in ("id", "source", "when", "measure", "bound", "median",
                                                             "low", "high", "holds_median", "share_holding",
                                                             "required") and isinstance(v, (int, float))}
            facts.append({**{k: r[k] for k in ("id", "source", "when", "bound", "median", "low", "high",
                                                "holds_median", "share_holding", "required")},
                          "fact": text[r["id"]], "base_holds": b["holds_median"], "base_share": b["share_holding"],
                          "base_median": b["median"], "scores": extra})
    missions = []
    mv = ens.stack("sites_table")
    for i, n in enumerate(report_sites(m)):
        row = {"mission": m.site_names[n], "title": titles.site(m.site_names[n])}
        for j, metric in enumerate(SITE_METRICS):
            col = mv[:, i, j]
            col = col[~np.isnan(col)]
            row[metric] = np.quantile(col, (0.05, 0.5, 0.95)) if len(col) else None
        missions.append(row)
    return _clean({"runs": len(ens.runs), "seed": session.seed, "x": x, "step": session.step,
                   "series": series, "years": years, "yearly": yearly, "outcomes": outcomes,
                   "evidence": facts, "missions": missions, "changed": not ens.change.empty,
                   "simulated_seconds": round(ens.seconds + (0 if ens is base else base.seconds), 3)})


# --- downloads ------------------------------------------------------------------------------------------------


def results_table(session: Session) -> Any:
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
        df.insert(0, "run", np.arange(len(df)))
        df.insert(1, "seed", session.seed + np.arange(len(df)))
        df.insert(0, "variant", label)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def report_html(session: Session, runs: int | None = None) -> bytes:
    """The static report of the last change: baseline and changed as two variants when the change is of
    parameters only, otherwise the changed scenario alone."""
    import tempfile

    from refuge.experiments.ensemble import run_ensemble
    from refuge.present.report import write_report
    from refuge.scenario import parse

    change = session.last.change if session.last is not None else Change()
    runs = runs or (len(session.last.runs) if session.last else session.default_runs)
    with tempfile.TemporaryDirectory(prefix="refuge-app-report-") as tmp:
        if change.parameters_only:
            values = dict(change.values)
            for v in session.scenario.variants:
                if v.name in change.variants:
                    values.update(v.set)
            variants = [{"name": "baseline", "description": "the scenario as loaded", "set": {}}]
            if values:
                variants.append({"name": "changed", "description": "as set on the page", "set": values})
            exp = run_ensemble(session.scenario, runs=runs, seed=session.seed, variants=variants,
                               store=Path(tmp) / "exp", workers=session.workers)
        else:
            data, notes = changed_data(session.scenario, change)
            sc = parse(data, "changed on the page")
            what = "; ".join(notes + [f"room or closures of {', '.join(n for n, _, _ in change.sites)}"] *
                             bool(change.sites))
            exp = run_ensemble(sc, runs=runs, seed=session.seed, store=Path(tmp) / "exp", workers=session.workers,
                               variants=[{"name": "changed", "description": f"as changed on the page ({what})",
                                          "set": {}}])
        path = write_report(exp, Path(tmp) / "report.html")
        return path.read_bytes()


# --- the HTTP server ------------------------------------------------------------------------------------------

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml"}


def builtin_names() -> list[str]:
    """Names of the built-in scenarios the page can open."""
    return sorted(p.stem for p in (Path(__file__).parent.parent / "scenario" / "builtin").glob("*.yaml"))


def make_handler(session: Session) -> Any:
    """The HTTP request handler class serving the page and its JSON for one session."""
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "refuge-app"

        def log_message(self, fmt, *args):  # quiet: the terminal shows only the address and errors
            pass

        def _send(self, code: int, body: bytes, ctype: str, extra: dict | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, obj: Any, code: int = 200) -> None:
            self._send(code, json.dumps(obj, allow_nan=False).encode(), "application/json")

        def _body(self) -> Any:
            n = int(self.headers.get("Content-Length") or 0)
            if n > 20 * 2**20:
                raise RefugeError("request too large (over 20 MB)")
            raw = self.rfile.read(n) if n else b"{}"
            try:
                return json.loads(raw or b"{}")
            except json.JSONDecodeError as exc:
                raise RefugeError(f"request: not valid JSON ({exc.msg})") from None

        def do_GET(self) -> None:
            from urllib.parse import parse_qs, urlparse

            url = urlparse(self.path)
            path, query = url.path, parse_qs(url.query)
            try:
                if path in ("/", "/index.html"):
                    return self._send(200, (STATIC / "app.html").read_bytes(), TYPES[".html"])
                if path.startswith("/static/"):
                    name = path[len("/static/"):]
                    f = STATIC / name
                    if "/" in name or name.startswith(".") or not f.is_file():
                        return self._send(404, b"not found", TYPES[".txt"])
                    return self._send(200, f.read_bytes(), TYPES.get(f.suffix, "application/octet-stream"))
                if path == "/api/scenario":
                    return self._json({**session.description(), "builtins": builtin_names()})
                if path == "/api/progress":
                    return self._json(session.progress)
                if path.startswith("/download/"):
                    return self._download(path[len("/download/"):], query)
                return self._send(404, b"not found", TYPES[".txt"])
            except RefugeError as exc:
                return self._json({"error": str(exc)}, 400)
            except Exception as exc:
                return self._json({"error": f"{type(exc).__name__}: {exc}"}, 500)

        def _download(self, what: str, query: dict) -> None:
            stem = session.scenario.name
            if what == "scenario.yaml":
                change = session.last.change if session.last is not None else Change()
                body = scenario_yaml(session.scenario, change).encode()
                return self._send(200, body, "application/yaml", _attachment(f"{stem}-changed.yaml"))
            if what in ("results.csv", "results.parquet"):
                df = results_table(session)
                if what.endswith(".csv"):
                    return self._send(200, df.to_csv(index=False).encode(), "text/csv",
                                      _attachment(f"{stem}-results.csv"))
                import io

                buf = io.BytesIO()
                df.to_parquet(buf, index=False)
                return self._send(200, buf.getvalue(), "application/vnd.apache.parquet",
                                  _attachment(f"{stem}-results.parquet"))
            if what == "report.html":
                return self._send(200, report_html(session), TYPES[".html"], _attachment(f"{stem}-report.html"))
            return self._send(404, b"not found", TYPES[".txt"])

        def do_POST(self) -> None:
            try:
                body = self._body()
                if self.path == "/api/run":
                    return self._json(session.run(body.get("change"), body.get("runs")))
                if self.path == "/api/cancel":
                    session.cancel()
                    return self._json({"cancelled": True})
                if self.path == "/api/scenario":
                    if body.get("yaml") is not None:
                        desc = session.load(body.get("filename") or "uploaded.yaml", text=str(body["yaml"]))
                    else:
                        name = str(body.get("builtin") or "")
                        if name not in builtin_names():
                            raise RefugeError(f"builtin: no built-in scenario `{name}`")
                        desc = session.load(name)
                    return self._json({**desc, "builtins": builtin_names(), "runs": session.default_runs})
                return self._send(404, b"not found", TYPES[".txt"])
            except Cancelled:
                return self._json({"cancelled": True})
            except RefugeError as exc:  # the user's to fix: a message for the page (200, so the browser's
                return self._json({"error": str(exc)})  # console stays clean of failed requests)
            except Exception as exc:
                return self._json({"error": f"{type(exc).__name__}: {exc}"}, 500)

    return Handler


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def make_server(session: Session, host: str = "127.0.0.1", port: int = 8050) -> Any:
    """An HTTP server for a session (not yet serving); port 0 takes any free port."""
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer((host, port), make_handler(session))
    server.daemon_threads = True
    return server


def serve(scenario: str | Path | None = None, port: int = 8050, host: str = "127.0.0.1",
          workers: int | None = None, runs: int = DEFAULT_RUNS, ready: Any = None) -> None:
    """Serve the page until interrupted. `ready(url)` is called once the server listens."""
    import signal

    def stop(signum, frame):  # a service manager's SIGTERM ends like Ctrl-C: the worker processes are stopped
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    session = Session(scenario, workers=workers, runs=runs)
    server = make_server(session, host, port)
    threading.Thread(target=session.warm, daemon=True).start()  # the baseline is ready when the page asks
    if ready is not None:
        ready(f"http://{host}:{server.server_address[1]}/")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
