"""Checks of the engine against theory: analytic results and the cases that compare runs
with them (`validate`)."""
