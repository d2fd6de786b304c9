"""Loops over runs: replications, comparisons (and, to come, sweeps).

Nothing here reaches inside the engine: every loop calls `sim.engine.run.run_once` (through
`replications.run_replications`) and works on the records it returns (docs/design.md §2).
"""
