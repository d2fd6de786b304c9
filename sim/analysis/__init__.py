"""Pure functions of results: gates now, bottleneck and sensitivity analysis later.

Nothing here runs a simulation (docs/design.md §2): it reads records or result files.
"""
