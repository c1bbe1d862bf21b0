"""The fast engine's data: what a compiled model gives it (`Spec`) and what a run changes (`World`).

`Spec` is a NamedTuple of the model's arrays, read-only during a run. `World` is a NamedTuple of the
arrays a run changes in place: today's stocks, closures and parameter values, the tables of tracked
units and completed stays, and the daily records. A step of the day is a function `step(t, m, w)` of
the day, the spec and the world (`m.trans`, `w.stock`, ...); a new mechanism adds its arrays to
`World` (and `new_world`) and its step to `refuge.engine.kernel.run_days`.

How the steps see them, for speed: `run_days` owns the two tuples and hands the steps `SpecRef` and
`WorldRef`, structrefs with the same fields whose arrays are *borrowed* (Numba counts no references to
them). A NamedTuple argument is passed field by field (some 500 machine words at every call), and
every array read from a tuple or a structref is otherwise an atomic reference count; together these
took two thirds of a run. `cache=True` keeps working. Numba's cache follows the source file of each
function only, so `refuge/engine/__init__.py` empties the engine's cache whenever any engine source changes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.core.datamodel import models
from numba.experimental import structref
from numba.extending import intrinsic, register_model

from refuge.model.compiler import Model

# Columns of the tracked-unit table: state, people, day of entry, day its time is up, the transition
# that time belongs to (-1: none), alive (0 once it has left).
U_STATE, U_SIZE, U_ENTRY, U_DUE, U_DUETR, U_ALIVE = range(6)
U_COLS = 6
BIG = np.int64(1) << 60  # a due day that never comes, the room of a site without capacity, an unlimited budget
# Columns of the completed-stay table: state, entry day, exit day, people.
STAY_COLS = 4


class Spec(NamedTuple):
    """A compiled model as the engine reads it (see `refuge.model.compiler` for each array)."""

    state_site: np.ndarray  # (S,) site of each state, -1 none
    tracked: np.ndarray  # (S,) bool: units with entry days, not a count
    initial_param: np.ndarray  # (S,) parameter slot of the initial stock
    out_ptr: np.ndarray  # (S+1,) exits of state s are out_trans[out_ptr[s]:out_ptr[s+1]]
    out_trans: np.ndarray
    capacity_param: np.ndarray  # (N,) parameter slot of each site's room, -1 unlimited
    closed_site_sched: np.ndarray  # (T, N) closed to entry from outside the site by the schedule
    stopped_site_sched: np.ndarray  # (T, N) closed to every entry into its states (a full stop)
    closed_state_sched: np.ndarray  # (T, S)
    trans: np.ndarray  # (J, T_COLS) transition table, columns T_* in the compiler
    edge_target: np.ndarray  # (E,) state an edge leads to
    edge_p: np.ndarray  # (E,) parameter slot of its split probability, -1 `rest`
    emp_ptr: np.ndarray  # empirical distributions: values and cumulative weights
    emp_values: np.ndarray
    emp_cdf: np.ndarray
    arr: np.ndarray  # (A, 11) arrival table (events included), columns A_*
    pbase: np.ndarray  # (T, P) parameter values by day, before rules
    rule_sig: np.ndarray  # rules: signal kind, members, window, levels, period, actions
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
    net_loc: np.ndarray  # (S,) the route network's location of each state, -1 none


def spec_of(m: Model) -> Spec:
    """The engine's view of a compiled model (the same arrays, no copies)."""
    net_loc = np.full(len(m.state_names), -1, np.int64)
    if m.net is not None:
        net_loc[m.net.loc_state] = np.arange(len(m.net.loc_state))
    return Spec(**{name: getattr(m, name) for name in Spec._fields if name != "net_loc"}, net_loc=net_loc)


class World(NamedTuple):
    """The state of one run: arrays changed in place by the steps (built by `new_world`).

    The tables of tracked units, completed stays and waiting groups have a fixed number of rows
    within a run: a step that would need more rows sets `count[FULL]` and the run is made again,
    from the same seed, with bigger tables (`refuge.engine.kernel.run_model`); so no step ever
    reallocates (and the borrowed views the steps hold stay valid).
    """

    g_arr: np.random.Generator  # random streams, one per mechanism (refuge.engine.streams)
    g_dep: np.random.Generator
    g_dur: np.random.Generator
    g_split: np.random.Generator
    g_grp: np.random.Generator
    # today
    pv: np.ndarray  # (P,) parameter values in force (after rules)
    stock: np.ndarray  # (S,) people in each state now
    n0: np.ndarray  # (S,) people in each state at the start of today's moves
    occ: np.ndarray  # (N,) people in each site now
    cap: np.ndarray  # (N,) room of each site today
    closed_site: np.ndarray  # (N,) bool: closed to entry from outside the site
    stopped_site: np.ndarray  # (N,) bool: closed to every entry into its states
    closed_state: np.ndarray  # (S,) bool
    rule_on: np.ndarray  # (R,) bool
    rule_since: np.ndarray  # (R,) day each rule switched on
    flow_signal: np.ndarray  # (R,) a flow rule's signal: people moved over its window ending yesterday
    hazard: np.ndarray  # (S,) total rate of the constant-rate exits of each state today
    leave_p: np.ndarray  # (S,) chance that a person (or unit) there leaves by one of them today
    budget: np.ndarray  # (J,) people a transition with a processing capacity may still move this period
    net_in: np.ndarray  # (S,) people put into each route-network location today by the steps above the network's
    net_out: np.ndarray  # (S,) ... and taken out of it (the network's step takes them over)
    # people waiting to arrive
    backlog: np.ndarray  # (A,) single people per stream
    pend: np.ndarray  # groups: rows (stream, size), oldest first
    # tracked units and completed stays
    units: np.ndarray  # rows U_*
    stays: np.ndarray  # rows: state, entry day, exit day, people
    count: np.ndarray  # rows in use: count[N_UNITS], count[N_STAYS], count[N_PEND]; count[FULL]: tables too small
    # scratch space for one transition at a time
    probs: np.ndarray
    rates: np.ndarray
    tcounts: np.ndarray
    ecounts: np.ndarray
    # daily records
    stocks: np.ndarray
    flows: np.ndarray
    arrived: np.ndarray
    closed_site_out: np.ndarray
    closed_state_out: np.ndarray
    stopped_site_out: np.ndarray
    rule_out: np.ndarray
    max_stay: np.ndarray
    params: np.ndarray


# Entries of World.count; FULL holds a bit per table that ran out of rows.
N_UNITS, N_STAYS, N_PEND, FULL = range(4)
FULL_UNITS, FULL_STAYS, FULL_PEND, FULL_NET = 1, 2, 4, 8  # FULL_NET: the route network's person table


class BorrowedArray(types.Array):
    """An array whose memory another reference keeps alive: Numba counts no references to it."""

    def __init__(self, dtype, ndim, layout, readonly=False, aligned=True):
        super().__init__(dtype, ndim, layout, readonly=readonly, aligned=aligned,
                         name=f"borrowed({dtype}, {ndim}d, {layout})")


@register_model(BorrowedArray)
class BorrowedArrayModel(models.StructModel):
    """An array's layout, with the meminfo an untracked pointer."""

    def __init__(self, dmm, fe_type):
        members = [("meminfo", types.voidptr), ("parent", types.pyobject), ("nitems", types.intp),
                   ("itemsize", types.intp), ("data", types.CPointer(fe_type.dtype)),
                   ("shape", types.UniTuple(types.intp, fe_type.ndim)),
                   ("strides", types.UniTuple(types.intp, fe_type.ndim))]
        super().__init__(dmm, fe_type, members)


@intrinsic
def borrowed(typingctx, tup):
    """The same NamedTuple with its arrays borrowed: no reference counting when steps read them.

    Numba counts references to an array of a tuple each time a function reads it from the tuple (an atomic
    increment and decrement): with some seventy arrays in `Spec` and `World` read in every step, that was
    most of a run's time. The steps read borrowed arrays while the caller's tuples own the memory; nothing
    borrowed may be returned to Python. Views taken from a borrowed array are ordinary arrays that own nothing.
    """
    if not isinstance(tup, types.NamedTuple):
        return None
    new = [BorrowedArray(t.dtype, t.ndim, t.layout, not t.mutable, t.aligned) if isinstance(t, types.Array)
           else t for t in tup.types]
    out_type = types.NamedTuple(new, tup.instance_class)

    def codegen(context, builder, sig, args):
        out = cgutils.get_null_value(context.get_value_type(out_type))
        for k, ty in enumerate(tup.types):
            value = builder.extract_value(args[0], k)
            if isinstance(ty, types.Array):
                src = context.make_array(ty)(context, builder, value=value)
                dst = cgutils.create_struct_proxy(new[k])(context, builder)
                for f in ("nitems", "itemsize", "data", "shape", "strides"):
                    setattr(dst, f, getattr(src, f))
                value = dst._getvalue()  # meminfo and parent null
            elif isinstance(ty, types.NumPyRandomGeneratorType):  # a null meminfo: counted for nothing
                gen = cgutils.create_struct_proxy(ty)(context, builder, value=value)
                gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
                value = gen._getvalue()
            else:  # anything else is shared with the input: one more reference to it
                context.nrt.incref(builder, ty, value)
            out = builder.insert_value(out, value, k)
        return out

    return out_type(tup), codegen


# What the steps receive: the fields of `Spec` and `World`, borrowed, behind one pointer each.
@structref.register
class SpecRefType(types.StructRef):
    """Numba's type of `SpecRef`."""

    def preprocess_fields(self, fields: Any) -> Any:
        """Field types without literal values, so that one compiled step serves every model."""
        return tuple((name, types.unliteral(t)) for name, t in fields)


class SpecRef(structref.StructRefProxy):
    """The fields of a `Spec`, borrowed by the compiled steps behind one pointer."""


@structref.register
class WorldRefType(types.StructRef):
    """Numba's type of `WorldRef`."""

    def preprocess_fields(self, fields: Any) -> Any:
        """Field types without literal values, so that one compiled step serves every run."""
        return tuple((name, types.unliteral(t)) for name, t in fields)


class WorldRef(structref.StructRefProxy):
    """The fields of a `World`, borrowed by the compiled steps behind one pointer."""


structref.define_proxy(SpecRef, SpecRefType, list(Spec._fields))
structref.define_proxy(WorldRef, WorldRefType, list(World._fields))


# Views of those structrefs that Numba counts no references to: a function increments and decrements the
# count of every counted argument it is called with (an atomic operation each), and the small steps are called
# some millions of times a run. `run_days` holds the counted structrefs for as long as the views are used.
@structref.register
class SpecViewType(types.StructRef):
    """Numba's type of the uncounted view of a `Spec` the steps receive."""

    pass


@structref.register
class WorldViewType(types.StructRef):
    """Numba's type of the uncounted view of a `World` the steps receive."""

    pass


class UncountedRefModel(models.StructModel):
    """A structref's layout (a pointer to its meminfo) that Numba does not count references to."""

    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, [("meminfo", types.voidptr)])


register_model(SpecViewType)(UncountedRefModel)
register_model(WorldViewType)(UncountedRefModel)


@intrinsic
def view(typingctx, ref):
    """An uncounted view of a SpecRef or WorldRef (the same memory)."""
    kinds = {SpecRefType: SpecViewType, WorldRefType: WorldViewType}
    if type(ref) not in kinds:
        return None
    out_type = kinds[type(ref)](list(ref.field_dict.items()))

    def codegen(context, builder, sig, args):
        src = cgutils.create_struct_proxy(ref)(context, builder, value=args[0])
        dst = cgutils.create_struct_proxy(out_type)(context, builder)
        dst.meminfo = builder.bitcast(src.meminfo, dst.meminfo.type)
        return dst._getvalue()

    return out_type(ref), codegen


@njit(cache=True)
def new_world(days, m, sizes, g_arr, g_dep, g_dur, g_split, g_grp):
    """An empty world with tables of `sizes` rows (units, stays, waiting groups)."""
    S = m.state_site.shape[0]
    N = m.closed_site_sched.shape[1]
    J = m.trans.shape[0]
    E = m.edge_target.shape[0]
    A = m.arr.shape[0]
    R = m.rule_sig.shape[0]
    P = m.pbase.shape[1]
    return World(
        g_arr, g_dep, g_dur, g_split, g_grp,
        m.pbase[0].copy(), np.zeros(S, np.int64), np.zeros(S, np.int64), np.zeros(N, np.int64),
        np.zeros(N, np.int64), np.zeros(N, np.bool_), np.zeros(N, np.bool_), np.zeros(S, np.bool_),
        np.zeros(R, np.bool_),
        np.zeros(R, np.int64), np.zeros(R, np.float64), np.full(S, -1.0), np.zeros(S, np.float64),
        np.full(max(J, 1), BIG), np.zeros(S, np.int64), np.zeros(S, np.int64),
        np.zeros(A, np.int64), np.zeros((sizes[2], 2), np.int64),
        np.zeros((sizes[0], U_COLS), np.int64), np.zeros((sizes[1], STAY_COLS), np.int64), np.zeros(4, np.int64),
        np.zeros(max(E, 1), np.float64), np.zeros(max(J, 1), np.float64), np.zeros(max(J, 1), np.int64),
        np.zeros(max(E, 1), np.int64),
        np.empty((days, S), np.int64), np.zeros((days, E), np.int64), np.zeros((days, A), np.int64),
        np.empty((days, N), np.bool_), np.empty((days, S), np.bool_), np.empty((days, N), np.bool_),
        np.empty((days, R), np.bool_),
        np.zeros((days, S), np.int64), np.empty((days, P), np.float64),
    )
