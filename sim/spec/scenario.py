"""The validated, frozen scenario: the one description of a run that everything reads.

A YAML file is parsed once (`sim/spec/loader.py`) into these pydantic models; nothing
downstream reads raw YAML. Durations are floats in seconds, clock times seconds after
midnight, dates `datetime.date`. The models for calendars, distributions and the flow
graph live in `sim/spec/` and are re-exported here, so `from sim.spec.scenario import X` is the
only import other modules need. Checks that need the whole graph run once, on `Scenario`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PrivateAttr, model_validator

from sim.spec.base import (
    AttrValue,
    Clock,
    Duration,
    FolderName,
    NonNegDuration,
    NonNegInt,
    PositiveInt,
    Probability,
    Spec,
    attr_key,
    fail,
)
from sim.spec.calendars import (
    DAY_NAMES,
    BreakSpec,
    CalendarChange,
    CalendarSpec,
    ShiftSpec,
    Shutdown,
)
from sim.spec.changes import ChangeSpec
from sim.spec.checks import check_scenario
from sim.spec.dists import (
    ByCycle,
    CycleSpec,
    Deterministic,
    DistSpec,
    Empirical,
    Erlang,
    Exponential,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)
from sim.spec.flow import (
    BufferSpec,
    CallOff,
    FailureSpec,
    LearningCurve,
    PacedSpec,
    RouteRule,
    SinkSpec,
    SourceSpec,
    StationSpec,
)
from sim.spec.plans import (
    DemandPeriod,
    DemandSpec,
    MaxConsecutive,
    PlanPeriod,
    PlanSpec,
    Ramp,
    Sequencing,
)
from sim.spec.reporting import Milestone, ReportWindow
from sim.spec.targets import Target, parse_targets
from sim.spec.units import DAY, HOUR, format_duration

__all__ = [
    "DAY_NAMES",
    "AttrValue",
    "BreakSpec",
    "BufferSpec",
    "ByCycle",
    "CalendarChange",
    "CalendarSpec",
    "CallOff",
    "ChangeSpec",
    "Clock",
    "CycleSpec",
    "DemandPeriod",
    "DemandSpec",
    "Deterministic",
    "DistSpec",
    "Duration",
    "Empirical",
    "Erlang",
    "Exponential",
    "FailureSpec",
    "Gamma",
    "LearningCurve",
    "Lognormal",
    "MaxConsecutive",
    "Milestone",
    "NonNegDuration",
    "Normal",
    "PacedSpec",
    "PlanPeriod",
    "PlanSpec",
    "Probability",
    "ProductSpec",
    "Ramp",
    "ReportWindow",
    "RouteRule",
    "RunSpec",
    "Scenario",
    "Sequencing",
    "ShiftSpec",
    "Shutdown",
    "SinkSpec",
    "SourceSpec",
    "StationSpec",
    "Triangular",
    "Uniform",
    "VariantSpec",
    "Weibull",
    "attr_key",
]

STD_VARIANT = "std"
RESERVED_ATTRS = ("product", "variant", "sop")


class RunSpec(Spec):
    """Run length, warm-up, replications and seed."""

    start: dt.date = dt.date(2024, 1, 1)
    end: dt.date | None = None
    duration: Duration | None = None
    warmup: NonNegDuration = 0.0
    replications: PositiveInt = 1
    seed: NonNegInt = 1
    calendar: str | None = None
    stall_after: Duration = 8 * HOUR  # on-shift time without output that is a stall
    note: str = ""

    @property
    def horizon(self) -> float:
        """Length of the run in seconds (`end` is the last simulated day, inclusive)."""
        if self.end is not None:
            return ((self.end - self.start).days + 1) * DAY
        assert self.duration is not None
        return self.duration

    @property
    def last_day(self) -> dt.date:
        """The last calendar day the run touches."""
        return self.start + dt.timedelta(days=math.ceil(self.horizon / DAY) - 1)

    @model_validator(mode="after")
    def _length(self) -> RunSpec:
        if self.end is None and self.duration is None:
            raise fail("give the run length as 'end' (a date) or 'duration'")
        if self.end is not None and self.duration is not None:
            raise fail("give 'end' or 'duration', not both", "duration")
        if self.end is not None and self.end < self.start:
            raise fail(
                f"dates out of order: end {self.end} is before start {self.start}", "end"
            )
        if self.warmup >= self.horizon:
            raise fail(
                f"warm-up ({format_duration(self.warmup)}) must be shorter than the run "
                f"({format_duration(self.horizon)})",
                "warmup",
            )
        return self


def _reserved(attrs: dict[str, Any], path: str) -> None:
    for name in RESERVED_ATTRS:
        if name in attrs:
            hint = ": write it as the product's field 'sop'" if name == "sop" else ""
            raise fail(f"attribute name {name!r} is reserved{hint}", f"{path}.{name}")


def _none_is_empty(data: Any) -> Any:
    return {} if data is None else data


@dataclass(frozen=True)
class ProductType:
    """One product type, the one shape everything downstream of the scenario uses: the
    product, its variant, the attributes routes and cycle tables read (the product's, the
    variant's, and `product` and `variant` themselves) and the variant's share of the
    product's orders. Records of a run keep its `name` ("product/variant")."""

    product: str
    variant: str
    attrs: Mapping[str, Any]
    share: float = 1.0

    @property
    def name(self) -> str:
        return f"{self.product}/{self.variant}"


class VariantSpec(Spec):
    """A variant of a product: its share of the product's volume and attribute overrides."""

    share: Annotated[float, Field(gt=0.0, le=1.0)]
    attrs: dict[str, AttrValue] = Field(default_factory=dict)
    note: str = ""

    @model_validator(mode="after")
    def _attrs(self) -> VariantSpec:
        _reserved(self.attrs, "attrs")
        return self


class ProductSpec(Spec):
    """A product: attributes (platform, brand, ...) and optional variants."""

    attrs: dict[str, AttrValue] = Field(default_factory=dict)
    variants: dict[str, VariantSpec] = Field(default_factory=dict)
    sop: dt.date | None = None
    built_before: NonNegInt = 0
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: Any) -> Any:
        return _none_is_empty(data)

    @model_validator(mode="after")
    def _shares(self) -> ProductSpec:
        _reserved(self.attrs, "attrs")
        total = sum(v.share for v in self.variants.values())
        if self.variants and abs(total - 1.0) > 1e-6:
            raise fail(f"variant shares must sum to 1 (got {total:g})", "variants")
        return self


def _meta(x: Any) -> Any:
    """Free-form metadata made JSON-friendly: string keys, dates as ISO strings."""
    if isinstance(x, dict):
        return {str(k): _meta(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_meta(v) for v in x]
    if isinstance(x, (dt.date, dt.datetime)):
        return x.isoformat()
    return x


class Scenario(Spec):
    """A whole scenario: run settings, products, calendars and the flow graph."""

    name: FolderName
    description: str = ""
    run: RunSpec
    products: dict[str, ProductSpec] = Field(default_factory=lambda: {"part": ProductSpec()})
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    sources: dict[str, SourceSpec]
    stations: dict[str, StationSpec]
    buffers: dict[str, BufferSpec]
    sinks: dict[str, SinkSpec]
    changes: dict[str, ChangeSpec] = Field(default_factory=dict)
    milestones: dict[str, Milestone] = Field(default_factory=dict)
    reporting: dict[str, ReportWindow] = Field(default_factory=dict)
    meta: Annotated[dict[str, Any], BeforeValidator(_meta)] = Field(default_factory=dict)
    _flow_index: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _graph(self) -> Scenario:
        check_scenario(self)
        parse_targets(self.meta)
        return self

    @property
    def targets(self) -> dict[str, Target]:
        """`meta.targets`, typed (`sim.spec.targets`)."""
        return parse_targets(self.meta)

    def types(self) -> list[ProductType]:
        """Every product type (a product's variant), in declaration order."""
        out = []
        for pname, product in self.products.items():
            variants: dict[str, VariantSpec | None] = dict(product.variants) or {
                STD_VARIANT: None}
            for vname, variant in variants.items():
                attrs: dict[str, Any] = dict(product.attrs)
                if variant is not None:
                    attrs.update(variant.attrs)
                attrs.update(product=pname, variant=vname)
                out.append(ProductType(pname, vname, MappingProxyType(attrs),
                                       variant.share if variant is not None else 1.0))
        return out

    def inputs(self, node: str) -> list[str]:
        """Names of the buffers whose `to` is this node, in declaration order."""
        return list(self._flow()[0].get(node, ()))

    def outputs(self, node: str) -> list[str]:
        """Names of the buffers that list this node in `from`, in declaration order."""
        return list(self._flow()[1].get(node, ()))

    def _flow(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Input and output buffers of every node, indexed in one pass over the buffers (so
        a check over thousands of stations stays linear). Kept with the buffers mapping it
        was built from: a copy with other buffers builds its own."""
        cached = self._flow_index
        if cached is not None and cached[0] is self.buffers:
            return cached[1], cached[2]
        ins: dict[str, list[str]] = {}
        outs: dict[str, list[str]] = {}
        for b, spec in self.buffers.items():
            ins.setdefault(spec.to, []).append(b)
            for node in dict.fromkeys(spec.from_):
                outs.setdefault(node, []).append(b)
        self._flow_index = (self.buffers, ins, outs)
        return ins, outs
