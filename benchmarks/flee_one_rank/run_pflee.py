"""Run Flee's runscripts/run.py with Flee's parallel ecosystem (flee.pflee.Ecosystem) in place of the serial one.

    PYTHONPATH=benchmarks/flee_one_rank:FLEE_SRC python run_pflee.py FLEE_SRC/runscripts/run.py ARGS...

Flee's own parallel runscripts at 02cd2cbd call functions that no longer exist, so this swaps the class and runs
the serial script unchanged. With the one-rank mpi4py beside this file, it is Flee's parallel code on one rank:
locations' and links' counts are summed across ranks (here: copied) only at Flee's synchronisation points.
"""

import runpy
import sys

from flee import flee, pflee

flee.Ecosystem = pflee.Ecosystem
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
