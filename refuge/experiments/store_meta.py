"""The experiment store's metadata (`experiment.json`): what was run, the key that fingerprints its runs, how
two experiments differ, and the names a variant may take."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from refuge.errors import RefugeError
from refuge.experiments.store_files import FORMAT

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


# --- metadata -------------------------------------------------------------------------------


def make_meta(scenario: Any, origin: str, digest: str, seed: int, runs: int, variants: list[dict],
              base_set: dict[str, float], until: dt.date | None) -> dict:
    """The experiment's `experiment.json`: scenario (in full), digest, seed, runs, variants, version."""
    import refuge

    return {
        "format": FORMAT,
        "refuge_version": refuge.__version__,
        "scenario_name": scenario.name,
        "scenario_title": scenario.title,
        "scenario_origin": origin,
        "scenario_digest": digest,
        "seed": int(seed),
        "runs": int(runs),
        "until": None if until is None else str(until),
        "set": {k: float(v) for k, v in base_set.items()},
        "variants": [{"name": v["name"], "description": v.get("description", ""),
                      "set": {k: float(x) for k, x in v["set"].items()}} for v in variants],
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "scenario": scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    }


_IDENTITY = ("format", "refuge_version", "scenario_digest", "seed", "until", "variants", "posterior")


def experiment_key(meta: dict) -> str:
    """A digest of what makes an experiment's runs what they are (not how many there are)."""
    import hashlib

    ident = {k: _comparable(meta.get(k)) for k in _IDENTITY}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_stamp(meta: dict, variant: str, run: int) -> dict:
    """The fingerprint written into each file of run `run` of `variant`."""
    v = next(x for x in meta["variants"] if x["name"] == variant)
    return {"experiment": experiment_key(meta), "scenario_digest": meta["scenario_digest"], "variant": variant,
            "set": v["set"], "run": int(run), "seed": int(meta["seed"]) + int(run), "until": meta.get("until"),
            "refuge_version": meta.get("refuge_version")}


_REQUIRED = {"format": int, "scenario_digest": str, "seed": int, "runs": int, "variants": list, "scenario": dict}


def _meta_problem(meta: Any) -> str:
    """'' for a usable experiment.json, else what is wrong with it."""
    if not isinstance(meta, dict):
        return "not a mapping"
    wrong = [k for k, t in _REQUIRED.items() if not isinstance(meta.get(k), t)]
    if wrong:
        return f"missing or wrong: {', '.join(wrong)}"
    if not meta["variants"] or not all(isinstance(v, dict) and isinstance(v.get("name"), str) and
                                       isinstance(v.get("set"), dict) for v in meta["variants"]):
        return "wrong: variants"
    return ""


def _mismatch(old: dict, new: dict) -> list[str]:
    return [k for k in _IDENTITY if _comparable(old.get(k)) != _comparable(new.get(k))]


def _comparable(x: Any) -> Any:
    if isinstance(x, list):
        return [{"name": v["name"], "set": v["set"]} if isinstance(v, dict) else v for v in x]
    return x


def check_variant_name(name: str, where: str = "variant") -> str:
    """A variant name usable as a folder name; a RefugeError naming `where` otherwise."""
    if not NAME_RE.match(name):
        raise RefugeError(f"{where}: expected a name of letters, digits, _ . + - (no spaces or slashes); "
                          f"found {name!r}")
    return name


def _explain(key: str, stored: Any, asked: Any) -> str:
    if key != "variants":
        return f"{key}: stored {_short(stored)}, asked {_short(asked)}"

    def text(vs: list) -> str:
        return ", ".join(v["name"] + (" (" + " ".join(f"{k}={x:g}" for k, x in v["set"].items()) + ")"
                                      if v["set"] else "") for v in vs)

    return f"variants: stored {text(stored)}; asked {text(asked)}"


def _short(x: Any) -> str:
    text = json.dumps(x) if not isinstance(x, str) else x
    return text if len(text) <= 80 else text[:77] + "..."
