"""One run's results: daily stocks, flows, arrivals, closures, rules, stays; tidy DataFrames."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from refuge.errors import RefugeError, suggest
from refuge.model.compiler import Model

if TYPE_CHECKING:
    import pandas as pd

# Daily quantities of a run, by name (`Run.to_df(what)`, `Experiment.to_df(what)`), and the column that names
# their members. `params` is not kept in experiment stores.
DAILY = {"stocks": "state", "sites": "site", "capacity": "site", "closed": "site", "flows": "transition",
         "max_stay": "state", "arrivals": "arrival", "rules": "rule", "params": "parameter", "entered": "state",
         "locations": "location"}
FLOAT_QUANTITIES = ("capacity", "params")  # the others are whole numbers (people, days, 0/1)
_ALIASES = {"occupancy": "sites", "site_occupancy": "sites", "states": "stocks", "transitions": "flows",
            "parameters": "params", "closures": "closed", "waits": "max_stay", "stay": "stays"}


def check_quantity(what: str, allowed: Iterable[str]) -> str:
    """The member column of a daily quantity; a RefugeError listing the valid names for an unknown one."""
    if what in allowed:
        return DAILY.get(what, "")
    hint = (f" (did you mean `{_ALIASES[what]}`?)" if _ALIASES.get(what) in allowed else suggest(what, allowed))
    raise RefugeError(f"what: expected one of {', '.join(allowed)}; found {what!r}{hint}")


def daily_names(model: Model, what: str) -> list[str]:
    """Member names of a daily quantity (states, sites, transitions, ...), in column order."""
    check_quantity(what, tuple(DAILY))
    m = model
    return {
        "stocks": lambda: list(m.state_names),
        "sites": lambda: list(m.site_names),
        "capacity": lambda: [n for n, p in zip(m.site_names, m.capacity_param) if p >= 0],
        "closed": lambda: list(m.site_names),
        "flows": lambda: list(m.edge_labels),
        "max_stay": lambda: [s for s, t in zip(m.state_names, m.tracked) if t],
        "arrivals": lambda: list(m.arrival_names),
        "rules": lambda: list(m.rule_names),
        "params": lambda: list(m.param_names[: m.n_named_params]),
        "entered": lambda: [m.state_names[s] for s in m.net.loc_state] if m.net is not None else [],
        "locations": lambda: list(m.net.names) if m.net is not None else [],
    }[what]()


def select_members(model: Model, what: str, names: str | Iterable[str] | None) -> list[str]:
    """The members of a daily quantity to show: all of them (None), one name (a string) or several, in the
    order asked; for `flows` a transition's name stands for all its edges. An unknown name is a RefugeError
    that says which quantity holds it (`embassy` among stocks: it is a site, ask for "sites")."""
    known = daily_names(model, what)
    if names is None:
        return known
    asked = [names] if isinstance(names, str) else [str(n) for n in names]
    out: list[str] = []
    for name in asked:
        if name in known:
            out.append(name)
        elif what == "flows" and name in model.transition_names:
            labels = list(model.edge_labels)
            out += [labels[e] for e in model.edges_of([name])]
        else:
            raise RefugeError(f"names: expected {_MEMBER_WORDS.get(what, what)}; found `{name}`"
                              f"{_where_else(model, what, name, known)}")
    return out


_MEMBER_WORDS = {"stocks": "a state", "sites": "a site", "capacity": "a site with a capacity", "closed": "a site",
                 "flows": "a transition or `transition->target`", "max_stay": "a tracked state (one with a duration)",
                 "arrivals": "an arrival stream", "rules": "a rule", "params": "a parameter",
                 "entered": "a location of the route network"}


def _where_else(model: Model, what: str, name: str, known: list[str]) -> str:
    """A hint for a name that belongs to another quantity (a site asked among stocks), or the nearest name."""
    for other in ("sites", "stocks", "flows", "arrivals", "rules", "params"):
        if other != what and name in daily_names(model, other):
            return f" (`{name}` is {_MEMBER_WORDS[other]}: ask for \"{other}\")"
    return suggest(name, known)


def tidy_dtypes(df: Any, what: str) -> Any:
    """The dtypes every tidy frame of refuge has: dates as datetime64[ns], whole-number quantities as int64."""
    df["date"] = df["date"].astype("datetime64[ns]")
    df["value"] = df["value"].astype("float64" if what in FLOAT_QUANTITIES else "int64")
    df["run"] = df["run"].astype("int64")
    return df


@dataclass
class Run:
    """One stochastic realisation of a model with a seed (`refuge.simulate`): daily arrays and stays.

    Arrays are NumPy, one row per day; `to_df(what)` gives tidy pandas frames."""

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
    stopped_sites: np.ndarray | None = None  # (days, sites) closed to every entry, also from inside (a full stop)
    # route network (None without one): people entering each state by network moves or spawning, the net
    # change of each state's stock by them, and people spawned each day
    entered: np.ndarray | None = None  # (days, states)
    net_change: np.ndarray | None = None  # (days, states)
    spawned: np.ndarray | None = None  # (days,)
    # (days, transitions) people whose time had come still waiting for a capped transition on days its capacity
    # was not used up (blocked downstream, or behind a group kept whole that did not fit); 0 on other days
    idle: np.ndarray | None = None

    # --- derived -------------------------------------------------------------------------
    @property
    def days(self) -> int:
        """Days simulated (fewer than the scenario's when the run stopped early with `until`)."""
        return self.stocks.shape[0]

    @property
    def site_occupancy(self) -> np.ndarray:
        """(days, sites) people in each site's states at the end of each day."""
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
        """Daily people moved along the named transitions (or `transition->target` edges)."""
        idx = self.model.edges_of(names)
        return self.flows[:, idx].sum(axis=1)

    def initial_stocks(self) -> np.ndarray:
        """People in each state at the start (before day 0), as the engines place them."""
        m = self.model
        return np.maximum(np.rint(m.pbase[0, m.initial_param]), 0).astype(np.int64)

    def initial_total(self) -> int:
        """People in all states at the start."""
        return int(self.initial_stocks().sum())

    def from_outside(self) -> np.ndarray:
        """(days,) people entering the system from outside each day: arrivals, and events that come from
        outside (an event taken `from` a state moves people already counted)."""
        from refuge.model.compiler import A_FROM

        outside = self.model.arr[:, A_FROM] < 0 if self.model.arr.shape[0] else np.zeros(0, bool)
        return self.arrived[:, outside].sum(axis=1)

    def completed_stays(self, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(exit day, duration in days, people) of completed stays in the named states."""
        idx = self.model.states_of(names)
        sel = np.isin(self.stays[:, 0], idx)
        st = self.stays[sel]
        return st[:, 2], st[:, 2] - st[:, 1], st[:, 3]

    def daily(self, what: str) -> np.ndarray:
        """(days, members) array of a daily quantity (see DAILY); members as in `daily_names(model, what)`."""
        check_quantity(what, tuple(DAILY))
        m = self.model
        return {
            "stocks": lambda: self.stocks,
            "sites": lambda: self.site_occupancy,
            "capacity": lambda: self.params[:, m.capacity_param[m.capacity_param >= 0]],
            "closed": lambda: self.closed_sites,
            "flows": lambda: self.flows,
            "max_stay": lambda: self.max_stay[:, np.flatnonzero(m.tracked)],
            "arrivals": lambda: self.arrived,
            "rules": lambda: self.rules_active,
            "params": lambda: self.params[:, : m.n_named_params],
            "entered": lambda: (self.entered[:, m.net.loc_state] if m.net is not None and self.entered is not None
                                else np.zeros((self.days, 0), np.int64)),
            "locations": lambda: (np.stack([self.stock_of([n]) for n in m.net.names], axis=1) if m.net is not None
                                  else np.zeros((self.days, 0), np.int64)),
        }[what]()

    # --- tidy frames -------------------------------------------------------------------------
    def to_df(self, what: str = "stocks", names: str | Iterable[str] | None = None) -> "pd.DataFrame":
        """Tidy DataFrame of a daily quantity — date, run (the seed), <member>, value: the columns of
        `Experiment.to_df` without `variant`, in the same order — with `what` one of stocks, sites, capacity,
        closed, flows, max_stay, arrivals, rules, params, entered (a route network's people arriving at each
        location by a move or spawned there), locations (each location's people: its state's and those of the
        states `at:` it). `names` keeps only some members: one name or a list (a
        transition's name stands for all its edges in `flows`). `what="stays"`: one row per stay in a tracked
        state (run, state, entry, days, people, completed; `names` picks states)."""
        import pandas as pd

        m = self.model
        col = check_quantity(what, (*DAILY, "stays"))
        if what == "stays":
            return self._stays_df(None if names is None else select_members(m, "max_stay", names))
        chosen = select_members(m, what, names)
        all_names = daily_names(m, what)
        table = self.daily(what)[:, [all_names.index(n) for n in chosen]]
        dates = m.dates[: self.days]  # a run stopped early (`until`) is shorter than the scenario
        n = len(chosen)
        return tidy_dtypes(pd.DataFrame({
            "date": np.repeat(dates.values, n),
            "run": self.seed,
            col: np.tile(np.array(chosen, dtype=object), self.days),
            "value": table.reshape(-1),
        }), what)

    def _stays_df(self, states: list[str] | None) -> "pd.DataFrame":
        import pandas as pd

        m = self.model
        dates = m.dates[: self.days]
        names = np.array(m.state_names)
        done = pd.DataFrame({"run": self.seed, "state": names[self.stays[:, 0]], "entry": dates[0] + pd.to_timedelta(
            self.stays[:, 1], "D"), "days": self.stays[:, 2] - self.stays[:, 1], "people": self.stays[:, 3],
            "completed": True})
        last = self.days - 1
        ong = pd.DataFrame({"run": self.seed, "state": names[self.ongoing[:, 0]], "entry": dates[0] + pd.to_timedelta(
            self.ongoing[:, 2], "D"), "days": last - self.ongoing[:, 2], "people": self.ongoing_size,
            "completed": False})
        out = pd.concat([done, ong], ignore_index=True)
        out["run"] = out["run"].astype("int64")
        return out if states is None else out[out["state"].isin(states)].reset_index(drop=True)

    def write(self, out: str | Path, overrides: dict[str, float] | None = None,
              overwrite: bool = False) -> list[Path]:
        """Write the run's tables (CSV and Parquet) and `run.json` (how it was made) to the folder `out`;
        see `refuge.results.files.write_run`. Returns the paths written."""
        from refuge.results.files import write_run

        return write_run(self, out, overrides=overrides, overwrite=overwrite)

    def __repr__(self) -> str:
        m = self.model
        last = m.start + dt.timedelta(days=self.days - 1)
        return (f"Run({m.scenario.name!r}, seed={self.seed}: {m.start} to {last}, {self.days:,} days, "
                f"{len(m.state_names)} states, {int(self.flows.sum()):,} people moved, {self.engine} engine)")

    def _repr_html_(self) -> str:
        from refuge._html import html_table

        m = self.model
        rows = [(r.state, r.kind, int(r.start), int(r.end), int(r.peak), str(r.peak_date))
                for r in self.summary().itertuples(index=False)]
        return html_table(f"{m.scenario.title or m.scenario.name} — seed {self.seed}, {self.days:,} days",
                          ("state", "kind", "start", "end", "peak", "peak date"), rows)

    def summary(self) -> "pd.DataFrame":
        """Per state: people at start, at end, peak and the day of the peak."""
        import pandas as pd

        m = self.model
        peak = self.stocks.max(axis=0)
        when = m.dates[self.stocks.argmax(axis=0)]
        return pd.DataFrame({"state": m.state_names, "kind": m.state_kinds, "start": self.initial_stocks(),
                             "end": self.stocks[-1], "peak": peak, "peak_date": when.date})
