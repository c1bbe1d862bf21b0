"""Flee and refuge side by side on Flee's own test cases: ARD (normal, rescaled), agents and CPU time.

    python benchmarks/bench_flee.py                    # every row; runs Flee unless a cached run exists
    python benchmarks/bench_flee.py --case mali2012 --seeds 20
    python benchmarks/bench_flee.py --rerun-flee       # run Flee once more on each row (added to the cached runs)
    python benchmarks/bench_flee.py --flee-runs 5      # run Flee until 5 runs of each row are cached
    python benchmarks/bench_flee.py --conventions      # also Flee's ARD under other readings of the definition
    python benchmarks/bench_flee.py --hypotheses       # also Flee under each set-up tried for the README's figures
    python benchmarks/bench_flee.py --backtest         # also the forecast of the last third of the days

One row per (case, settings file) of the shared README's table of Flee's figures (../shared/flee/README.md):
mali2012 with FabFlee's `mali2012.yml` (hasten 10: one agent per 10 people), and mali2012 and burundi2015 with
`validation-modern125.yml` (the settings of issue 10's targets). Flee runs as a child process (its own
`runscripts/run.py`, from ../shared/flee/flee-src, from an empty folder, on the case's input and validation
folders with the settings file), so its CPU time is measured with the children's rusage. Flee has no seed, so each
run differs: every run's output (one CSV row a day) and CPU seconds are kept in benchmarks/flee_cache/ (`CASE.csv`,
`CASE-2.csv`, ... for validation-modern125.yml, `CASE+SETTINGS.csv`, `CASE+SETTINGS-2.csv`, ... for any other
settings), and the table shows the mean over the cached runs with their range, the agents Flee holds at the end
(its `total refugees (simulation)` on the last day) and, beside each, the README's figure. refuge runs the case
imported from the same files with the same settings (`refuge import flee`; for validation-modern125.yml that is
the built-in scenario), seeds 0..N-1 in this process; CPU time is per run, after a first run that compiles.
refuge simulates every person: it has no `hasten`.

ARD as Flee's validation reports it: per day, sum over camps |sim - data| / max(1, sum of data), averaged over
the days; rescaled: sims scaled per day to the data's total first (refuge.evidence.series).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
CACHE = HERE / "flee_cache"
SHARED = Path(os.environ.get("REFUGE_SHARED", ROOT.parent / "shared")) / "flee"
MODERN = "validation-modern125.yml"
CASES = ("mali2012", "burundi2015")
# The rows of the shared README's table of Flee's figures (single runs on a machine like this one), and the
# refuge time targets of issue 10 (for the validation-modern125.yml rows).
ROWS = [
    {"case": "mali2012", "settings": "mali2012.yml", "note": "hasten 10",
     "readme": {"agents": 8996, "cpu_s": 9.7, "ard": (0.355, 0.309)}, "seconds": None},
    {"case": "mali2012", "settings": MODERN, "note": "",
     "readme": {"agents": 89991, "cpu_s": 97, "ard": (0.348, 0.317)}, "seconds": 0.1},
    {"case": "burundi2015", "settings": MODERN, "note": "",
     "readme": {"agents": 212321, "cpu_s": 309, "ard": (0.546, 0.494)}, "seconds": 0.3},
]

# Set-ups tried for the README's mali2012 / validation-modern125.yml figure (0.348 / 0.317), each a settings file
# made at run time from the shared ones: `base` (a file in ../shared/flee/settings, or None for an empty file),
# `over` (a file whose sections are laid key by key over the base's), `set` ({"section.key": value}); `cwd`
# True passes no settings argument and puts the file in the run's folder as `simsetting.yml`, which run.py then
# reads; `env` sets environment variables; `pflee` runs Flee's parallel code on one rank (see ONE_RANK). Every one
# keeps log levels at 0 (they change the files Flee writes, not its draws).
HYPOTHESES = {
    "h-case-file-hasten1": {
        "base": "mali2012.yml", "set": {"optimisations.hasten": 1},
        "what": "FabFlee's per-case mali2012.yml with hasten 1 (every person an agent)"},
    "h-case-under-sweep": {
        "base": "mali2012.yml", "over": MODERN,
        "what": "mali2012.yml with validation-modern125.yml laid over it key by key (keeps the case file's "
                "conflict_weight 0.25 and capacity_buffer 0.75)"},
    "h-package-under-sweep": {
        "base": "flee-src/flee/simsetting.yml", "over": MODERN,
        "what": "the simsetting.yml of Flee's package with validation-modern125.yml laid over it (keeps its "
                "conflict_weight 0.25)"},
    "h-sweep-buffer075": {
        "base": MODERN, "set": {"move_rules.capacity_buffer": 0.75},
        "what": "validation-modern125.yml with mali2012.yml's capacity_buffer 0.75 (the other half of "
                "h-case-under-sweep)"},
    "h-sweep-scaling1": {
        "base": MODERN, "set": {"move_rules.capacity_scaling": 1.0},
        "what": "validation-modern125.yml with capacity_scaling 1 (camps full at their locations.csv capacity)"},
    "h-validation-default": {
        "base": "validation-default.yml", "what": "FabFlee's other validation file, validation-default.yml"},
    "h-flee-defaults": {"base": None, "what": "no settings at all: Flee's defaults (an empty settings file)"},
    "h-package-simsetting": {
        "base": "flee-src/flee/simsetting.yml", "cwd": True,
        "what": "run.py without its 4th argument, from a folder holding the simsetting.yml of Flee's package"},
    "h-type-check": {
        "base": MODERN, "env": {"FLEE_TYPE_CHECK": "true"},
        "what": "validation-modern125.yml with FLEE_TYPE_CHECK=true (FabFlee's job scripts pass it on; Flee then "
                "checks argument types with beartype)"},
    "h-pflee-one-rank": {
        "base": MODERN, "pflee": True,
        "what": "validation-modern125.yml run by Flee's parallel code (flee.pflee, as FabFlee's validate_flee "
                "runs it when cores > 1, its default), on one rank"},
}
ONE_RANK = HERE / "flee_one_rank"  # a one-rank mpi4py and the runner that puts flee.pflee in run.py's place


def flee_code() -> Path | None:
    """Flee's source folder, or None when its code is absent."""
    src = SHARED / "flee-src"
    return src if (src / "runscripts" / "run.py").exists() else None


def flee_table(csv_path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(camps, sim, data) from Flee's output: its `<camp> sim` and `<camp> data` columns, one row a day."""
    import pandas as pd

    df = pd.read_csv(csv_path)
    camps = [c[:-4] for c in df.columns if c.endswith(" sim")]
    return (camps, df[[f"{c} sim" for c in camps]].to_numpy(float),
            df[[f"{c} data" for c in camps]].to_numpy(float))


def flee_agents(csv_path: Path) -> int:
    """The agents Flee holds at the end of a run: its `total refugees (simulation)` on the last day."""
    import pandas as pd

    return int(pd.read_csv(csv_path)["total refugees (simulation)"].iloc[-1])


def flee_ard(csv_path: Path, first_day: int = 0) -> tuple[float, float]:
    """Flee's ARD (normal, rescaled) from its output, over its rows (days) from `first_day` on."""
    from refuge.evidence.series import ard

    _, sim, data = flee_table(csv_path)
    return ard(sim[first_day:], data[first_day:]), ard(sim[first_day:], data[first_day:], rescaled=True)


def cache_prefix(case: str, settings: str) -> str:
    """The cache's file stem for a case run with a settings file (or a hypothesis): `mali2012` for
    validation-modern125.yml (the first rows cached), `mali2012+mali2012` for mali2012.yml, `mali2012+h-...`."""
    if settings == MODERN:
        return case
    return f"{case}+{settings[:-4] if settings.endswith('.yml') else settings}"


def split_stem(stem: str) -> tuple[str, int]:
    """A cache file's stem as (prefix, run number): `mali2012-3` -> (`mali2012`, 3), `mali2012` -> (.., 1)."""
    m = re.fullmatch(r"(.+?)-(\d+)", stem)
    return (m.group(1), int(m.group(2))) if m else (stem, 1)


def cached_runs(case: str, settings: str = MODERN) -> list[tuple[Path, dict]]:
    """Flee's cached runs of a case with a settings file: (output CSV, its record), oldest first; complete runs
    only (a record beside its output)."""
    prefix = cache_prefix(case, settings)
    out = []
    for meta_path in CACHE.glob("*.json"):
        p, k = split_stem(meta_path.stem)
        csv_path = meta_path.with_suffix(".csv")
        if p != prefix or not csv_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        if meta.get("case") == case and meta.get("settings") == settings:
            out.append((k, csv_path, meta))
    return [(c, m) for _, c, m in sorted(out, key=lambda r: r[0])]


def _shared_yaml(name: str) -> dict:
    """A settings file from ../shared/flee: `settings/NAME`, or a path below ../shared/flee when NAME has a `/`."""
    import yaml

    return yaml.safe_load((SHARED / name if "/" in name else SHARED / "settings" / name).read_text()) or {}


def settings_text(name: str) -> str:
    """The YAML Flee reads for a hypothesis, made from the shared settings files."""
    import yaml

    h = HYPOTHESES[name]
    data = _shared_yaml(h["base"]) if h.get("base") else {}
    if h.get("over"):
        for section, values in _shared_yaml(h["over"]).items():
            if isinstance(values, dict):
                data[section] = {**(data.get(section) or {}), **values}
            else:
                data[section] = values
    for key, value in h.get("set", {}).items():
        section, k = key.split(".")
        data[section] = {**(data.get(section) or {}), k: value}
    if data:
        data["log_levels"] = {k: (0 if isinstance(v, int) else v) for k, v in (data.get("log_levels") or {}).items()}
    return yaml.safe_dump(data, sort_keys=False)


def run_flee(case: str, settings: str = MODERN) -> dict | None:
    """Run Flee once on a case with a settings file from ../shared/flee/settings (or a hypothesis's) and cache its
    output and CPU seconds; None when Flee's code is absent."""
    src = flee_code()
    if src is None:
        return None
    CACHE.mkdir(exist_ok=True)
    prefix = cache_prefix(case, settings)
    k = max([split_stem(p.stem)[1] for p, _ in cached_runs(case, settings)] or [0]) + 1
    stem = prefix if k == 1 else f"{prefix}-{k}"
    out_csv, meta_json = CACHE / f"{stem}.csv", CACHE / f"{stem}.json"
    hyp = HYPOTHESES.get(settings)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    path = str(src)
    with tempfile.TemporaryDirectory() as tmp, open(out_csv, "w") as out:
        cmd = [sys.executable, str(src / "runscripts" / "run.py"), str(SHARED / case / "input"),
               str(SHARED / case / "validation"), "0"]
        if hyp is not None and hyp.get("pflee"):
            cmd.insert(1, str(ONE_RANK / "run_pflee.py"))
            path = f"{ONE_RANK}{os.pathsep}{src}"
        if hyp is None:
            cmd.append(str(SHARED / "settings" / settings))
        else:
            made = Path(tmp) / ("simsetting.yml" if hyp.get("cwd") else f"{settings}.yml")
            made.write_text(settings_text(settings))
            if not hyp.get("cwd"):
                cmd.append(str(made))
        print(f"running Flee on {case} with {settings} ...", flush=True)
        try:
            subprocess.run(cmd, cwd=tmp, stdout=out, stderr=subprocess.DEVNULL, check=True,
                           env={**os.environ, "PYTHONPATH": path, **(hyp or {}).get("env", {})})
        except BaseException:
            out.close()
            out_csv.unlink(missing_ok=True)
            raise
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    meta = {"case": case, "settings": settings, "cpu_s": round((after.ru_utime - before.ru_utime)
                                                               + (after.ru_stime - before.ru_stime), 2),
            "wall_s": round(time.time() - t0, 2), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "how": "Flee's runscripts/run.py from ../shared/flee/flee-src, by benchmarks/bench_flee.py, "
                   "CPU (user+sys) of the child process"}
    if hyp is not None:
        meta["what"] = hyp["what"]
    meta_json.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def flee_summary(case: str, settings: str = MODERN) -> dict | None:
    """Flee's cached runs of a case and settings: ARD mean, min and max (normal and rescaled), CPU median, agents
    at the end (min, max); None without runs."""
    runs = cached_runs(case, settings)
    if not runs:
        return None
    a = np.array([flee_ard(p) for p, _ in runs])
    cpu = [m["cpu_s"] for _, m in runs]
    agents = [flee_agents(p) for p, _ in runs]
    return {"runs": len(runs), "ard": tuple(a.mean(axis=0)), "low": tuple(a.min(axis=0)),
            "high": tuple(a.max(axis=0)), "sd": tuple(a.std(axis=0, ddof=1)) if len(runs) > 1 else (0.0, 0.0),
            "cpu_s": float(np.median(cpu)), "cpu_range": (min(cpu), max(cpu)),
            "agents": (min(agents), max(agents)), "each": [tuple(x) for x in a]}


def reproduces(fl: dict, readme: dict) -> tuple[bool, str]:
    """Whether the README's single run is one Flee could give here: the same agents at the end, and both ARDs
    inside the range of the runs here (widened by the README's rounding to 3 decimals). With why, in words."""
    ok_agents = fl["agents"][0] <= readme["agents"] <= fl["agents"][1]
    lo, hi, r = fl["low"], fl["high"], readme["ard"]
    ok_ard = all(lo[i] - 0.0005 <= r[i] <= hi[i] + 0.0005 for i in (0, 1))
    why = []
    if not ok_agents:
        why.append(f"agents {fl['agents'][0]:,} here, {readme['agents']:,} in the README")
    if not ok_ard:
        far = [f"{(r[i] - fl['ard'][i]) / fl['sd'][i]:+.0f} sd" if fl["sd"][i] > 0 else "n/a" for i in (0, 1)]
        why.append(f"README ARD outside the range of the {fl['runs']} run(s) here ({far[0]} / {far[1]} from "
                   "their mean)")
    return ok_agents and ok_ard, "; ".join(why)


def refuge_scenario(case: str, settings: str, tmp: Path) -> str | Path:
    """The refuge scenario for a case and settings: the built-in one for validation-modern125.yml, otherwise the
    case imported with `refuge import flee` into `tmp`."""
    if settings == MODERN:
        return case
    from refuge.interop.flee import import_flee

    out = tmp / f"{case}.yaml"
    import_flee(SHARED / case / "input", SHARED / case / "validation", SHARED / "settings" / settings).write(out)
    return out


def run_refuge(case: str, seeds: int, settings: str = MODERN) -> dict:
    import refuge
    from refuge.evidence.series import run_scores, simulate_all

    with tempfile.TemporaryDirectory() as tmp:
        model = refuge.load(refuge_scenario(case, settings, Path(tmp)))
    refuge.simulate(model, seed=0)  # compiles (cached on disk after the first time)
    # each run timed on its own (CPU time), back to back as in an ensemble; scored once all are done, so the
    # scoring between two runs does not evict the engine's tables from the caches (about 4% on mali2012)
    runs, cpu = [], []
    for s in range(seeds):
        t0 = time.process_time()
        runs.append(refuge.simulate(model, seed=s))
        cpu.append(time.process_time() - t0)
    a = np.array([run_scores(model.series, simulate_all(run))["group camps"] for run in runs])
    return {"ard": float(np.median(a[:, 0])), "ard_rescaled": float(np.median(a[:, 1])),
            "low": tuple(a.min(axis=0)), "high": tuple(a.max(axis=0)), "cpu_s": float(np.median(cpu)),
            "seeds": seeds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--rerun-flee", action="store_true", help="run Flee once more, adding to the cached runs")
    ap.add_argument("--flee-runs", type=int, default=1, help="run Flee until this many runs are cached")
    ap.add_argument("--conventions", action="store_true", help="also Flee's ARD from its output under other "
                    "readings of the definition (which days, which denominator, which camps)")
    ap.add_argument("--hypotheses", action="store_true", help="also Flee on mali2012 under each set-up tried "
                    "for the README's validation-modern125.yml figure (one run each unless cached)")
    ap.add_argument("--backtest", action="store_true", help="also fit the priors' parameters on the first two "
                    "thirds of the days and compare the forecast of the last third with Flee's on those days")
    args = ap.parse_args()
    cases = list(CASES) if args.case == "all" else [args.case]
    rows = [r for r in ROWS if r["case"] in cases]
    if flee_code() is None:
        print(f"Flee's code is absent ({SHARED / 'flee-src'}): Flee is not run; its cached runs in "
              f"{CACHE.relative_to(ROOT)}/ are shown where there are any.")
    results = []
    for row in rows:
        case, settings = row["case"], row["settings"]
        want = max(args.flee_runs, len(cached_runs(case, settings)) + 1 if args.rerun_flee else 0)
        while len(cached_runs(case, settings)) < want and run_flee(case, settings) is not None:
            pass
        results.append((row, flee_summary(case, settings), run_refuge(case, args.seeds, settings)))
    print()
    print(f"Flee at 02cd2cbd (mean of its cached runs here, range in brackets; README: the shared README's figure) "
          f"and refuge (the same case and settings, median of {args.seeds} seeds), this machine, "
          f"{time.strftime('%Y-%m-%d')}:")
    print(f"{'case':<12} {'settings':<25} {'runs':>4} {'agents at end':>19} {'Flee ARD':>13} {'README ARD':>13} "
          f"{'Flee CPU s':>14} {'refuge ARD':>13} {'refuge s':>9} {'ratio':>7}  targets")
    for row, fl, ref in results:
        rd = row["readme"]
        label = row["settings"] + (f" ({row['note']})" if row["note"] else "")
        if fl:
            ag = f"{fl['agents'][0]:,}" if fl["agents"][0] == fl["agents"][1] else \
                f"{fl['agents'][0]:,}-{fl['agents'][1]:,}"
            flee_txt, cpu_txt = f"{fl['ard'][0]:.3f} / {fl['ard'][1]:.3f}", f"{fl['cpu_s']:.1f}"
            ratio = f"{fl['cpu_s'] / ref['cpu_s']:,.0f}x"
        else:
            ag, flee_txt, cpu_txt, ratio = "–", "(not run)", "–", "–"
        verdict = []
        if fl:
            ok = ref["ard"] <= fl["ard"][0] and ref["ard_rescaled"] <= fl["ard"][1]
            within = ref["ard"] <= fl["high"][0] and ref["ard_rescaled"] <= fl["high"][1]
            verdict.append("ARD <= Flee's: " + ("yes" if ok else ("within Flee's run-to-run range" if within
                                                                  else "no")))
        if row["seconds"] is not None:
            verdict.append(f"<= {row['seconds']} s: {'yes' if ref['cpu_s'] <= row['seconds'] else 'no'}")
        agents = ag + " / " + format(rd["agents"], ",")
        print(f"{row['case']:<12} {label:<25} {fl['runs'] if fl else 0:>4} {agents:>19} "
              f"{flee_txt:>13} {rd['ard'][0]:.3f} / {rd['ard'][1]:.3f} {cpu_txt + ' / ' + str(rd['cpu_s']):>14} "
              f"{ref['ard']:.3f} / {ref['ard_rescaled']:.3f} {ref['cpu_s']:>9.3f} {ratio:>7}  {'; '.join(verdict)}")
        if fl:
            print(f"{'':<12} {'':<25} {'':>4} {'':>19} [{fl['low'][0]:.3f}-{fl['high'][0]:.3f} / {fl['low'][1]:.3f}-"
                  f"{fl['high'][1]:.3f}]  CPU [{fl['cpu_range'][0]:.1f}-{fl['cpu_range'][1]:.1f}]  refuge "
                  f"[{ref['low'][0]:.3f}-{ref['high'][0]:.3f} / {ref['low'][1]:.3f}-{ref['high'][1]:.3f}]")
    print("agents at end: Flee's here / the README's; Flee CPU s: median here / the README's. refuge simulates "
          "every person (no hasten), so on a hasten row its ARD is that of the full population.")
    print("The shared README's rows, reproduced by Flee's runs here?")
    for row, fl, _ in results:
        if fl:
            ok, why = reproduces(fl, row["readme"])
            print(f"  {row['case']} {row['settings']}: {'reproduced' if ok else 'not reproduced'}"
                  f"{'' if ok else ' (' + why + ')'}")
        else:
            print(f"  {row['case']} {row['settings']}: Flee not run")
    if args.hypotheses and "mali2012" in cases:
        hypotheses()
    if args.conventions:
        conventions(cases)
    if args.backtest:
        backtests(cases)


def hypotheses(case: str = "mali2012") -> None:
    """Flee under each set-up tried for the README's validation-modern125.yml figure (run once unless cached).
    A set-up matches when both its ARDs are within 3 standard deviations of Flee's run-to-run spread (measured
    on the cached validation-modern125.yml runs) of the README's."""
    readme = next(r["readme"] for r in ROWS if r["case"] == case and r["settings"] == MODERN)
    base = flee_summary(case, MODERN)
    tol = tuple(3 * x for x in base["sd"]) if base and base["runs"] > 2 else (0.003, 0.003)
    print()
    print(f"Set-ups tried for the README's {case} / {MODERN} figure ({readme['ard'][0]} / {readme['ard'][1]}, "
          f"{readme['agents']:,} agents): Flee's ARD here (mean of its runs), minus the README's; a match is "
          f"within {tol[0]:.4f} / {tol[1]:.4f} (3 sd of Flee's runs with {MODERN}) with the same agents:")
    for name, h in HYPOTHESES.items():
        if not cached_runs(case, name) and run_flee(case, name) is None:
            print(f"  {name:<22} (Flee not run)  {h['what']}")
            continue
        fl = flee_summary(case, name)
        d = [fl["ard"][i] - readme["ard"][i] for i in (0, 1)]
        ok = abs(d[0]) <= tol[0] and abs(d[1]) <= tol[1] and fl["agents"] == (readme["agents"],) * 2
        print(f"  {name:<22} {fl['runs']} run(s) {fl['ard'][0]:.3f} / {fl['ard'][1]:.3f} ({d[0]:+.3f} / {d[1]:+.3f})"
              f" agents {fl['agents'][1]:,} CPU {fl['cpu_s']:.0f} s: {'matches' if ok else 'no'}  ({h['what']})")


def conventions(cases: list[str]) -> None:
    """Flee's ARD from its own output columns under each plausible reading of the definition."""
    import pandas as pd

    from refuge.evidence.series import daily_errors

    print()
    print(f"Flee's ARD from its output (mean over its cached runs with {MODERN}) under other readings of the "
          "definition:")
    for case in cases:
        runs = cached_runs(case)
        if not runs:
            continue
        res: dict[str, list[tuple[float, float]]] = {}
        for path, _ in runs:
            camps, sim, data = flee_table(path)
            df = pd.read_csv(path)

            def both(s, d, den=None):
                if den is None:
                    return daily_errors(s, d).mean(), daily_errors(s, d, True).mean()
                den = np.maximum(1.0, den)
                f = d.sum(1) / np.maximum(s.sum(1), 1e-12)
                return ((np.abs(s - d).sum(1) / den).mean(),
                        (np.abs(s * f[:, None] - d).sum(1) / den).mean())

            ways = {"every day (as defined)": both(sim, data),
                    "without day 0": both(sim[1:], data[1:]),
                    "without the last day": both(sim[:-1], data[:-1]),
                    "sim of day t against data of day t+1": both(sim[:-1], data[1:]),
                    "denominator: Flee's 'raw UNHCR refugee count'": both(
                        sim, data, df["raw UNHCR refugee count"].to_numpy(float)),
                    "Flee's extract-validation-results (camp totals)": both(
                        sim, data, df["refugees in camps (UNHCR)"].to_numpy(float))}
            for j, c in enumerate(camps):
                keep = [i for i in range(len(camps)) if i != j]
                ways[f"without {c}"] = both(sim[:, keep], data[:, keep])
            for k, v in ways.items():
                res.setdefault(k, []).append(v)
        r = next(row["readme"]["ard"] for row in ROWS if row["case"] == case and row["settings"] == MODERN)
        print(f"  {case} (the shared README: {r[0]} / {r[1]})")
        for k, v in res.items():
            m = np.mean(v, axis=0)
            print(f"    {k:<52} {m[0]:.3f} / {m[1]:.3f}")


def backtests(cases: list[str]) -> None:
    """Fit on the first two thirds of the days, forecast the last third; Flee's ARD on the same days."""
    import pandas as pd

    from refuge.inference.backtest import backtest

    print()
    print("Backtest: parameters with priors fitted on the first two thirds of the days (refuge.inference.backtest), "
          "ARD on the last third (median of 20 seeds; Flee: mean of its cached runs):")
    print(f"{'case':<12} {'cut':<11} {'Flee':>15} {'refuge, Flee settings':>22} {'refuge, fitted':>15}  "
          "fit (train ARD)  simulations  CPU s")
    for case in cases:
        t0 = time.process_time()
        r = backtest(case)
        cpu = time.process_time() - t0
        runs = cached_runs(case)
        flee_txt = "(not run)"
        if runs:
            start = pd.Timestamp(pd.read_csv(runs[0][0])["Date"].iloc[0]).date()
            c = (r.cut - start).days + 1  # Flee's row t is dated day t + 1
            a = np.mean([flee_ard(p, c) for p, _ in runs], axis=0)
            flee_txt = f"{a[0]:.3f} / {a[1]:.3f}"
        print(f"{case:<12} {str(r.cut):<11} {flee_txt:>15} {r.baseline[0]:>11.3f} / {r.baseline[1]:.3f} "
              f"{r.forecast[0]:>7.3f} / {r.forecast[1]:.3f}  {r.train[0]:.3f} / {r.train[1]:.3f}  "
              f"{r.simulations:>11}  {cpu:.0f}")
        print("   fitted: " + ", ".join(f"{k} {v:.3g}" for k, v in r.values.items()))


if __name__ == "__main__":
    main()
