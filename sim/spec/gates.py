"""A gates file: the KPI rules a build must pass (read by the `gate` verb).

    gates:
      vehicles_2024: {kpi: completed, at: low, min: 89000}       # lower 95% bound >= 89,000
      lead_time:     {kpi: lead_time_p50_h, at: high, max: 24}   # upper bound <= 24 h
      no_regression: {kpi: completed, baseline: baseline/summary.json, tolerance: 0}

An absolute rule compares one number of the result (`at`: the mean, or the low or high
end of its 95% interval) with `min` and/or `max`. A regression rule compares the result
with a committed baseline `summary.json` of the same seeds, replication by replication:
it fails when the paired 95% interval of (result - baseline) lies entirely below
-`tolerance` (or above +`tolerance` when lower is better: `lower_is_better`, by default
the KPI catalogue's direction, `sim.analysis.catalogue`), i.e. a change for the worse
beyond noise.
For a comparison folder, `scenario` names the row to read. For a sweep folder, `point`
selects one point by its levels (`point: {store: 60, rate: 52 JPH}`); without it the rule
must hold at every point (the verdict shows the worst one), and a regression baseline is
a committed sweep `summary.json` whose points are matched by their levels.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from sim.spec.base import Spec, fail


class Gate(Spec):
    """One rule on one KPI."""

    kpi: str
    scenario: str | None = None
    point: dict[str, str | int | float] | None = None
    at: Literal["mean", "low", "high"] = "mean"
    min: float | None = None
    max: float | None = None
    baseline: str | None = None
    tolerance: float = Field(default=0.0, ge=0.0)
    lower_is_better: bool | None = None  # None: the KPI catalogue's direction
    note: str = ""

    @model_validator(mode="after")
    def _kind(self) -> Gate:
        absolute = self.min is not None or self.max is not None
        if absolute == (self.baseline is not None):
            raise fail("a gate has 'min'/'max' (an absolute rule) or 'baseline' (a "
                       "regression rule), one of the two")
        return self


class GatesFile(Spec):
    """Named gates."""

    gates: dict[str, Gate] = Field(min_length=1)
    note: str = ""
