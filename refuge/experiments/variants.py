"""The variants of an ensemble: a sweep file, named parameter sets, or the scenario's declared variants."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from refuge.errors import RefugeError
from refuge.scenario import Variant

# What `variants=` takes: {name: {parameter: value}}, or a list of (name, {parameter: value}) pairs,
# {name, description, set} mappings or the scenario's own Variants.
VariantsArg = Union[Mapping[str, Mapping[str, Any]],
                    Sequence[Union[Variant, tuple[str, Mapping[str, Any]], Mapping[str, Any]]]]


def read_sweep(path: str | Path) -> list[dict]:
    """Parameter sets from a CSV (a header of parameter names, optional `name` column) or YAML file
    (a list of mappings, or `variants:` as in a scenario). Returns [{name, description, set}]."""
    p = Path(path)
    if not p.exists():
        raise RefugeError(f"{p}: no such sweep file")
    if p.suffix.lower() == ".csv":
        rows = _read_csv_rows(p)
    elif p.suffix.lower() in (".yaml", ".yml", ".json"):
        import yaml

        from refuge.scenario import load_yaml

        try:
            data = load_yaml(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RefugeError(f"{p}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        data = data.get("variants") if isinstance(data, dict) else data
        if not isinstance(data, list) or not data:
            raise RefugeError(f"{p}: expected a list of parameter sets (or `variants:`); found {type(data).__name__}")
        rows = []
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise RefugeError(f"{p}: [{i}]: expected a mapping of parameter: value; found {repr(item)[:60]}")
            values = item.get("set", {k: x for k, x in item.items() if k not in ("name", "description")})
            rows.append((item.get("name"), item.get("description", ""), values, f"[{i}]"))
    else:
        raise RefugeError(f"{p}: expected a .csv or .yaml sweep file; found {p.suffix or 'no extension'}")
    out = []
    for k, (name, desc, values, where) in enumerate(rows):
        parsed = {}
        for key, x in values.items():
            try:
                parsed[str(key)] = float(x)
            except (TypeError, ValueError):
                raise RefugeError(f"{p}: {where}.{key}: expected a number; found {repr(x)[:60]}") from None
        out.append({"name": str(name) if name else f"sweep-{k:03d}", "description": str(desc or ""), "set": parsed,
                    "where": f"{p}: {where}"})
    return out


def _read_csv_rows(p: Path) -> list[tuple]:
    import csv

    with p.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise RefugeError(f"{p}: expected a header row of parameter names")
        rows = []
        for i, row in enumerate(reader):
            values = {k: v for k, v in row.items() if k not in ("name", "description") and k is not None}
            rows.append((row.get("name"), row.get("description", ""), values, f"row {i + 2}"))
    if not rows:
        raise RefugeError(f"{p}: expected at least one row of parameter values")
    return rows


def plan_variants(scenario: Any, overrides: dict[str, float] | None = None, variants: Any = None,
                  sweep: Any = None) -> list[dict]:
    """The variants of an ensemble: [{name, description, set}], `overrides` applied to each."""
    from refuge.experiments.store import check_variant_name

    if variants is not None and sweep is not None:
        raise RefugeError("give variants or a sweep, not both")
    if sweep is not None:
        items = read_sweep(sweep) if isinstance(sweep, (str, Path)) else [
            {"name": f"sweep-{k:03d}", "description": "", "set": dict(s)} for k, s in enumerate(sweep)]
    elif variants is not None:
        items = [_as_variant(v) for v in (variants.items() if isinstance(variants, dict) else variants)]
    else:
        items = [{"name": "baseline", "description": "the scenario as written", "set": {}}]
    base = {k: float(v) for k, v in (overrides or {}).items()}
    check_known(scenario, base, "overrides")
    seen = set()
    for it in items:
        check_variant_name(it["name"])
        if it["name"] in seen:
            raise RefugeError(f"variant: the name `{it['name']}` is used twice")
        seen.add(it["name"])
        check_known(scenario, it["set"], "sweep" if it.get("where") else "variants",
               it.get("where") or f"variant {it['name']}")
        it.pop("where", None)
        merged = {**base, **dict(it["set"])}
        it["refs"] = {k: x for k, x in merged.items() if isinstance(x, str)}
        if it["refs"]:  # say where a value came from: the set holds numbers only
            refs = ", ".join(f"{k} = {x}" for k, x in it["refs"].items())
            it["description"] = "; ".join(filter(None, [it.get("description", ""), refs]))
        it["set"] = resolve_values(scenario, merged, it["name"])
    return items


def resolve_values(scenario: Any, values: dict, variant: str) -> dict[str, float | str]:
    """Numbers for a variant's values: a value that names a parameter (`cap_2016: cap_late_2016`) takes that
    parameter's value in this variant (set here, or the scenario's); chains are followed, a loop is refused.
    A dated value (`parameter@DATE`) stays a number, a moved schedule point (`point_name`) a date (text)."""
    from refuge.errors import ArgumentError
    from refuge.scenario.whatif import DATED, as_date, point_names

    points = point_names(scenario)
    out: dict[str, float | str] = {}
    for name, x in values.items():
        if name in points:
            out[name] = str(as_date(x))
            continue
        seen = [name]
        while isinstance(x, str) and not DATED.match(name):
            if x in seen:
                raise ArgumentError("variants", f"variant {variant}: {name}: the values refer to each other in a "
                                                f"loop ({' -> '.join(seen + [x])})")
            seen.append(x)
            x = values.get(x, scenario.parameters[x].value)
        out[name] = float(x)
    return out


def check_known(scenario: Any, values: Mapping[str, Any], argument: str, where: str = "") -> None:
    """Unknown parameter names fail here, before any run, naming the argument (and where in it) they were given."""
    from refuge.errors import ArgumentError, suggest
    from refuge.scenario.limits import MAX_PARAMETER
    from refuge.scenario.whatif import DATED, change_problem, point_names

    def fail(detail: str) -> None:
        raise ArgumentError(argument, (f"{where}: " if where else "") + detail)

    for name, x in values.items():
        problem = change_problem(scenario, name, x)  # a dated value or a moved schedule point
        if problem:
            fail(problem)
        if name not in scenario.parameters and (DATED.match(name) or name in point_names(scenario)):
            continue
        if name not in scenario.parameters:
            fail(f"expected a parameter of scenario `{scenario.name}`; found `{name}`"
                 f"{suggest(name, scenario.parameters)}")
        if isinstance(x, str) and x in scenario.parameters:
            continue  # another parameter's value: resolved with the variant's other values
        try:
            ok = abs(float(x)) <= MAX_PARAMETER
        except (TypeError, ValueError):
            ok = False
        if not ok:
            hint = suggest(x, scenario.parameters) if isinstance(x, str) else ""
            fail(f"{name}: expected a finite number between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g} or the name "
                 f"of a parameter; found {str(x)[:40]}{hint}")


def _as_variant(v: Any) -> dict:
    from refuge.scenario import Variant

    if isinstance(v, Variant):
        return {"name": v.name, "description": v.description, "set": dict(v.set)}
    if isinstance(v, dict):
        return {"name": v["name"], "description": v.get("description", ""), "set": dict(v.get("set", {}))}
    name, values = v
    return {"name": name, "description": "", "set": dict(values)}
