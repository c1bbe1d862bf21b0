"""The ABC-SMC sampler: seeded candidates, ordered acceptance, finished candidates kept in `pending/`.

Candidate `i` of generation `t` is simulated with a seed derived from (seed, t, i), and a
generation keeps the first N accepted candidates in index order, so the posterior is the
same whatever the number of workers or the backend.
"""

from __future__ import annotations

import functools
import math
import random
import threading
from typing import Callable

import numpy as np

from refuge.inference.pending import Pending
from refuge.inference.simulator import run_tasks

# The threshold of generation 0: every draw whose scenario is valid is accepted (distance finite),
# a draw that makes the scenario invalid (distance infinite) is not.
PRIOR_THRESHOLD = float(np.finfo(float).max)


def candidate_seed(seed: int, t: int, i: int) -> int:
    """The seed of candidate `i` of generation `t`: the same on any backend and number of workers."""
    return int(np.random.SeedSequence([int(seed), t + 2, int(i)]).generate_state(1)[0])


class _SeededCandidates:
    """Runs pyabc's `simulate_one` for one candidate index, under that candidate's own seed."""

    def __init__(self, simulate_one, seed: int, t: int):
        self.simulate_one, self.seed, self.t = simulate_one, seed, t

    def __call__(self, i: int):
        s = candidate_seed(self.seed, self.t, i)
        with _LOCK:  # the global generators are per process; threads of one worker take turns
            np.random.seed(s)
            random.seed(s)
            return self.simulate_one()


_LOCK = threading.Lock()

@functools.cache
def _sampler_class():
    from pyabc.sampler import Sampler

    class OrderedSampler(Sampler):
        """Batches of seeded candidates; keeps the first n accepted in index order.

        `nr_evaluations_` is the number of candidates up to the n-th accepted one,
        so the counts pyabc stores (and its budget) do not depend on batch sizes.
        """

        def __init__(self, seed: int, pending: Pending, workers: int | None = 1, cluster: str | None = None,
                     progress: Callable | None = None):
            super().__init__()
            self.seed, self.pending, self.progress = seed, pending, progress
            self.workers, self.cluster = workers, cluster
            self.rate = 0.5
            self.simulations = 0
            self.reused = 0

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False,
                                    ana_vars=None):
            eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else PRIOR_THRESHOLD
            if ana_vars is not None and np.isfinite(ana_vars.max_total_nr_simulations):
                max_eval = min(max_eval, ana_vars.max_total_nr_simulations - ana_vars.prev_total_nr_simulations)
            key = (t, n, round(eps, 12), self.seed)
            done = self.pending.load(t, key) if t >= 0 else {}
            self.reused += len(done)
            candidates = _SeededCandidates(simulate_one, self.seed, t)
            order, accepted, nxt = [], 0, 0
            while accepted < n and nxt < max_eval:
                size = int(min(max(math.ceil((n - accepted) / max(self.rate, 0.02) * 1.1), 8), max_eval - nxt))
                batch = list(range(nxt, nxt + size))
                todo = [i for i in batch if i not in done]
                fresh = dict(zip(todo, run_tasks(candidates, todo, self.workers, self.cluster)))
                if fresh and t >= 0:
                    self.pending.append(t, key, fresh)
                self.simulations += len(fresh)
                done.update(fresh)
                for i in batch:
                    if accepted < n:
                        order.append(i)
                        accepted += bool(done[i].accepted)
                nxt += size
                self._report(t, accepted, n, len(order), eps)
            sample = self._create_empty_sample()
            for i in order:
                sample.append(done[i])
            self.nr_evaluations_ = len(order)
            if accepted < n:
                sample.ok = False
            else:
                self.rate = accepted / max(len(order), 1)
            return sample

        def _report(self, t, accepted, n, evaluated, eps):
            if self.progress is not None:
                self.progress({"event": "batch", "generation": t, "accepted": accepted, "population": n,
                               "evaluated": evaluated, "epsilon": eps, "simulations": self.simulations})

    return OrderedSampler
