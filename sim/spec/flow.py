"""The flow graph as written in a scenario: sources, stations, buffers and sinks.

Each model checks what it can see by itself (a source of kind `arrivals` has an
interarrival time, a station has a cycle or is paced, a capacity is a whole number or
`inf`); whatever needs the whole graph (names that must exist, inputs and outputs) is
checked once on the Scenario in `sim/spec/checks.py`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    model_validator,
)

from sim.spec.base import (
    Duration,
    NonNegDuration,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    Probability,
    Spec,
    Text,
    attr_key,
    fail,
    shown,
)
from sim.spec.calendars import Shutdown
from sim.spec.dists import CycleSpec, DistSpec
from sim.spec.learning import LearningCurve, RateLearning
from sim.spec.plans import DemandSpec, PlanSpec
from sim.spec.units import parse_duration


class CallOff(Spec):
    """Release this output's part of an order when the order's part from another output
    reaches buffer `at` (just in sequence), `lead` later."""

    at: str
    lead: NonNegDuration = 0.0
    note: str = ""


class RatePoint(Spec):
    """From a date, an arrivals source runs at `rate` times its nominal rate (1 / mean
    interarrival): held until the next point, or (`to_next: linear`) moving linearly
    to the next point's rate."""

    from_: dt.date = Field(alias="from")
    rate: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    to_next: Literal["hold", "linear"] = "hold"
    note: str = ""


class SourceSpec(Spec):
    """Where parts come from: saturated, random arrivals, or a dated plan."""

    kind: Literal["saturated", "arrivals", "plan", "demand"]
    mix: dict[str, Annotated[float, Field(ge=0.0)]] | None = None
    sequence: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    interarrival: DistSpec | None = None
    when_full: Literal["block", "lose"] = "block"
    calendar: str | None = None
    limit: PositiveInt | None = None
    leads: dict[str, Duration] = Field(default_factory=dict)
    batch: PositiveInt = 1
    plan: PlanSpec | None = None
    demand: DemandSpec | None = None
    calloff: dict[str, CallOff] = Field(default_factory=dict)
    active: bool = True
    ramp: tuple[RatePoint, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _kind(self) -> SourceSpec:
        if self.ramp:
            if self.kind != "arrivals":
                raise fail(f"'ramp' is only for kind 'arrivals' (kind is {self.kind!r})",
                           "ramp")
            for i in range(1, len(self.ramp)):
                if self.ramp[i].from_ <= self.ramp[i - 1].from_:
                    raise fail(f"dates out of order: {self.ramp[i].from_} is not after "
                               f"{self.ramp[i - 1].from_}", f"ramp.{i}.from")
        if self.kind == "demand" and self.demand is None:
            raise fail("a source of kind 'demand' needs 'demand' (its order book)")
        if self.kind != "demand" and self.demand is not None:
            raise fail(f"'demand' is only for kind 'demand' (kind is {self.kind!r})", "demand")
        if self.kind == "demand":
            for key in ("mix", "sequence", "limit"):
                if getattr(self, key) is not None:
                    raise fail("a demand source takes its products from its order book, "
                               f"not {key!r}", key)
            if self.leads:
                raise fail("a demand source releases when there is room: use 'calloff' "
                           "for parts needed later, not 'leads'", "leads")
        for buf in self.calloff:
            if buf in self.leads:
                raise fail("an output is released by 'calloff' or with a 'lead', not both",
                           f"calloff.{buf}")
        if self.mix is not None and self.sequence is not None:
            raise fail("give 'mix' or 'sequence', not both", "sequence")
        if self.kind == "arrivals" and self.interarrival is None:
            raise fail("a source of kind 'arrivals' needs 'interarrival'")
        if self.kind != "arrivals" and self.interarrival is not None:
            raise fail(f"'interarrival' is only for kind 'arrivals' (kind is {self.kind!r})",
                       "interarrival")
        if self.plan is not None:
            for name, ramp in self.plan.ramps.items():
                if ramp.mode == "delay":
                    raise fail("a plan source drops what a ramp-up cannot build; to delay "
                               "orders instead, use a source of kind 'demand'",
                               f"plan.ramps.{name}.mode")
        if self.kind == "plan" and self.plan is None:
            raise fail("a source of kind 'plan' needs 'plan'")
        if self.kind != "plan" and self.plan is not None:
            raise fail(f"'plan' is only for kind 'plan' (kind is {self.kind!r})", "plan")
        if self.kind == "plan" and (self.mix is not None or self.sequence is not None):
            raise fail("a plan source takes its products from the plan, not 'mix'/'sequence'",
                       "mix" if self.mix is not None else "sequence")
        if self.mix is not None:
            total = sum(self.mix.values())
            if not self.mix or abs(total - 1.0) > 1e-6:
                raise fail(f"mix shares must sum to 1 (got {total:g})", "mix")
        return self


def _shorthand(data: dict[str, Any], short: str, full: str) -> dict[str, Any]:
    """Turn `mtbf: 8 h` into `uptime: {dist: exponential, mean: 8 h}` (same for mttr)."""
    if short not in data:
        return data
    if full in data:
        raise fail(f"give '{short}' or '{full}', not both", short)
    value = data[short]
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise fail(str(exc), short) from None
    if seconds <= 0:
        raise fail(f"duration must be > 0 (got {shown(value)})", short)
    rest = {k: v for k, v in data.items() if k != short}
    return {**rest, full: {"dist": "exponential", "mean": value}}


class FailureSpec(Spec):
    """Breakdowns of a station: up-time and repair distributions."""

    uptime: DistSpec
    repair: DistSpec
    mode: Literal["operation", "time"] = "operation"
    repair_off_shift: bool = False
    after_failure: Literal["resume", "repeat"] = "resume"
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _mtbf_mttr(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = _shorthand(_shorthand(data, "mtbf", "uptime"), "mttr", "repair")
        for full, short in (("uptime", "mtbf"), ("repair", "mttr")):
            if full not in data:
                raise fail(f"failures need '{short}' or '{full}'")
        return data


class WorkContent(Spec):
    """Work content per model on a paced segment, as multiples of its takt, chosen by
    product, variant or attribute value (`by`), `default` for the rest.

    A step the line starts with a part waiting at its entrance (the line loaded at its
    head, where pacing binds) lasts `takt x content` of the part that entered at that
    step: a heavy model lengthens its step, a light one shortens it, so at saturation
    the line moves `1 / (takt x mean content)` parts per second of work. Where the
    entrance is empty the operators absorb the difference in the free pitch, and steps
    last one takt (the drift a spacing rule keeps small)."""

    by: str
    values: dict[Text, PositiveFloat]
    default: PositiveFloat = 1.0
    note: str = ""

    def factor(self, attrs: Mapping[str, Any]) -> float:
        value = attrs.get(self.by)
        if value is not None and attr_key(value) in self.values:
            return float(self.values[attr_key(value)])
        return float(self.default)


class PacedSpec(Spec):
    """A moving line of `positions` places advancing one place per `takt`."""

    positions: PositiveInt
    takt: Duration
    content: WorkContent | None = None
    note: str = ""


def _p_tag(x: Any) -> str:
    return "p-curve" if isinstance(x, (dict, LearningCurve)) else "p-number"


RouteP = Annotated[
    Annotated[Probability, Tag("p-number")] | Annotated[LearningCurve, Tag("p-curve")],
    Discriminator(_p_tag),
]
"""A routing probability: a number in [0, 1] or a learning curve."""


class RouteRule(Spec):
    """Send a part to output buffer `to`, for parts matching `when`, with probability p."""

    to: str
    p: RouteP | None = None
    when: dict[str, Text] = Field(default_factory=dict)
    note: str = ""


class StationSpec(Spec):
    """A work station: a cycle time (or a paced segment), servers, failures, routing."""

    cycle: CycleSpec | None = None
    servers: PositiveInt = 1
    paced: PacedSpec | None = None
    failures: FailureSpec | None = None
    calendar: str | None = None
    carrier: str | None = None
    match: Literal["none", "order"] = "none"
    consume: dict[str, PositiveInt | str] = Field(default_factory=dict)
    route: tuple[RouteRule, ...] = ()
    group: str = ""
    shift_rate: bool = False
    outages: tuple[Shutdown, ...] = ()   # dated whole days down (maintenance, a breakdown)
    speed: PositiveFloat = 1.0  # work rate multiplier: cycle and takt divided by it
    learning: RateLearning | None = None  # the rate rising by time since a date
    note: str = ""

    @model_validator(mode="after")
    def _cycle_or_paced(self) -> StationSpec:
        if self.cycle is None and self.paced is None:
            raise fail("a station needs 'cycle' (or 'paced')")
        if self.cycle is not None and self.paced is not None:
            raise fail("give 'cycle' or 'paced', not both", "paced")
        if self.paced is not None and self.servers != 1:
            raise fail("a paced segment is one line: 'servers' must be 1", "servers")
        return self


def _names(x: Any) -> Any:
    return (x,) if isinstance(x, str) else x


_NAMES_SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ]
}


def _capacity(x: Any) -> float:
    """An integer >= 0 or inf ("inf", "infinity", YAML .inf)."""
    if isinstance(x, str) and x.strip().lower() in ("inf", "infinity"):
        return math.inf
    if isinstance(x, bool) or not isinstance(x, (int, float)) or math.isnan(x):
        raise fail(f"expected a whole number of parts >= 0 or 'inf' (got {shown(x)})")
    if x < 0:
        raise fail(f"capacity must be >= 0 (got {shown(x)})")
    if math.isinf(x):
        return math.inf
    if not float(x).is_integer():
        raise fail(f"capacity must be a whole number of parts (got {shown(x)})")
    return float(x)


Capacity = Annotated[
    float,
    BeforeValidator(_capacity),
    PlainSerializer(lambda c: "inf" if math.isinf(c) else int(c), when_used="json"),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0}, {"enum": ["inf", "infinity"]}]}
    ),
]
"""A buffer capacity in parts, math.inf when unlimited."""


class BufferSpec(Spec):
    """A buffer between nodes: fed by `from`, emptied by `to`."""

    from_: Annotated[
        tuple[str, ...],
        BeforeValidator(_names),
        Field(alias="from", min_length=1),
        WithJsonSchema(_NAMES_SCHEMA),
    ]
    to: str
    capacity: Capacity
    kind: Literal["parts", "stock"] = "parts"
    trace: bool = False
    initial: NonNegInt | dict[str, NonNegInt] = 0  # stated WIP at the start (see below)
    note: str = ""

    @model_validator(mode="after")
    def _unique(self) -> BufferSpec:
        if len(set(self.from_)) != len(self.from_):
            raise fail("a name is listed twice", "from")
        if self.kind == "stock" and not isinstance(self.initial, int):
            raise fail("a stock starts with a number of units", "initial")
        if self.kind == "parts" and isinstance(self.initial, int) and self.initial:
            raise fail("parts start as {product: count}", "initial")
        n = self.initial if isinstance(self.initial, int) else sum(self.initial.values())
        if n > self.capacity:
            raise fail(f"starts with {n}, more than its capacity {self.capacity:g}",
                       "initial")
        return self


class SinkSpec(Spec):
    """Where parts leave the system (completed, or scrapped if `scrap`)."""

    scrap: bool = False
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: Any) -> Any:
        return {} if data is None else data
