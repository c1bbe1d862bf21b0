"""Errors a user can act on: the file, the field path, what was expected and what was found."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Iterable

MAX_PROBLEMS = 50  # problems listed in one message; a file with thousands gets the first ones

# Pieces pydantic adds to an error location that are not part of the user's file.
_TYPE_TAGS = {"float", "str", "int", "bool", "date", "list", "dict", "literal['rest']", "literal['wait']",
              "Redirect", "fixed", "exponential", "gamma", "lognormal", "empirical"}


@dataclass(frozen=True)
class Problem:
    path: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = self.path or "(top level)"
        return printable(f"{where}: expected {self.expected}; found {self.found}")


def printable(text: str) -> str:
    """Control characters, line breaks and bidirectional overrides from a user's file shown escaped: one problem
    stays one line, and a file cannot send escape sequences to the terminal nor reorder what it shows."""
    import re

    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]",
                  lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class RefugeError(Exception):
    """Base class of errors refuge reports to users without a traceback."""


class ArgumentError(RefugeError):
    """A bad argument to an API function, named as the API names it (`runs: expected ...`). The CLI shows it
    under its own option's name (`--runs: expected ...`), so neither side speaks the other's language."""

    def __init__(self, argument: str, detail: str):
        self.argument = argument
        self.detail = detail
        super().__init__(f"{argument}: {detail}")


class RefugeWarning(UserWarning):
    """Something a user should know that does not stop the work (the CLI prints it as one line)."""


class ScenarioError(RefugeError):
    """A scenario file with problems: its origin (the file) and every problem found, each with a field path."""

    def __init__(self, origin: str, problems: list[Problem]):
        self.origin = origin
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        """The message: `FILE: N problems`, then one indented line per problem."""
        head = f"{self.origin}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        more = len(self.problems) - MAX_PROBLEMS
        tail = [f"  ... and {more} more (fix these first)"] if more > 0 else []
        return "\n".join([head] + [f"  {p}" for p in self.problems[:MAX_PROBLEMS]] + tail)

    @classmethod
    def from_pydantic(cls, origin: str, exc: Any, data: Any, model: Any = None) -> "ScenarioError":
        """The problems of a pydantic ValidationError, by field path; `model` (the class `data` was validated
        against) lets a misspelt field name get a suggestion."""
        problems = []
        seen = set()
        for err in exc.errors(include_url=False)[:MAX_PROBLEMS * 4]:  # a file with 20,000 errors: the first ones
            loc = [p for p in err["loc"] if not _is_tag(p)]
            path = format_path(loc)
            if err["type"] == "extra_forbidden" and not _plain_key(loc[-1]):  # a key such as `:` or `a b`: where
                path = format_path(loc[:-1])  # it is (the message quotes it), not a path that reads wrong
            expected, found = _describe(err, data, loc, model)
            key = (path, expected)
            if key in seen:
                continue
            seen.add(key)
            problems.append(Problem(path, expected, found))
        return cls(origin, _prefer_specific(problems))


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and (part in _TYPE_TAGS or part.startswith(("function-", "literal[", "tagged-union")))


def _plain_key(part: Any) -> bool:
    """Whether a mapping key reads as a field name in a path (letters, digits, `_` and `-`)."""
    import re

    return isinstance(part, int) or bool(re.fullmatch(r"[\w-]+", str(part)))


def format_path(loc: Iterable[Any]) -> str:
    """A field path as users write it: ('transitions', 3, 'duration') -> `transitions[3].duration`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _lookup(data: Any, loc: list[Any]) -> Any:
    cur = data
    for part in loc:
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return cur


_MISSING = object()


def _describe(err: dict, data: Any, loc: list[Any], model: Any = None) -> tuple[str, str]:
    kind = err["type"]
    msg = err["msg"]
    ctx = err.get("ctx") or {}
    if "found" in ctx and "expected" in ctx:  # a check that says both (pydantic_core.PydanticCustomError)
        return str(ctx["expected"]), str(ctx["found"])
    value = _lookup(data, loc)
    shown = "nothing" if value is _MISSING else _short(value)
    if kind == "missing":
        return "this required field", "nothing"
    if kind == "extra_forbidden":
        parent = loc[:-1]
        return "a known field", f"unknown field `{loc[-1]}`" + _suggest_field(loc[-1], parent, data, model)
    if kind == "finite_number" or (kind == "string_type" and isinstance(value, float) and not math.isfinite(value)):
        return ("a finite number" + (" or a parameter name" if kind == "string_type" else "")), shown
    if kind == "string_type":  # only fields that take a number or a parameter name also accept text
        return "a number or a parameter name", shown
    if kind in ("float_parsing", "float_type"):
        return "a number (e.g. 30, 0.5 or 5e-4)", shown
    if kind == "value_error":
        return msg.removeprefix("Value error, "), shown if not isinstance(value, dict) else "an inconsistent entry"
    if kind.startswith(("date_", "datetime_")):
        return "a date YYYY-MM-DD", shown
    if kind == "literal_error":
        options = [o.strip().strip("'") for o in str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
                   .split(",")]
        return "one of " + ", ".join(options), shown + (suggest(str(value), options) if isinstance(value, str) else "")
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return "`dist` one of fixed, exponential, gamma, lognormal, empirical", shown
    msg = msg.removeprefix("Input should be ")  # "less than or equal to 36600", "a valid integer", ...
    return msg[0].lower() + msg[1:], shown


def _suggest_field(name: Any, parent: list[Any], data: Any, root: Any) -> str:
    """Suggest a valid field name for a misspelt one, using the model the parent maps to (from `root`, the
    model of the whole data; no suggestion without it)."""
    model = _model_at(root, parent, data) if root is not None else None
    if model is None:
        return ""
    fields = [f.alias or n for n, f in model.model_fields.items()]
    return suggest(str(name), fields)


def _model_at(model: Any, loc: list[Any], data: Any) -> Any:
    """The pydantic model class that describes the mapping at `loc` (best effort)."""

    from pydantic import BaseModel

    cur = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in cur.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        candidates = [a for a in _flatten(field.annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not candidates:
            return None
        cur = candidates[0]
    return cur


def _flatten(tp: Any) -> list[Any]:
    import typing

    args = typing.get_args(tp)
    if not args:
        return [tp]
    out = []
    for a in args:
        out += _flatten(a)
    return out


def _short(value: Any) -> str:
    """A bounded repr: a huge or deeply nested value costs no more to show than a small one."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlevel, r.maxlist, r.maxdict, r.maxlong = 60, 60, 3, 6, 4, 40
    text = r.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _prefer_specific(problems: list[Problem]) -> list[Problem]:
    """A union error repeats itself once per alternative: keep one line per path."""
    by_path: dict[str, Problem] = {}
    for p in problems:
        if p.path not in by_path:
            by_path[p.path] = p
        elif "number or a parameter" in p.expected:
            by_path[p.path] = p
    return list(by_path.values())


def suggest(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' for the nearest valid name, or ''."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.5)
    return f" (did you mean `{close[0]}`?)" if close else ""
