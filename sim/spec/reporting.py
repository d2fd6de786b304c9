"""What a planner reads off dates: milestones and reporting windows.

Why in the scenario: "when is the 100,000th R5 built?" and "what is the daily rate in
December?" are questions about a scenario, asked the same way of every variant; written
once in the base file, every run of every variant answers them as KPIs with confidence
intervals (`sim/analysis/kpi.py`), instead of each planner scripting over `daily.csv`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from sim.spec.base import PositiveInt, Spec, fail, join, shown

if TYPE_CHECKING:
    from sim.spec.scenario import Scenario


class Milestone(Spec):
    """The date the `count`-th unit of a product (or of all products) is built, counting
    the product's `built_before`."""

    product: str | None = None
    count: PositiveInt
    note: str = ""


class ReportWindow(Spec):
    """Days from..to (inclusive) whose output (of `products`, default all) is reported:
    total and per working day (`days` working days when given, else the production days
    of the run calendar)."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    days: PositiveInt | None = None
    products: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> ReportWindow:
        if self.to < self.from_:
            raise fail(f"dates out of order: to {self.to} is before from {self.from_}", "to")
        return self


def check_reporting(s: Scenario) -> None:
    """Milestones name known products; windows lie within the run horizon."""
    for name, m in s.milestones.items():
        if m.product is not None and m.product not in s.products:
            raise fail(f"unknown product {shown(m.product)}; expected one of: "
                       f"{', '.join(s.products)}", join("milestones", name, "product"))
    first, last = s.run.start, s.run.last_day
    for name, w in s.reporting.items():
        for i, product in enumerate(w.products):
            if product not in s.products:
                raise fail(f"unknown product {shown(product)}; expected one of: "
                           f"{', '.join(s.products)}", join("reporting", name, "products", i))
        for key, day in (("from", w.from_), ("to", w.to)):
            if not first <= day <= last:
                raise fail(f"reporting date {day} is outside the run horizon {first} .. "
                           f"{last}", join("reporting", name, key))
