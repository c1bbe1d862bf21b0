"""The limits refuge holds every input to, in one place: ranges by meaning, sizes, YAML, ensembles.

A value outside them is refused where it enters (the scenario file, --set, a sweep, a variant,
a schedule point, a rule's action), with a message that states the limit and what to do
instead. The ceilings are far above any real displacement system and low enough that a
scenario inside them runs in seconds and in a few hundred MB.
"""

from __future__ import annotations

# --- values, by what they mean ---------------------------------------------------------------
MAX_PEOPLE = 1e10           # people in a state, a site's room (more than the world's population)
MAX_TRACKED_PEOPLE = 1_000_000  # people at the start in states whose exits depend on time in state
MAX_RATE = 1_000.0          # a daily hazard per person (1,000/day: everyone leaves within the day)
MAX_ARRIVAL_RATE = 1e7      # people (or groups) arriving per day in one stream
MAX_TRACKED_ARRIVAL_RATE = 10_000.0  # groups per day arriving straight into a tracked state
MAX_DAYS_VALUE = 36_600.0   # a duration, mean, median or sd in days (about 100 years)
MAX_SIGMA = 10.0            # a lognormal's sigma (the sd of the log)
MAX_GROUP_SIZE = 100_000    # people moving together in one group
MAX_GROUPS_PER_DAY = 1_000_000  # groups drawn one by one per day (a group transition, an arrival stream)
MAX_FACTOR = 1e6            # a rule's `multiply: by`
MAX_LEVEL = 1e12            # a rule's signal level (`above`, `below`), a fact's value, a supply need
MAX_PARAMETER = 1e12        # any parameter's value, whatever it is used for

# --- sizes ------------------------------------------------------------------------------------
MAX_DAYS = 36_600           # the scenario period, start..end (about 100 years)
MAX_STATES = 20_000          # (a route network's places are states: FabFlee's largest grid has 10,000)
MAX_TRANSITIONS = 10_000
MAX_ENTRIES = 10_000        # entries of any other list (sites, arrivals, rules, evidence, points, ...)
MAX_NAME = 200              # characters in a name (state, site, transition, parameter, ...)
MAX_TEXT = 100_000          # characters in a description, note or fact
MAX_TABLE_CELLS = 30_000_000  # days x (states + edges + sites + arrivals + parameter slots + rules)
MAX_UNITS = 1 << 20         # groups tracked at once, or stays recorded, in one run (the engine's tables)
MAX_SPAWN_SCALE = 100.0     # a multiplier of a network's spawning total (spawning.scale), drift included
MAX_SPAWNED = 50_000_000    # people a route network's conflict zones spawn over a run by their own intensity

# --- the YAML file ----------------------------------------------------------------------------
MAX_FILE_BYTES = 2**20         # a scenario file (20 times the flagship; PyYAML reads ~200 KB/s)
MAX_DEPTH = 40              # nesting of mappings and lists
MAX_NODES = 250_000         # values in a file, aliases expanded
MAX_TABLE_BYTES = 64 * 2**20  # a network's locations or routes file (CSV data, not counted in the above)

# --- ensembles and calibration ----------------------------------------------------------------
MAX_RUNS = 1_000_000        # replicates per variant
MAX_VARIANTS = 10_000       # variants (sweep rows) in one experiment
MAX_SEED = 2**63 - 1 - MAX_RUNS  # seed + run stays a 64-bit integer
MAX_BUDGET = 100_000_000    # calibration simulations
MAX_POPULATION = 1_000_000  # calibration particles per generation
