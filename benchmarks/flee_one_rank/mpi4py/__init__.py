"""A one-process stand-in for mpi4py, for running Flee's parallel code (flee.pflee) as a single rank in
benchmarks/bench_flee.py. With one rank every reduction and every gather is a copy of the rank's own data."""
