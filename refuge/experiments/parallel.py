"""A generic, order-preserving parallel map on local processes or a Dask cluster.

`map_runs(fn, tasks, workers, cluster)` runs a picklable top-level function over tasks;
`imap_runs` yields results as they finish (with their task index) for callers that write as they go.
Local workers are started from a fork server that never re-runs the caller's script (see
`refuge.experiments.worker_entry`), so a plain script without `if __name__ == "__main__":`, or one
piped to `python -`, can run an ensemble.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable, Iterator, Sequence

from refuge.errors import ArgumentError, RefugeError
from refuge.experiments.progress import _Progress

MAX_CHUNK = 16  # tasks per chunk: large enough to hide the hand-over, small enough for a live progress bar
CONNECT_TIMEOUT = "10s"  # to reach a Dask scheduler


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
        raise ArgumentError("workers", f"expected a whole number >= 1; found {workers}")
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
    # forkserver starts workers from a clean, preloaded server (safe with Numba, cheaper than spawn); its first
    # preload keeps the workers from re-running the caller's script (refuge.experiments.worker_entry).
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["refuge.experiments.worker_entry", "refuge.api", "refuge.sim.run",
                                    "refuge.experiments.ensemble"])
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


BROKEN = ("worker processes stopped before finishing their runs (from a script: put the call under "
          "`if __name__ == \"__main__\":`, or pass workers=1 to run in this process)")


def _on_processes(fn, tasks: list, workers: int, chunksize: int | None) -> Iterator[tuple[int, list]]:
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = _pool(workers)
    chunks = _chunks(len(tasks), workers, chunksize)
    pending = {pool.submit(_run_chunk, fn, tasks[lo:hi]): lo for lo, hi in chunks}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                lo = pending.pop(fut)
                try:
                    result = fut.result()
                except BrokenProcessPool:  # a worker died (killed, out of memory, or it could not start)
                    _POOLS.pop(workers, None)
                    raise RefugeError(BROKEN) from None
                yield lo, result
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
        raise ArgumentError("cluster", f"expected a scheduler address like tcp://HOST:PORT; found {address!r}")
    deadline = time.monotonic() + timeout
    where = address

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
        raise ArgumentError("cluster", f"{where}: no answer within {timeout:g} s (is a Dask scheduler listening "
                            "there?)") from None
    except ValueError:
        raise ArgumentError("cluster", f"{where}: the service there is not a Dask scheduler (it answered "
                            "something else)") \
            from None
    except (OSError, ConnectionError) as exc:
        raise ArgumentError("cluster", f"{where}: could not connect ({getattr(exc, 'strerror', None) or exc})") \
            from None


def _on_dask(fn, tasks: list, cluster: Any, chunksize: int | None) -> Iterator[tuple[int, list]]:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise ArgumentError("cluster", "needs dask[distributed] installed") from None

    own = not isinstance(cluster, Client)
    if own:
        if not isinstance(cluster, str):
            raise ArgumentError("cluster", f"expected the address of a Dask scheduler (tcp://HOST:PORT); "
                                f"found {str(cluster)[:60]!r}")
        probe_scheduler(cluster, _seconds(CONNECT_TIMEOUT))
        try:
            client = Client(cluster, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ArgumentError("cluster", f"could not connect to the Dask scheduler at {cluster!r} ({exc})") from None
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
