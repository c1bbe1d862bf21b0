"""Engines: the fast kernel (`refuge.engine.kernel`), the per-person reference (`refuge.engine.reference`)
and the random streams they share (`refuge.engine.streams`)."""
