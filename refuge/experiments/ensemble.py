"""Ensembles: many runs of a scenario (replicates x variants) in parallel, written to an experiment store.

Two layers:

- `map_runs(fn, tasks, workers, cluster)` — a generic, order-preserving parallel map of a
  picklable top-level function, on local processes or on a Dask distributed cluster.
  `imap_runs` yields results as they finish (with their task index) for callers that
  write as they go.
- `run_ensemble(scenario, runs, seed, ...)` — replicates and parameter variations of one
  scenario. Replicate `r` of every variant runs with seed `seed + r`: results do not depend
  on the backend or the number of workers, and variants share their random numbers
  (common random numbers), so their differences are the policy's, not the noise's.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from refuge.errors import RefugeError
from refuge.scenario.limits import MAX_RUNS, MAX_SEED, MAX_VARIANTS

MAX_CHUNK = 16  # tasks per chunk: large enough to hide the hand-over, small enough for a live progress bar
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler
SERIAL_BELOW = 16  # by default, fewer runs than this run in this process: starting workers would cost more


# --- the generic parallel map -----------------------------------------------------------------------


def default_workers() -> int:
    """Worker processes by default: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def map_runs(fn: Callable[[Any], Any], tasks: Iterable[Any], workers: int | None = None, cluster: Any = None,
             progress: bool | str = False, chunksize: int | None = None) -> list:
    """`[fn(t) for t in tasks]`, in parallel, in task order.

    `fn` must be a picklable top-level function (a `functools.partial` of one is fine: it is sent
    once per chunk of tasks, so bind large shared objects there rather than in each task).
    `workers=1` runs in this process; otherwise a pool of `workers` local processes (default: one
    per core). `cluster` (a Dask scheduler address or a `distributed.Client`) runs on that cluster
    instead. `progress` shows a progress bar with an ETA (a string sets its label).
    """
    tasks = list(tasks)
    out: list = [None] * len(tasks)
    for i, result in imap_runs(fn, tasks, workers=workers, cluster=cluster, progress=progress,
                               chunksize=chunksize):
        out[i] = result
    return out


def imap_runs(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int | None = None, cluster: Any = None,
              progress: bool | str = False, chunksize: int | None = None) -> Iterator[tuple[int, Any]]:
    """Like `map_runs`, but yields `(task index, result)` as chunks finish (not in task order)."""
    tasks = list(tasks)
    if not tasks:
        return
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise RefugeError(f"workers: expected a whole number >= 1; found {workers}")
    with _Progress(progress, len(tasks)) as advance:
        if cluster is not None:
            source = _on_dask(fn, tasks, cluster, chunksize)
        elif workers == 1:
            source = ((i, [fn(t)]) for i, t in enumerate(tasks))
        else:
            source = _on_processes(fn, tasks, workers, chunksize)
        for lo, results in source:
            for k, result in enumerate(results):
                yield lo + k, result
            advance(len(results))


def _chunks(n: int, slots: int, chunksize: int | None) -> list[tuple[int, int]]:
    size = chunksize or max(1, min(MAX_CHUNK, math.ceil(n / (4 * slots))))
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _run_chunk(fn: Callable[[Any], Any], tasks: list) -> list:
    return [fn(t) for t in tasks]


_POOLS: dict[int, Any] = {}


def _pool(workers: int):
    """A process pool kept for the life of this process: later ensembles skip the start-up."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    pool = _POOLS.get(workers)
    if pool is not None and not getattr(pool, "_broken", False):
        return pool
    # forkserver starts workers from a clean, preloaded server (safe with Numba, cheaper than spawn).
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["refuge.api", "refuge.sim.run", "refuge.experiments.ensemble"])
    else:
        ctx = mp.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    if not _POOLS:
        import atexit

        atexit.register(shutdown_pools)  # stop workers before the interpreter tears modules down
    _POOLS[workers] = pool
    return pool


def shutdown_pools() -> None:
    """Stop the worker processes kept by this module (they also stop when this process exits)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


def _on_processes(fn, tasks: list, workers: int, chunksize: int | None) -> Iterator[tuple[int, list]]:
    from concurrent.futures import FIRST_COMPLETED, wait

    pool = _pool(workers)
    chunks = _chunks(len(tasks), workers, chunksize)
    pending = {pool.submit(_run_chunk, fn, tasks[lo:hi]): lo for lo, hi in chunks}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                lo = pending.pop(fut)
                yield lo, fut.result()
    finally:
        for fut in pending:  # the caller stopped early (an error, Ctrl-C): do not leave work queued
            fut.cancel()


def _seconds(text: str) -> float:
    return float(str(text).removesuffix("s"))


def probe_scheduler(address: str, timeout: float) -> None:
    """Check, within `timeout` seconds in all, that a Dask scheduler answers at a tcp:// address.

    Dask's own connect timeout does not cover the handshake: a listener that accepts and never
    speaks holds the client for minutes, and a service that speaks something else can make it
    read a garbage length and try to allocate exabytes. A scheduler speaks first on a new
    connection: one small framed message (its handshake: compression, python, pickle-protocol).
    The probe reads at most that much, then answers with the same handshake and closes.
    """
    import socket
    import struct
    import time

    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme != "tcp":
        return  # tls://, inproc://, ucx://: left to Dask
    host, colon, port = rest.rstrip("/").rpartition(":")
    if not colon or not port.isdigit() or not host:
        raise RefugeError(f"--cluster: expected a scheduler address like tcp://HOST:PORT; found {address!r}")
    deadline = time.monotonic() + timeout
    where = f"--cluster: {address}"

    def recv(sock, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            sock.settimeout(left)
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed the connection")
            buf += chunk
        return buf

    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as sock:
            head = recv(sock, 8)
            (total,) = struct.unpack("<Q", head)
            if not 16 <= total <= 1 << 16:
                raise ValueError
            body = recv(sock, total)
            (n,) = struct.unpack("<Q", body[:8])
            if not 1 <= n <= 16 or b"pickle-protocol" not in body:
                raise ValueError
            sock.sendall(head + body)
    except TimeoutError:
        raise RefugeError(f"{where}: no answer within {timeout:g} s (is a Dask scheduler listening there?)") from None
    except ValueError:
        raise RefugeError(f"{where}: the service there is not a Dask scheduler (it answered something else)") \
            from None
    except (OSError, ConnectionError) as exc:
        raise RefugeError(f"{where}: could not connect ({getattr(exc, 'strerror', None) or exc})") from None


def _on_dask(fn, tasks: list, cluster: Any, chunksize: int | None) -> Iterator[tuple[int, list]]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise RefugeError("--cluster needs dask[distributed] installed") from None

    own = not isinstance(cluster, Client)
    if own:
        if not isinstance(cluster, str):
            raise RefugeError(f"--cluster: expected the address of a Dask scheduler (tcp://HOST:PORT); "
                              f"found {str(cluster)[:60]!r}")
        probe_scheduler(cluster, _seconds(CONNECT_TIMEOUT))
        try:
            client = Client(cluster, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RefugeError(f"--cluster: could not connect to the Dask scheduler at {cluster!r} ({exc})") from None
    else:
        client = cluster
    try:
        futures: list = []
        slots = max(1, sum(client.nthreads().values()))
        chunks = _chunks(len(tasks), slots, chunksize)
        start_of = {}
        for lo, hi in chunks:
            fut = client.submit(_run_chunk, fn, tasks[lo:hi], pure=False)
            start_of[fut.key] = lo
            futures.append(fut)
        for fut in as_completed(futures):
            yield start_of[fut.key], fut.result()
    finally:
        if own:
            client.close()
        else:
            client.cancel([f for f in futures if not f.done()])


def in_notebook() -> bool:
    """True inside a Jupyter kernel, where a terminal progress bar cannot redraw itself."""
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class TextProgress:
    """A progress line for notebooks: rewritten in place (carriage return) at most twice a second."""

    def __init__(self, label: str, total: int, stream=None, every: float = 0.5):
        import time

        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.every, self.clock, self.started, self.shown = every, time.monotonic, time.monotonic(), -1.0

    def advance(self, n: int) -> None:
        """Count `n` more finished tasks; rewrite the line at most every `every` seconds."""
        self.done += n
        now = self.clock()
        if now - self.shown >= self.every or self.done >= self.total:
            self.shown = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()

    def line(self, now: float) -> str:
        """The progress line at time `now`: done, total, share, elapsed and time left."""
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta = f", about {left:,.0f} s left" if self.done and self.done < self.total else ""
        share = self.done / max(self.total, 1)
        return f"{self.label}: {self.done:,}/{self.total:,} ({share:.0%}), {elapsed:,.0f} s{eta}"

    def close(self) -> None:
        """End the progress line."""
        self.stream.write("\n")
        self.stream.flush()


class _Progress:
    """A rich progress bar with an ETA on stderr (a text line in a notebook), or nothing."""

    def __init__(self, progress: bool | str, total: int):
        self.label = progress if isinstance(progress, str) else "runs"
        self.on = bool(progress)
        self.total = total
        self.text: TextProgress | None = None

    def __enter__(self):
        if not self.on:
            return lambda n: None
        if in_notebook():
            self.text = TextProgress(self.label, self.total)
            return self.text.advance
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=False)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc) -> None:
        if self.text is not None:
            self.text.close()
        elif self.on:
            self.bar.stop()


# --- ensembles of a scenario -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """What a worker needs to run any task of an ensemble (sent once per chunk)."""

    scenario: Any
    origin: str
    sets: tuple[tuple[tuple[str, float], ...], ...]  # per variant: sorted parameter values
    seed: int
    until: Any = None
    digest: str = ""
    stamps: tuple[str, ...] = ()  # per variant: the run fingerprint (JSON) without run and seed (store.run_stamp)


_MODELS: OrderedDict = OrderedDict()  # per worker process: compiled models by (digest, values), most recent last


def _model_for(spec: _Spec, variant: int):
    from refuge.model.compiler import compile_scenario

    key = (spec.digest, spec.origin, spec.sets[variant])
    model = _MODELS.get(key)
    if model is None:
        model = compile_scenario(spec.scenario.with_values(dict(spec.sets[variant])), spec.origin)
        _MODELS[key] = model
        while len(_MODELS) > 16:
            _MODELS.popitem(last=False)
    else:
        _MODELS.move_to_end(key)
    return model


def _run_task(spec: _Spec, task: tuple[int, int]) -> dict[str, bytes]:
    """Simulate replicate `r` of variant `v` and encode its tables (small, ready to write)."""
    from refuge.api import simulate
    from refuge.evidence.measures import measure_all
    from refuge.evidence.outcomes import outcomes
    from refuge.experiments.store import encode, run_tables

    v, r = task
    model = _model_for(spec, v)
    run = simulate(model, seed=spec.seed + r, until=spec.until)
    measures = {f"evidence:{f['id']}": x for f, x in zip(model.evidence, measure_all(run))}
    measures.update({f"outcome:{k}": x for k, x in outcomes(run).items()})
    stamp = json.loads(spec.stamps[v]) | {"run": r, "seed": spec.seed + r} if spec.stamps else None
    return {name: encode(table, stamp) for name, table in run_tables(run, r, measures).items()}


def resolve_scenario(model_or_path: Any) -> Any:
    """(scenario, origin) from a Model, a Scenario, a path or a built-in name."""
    from refuge.model.compiler import Model
    from refuge.scenario import Scenario, builtin_path, read

    if isinstance(model_or_path, Model):
        return model_or_path.scenario, model_or_path.origin
    if isinstance(model_or_path, Scenario):
        return model_or_path, model_or_path.name
    p = Path(model_or_path)
    if not p.exists() and builtin_path(str(model_or_path)).exists():
        p = builtin_path(str(model_or_path))
    return read(p), str(p)


def read_sweep(path: str | Path) -> list[dict]:
    """Parameter sets from a CSV (a header of parameter names, optional `name` column) or YAML file
    (a list of mappings, or `variants:` as in a scenario). Returns [{name, description, set}]."""
    p = Path(path)
    if not p.exists():
        raise RefugeError(f"{p}: no such sweep file")
    if p.suffix.lower() == ".csv":
        rows = _read_csv_rows(p)
    elif p.suffix.lower() in (".yaml", ".yml", ".json"):
        import yaml

        from refuge.scenario import load_yaml

        try:
            data = load_yaml(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RefugeError(f"{p}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        data = data.get("variants") if isinstance(data, dict) else data
        if not isinstance(data, list) or not data:
            raise RefugeError(f"{p}: expected a list of parameter sets (or `variants:`); found {type(data).__name__}")
        rows = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise RefugeError(f"{p}: [{i}]: expected a mapping of parameter: value; found {repr(item)[:60]}")
            values = item.get("set", {k: x for k, x in item.items() if k not in ("name", "description")})
            rows.append((item.get("name"), item.get("description", ""), values, f"[{i}]"))
    else:
        raise RefugeError(f"{p}: expected a .csv or .yaml sweep file; found {p.suffix or 'no extension'}")
    out = []
    for k, (name, desc, values, where) in enumerate(rows):
        parsed = {}
        for key, x in values.items():
            try:
                parsed[str(key)] = float(x)
            except (TypeError, ValueError):
                raise RefugeError(f"{p}: {where}.{key}: expected a number; found {repr(x)[:60]}") from None
        out.append({"name": str(name) if name else f"sweep-{k:03d}", "description": str(desc or ""), "set": parsed,
                    "where": f"{p}: {where}"})
    return out


def _read_csv_rows(p: Path) -> list[tuple]:
    import csv

    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise RefugeError(f"{p}: expected a header row of parameter names")
        rows = []
        for i, row in enumerate(reader):
            values = {k: v for k, v in row.items() if k not in ("name", "description") and k is not None}
            rows.append((row.get("name"), row.get("description", ""), values, f"row {i + 2}"))
    if not rows:
        raise RefugeError(f"{p}: expected at least one row of parameter values")
    return rows


def plan_variants(scenario: Any, overrides: dict[str, float] | None = None, variants: Any = None,
                  sweep: Any = None) -> list[dict]:
    """The variants of an ensemble: [{name, description, set}], `overrides` applied to each."""
    from refuge.experiments.store import check_variant_name

    if variants is not None and sweep is not None:
        raise RefugeError("give variants or a sweep, not both")
    if sweep is not None:
        items = read_sweep(sweep) if isinstance(sweep, (str, Path)) else [
            {"name": f"sweep-{k:03d}", "description": "", "set": dict(s)} for k, s in enumerate(sweep)]
    elif variants is not None:
        items = [_as_variant(v) for v in (variants.items() if isinstance(variants, dict) else variants)]
    else:
        items = [{"name": "baseline", "description": "the scenario as written", "set": {}}]
    base = {k: float(v) for k, v in (overrides or {}).items()}
    _known(scenario, base, "--set")
    seen = set()
    for it in items:
        check_variant_name(it["name"])
        if it["name"] in seen:
            raise RefugeError(f"variant: the name `{it['name']}` is used twice")
        seen.add(it["name"])
        _known(scenario, it["set"], it.get("where") or f"variant {it['name']}")
        it.pop("where", None)
        it["set"] = {**base, **{k: float(x) for k, x in it["set"].items()}}
    return items


def _known(scenario, values: dict, where: str) -> None:
    """Unknown parameter names fail here, before any run, naming where they were given."""
    from refuge.errors import suggest
    from refuge.scenario.limits import MAX_PARAMETER

    for name, x in values.items():
        if name not in scenario.parameters:
            raise RefugeError(f"{where}: expected a parameter of scenario `{scenario.name}`; found `{name}`"
                              f"{suggest(name, scenario.parameters)}")
        try:
            ok = abs(float(x)) <= MAX_PARAMETER
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise RefugeError(f"{where}: {name}: expected a finite number between -{MAX_PARAMETER:g} and "
                              f"{MAX_PARAMETER:g}; found {str(x)[:40]}")


def _as_variant(v: Any) -> dict:
    from refuge.scenario import Variant

    if isinstance(v, Variant):
        return {"name": v.name, "description": v.description, "set": dict(v.set)}
    if isinstance(v, dict):
        return {"name": v["name"], "description": v.get("description", ""), "set": dict(v.get("set", {}))}
    name, values = v
    return {"name": name, "description": "", "set": dict(values)}


def check_runs(runs: int, seed: int) -> None:
    """Replicates and seeds an ensemble can hold: run r uses seed + r, a 64-bit integer."""
    if not 1 <= int(runs) <= MAX_RUNS:
        raise RefugeError(f"--runs: expected a whole number from 1 to {MAX_RUNS:,}; found {runs:,} (for more, "
                          "run several experiments with different --seed)")
    if not 0 <= int(seed) <= MAX_SEED:
        raise RefugeError(f"--seed: expected a whole number from 0 to {MAX_SEED:,}; found {seed}")


def run_ensemble(model_or_path: Any, runs: int = 100, seed: int = 0, workers: int | None = None,
                 overrides: dict[str, float] | None = None, sweep: Any = None, variants: Any = None,
                 store: str | Path | None = None, cluster: Any = None, until: Any = None,
                 progress: bool = False) -> Any:
    """Run `runs` replicates of each variant; write them to an experiment store; return the Experiment.

    - `overrides`: {parameter: value} applied to every run (the CLI's `--set`).
    - `variants`: named parameter sets ({name: {parameter: value}}, [(name, {...})], or scenario
      Variants); `sweep`: a CSV/YAML file of parameter sets, or a list of {parameter: value}.
      Without either, one variant `baseline`.
    - `store`: the experiment directory (a temporary one if None). If it already holds this
      experiment, only the missing runs are run; if it holds another one, a RefugeError says why.
    """
    import datetime as dt

    from refuge.experiments.store import Experiment, make_meta, run_stamp
    from refuge.model.compiler import compile_scenario, scenario_digest

    check_runs(runs, seed)
    scenario, origin = resolve_scenario(model_or_path)
    items = plan_variants(scenario, overrides, variants, sweep)
    if len(items) > MAX_VARIANTS:
        raise RefugeError(f"--sweep: at most {MAX_VARIANTS:,} parameter sets in one experiment; found {len(items):,} "
                          "(split the sweep into several experiments)")
    for it in items:  # compile errors are the user's to fix: find them before starting workers
        compile_scenario(scenario.with_values(it["set"]), origin)
    if isinstance(until, str):
        until = dt.date.fromisoformat(until)
    digest = scenario_digest(scenario)
    meta = make_meta(scenario, origin, digest, seed, runs, items, overrides or {}, until)
    path = Path(store) if store is not None else Path(tempfile.mkdtemp(prefix="refuge-experiment-"))
    exp = Experiment.create(path, meta)
    index = {name: k for k, name in enumerate(exp.variants)}
    todo = exp.missing()
    spec = _Spec(scenario=scenario, origin=origin, seed=int(seed), until=until, digest=digest,
                 sets=tuple(tuple(sorted(it["set"].items())) for it in items),
                 stamps=tuple(json.dumps(run_stamp(exp.meta, v, 0)) for v in exp.variants))
    tasks = [(index[v], r) for v, r in todo]
    if workers is None and cluster is None and len(tasks) < SERIAL_BELOW:
        workers = 1
    label = f"{scenario.name}: {len(tasks)} run{'s' if len(tasks) != 1 else ''}" if progress else False
    for i, blobs in imap_runs(partial(_run_task, spec), tasks, workers=workers, cluster=cluster, progress=label):
        v, r = todo[i]
        exp.write_run(v, r, blobs)
    return exp
