"""A sweep file: which scenario, which factors at which levels, which design.

    name: store-vs-rate
    scenario: ../2025.yaml            # relative to this file
    replications: 5                   # per point; replication r of every point shares seeds
    design: grid                      # grid | list | lhs
    factors:
      store:    {path: buffers.painted_body_store.capacity, values: [60, 120, 250]}
      takt:     {path: [stations.trim.paced.takt, stations.final.paced.takt],
                 range: {from: 60 s, to: 70 s, step: 5 s}}
      shifts:
        levels:                       # named levels, each a set of paths and values
          two: {}
          three: {calendars.pack_2shift.changes: null}
    kpis: [completed, "completed.*", lockup]

Why a file and not command-line flags: a sweep is an experiment a team reviews and
reruns in CI, so it is versioned like a scenario and validated like one (unknown keys
refused, one error naming the field). A factor is one or more `--set` paths set to the
same value (`values`, or a numeric `range` expanded with its step, durations with units
as in scenarios), or named `levels`, each its own mapping of paths to values. The design
says which combinations run: every combination (`grid`), the `points` written out
(`list`), or `samples` points of a Latin hypercube (`lhs`, seeded; a `range` is sampled
continuously, `values`/`levels` are picked by stratum). Points are expanded and each one
validated as a scenario by `sim.experiments.design`.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any, Literal

from pydantic import Field, model_validator

from sim.spec.base import NAME_PATTERN, NonNegInt, PositiveInt, Spec, fail
from sim.spec.units import parse_duration

Scalar = int | float | str | bool


class Range(Spec):
    """Numbers or durations from `from` to `to`; a grid steps by `step` (ends included)."""

    start: float | str = Field(alias="from")
    stop: float | str = Field(alias="to")
    step: float | str | None = None
    integer: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Range:
        kinds = {_kind(v) for v in (self.start, self.stop, self.step) if v is not None}
        if len(kinds) > 1:
            raise fail("from, to and step must all be numbers or all durations with units")
        low, high = self.numbers()[:2]
        if not high > low:
            raise fail("'to' must be larger than 'from'")
        step = self.numbers()[2]
        if step is not None and not step > 0:
            raise fail("'step' must be positive", "step")
        if step is not None and (high - low) / step > 10_000:
            raise fail("more than 10,000 levels: use a larger step", "step")
        return self

    @property
    def durations(self) -> bool:
        """True when the bounds are durations with units (written back as "N s")."""
        return _kind(self.start) == "duration"

    def numbers(self) -> tuple[float, float, float | None]:
        """(from, to, step) as floats (durations in seconds)."""
        conv = _number
        return conv(self.start), conv(self.stop), None if self.step is None else conv(self.step)


def _kind(v: float | str) -> str:
    return "duration" if isinstance(v, str) else "number"


def _number(v: float | str) -> float:
    if isinstance(v, str):
        try:
            return parse_duration(v)
        except ValueError as exc:
            raise fail(str(exc)) from None
    return float(v)


class Factor(Spec):
    """One dimension of the sweep."""

    path: str | list[str] | None = None
    values: list[Any] | None = Field(default=None, min_length=1)
    range: Range | None = None
    levels: dict[str, dict[str, Any]] | None = Field(default=None, min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> Factor:
        given = [k for k in ("values", "range", "levels") if getattr(self, k) is not None]
        if len(given) > 1:
            raise fail(f"a factor has one of 'values', 'range' or 'levels' (got "
                       f"{' and '.join(given)})")
        if self.levels is not None and self.path is not None:
            raise fail("named 'levels' carry their own paths: drop 'path'", "path")
        if self.levels is None and self.path is None:
            raise fail("a factor needs a 'path' (or named 'levels')", "path")
        for path in self.paths:
            if not path or any(not part for part in path.split(".")):
                raise fail(f"bad path {path!r}: expected dotted keys like "
                           "buffers.store.capacity", "path")
        return self

    @property
    def paths(self) -> list[str]:
        """The `--set` paths this factor writes (all levels' paths for named levels)."""
        if self.levels is not None:
            return list(dict.fromkeys(p for level in self.levels.values() for p in level))
        return [self.path] if isinstance(self.path, str) else list(self.path or [])


class SweepSpec(Spec):
    """The whole sweep file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    scenario: str
    set: list[str] = Field(default_factory=list)
    replications: PositiveInt = 5
    seed: NonNegInt | None = None
    common_random_numbers: bool = True
    design: Literal["grid", "list", "lhs"] = "grid"
    samples: PositiveInt | None = None
    design_seed: NonNegInt = 0
    factors: dict[str, Factor] = Field(min_length=1)
    points: list[dict[str, Any]] | None = None
    kpis: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    plot: list[str] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _design(self) -> SweepSpec:
        for name in self.factors:
            if not _is_name(name):
                raise fail(f"factor name {name!r}: use letters, digits and _ (starting "
                           "with a letter)", f"factors.{name}")
        if self.design == "lhs":
            if self.samples is None:
                raise fail("a Latin hypercube needs 'samples' (the number of points)",
                           "samples")
            for name, f in self.factors.items():
                if f.values is None and f.range is None and f.levels is None:
                    raise fail("an lhs factor needs a range, values or levels",
                               f"factors.{name}")
        elif self.samples is not None:
            raise fail("'samples' is for design: lhs only", "samples")
        if self.design == "list":
            if not self.points:
                raise fail("design: list needs 'points' (a list of {factor: value})",
                           "points")
            for i, point in enumerate(self.points):
                missing = [f for f in self.factors if f not in point]
                extra = [k for k in point if k not in self.factors]
                if extra:
                    raise fail(f"unknown factor {extra[0]!r} (factors: "
                               f"{', '.join(self.factors)})", f"points.{i}")
                if missing:
                    raise fail(f"no value for factor {missing[0]!r}", f"points.{i}")
                for f_name, value in point.items():
                    levels = self.factors[f_name].levels
                    if levels is not None and str(value) not in levels:
                        raise fail(f"{value!r} is not a level of {f_name!r} (levels: "
                                   f"{', '.join(levels)})", f"points.{i}.{f_name}")
        elif self.points is not None:
            raise fail("'points' is for design: list only", "points")
        if self.design == "grid":
            for name, f in self.factors.items():
                if f.values is None and f.levels is None and (f.range is None
                                                              or f.range.step is None):
                    raise fail("a grid factor needs values, levels or a range with a step",
                               f"factors.{name}")
        points = self.point_count()
        if points > MAX_POINTS:
            raise fail(f"the design has {points:,} points, over the limit of {MAX_POINTS:,} "
                       "(each point is a whole scenario held in memory); split the sweep",
                       "samples" if self.design == "lhs" else
                       "points" if self.design == "list" else "factors")
        if points * self.replications > MAX_RUNS:
            raise fail(f"{points:,} points x {self.replications:,} replications = "
                       f"{points * self.replications:,} runs, over the limit of "
                       f"{MAX_RUNS:,}", "replications")
        return self

    def point_count(self) -> int:
        """How many points the design has, counted without expanding it."""
        if self.design == "lhs":
            return self.samples or 0
        if self.design == "list":
            return len(self.points or [])
        return math.prod(level_count(f) for f in self.factors.values())

    def keeps(self, kpi: str) -> bool:
        """True when a KPI matches one of the `kpis` patterns (fnmatch)."""
        return any(fnmatch.fnmatchcase(kpi, pattern) for pattern in self.kpis)


def _is_name(name: str) -> bool:
    return bool(name) and name[0].isalpha() and all(c.isalnum() or c == "_" for c in name)


MAX_POINTS = 20_000      # points of one sweep (each a validated scenario in memory)
MAX_RUNS = 1_000_000     # points x replications (one stored record each)


def level_count(f: Factor) -> int:
    """The number of grid levels of a factor (`len(grid_levels(f))`, without building them)."""
    if f.levels is not None:
        return len(f.levels)
    if f.values is not None:
        return len(f.values)
    assert f.range is not None
    low, high, step = f.range.numbers()
    return 0 if step is None else math.floor((high - low) / step + 1e-9) + 1


def grid_levels(f: Factor) -> list[tuple[str, dict[str, Any], float | None]]:
    """A factor's levels as (label, {path: value}, number or None), in the file's order."""
    if f.levels is not None:
        return [(label, dict(sets), level_number(label)) for label, sets in f.levels.items()]
    if f.values is not None:
        return [_level(f, v) for v in f.values]
    assert f.range is not None
    low, _, step = f.range.numbers()
    if step is None:
        return []
    return [range_level(f, low + k * step) for k in range(level_count(f))]


def range_level(f: Factor, x: float) -> tuple[str, dict[str, Any], float | None]:
    """The level of a range factor at x (rounded for integers; "N s" for durations)."""
    assert f.range is not None
    if f.range.integer:
        x = float(round(x))
    else:
        x = float(f"{x:.12g}")
    value: Any = x
    if f.range.durations:
        value = f"{_plain(x)} s"
    elif f.range.integer:
        value = int(x)
    return _level(f, value)


def _plain(x: float) -> str:
    """Shortest decimal text of x that reads back as x."""
    text = repr(x)
    return text.removesuffix(".0")


def _level(f: Factor, value: Any) -> tuple[str, dict[str, Any], float | None]:
    label = value if isinstance(value, str) else _show(value)
    return label, {p: value for p in f.paths}, level_number(value)


def _show(value: Any) -> str:
    if isinstance(value, float):
        return _plain(value)
    return str(value)


def level_number(value: Any) -> float | None:
    """A level's position on a numeric axis: numbers and durations (seconds), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def sweep_schema() -> dict[str, Any]:
    """JSON Schema of the sweep file (for editors and CI linting)."""
    schema = SweepSpec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "douai-sim sweep file"
    return schema
