"""Sources in the scenario format: the documents a scenario cites (`Reference`) and a fact's `Source`."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from refuge.scenario.base import FormatModel


class Reference(FormatModel):
    """A published document a scenario cites (an entry of its `sources:`), so that a reader can find it."""

    publisher: str = Field(description="e.g. BBC News, Voice of America, UNHCR")
    date: dt.date | None = Field(None, description="publication date (leave out if the document is undated)")
    headline: str = Field(description="the title as published")
    url: str = Field("", description="where it can be read, if known")
    author: str = ""
    note: str = Field("", description="e.g. how an undated document was dated")

    def citation(self) -> str:
        """'Publisher, 9 May 2002, "Headline". URL' (what a report prints)."""
        when = f"{self.date.day} {self.date:%B %Y}" if self.date else "undated"
        by = f", by {self.author}" if self.author else ""
        text = f'{self.publisher}, {when}, "{self.headline}"{by}.'
        return text + (f" {self.url}" if self.url else "") + (f" ({self.note})" if self.note else "")


class Source(FormatModel):
    """Where a number or a fact comes from: an entry of the scenario's `sources:` (`ref`), or a document kept
    beside the scenario file (`file`), and the fact, in our words."""

    ref: str | None = Field(None, description="the key of an entry of the scenario's `sources:`")
    file: str | None = Field(None, description="a document beside the scenario file")
    fact: str

    @model_validator(mode="after")
    def _one(self) -> "Source":
        self._one_of("a source", ("ref", "file"))
        return self

    @property
    def key(self) -> str:
        """How tables name the source: the reference key or the file name."""
        return self.ref if self.ref is not None else str(self.file)
