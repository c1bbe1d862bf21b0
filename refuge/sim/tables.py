"""The engine's own tables and constants: rows of tracked units and completed stays, the table counters."""

from __future__ import annotations

import numpy as np

# Columns of the tracked-unit table: state, people, day of entry, day its time is up, the transition
# that time belongs to (-1: none), alive (0 once it has left).
U_STATE, U_SIZE, U_ENTRY, U_DUE, U_DUETR, U_ALIVE = range(6)
U_COLS = 6
BIG = np.int64(1) << 60  # a due day that never comes, the room of a site without capacity, an unlimited budget
# Columns of the completed-stay table: state, entry day, exit day, people.
STAY_COLS = 4

# Entries of World.count; FULL holds a bit per table that ran out of rows.
N_UNITS, N_STAYS, N_PEND, FULL = range(4)
FULL_UNITS, FULL_STAYS, FULL_PEND, FULL_NET = 1, 2, 4, 8  # FULL_NET: the route network's person table
