"""The service order's part of the format: the `order` field of a transition (`ServiceOrder`, its classes
`OrderClass`), its checks, and its words for the page (`PART`, joined into the format by
`refuge.scenario.extend`). It sits in the format's layer: it imports the base of the format, never the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel, FormatPart


class OrderClass(FormatModel):
    """A class of the people waiting for a capacity-limited transition, by their day of entry into its source
    state (claims lodged before a date, say): `entered_before` and/or `entered_from`."""

    name: str = ""
    entered_before: dt.date | None = Field(None, description="entered the waiting state before this date")
    entered_from: dt.date | None = Field(None, description="entered it on or after this date")
    share: float | None = Field(None, ge=0, le=1, description="with `kind: shares`: the share of the capacity "
                                "this class may take (what it leaves goes to the others)")

    @model_validator(mode="after")
    def _bounded(self) -> "OrderClass":
        if self.entered_before is None and self.entered_from is None:
            raise ValueError("a class needs `entered_before` or `entered_from` (days of entry into the state)")
        if self.entered_before is not None and self.entered_from is not None and \
                self.entered_before <= self.entered_from:
            raise ValueError(f"a class entered before {self.entered_before} and from {self.entered_from} is empty")
        return self


class ServiceOrder(FormatModel):
    """The order in which a capacity-limited transition serves the people waiting for it: `fifo` (first come,
    first served: the default), `lifo` (the newest first), `priority` (the classes in the order listed, people
    in no class last) or `shares` (each class up to its share of the capacity, what a class leaves to anyone
    still waiting, first come first served); in force `from` a date (first come, first served before it)."""

    kind: Literal["fifo", "lifo", "priority", "shares"] = "fifo"
    classes: list[OrderClass] = Field(default_factory=list)
    start: dt.date | None = Field(None, alias="from", description="the order applies from this date")

    @model_validator(mode="after")
    def _classes(self) -> "ServiceOrder":
        if self.kind in ("fifo", "lifo") and self.classes:
            raise ValueError(f"`{self.kind}` takes no classes (they are for `priority` and `shares`)")
        if self.kind in ("priority", "shares") and not self.classes:
            raise ValueError(f"`{self.kind}` needs at least one class")
        shares = [c.share for c in self.classes]
        if self.kind == "shares":
            if any(x is None for x in shares):
                raise ValueError("`shares`: give every class a `share` (people in no class share what is left)")
            if sum(shares) > 1 + 1e-9:
                raise ValueError(f"`shares`: shares that sum to at most 1; found a sum of {sum(shares):g}")
        elif any(x is not None for x in shares):
            raise ValueError("`share` only with `kind: shares`")
        return self

    def words(self) -> str:
        """The order in a few words for a reader ("served newest first from 2022-02-01"); "" for first come,
        first served, the default."""
        def cls(c: OrderClass) -> str:
            days = " and ".join(x for x in (f"from {c.entered_from}" if c.entered_from else "",
                                            f"before {c.entered_before}" if c.entered_before else "") if x)
            name = c.name or "entered"
            return f"{name} ({'entered ' if c.name else ''}{days})" + (f" {c.share:.0%}" if c.share is not None else "")

        if self.kind == "fifo":
            return ""
        said = {"lifo": "newest first",
                "priority": "first " + ", then ".join(cls(c) for c in self.classes),
                "shares": "in shares: " + ", ".join(cls(c) for c in self.classes)}[self.kind]
        return f"served {said}" + (f" from {self.start}" if self.start else "")



def _needs_capacity(t: Any) -> None:
    if t.order is not None and t.capacity is None:
        raise ValueError("`order` needs a `capacity` (a queue forms only where a capacity limits a transition)")


PART = FormatPart(
    "service order",
    fields={"transition": {"order": (ServiceOrder | None, Field(
        None, description="the order in which the capacity serves its queue"))}},
    checks={"transition": (_needs_capacity,)},
    tracks=lambda t: t.order is not None and t.order.kind != "fifo",  # the order needs each person's day of entry
    words=lambda t: t.order.words() if t.order is not None else "",
)
