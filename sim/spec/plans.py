"""Dated production plans and order books: what a source is asked to build, and when.

A `plan` is a push schedule: each period's quantities are released at fixed times spread
over the period, whatever happens downstream. A `demand` is an order book the line pulls
from: orders fall due over their period, and the source releases the next one when the
first buffer has room, choosing among the orders due by the sequencing rule. Both share
the sequencing rules and ramp-ups; both are checked here as far as they can be without
the rest of the scenario (dates in order, quantities given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.spec.base import Duration, NonNegInt, PositiveInt, Probability, Spec, Text, fail


class MaxConsecutive(Spec):
    """At most `n` releases in a row whose attribute `attr` equals `value`."""

    attr: str
    value: Text
    n: PositiveInt
    note: str = ""


class MaxInWindow(Spec):
    """Spacing of heavy content (order books only): at most `n` of any `window`
    consecutive release slots have attribute `attr` equal to `value` (1-in-N: `n: 1,
    window: N`; a maximum share n/window). A slot is one `pitch`: a release, or, when
    only orders the rule forbids are due, an empty pitch (the line runs a gap) before
    the next may go."""

    attr: str
    value: Text
    n: PositiveInt
    window: PositiveInt
    pitch: Duration
    note: str = ""

    @model_validator(mode="after")
    def _less(self) -> MaxInWindow:
        if self.n >= self.window:
            raise fail(f"n ({self.n}) must be below window ({self.window}): else the rule "
                       "never binds", "n")
        return self


class Sequencing(Spec):
    """How a period's quantities are turned into a release order."""

    rule: Literal["spread", "batch", "random"] = "spread"
    max_consecutive: MaxConsecutive | None = None
    max_in_window: MaxInWindow | None = None
    note: str = ""


class Ramp(Spec):
    """S-curve ramp-up of a new product from `initial` to 100%: of its planned releases
    (`drop`: the rest is dropped) or of a daily cap `per_day` (`delay`: orders above the
    cap wait in the backlog). Plan sources drop; demand sources delay by default."""

    start: dt.date
    duration: Duration
    initial: Probability = 0.0
    mode: Literal["delay", "drop"] | None = None
    per_day: PositiveInt | None = None
    note: str = ""


class _Period(Spec):
    """Days from..to (inclusive) of a plan or an order book."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    note: str = ""

    @model_validator(mode="after")
    def _dates(self) -> _Period:
        if self.to < self.from_:
            raise fail(f"dates out of order: to {self.to} is before from {self.from_}", "to")
        return self


class PlanPeriod(_Period):
    """Quantities per product to release over the days from..to (inclusive)."""

    quantities: dict[str, NonNegInt]


class DemandPeriod(_Period):
    """Orders per product falling due over the days from..to (inclusive): a total for the
    period (`quantities`) and/or a rate per working day (`per_day`)."""

    quantities: dict[str, NonNegInt] = Field(default_factory=dict)
    per_day: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _given(self) -> DemandPeriod:
        if not self.quantities and not self.per_day:
            raise fail("a demand period needs 'quantities' or 'per_day'")
        return self


class _Book(Spec):
    """What plans and order books share: sequencing, ramp-ups, per-product scale."""

    sequencing: Sequencing = Sequencing()
    ramps: dict[str, Ramp] = Field(default_factory=dict)
    scale: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    note: str = ""


class PlanSpec(_Book):
    """A production plan: dated periods with quantities, a sequencing rule, ramps."""

    periods: Annotated[tuple[PlanPeriod, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _order(self) -> PlanSpec:
        _periods_in_order(self.periods)
        if self.sequencing.max_in_window is not None:
            raise fail("a plan releases at fixed times and cannot leave gaps: spacing "
                       "(max_in_window) is for order books (kind: demand)",
                       "sequencing.max_in_window")
        return self


class DemandSpec(_Book):
    """An order book: dated periods of orders, how to choose among due orders, ramp-ups."""

    periods: Annotated[tuple[DemandPeriod, ...], Field(min_length=1)]
    due: Literal["working_days", "capacity"] = "working_days"

    @model_validator(mode="after")
    def _order(self) -> DemandSpec:
        _periods_in_order(self.periods)
        for name, ramp in self.ramps.items():
            if ramp.mode != "drop" and ramp.per_day is None:
                raise fail("a ramp-up that delays orders needs 'per_day': the daily "
                           "quantity it rises to", f"ramps.{name}.per_day")
        return self


def _periods_in_order(periods: Sequence[_Period]) -> None:
    for i, (a, b) in enumerate(pairwise(periods)):
        if b.from_ <= a.to:
            raise fail(
                f"dates out of order: period from {b.from_} starts before the previous "
                f"period ends ({a.to})",
                f"periods.{i + 1}.from",
            )
