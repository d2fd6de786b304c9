"""Learning curves: a value that moves from where a change starts to where it settles.

Two uses: the probability of a route rule (first-time-through rising after a model's
start) and the work rate of a new shift's crew or a new station (`RateLearning`: a share
of the nominal rate rising to 1 by weeks since a date). One shape for both, so a planner
writes them the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import Field

from sim.spec.base import Duration, Probability, Spec
from sim.spec.clock import seconds_at
from sim.spec.units import DAY


class LearningCurve(Spec):
    """A probability moving from `initial` (at `from`) to `final` (by `from + over`)."""

    initial: Probability
    final: Probability
    from_: dt.date = Field(alias="from")
    over: Duration
    shape: Literal["linear", "exponential"] = "exponential"
    note: str = ""

    def value(self, elapsed: float) -> float:
        """The probability `elapsed` seconds after `from` (negative: before `from`)."""
        if elapsed <= 0:
            return self.initial
        x = elapsed / self.over
        if self.shape == "linear":
            return self.final if x >= 1 else self.initial + (self.final - self.initial) * x
        return self.final + (self.initial - self.final) * math.exp(-3.0 * x)


class RateLearning(LearningCurve):
    """A work rate from `initial` (a share of nominal, > 0) at `from` to `final` (default
    1) by `from + over`; `initial` before `from`. The engine applies it a day at a time:
    a shift's rate at the shift's start, a station's speed from each midnight."""

    initial: Annotated[float, Field(gt=0.0, le=1.0)]
    final: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0

    def at(self, start: dt.date, t: float) -> float:
        """The rate at `t` seconds after 00:00 of `start` (the run start)."""
        return self.value(t - seconds_at(start, self.from_))

    def daily_steps(self, start: dt.date, horizon: float) -> list[tuple[float, float]]:
        """(time, rate) at each midnight from the run start while the rate still moves,
        then once settled: `Calendar.with_speed` steps."""
        steps: list[tuple[float, float]] = []
        end = seconds_at(start, self.from_) + self.over * (1 if self.shape ==
                                                                  "linear" else 3)
        t = 0.0
        while t < horizon:
            steps.append((t, self.at(start, t)))
            if t > end:
                break
            t += DAY
        return steps
