"""Parts of the scenario models, split by topic; import them from `sim.spec.scenario`."""
