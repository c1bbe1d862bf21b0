"""The compiled model: a scenario's arrays, ready for the engine, and the names that go with them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from refuge.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Model:
    """A scenario compiled for the engine. Arrays only; names kept for results."""

    scenario: Scenario
    origin: str
    start: dt.date
    days: int
    state_names: list[str]
    state_kinds: list[str]
    site_names: list[str]
    transition_names: list[str]
    edge_names: list[str]
    arrival_names: list[str]
    rule_names: list[str]
    param_names: list[str]
    n_named_params: int
    # states
    state_site: np.ndarray
    tracked: np.ndarray
    queued: np.ndarray  # tracked states that are queues: their people kept as counts per day of entry
    initial_param: np.ndarray
    out_ptr: np.ndarray
    out_trans: np.ndarray
    # sites
    capacity_param: np.ndarray
    closed_site_sched: np.ndarray  # (T, N) closed to entry from outside the site
    stopped_site_sched: np.ndarray  # (T, N) closed to every entry into its states (a full stop)
    closed_state_sched: np.ndarray
    # transitions and edges
    trans: np.ndarray
    edge_trans: np.ndarray
    edge_target: np.ndarray
    edge_p: np.ndarray
    edge_is_redirect: np.ndarray
    emp_ptr: np.ndarray
    emp_values: np.ndarray
    emp_cdf: np.ndarray
    # arrivals
    arr: np.ndarray
    # parameters over time, before rules
    pbase: np.ndarray
    # rules
    rule_sig: np.ndarray
    rule_sig_ptr: np.ndarray
    rule_sig_idx: np.ndarray
    rule_window: np.ndarray
    rule_above: np.ndarray
    rule_below: np.ndarray
    rule_min_days: np.ndarray
    rule_start: np.ndarray
    rule_end: np.ndarray
    act_ptr: np.ndarray
    act_kind: np.ndarray
    act_target: np.ndarray
    act_value: np.ndarray
    # the highest value each parameter slot's uses allow (1 for a chance): a drift never goes above it
    pceil: np.ndarray = field(default_factory=lambda: np.zeros(0))
    evidence: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)  # see refuge.model.outcomes
    series: list[dict] = field(default_factory=list)
    net: Any = None  # refuge.model.network.NetModel when the scenario has a route network
    digest: str = ""

    @property
    def dates(self) -> "pd.DatetimeIndex":
        """Every day of the scenario's period."""
        import pandas as pd

        return pd.date_range(self.start, periods=self.days, freq="D")

    def day(self, date: dt.date) -> int:
        """The day index of a date (0 is the scenario's start)."""
        return (date - self.start).days

    def state_index(self, name: str) -> int:
        """The column of a state in the run arrays."""
        return self.state_names.index(name)

    def edges_of(self, names: list[str]) -> list[int]:
        """Edges named by transition (all its edges) or by `transition->target`."""
        out: list[int] = []
        for name in names:
            if name in self.transition_names:
                j = self.transition_names.index(name)
                out += [e for e in range(len(self.edge_names)) if self.edge_trans[e] == j]
            else:
                # a split edge and a redirect edge may share a target: the name covers both
                out += [e for e, n in enumerate(self.edge_names) if n == name]
        return out

    @property
    def edge_labels(self) -> list[str]:
        """Edge names made unique for tables: a redirect edge that shares its target with a split edge is marked."""
        labels: list[str] = []
        for e, name in enumerate(self.edge_names):
            label = f"{name} (redirected)" if self.edge_is_redirect[e] else name
            while label in labels:
                label += "'"
            labels.append(label)
        return labels

    def __repr__(self) -> str:
        sc = self.scenario
        end = self.start + dt.timedelta(days=self.days - 1)
        counts = ", ".join(_plural(n, word) for n, word in (
            (len(self.state_names), "state"), (len(self.site_names), "site"),
            (len(self.transition_names), "transition"),
            (len(self.arrival_names), "arrival stream"), (self.n_named_params, "parameter"),
            (len(self.rule_names), "rule"), (len(self.evidence), "evidence fact")))
        return f"Model({sc.name!r}: {self.start} to {end}, {counts})"

    def _repr_html_(self) -> str:
        from refuge._html import html_table

        sc = self.scenario
        rows = [(s.name, s.kind, s.site or "", s.description) for s in sc.states]
        title = f"{sc.title or sc.name} ({self.start} to {self.start + dt.timedelta(days=self.days - 1)})"
        note = (f"{len(self.transition_names)} transitions, {len(self.arrival_names)} arrival streams, "
                f"{self.n_named_params} parameters, {len(self.rule_names)} rules, {len(self.evidence)} evidence "
                f"facts; from {self.origin}")
        return html_table(title, ("state", "kind", "site", "description"), rows, note)

    def states_of(self, names: list[str]) -> list[int]:
        """States named directly or through their site; a location of the route network stands for its own
        state and the states at it (`at:`, people in process there)."""
        out: list[int] = []
        for name in names:
            if name in self.state_names:
                out.append(self.state_names.index(name))
                if self.net is not None and out[-1] in self.net.loc_state:
                    out += self.net.at_states(int(np.flatnonzero(self.net.loc_state == out[-1])[0]))
            else:
                n = self.site_names.index(name)
                out += [s for s in range(len(self.state_names)) if self.state_site[s] == n]
        return sorted(set(out))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"

