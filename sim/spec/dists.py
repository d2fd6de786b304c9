"""Random-time specifications (`DistSpec`) and per-product cycle times (`CycleSpec`).

A time anywhere in a scenario is either a plain duration string (deterministic) or a
mapping whose `dist` names one of a fixed family, with every time parameter a duration.
Parameters are checked here (a uniform with low >= high is an authoring error, not a
sampling problem). Each model owns its moments and its variates: `mean_value` and
`variance` of the values drawn (a normal's after clipping at zero), and `fill(rng)`, a
function n -> n variates from a numpy generator. The engine serves those variates in blocks
(`sim/engine/distributions.py`); theory checks, plausibility and reports read the moments.
Every variate uses a fixed number of generator outputs per value (the empirical one draws
with explicit probabilities, one uniform per value), so a stream of draws does not depend
on the block size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    GetJsonSchemaHandler,
    Tag,
    model_validator,
)
from pydantic_core import CoreSchema

from sim.spec.base import (
    DURATION_SCHEMA,
    Duration,
    NonNegDuration,
    PositiveInt,
    Spec,
    Text,
    attr_key,
    fail,
    shown,
)
from sim.spec.units import format_duration, parse_duration

PositiveFloat = Annotated[float, Field(gt=0.0)]
Fill = Callable[[int], np.ndarray]


class StatedMean:
    """A distribution given by its mean (its `mean` field is the mean of the draws)."""

    mean: float

    @property
    def mean_value(self) -> float:
        """Mean in seconds."""
        return self.mean


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _big_phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _clipped_normal_moments(m: float, sd: float) -> tuple[float, float]:
    """E[max(X, 0)] and E[max(X, 0)^2] for X ~ N(m, sd^2)."""
    if sd == 0:
        x = max(m, 0.0)
        return x, x * x
    a = m / sd
    e1 = m * _big_phi(a) + sd * _phi(a)
    e2 = (m * m + sd * sd) * _big_phi(a) + m * sd * _phi(a)
    return e1, e2


class Deterministic(Spec):
    """Always the same time."""

    dist: Literal["deterministic"] = "deterministic"
    value: Duration
    note: str = ""

    @property
    def mean_value(self) -> float:
        """Mean in seconds."""
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def fill(self, rng: np.random.Generator) -> Fill:
        value = self.value
        return lambda n: np.full(n, value)


class Exponential(StatedMean, Spec):
    """Exponential time with the given mean."""

    dist: Literal["exponential"] = "exponential"
    mean: Duration
    note: str = ""

    @property
    def variance(self) -> float:
        return self.mean ** 2

    def fill(self, rng: np.random.Generator) -> Fill:
        mean = float(self.mean)
        return lambda n: rng.exponential(mean, n)


class Uniform(Spec):
    """Uniform time on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: NonNegDuration
    high: Duration
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise fail("uniform needs low < high", "high")
        return self

    @property
    def mean_value(self) -> float:
        """Mean in seconds."""
        return (self.low + self.high) / 2.0

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12.0

    def fill(self, rng: np.random.Generator) -> Fill:
        low, high = float(self.low), float(self.high)
        return lambda n: rng.uniform(low, high, n)


class Triangular(Spec):
    """Triangular time on [low, high] with the given mode."""

    dist: Literal["triangular"] = "triangular"
    low: NonNegDuration
    mode: NonNegDuration
    high: Duration
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise fail("triangular needs low <= mode <= high and low < high", "mode")
        return self

    @property
    def mean_value(self) -> float:
        """Mean in seconds."""
        return (self.low + self.mode + self.high) / 3.0

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0

    def fill(self, rng: np.random.Generator) -> Fill:
        low, mode, high = float(self.low), float(self.mode), float(self.high)
        return lambda n: rng.triangular(low, mode, high, n)


class Normal(Spec):
    """Normal time; draws below zero are clipped to zero."""

    dist: Literal["normal"] = "normal"
    mean: Duration
    sd: NonNegDuration
    note: str = ""

    @property
    def mean_value(self) -> float:
        """Mean in seconds of the clipped variable max(X, 0)."""
        return _clipped_normal_moments(self.mean, self.sd)[0]

    @property
    def variance(self) -> float:
        e1, e2 = _clipped_normal_moments(self.mean, self.sd)
        return max(e2 - e1 * e1, 0.0)

    def fill(self, rng: np.random.Generator) -> Fill:
        mean, sd = float(self.mean), float(self.sd)
        return lambda n: np.maximum(rng.normal(mean, sd, n), 0.0)


class Lognormal(StatedMean, Spec):
    """Lognormal time given by its mean and its cv (or sd); both are stored."""

    dist: Literal["lognormal"] = "lognormal"
    mean: Duration
    cv: PositiveFloat
    sd: Duration
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _cv_or_sd(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        has_cv, has_sd = data.get("cv") is not None, data.get("sd") is not None
        if not (has_cv or has_sd):
            raise fail("lognormal needs 'cv' or 'sd'")
        if has_cv and has_sd:
            return data
        try:
            mean = parse_duration(data.get("mean"))
            sd = parse_duration(data["sd"]) if has_sd else None
        except ValueError:
            return data
        cv = data.get("cv")
        if mean <= 0:
            return data
        if sd is not None and sd > 0:
            return {**data, "cv": sd / mean}
        if isinstance(cv, (int, float)) and not isinstance(cv, bool) and cv > 0:
            return {**data, "sd": format_duration(float(cv) * mean)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Lognormal:
        if not math.isclose(self.cv * self.mean, self.sd, rel_tol=1e-9):
            raise fail(f"lognormal 'cv' ({self.cv}) and 'sd' disagree; give only one", "sd")
        return self

    @property
    def variance(self) -> float:
        return (self.mean * self.cv) ** 2

    def fill(self, rng: np.random.Generator) -> Fill:
        sigma2 = math.log1p(self.cv ** 2)
        mu, sigma = math.log(float(self.mean)) - sigma2 / 2.0, math.sqrt(sigma2)
        return lambda n: rng.lognormal(mu, sigma, n)


class Gamma(StatedMean, Spec):
    """Gamma time given by its mean and coefficient of variation."""

    dist: Literal["gamma"] = "gamma"
    mean: Duration
    cv: PositiveFloat
    note: str = ""

    @property
    def variance(self) -> float:
        return (self.mean * self.cv) ** 2

    def fill(self, rng: np.random.Generator) -> Fill:
        cv2 = float(self.cv) ** 2
        shape, scale = 1.0 / cv2, float(self.mean) * cv2
        return lambda n: rng.gamma(shape, scale, n)


class Erlang(StatedMean, Spec):
    """Erlang-k time (sum of k exponential phases) with the given mean."""

    dist: Literal["erlang"] = "erlang"
    mean: Duration
    k: PositiveInt
    note: str = ""

    @property
    def variance(self) -> float:
        return self.mean ** 2 / self.k

    def fill(self, rng: np.random.Generator) -> Fill:
        shape = float(int(self.k))
        scale = float(self.mean) / shape
        return lambda n: rng.gamma(shape, scale, n)


class Weibull(StatedMean, Spec):
    """Weibull time given by its mean and shape."""

    dist: Literal["weibull"] = "weibull"
    mean: Duration
    shape: PositiveFloat
    note: str = ""

    @property
    def scale(self) -> float:
        """The Weibull scale that gives the stated mean."""
        return float(self.mean) / math.gamma(1.0 + 1.0 / float(self.shape))

    @property
    def variance(self) -> float:
        k = float(self.shape)
        g1, g2 = math.gamma(1.0 + 1.0 / k), math.gamma(1.0 + 2.0 / k)
        return self.scale ** 2 * (g2 - g1 * g1)

    def fill(self, rng: np.random.Generator) -> Fill:
        shape, scale = float(self.shape), self.scale
        return lambda n: scale * rng.weibull(shape, n)


class Empirical(Spec):
    """A time drawn from listed values, equally likely or with weights."""

    dist: Literal["empirical"] = "empirical"
    values: Annotated[tuple[Duration, ...], Field(min_length=1)]
    weights: tuple[Annotated[float, Field(ge=0.0)], ...] | None = None
    note: str = ""

    @model_validator(mode="after")
    def _weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise fail(
                    f"empirical has {len(self.values)} values but {len(self.weights)} weights",
                    "weights",
                )
            if sum(self.weights) <= 0:
                raise fail("empirical weights must not all be zero", "weights")
        return self

    def probabilities(self) -> tuple[np.ndarray, np.ndarray]:
        """Values and normalised probabilities."""
        values = np.asarray(self.values, dtype=float)
        p = np.ones(len(values)) if self.weights is None else np.asarray(self.weights, float)
        return values, p / p.sum()

    @property
    def mean_value(self) -> float:
        """Mean in seconds."""
        values, p = self.probabilities()
        return float(values @ p)

    @property
    def variance(self) -> float:
        values, p = self.probabilities()
        mean = float(values @ p)
        return float(((values - mean) ** 2) @ p)

    def fill(self, rng: np.random.Generator) -> Fill:
        values, p = self.probabilities()
        return lambda n: rng.choice(values, n, p=p)


DIST_MODELS: dict[str, type[Spec]] = {
    "deterministic": Deterministic,
    "exponential": Exponential,
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "lognormal": Lognormal,
    "gamma": Gamma,
    "erlang": Erlang,
    "weibull": Weibull,
    "empirical": Empirical,
}


def _dist_input(x: Any) -> Any:
    """Accept a duration string (deterministic) or a mapping with a known `dist`."""
    if isinstance(x, tuple(DIST_MODELS.values())):
        return x
    if isinstance(x, str):
        return {"dist": "deterministic", "value": x}
    names = ", ".join(DIST_MODELS)
    if isinstance(x, dict):
        if "dist" not in x:
            raise fail(f"missing 'dist'; expected one of: {names}")
        if not isinstance(x["dist"], str) or x["dist"] not in DIST_MODELS:
            raise fail(f"unknown distribution {shown(x['dist'])}; expected one of: {names}")
        return x
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        try:
            parse_duration(x)
        except ValueError as exc:
            raise fail(str(exc)) from None
    raise fail(f"expected a duration like '60 s' or a mapping with 'dist' (got {shown(x)})")


class _OrDurationString:
    """JSON Schema: a distribution may also be written as a plain duration string."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {"anyOf": [DURATION_SCHEMA, handler(core_schema)]}


DistSpec = Annotated[
    Deterministic | Exponential | Uniform | Triangular | Normal | Lognormal | Gamma | Erlang
    | Weibull | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_dist_input),
    _OrDurationString(),
]
"""A random time: a duration string (deterministic) or a mapping discriminated by `dist`."""


class ByCycle(Spec):
    """Cycle time chosen by product, variant or attribute value, optionally scaled."""

    by: str
    values: dict[Text, DistSpec] = Field(default_factory=dict)
    default: DistSpec | None = None
    scale_by: str | None = None
    note: str = ""

    def spec_for(self, attrs: Mapping[str, Any]) -> DistSpec | None:
        """The distribution for a part with these attributes (None if unresolved)."""
        value = attrs.get(self.by)
        if value is not None and attr_key(value) in self.values:
            return self.values[attr_key(value)]
        return self.default


def _cycle_tag(x: Any) -> str:
    if isinstance(x, ByCycle) or (isinstance(x, dict) and "by" in x):
        return "by-table"
    return "dist-spec"


CycleSpec = Annotated[
    Annotated[DistSpec, Tag("dist-spec")] | Annotated[ByCycle, Tag("by-table")],
    Discriminator(_cycle_tag),
]
"""A station's cycle time: one DistSpec for every part, or a `ByCycle` table."""
