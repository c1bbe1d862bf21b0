"""How the compiled steps see the model and the run, for speed.

`refuge.sim.day.run_days` owns the two tuples (`Spec`, `World`) and hands the steps `SpecRef` and `WorldRef`,
structrefs with the same fields whose arrays are *borrowed* (Numba counts no references to them). A NamedTuple
argument is passed field by field (some 500 machine words at every call), and every array read from a tuple or
a structref is otherwise an atomic reference count; together these took two thirds of a run. `cache=True`
keeps working. Numba's cache follows the source file of each function only, so `refuge/sim/__init__.py`
empties the core's cache whenever any of its sources changes.
"""

from __future__ import annotations

from typing import Any

from numba import types
from numba.core import cgutils
from numba.core.datamodel import models
from numba.experimental import structref
from numba.extending import intrinsic, register_model


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
