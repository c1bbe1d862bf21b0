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

import json
import math
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np

from refuge.errors import RefugeError
from refuge.present.app_change import (
    Change,
    changed_data,
    changed_scenario,
    describe,
    parse_change,
    scenario_yaml,
)
from refuge.present.app_downloads import report_html, results_table
from refuge.present.app_reduce import reduce

__all__ = ["Session", "Change", "describe", "parse_change", "changed_data", "changed_scenario", "scenario_yaml",
           "results_table", "report_html", "reduce", "make_server", "serve"]

DEFAULT_RUNS = 50
MAX_RUNS = 1000
POINTS = 400  # days drawn per series at most
CHUNK = 5  # runs per task: small enough for progress and cancelling, large enough to hide the hand-over
STATIC = Path(__file__).parent / "static"


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
    """Simulate and reduce each run to what the page draws: sampled stocks and occupancy, people moved by each
    transition in each `step`-day window, outcomes, evidence measures, per-year and per-site figures."""
    from refuge.evidence.check import site_matrix
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes
    from refuge.results.simulate import simulate

    cpu = time.process_time()
    c = _compiled(spec)
    m = c.model
    by_transition = np.zeros((len(m.edge_names), len(m.transition_names)))
    by_transition[np.arange(len(m.edge_names)), m.edge_trans] = 1
    windows = np.arange(0, m.days, spec.step)
    out = []
    for seed in seeds:
        run = simulate(m, seed=seed)
        moved = run.flows @ by_transition
        out.append({"stocks": run.stocks[::spec.step].astype(np.int32),
                    "flows": (np.add.reduceat(moved, windows[windows < run.days], axis=0) if len(moved)
                              else np.zeros((0, moved.shape[1]))).astype(np.int32),
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


# --- the HTTP server ------------------------------------------------------------------------------------------

TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml"}


def builtin_names() -> list[str]:
    """Names of the built-in scenarios the page can open."""
    return sorted(p.stem for p in (Path(__file__).parent.parent / "scenario" / "builtin").glob("*.yaml"))


def make_handler(session: Session) -> Any:
    """The HTTP request handler class serving the page and its JSON for one session."""
    return type("Handler", (Handler,), {"session": session})


class Handler(BaseHTTPRequestHandler):
    """Serves the page, its static files, its JSON API and downloads for one `Session` (`make_handler`)."""

    server_version = "refuge-app"
    session: Session

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
                return self._json({**self.session.description(), "builtins": builtin_names()})
            if path == "/api/progress":
                return self._json(self.session.progress)
            if path.startswith("/download/"):
                return self._download(path[len("/download/"):], query)
            return self._send(404, b"not found", TYPES[".txt"])
        except RefugeError as exc:
            return self._json({"error": str(exc)}, 400)
        except Exception as exc:
            return self._json({"error": f"{type(exc).__name__}: {exc}"}, 500)

    def _download(self, what: str, query: dict) -> None:
        stem = self.session.scenario.name
        if what == "scenario.yaml":
            change = self.session.last.change if self.session.last is not None else Change()
            body = scenario_yaml(self.session.scenario, change).encode()
            return self._send(200, body, "application/yaml", _attachment(f"{stem}-changed.yaml"))
        if what in ("results.csv", "results.parquet"):
            df = results_table(self.session)
            if what.endswith(".csv"):
                return self._send(200, df.to_csv(index=False).encode(), "text/csv",
                                  _attachment(f"{stem}-results.csv"))
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            return self._send(200, buf.getvalue(), "application/vnd.apache.parquet",
                              _attachment(f"{stem}-results.parquet"))
        if what == "report.html":
            return self._send(200, report_html(self.session), TYPES[".html"], _attachment(f"{stem}-report.html"))
        return self._send(404, b"not found", TYPES[".txt"])

    def do_POST(self) -> None:
        try:
            body = self._body()
            if self.path == "/api/run":
                return self._json(self.session.run(body.get("change"), body.get("runs")))
            if self.path == "/api/cancel":
                self.session.cancel()
                return self._json({"cancelled": True})
            if self.path == "/api/scenario":
                if body.get("yaml") is not None:
                    desc = self.session.load(body.get("filename") or "uploaded.yaml", text=str(body["yaml"]))
                else:
                    name = str(body.get("builtin") or "")
                    if name not in builtin_names():
                        raise RefugeError(f"builtin: no built-in scenario `{name}`")
                    desc = self.session.load(name)
                return self._json({**desc, "builtins": builtin_names(), "runs": self.session.default_runs})
            return self._send(404, b"not found", TYPES[".txt"])
        except Cancelled:
            return self._json({"cancelled": True})
        except RefugeError as exc:  # the user's to fix: a message for the page (200, so the browser's
            return self._json({"error": str(exc)})  # console stays clean of failed requests)
        except Exception as exc:
            return self._json({"error": f"{type(exc).__name__}: {exc}"}, 500)



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
