"""One run's results: daily stocks, flows, arrivals, closures, rules, stays; tidy DataFrames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refuge.model.compiler import Model


@dataclass
class Run:
    model: Model
    seed: int
    stocks: np.ndarray  # (days, states) people at the end of each day
    flows: np.ndarray  # (days, edges) people moved on each day
    arrived: np.ndarray  # (days, arrivals) people admitted by each arrival stream
    closed_sites: np.ndarray  # (days, sites) closed to entry (schedule or rule)
    closed_states: np.ndarray  # (days, states)
    rules_active: np.ndarray  # (days, rules)
    max_stay: np.ndarray  # (days, states) longest ongoing stay, tracked states only
    params: np.ndarray  # (days, parameters) values in force, after rules
    stays: np.ndarray  # (n, 4) completed stays in tracked states: state, entry day, exit day, people
    ongoing: np.ndarray  # (m, 3) units still in tracked states at the end: state, size, entry day
    ongoing_size: np.ndarray  # (m,) people in each of those units
    backlog: np.ndarray  # (arrivals,) people still waiting to arrive at the end
    engine: str = "fast"

    # --- derived -------------------------------------------------------------------------
    @property
    def days(self) -> int:
        return self.stocks.shape[0]

    @property
    def site_occupancy(self) -> np.ndarray:
        m = self.model
        occ = np.zeros((self.days, len(m.site_names)), np.int64)
        for s, n in enumerate(m.state_site):
            if n >= 0:
                occ[:, n] += self.stocks[:, s]
        return occ

    def stock_of(self, names: list[str]) -> np.ndarray:
        """Daily people in the named states and sites (sites count their states)."""
        idx = self.model.states_of(names)
        return self.stocks[:, idx].sum(axis=1)

    def flow_of(self, names: list[str]) -> np.ndarray:
        idx = self.model.edges_of(names)
        return self.flows[:, idx].sum(axis=1)

    def initial_stocks(self) -> np.ndarray:
        """People in each state at the start (before day 0), as the engines place them."""
        m = self.model
        return np.maximum(np.rint(m.pbase[0, m.initial_param]), 0).astype(np.int64)

    def initial_total(self) -> int:
        return int(self.initial_stocks().sum())

    def completed_stays(self, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(exit day, duration in days, people) of completed stays in the named states."""
        idx = self.model.states_of(names)
        sel = np.isin(self.stays[:, 0], idx)
        st = self.stays[sel]
        return st[:, 2], st[:, 2] - st[:, 1], st[:, 3]

    # --- tidy frames -------------------------------------------------------------------------
    def to_df(self, what: str = "stocks"):
        """Tidy DataFrame: `stocks`, `flows`, `sites`, `arrivals`, `stays`, `rules`, or `params`."""
        import pandas as pd

        m = self.model
        dates = m.dates[: self.days]  # a run stopped early (`until`) is shorter than the scenario
        if what == "stays":
            names = np.array(m.state_names)
            done = pd.DataFrame({"state": names[self.stays[:, 0]], "entry": dates[0] + pd.to_timedelta(
                self.stays[:, 1], "D"), "days": self.stays[:, 2] - self.stays[:, 1], "people": self.stays[:, 3],
                "completed": True})
            last = self.days - 1
            ong = pd.DataFrame({"state": names[self.ongoing[:, 0]], "entry": dates[0] + pd.to_timedelta(
                self.ongoing[:, 2], "D"), "days": last - self.ongoing[:, 2], "people": self.ongoing_size,
                "completed": False})
            out = pd.concat([done, ong], ignore_index=True)
            out["run"] = self.seed
            return out
        table, names, col = {
            "stocks": (self.stocks, m.state_names, "state"),
            "flows": (self.flows, m.edge_labels, "transition"),
            "sites": (self.site_occupancy, m.site_names, "site"),
            "arrivals": (self.arrived, m.arrival_names, "arrival"),
            "rules": (self.rules_active.astype(np.int64), m.rule_names, "rule"),
            "params": (self.params[:, : m.n_named_params], m.param_names[: m.n_named_params], "parameter"),
        }[what]
        n = len(names)
        return pd.DataFrame({
            "date": np.repeat(dates.values, n),
            col: np.tile(np.array(names, dtype=object), self.days),
            "value": table.reshape(-1),
            "run": self.seed,
        })

    def summary(self):
        """Per state: people at start, at end, peak and the day of the peak."""
        import pandas as pd

        m = self.model
        peak = self.stocks.max(axis=0)
        when = m.dates[self.stocks.argmax(axis=0)]
        return pd.DataFrame({"state": m.state_names, "kind": m.state_kinds, "start": self.initial_stocks(),
                             "end": self.stocks[-1], "peak": peak, "peak_date": when.date})
