"""Many runs: ensembles on processes or a cluster (`ensemble`), the Parquet store (`store`), what-if comparison
(`compare`).

Imports go one way: compare -> ensemble -> store."""
