"""What-if comparisons: a baseline and variants run with common random numbers, differences with intervals.

Replicate `r` of every variant uses the same seed, and each random mechanism has
its own stream (see `refuge.sim.streams`), so a variant that changes one policy
moves only what that policy touches. Differences are taken run by run (paired),
which removes most of the noise the two runs share.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from refuge.errors import RefugeError
from refuge.experiments.store import Experiment
from refuge.experiments.variants import VariantsArg
from refuge.model.compiler import Model
from refuge.scenario import Scenario

BASELINE = "baseline"


def parse_values(text: str, option: str = "--set", names: Iterable[str] = (),
                 dated: Iterable[str] = ()) -> dict[str, float | str]:
    """`name=value[,name=value...]` -> {name: value}; a RefugeError naming the option otherwise. A value may be
    one of `names` (another parameter: `cap_2016=cap_late_2016`), kept as text for `plan_variants` to resolve;
    a name in `dated` (a named schedule point) takes a date YYYY-MM-DD (the point's new date)."""
    from refuge.errors import suggest

    names, dated = list(names), set(dated)
    out: dict[str, float | str] = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        name, eq, value = (x.strip() for x in part.partition("="))
        if not eq or not name:
            raise RefugeError(f"{option}: expected name=value (e.g. clearance_days=30); found {text!r}")
        if name in dated:
            try:
                out[name] = str(dt.date.fromisoformat(value))
            except ValueError:
                raise RefugeError(f"{option}: expected a date YYYY-MM-DD after `{name}=` (the new date of that "
                                  f"schedule point); found {value!r}") from None
            continue
        if value in names:
            out[name] = value
            continue
        try:
            x = float(value)
        except ValueError:
            what = "a number or the name of a parameter" if names else "a number"
            raise RefugeError(f"{option}: expected {what} after `{name}=`; found {value!r}"
                              f"{suggest(value, names) if names else ''}") from None
        if not math.isfinite(x):
            raise RefugeError(f"{option}: expected a finite number after `{name}=`; found {value!r}")
        out[name] = x
    if not out:
        raise RefugeError(f"{option}: expected name=value (e.g. clearance_days=30); found {text!r}")
    return out


def parse_variant(text: str, scenario: Any) -> dict:
    """`NAME:name=value,...` (a new variant; a value may name another parameter) or `NAME` (one declared in the
    scenario's `variants`)."""
    from refuge.errors import suggest
    from refuge.experiments.store import check_variant_name

    name, colon, values = text.partition(":")
    if not colon and "=" in name:  # `--variant clear_days=15`: the values without a name for the variant
        first = re.sub(r"[^A-Za-z0-9_.+-]+", "_", name.split(",")[0]).strip("_") or "faster"
        raise RefugeError(f"--variant: expected NAME:parameter=value,... (a name for the variant, a colon, then the "
                          f"values); found {text!r}: write e.g. `--variant {first}:{text.strip()}`")
    name = check_variant_name(name.strip(), "--variant")
    if name == BASELINE:
        raise RefugeError("--variant: `baseline` is the scenario as written; give the variant another name")
    if colon:
        from refuge.scenario.whatif import point_names

        return {"name": name, "description": "",
                "set": parse_values(values, f"--variant {name}", names=scenario.parameters,
                                    dated=point_names(scenario))}
    declared = {v.name: v for v in scenario.variants}
    if name not in declared:
        hint = suggest(name, declared) or (f" (declared: {', '.join(declared)})" if declared else
                                           " (the scenario declares no variants)")
        raise RefugeError(f"--variant: expected NAME:parameter=value,... or the name of a variant declared in the "
                          f"scenario; found {name!r}{hint}")
    v = declared[name]
    return {"name": v.name, "description": v.description, "set": dict(v.set)}


@dataclass
class Comparison:
    """A what-if's result: the experiment (baseline and variants, same seeds) and the table of paired
    differences (see `differences`)."""

    experiment: Experiment
    table: Any  # pandas DataFrame, see differences()

    def __repr__(self) -> str:
        return f"Comparison({self.experiment!r})\n{self.table.to_string(index=False)}"


def compare(scenario: Model | Scenario | str | Path, variants: VariantsArg | None = None, runs: int = 100,
            seed: int = 0, workers: int | None = None, store: str | Path | None = None, cluster: str | Any = None,
            overrides: Mapping[str, float] | None = None, level: float = 0.90, progress: bool = False,
            posterior: str | Path | None = None) -> Comparison:
    """Run the baseline and each variant with the same seeds; return the paired differences.

    `variants`: {name: {parameter: value}}, [(name, {...})], [{name, description, set}], or None
    for the variants declared in the scenario file; a value may name another parameter.
    `posterior`: a calibration folder (`refuge calibrate --out DIR`): run `r` of every variant takes
    posterior draw `r` (the same draws for every variant, the variant's own values on top), so the
    what-if is asked under the calibrated parameters and its uncertainty.
    """
    from refuge.experiments.ensemble import resolve_scenario, run_ensemble

    sc, origin = resolve_scenario(scenario)
    if variants is None:
        variants = list(sc.variants)
        if not variants:
            raise RefugeError(f"{origin}: no variants to compare: give some (NAME:parameter=value) or declare "
                              "`variants:` in the scenario")
    items = list(variants.items()) if isinstance(variants, Mapping) else list(variants)
    arms = [{"name": BASELINE, "description": "the scenario as written", "set": {}}] + items
    draws, source = None, ""
    if posterior is not None:
        from refuge.inference.posterior import check_posterior, sample_posterior

        check_posterior(sc, posterior)
        draws, source = sample_posterior(posterior, runs, seed), str(Path(posterior).resolve())
        arms[0]["description"] = f"the scenario with parameters drawn from the posterior in {posterior}"
    exp = run_ensemble(scenario, runs=runs, seed=seed, workers=workers, overrides=overrides, variants=arms,
                       store=store, cluster=cluster, progress=progress, draws=draws, draws_from=source)
    return Comparison(exp, differences(exp, level=level))


def differences(exp: Any, baseline: str | None = None, level: float = 0.90) -> Any:
    """For each variant and outcome: medians, the paired difference's median and central interval
    (its spread over runs), the mean difference with a 95% confidence interval, and `narrower`: how many times
    narrower the paired interval is than an unpaired one (`spread_ratio`; what common random numbers buy)."""
    import pandas as pd

    baseline = baseline or exp.variants[0]
    df = exp.measures()
    chosen = [o for o in exp.model().outcomes if f"outcome:{o['name']}" in df]
    cols = [f"outcome:{o['name']}" for o in chosen]
    base = df[df.variant == baseline].set_index("run")[cols]
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    for variant in exp.variants:
        if variant == baseline:
            continue
        var = df[df.variant == variant].set_index("run")[cols]
        paired = base.index.intersection(var.index)
        for o, col in zip(chosen, cols):
            b = base.loc[paired, col].to_numpy(float)
            x = var.loc[paired, col].to_numpy(float)
            rows.append({"variant": variant, "outcome": o["name"], "label": o["label"], "unit": o["unit"],
                         "runs": len(paired),
                         "baseline": _nanmedian(b), "value": _nanmedian(x),
                         **_diff_stats(x - b, lo_q, hi_q), "narrower": spread_ratio(x, b, level)})
    return pd.DataFrame(rows, columns=["variant", "outcome", "label", "unit", "runs", "baseline", "value",
                                       "difference", "low", "high", "mean_difference", "mean_low", "mean_high",
                                       "narrower"])


def spread_ratio(x: np.ndarray, b: np.ndarray, level: float = 0.90) -> float:
    """How many times narrower the paired interval of a difference is than an unpaired one.

    `x[r]` and `b[r]` are a variant's and the baseline's value in run `r` (the same seed). The paired interval
    is the central `level` interval of `x[r] - b[r]` over runs; the unpaired one that of `x[r] - b[s]` for runs
    of different seeds (every cyclic shift `s = r + k`, k = 1 .. min(runs - 1, 200)), as if the two arms had
    been run with independent numbers. Returns unpaired width / paired width: about 1 when pairing buys
    nothing, inf when every paired run differs by the same amount (while unpaired ones vary), nan when
    neither varies or there are fewer than two runs."""
    x, b = np.asarray(x, float), np.asarray(b, float)
    ok = ~(np.isnan(x) | np.isnan(b))
    x, b = x[ok], b[ok]
    n = len(x)
    if n < 2:
        return math.nan
    qs = [(1 - level) / 2, 1 - (1 - level) / 2]
    lo, hi = np.quantile(x - b, qs)
    unpaired = np.concatenate([x - np.roll(b, k) for k in range(1, min(n, 201))])
    ulo, uhi = np.quantile(unpaired, qs)
    paired_width, unpaired_width = float(hi - lo), float(uhi - ulo)
    if paired_width > 0:
        return unpaired_width / paired_width
    return math.inf if unpaired_width > 0 else math.nan


def median_ratio(ratios: Any) -> float:
    """The median of `spread_ratio`s over outcomes (those that vary in neither arm left out; inf counts as
    larger than any other)."""
    r = np.asarray(ratios, float)
    r = r[~np.isnan(r)]
    return float(np.median(r)) if len(r) else math.nan


def _nanmedian(a: np.ndarray) -> float:
    a = a[~np.isnan(a)]
    return float(np.median(a)) if len(a) else math.nan


def _diff_stats(d: np.ndarray, lo_q: float, hi_q: float) -> dict[str, float]:
    d = d[~np.isnan(d)]
    if not len(d):
        return dict.fromkeys(("difference", "low", "high", "mean_difference", "mean_low", "mean_high"), math.nan)
    mean = float(d.mean())
    mean_low = mean_high = math.nan
    if len(d) > 1 and np.ptp(d) > 0:
        from scipy import stats

        ci = stats.ttest_1samp(d, 0.0).confidence_interval(confidence_level=0.95)
        mean_low, mean_high = float(ci.low), float(ci.high)
    elif len(d) > 1:  # every paired run differs by the same amount: no uncertainty about the mean
        mean_low = mean_high = mean
    return {"difference": float(np.median(d)), "low": float(np.quantile(d, lo_q)), "high": float(np.quantile(d, hi_q)),
            "mean_difference": mean, "mean_low": mean_low, "mean_high": mean_high}
