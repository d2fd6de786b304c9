"""Typed readers of the JSON files a results folder stores.

Why: `compare`, `gate`, `merge` and a resumed `sweep` read files written earlier, possibly
by another version, edited by hand or damaged. Read as raw dicts, a record without `kpis`
or a KPI of `"lots"` surfaced deep inside as a KeyError or ValueError (exit 3). Each file
is validated here on read against the shape its writer gives it, and a bad one is one
line naming the file, the field and what was expected (a UsageError, exit 2). The
readers return the plain data, so what uses it is unchanged; extra fields are allowed
(newer writers may add some), missing or mistyped ones are not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from sim.errors import UsageError
from sim.spec.messages import first_error

Number = StrictFloat | StrictInt
MAX_JSON_BYTES = 512_000_000  # a sweep summary of thousands of points is tens of MB


class _Stored(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class RunRecord(_Stored):
    """One (point, replication) of a sweep, as `sim.experiments.executors.run_task` makes it."""

    point: StrictInt = Field(ge=0)
    replication: StrictInt = Field(ge=0)
    seed: StrictInt
    status: Literal["ok", "failed"]
    message: str
    kpis: dict[str, Number]
    digest: str


class _Shard(_Stored):
    index: StrictInt = Field(ge=1)
    count: StrictInt = Field(ge=1)


class _PlanPoint(_Stored):
    point: StrictInt = Field(ge=0)
    labels: dict[str, str]
    seed: StrictInt


class SweepState(_Stored):
    """sweep.json of a sweep folder: the plan record (`sim.experiments.design.Plan.record`)
    and the shard."""

    name: str
    fingerprint: str
    replications: StrictInt = Field(ge=1)
    factors: list[str]
    spec: dict[str, Any]
    points: list[_PlanPoint]
    shard: _Shard


class Estimate(_Stored):
    """A KPI's estimate over replications (`sim.analysis.stats.Estimate.as_dict` and its values)."""

    mean: Number | None
    half_width: Number | None = None
    low: Number | None = None
    high: Number | None = None
    values: list[Number | None] = Field(default_factory=list)


class _Seed(_Stored):
    replication: StrictInt
    seed: StrictInt


class _Window(_Stored):
    start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    warmup_s: Number
    horizon_s: Number = Field(gt=0)


class RunSummary(_Stored):
    """summary.json of a `run` folder."""

    scenario: str
    runs: list[_Seed] = Field(min_length=1)
    window: _Window
    kpis: dict[str, Estimate]


class _ComparisonRow(_Stored):
    kpi: str
    scenario: str
    mean: Number | None
    half_width: Number | None = None


class ComparisonFile(_Stored):
    """comparison.json of a `compare` folder."""

    baseline: str
    scenarios: list[str]
    kpis: list[_ComparisonRow]


class _Point(_Stored):
    point: StrictInt
    labels: dict[str, str]
    seed: StrictInt
    kpis: dict[str, Estimate]


class SweepSummary(_Stored):
    """summary.json of a sweep folder."""

    sweep: str
    factors: list[str]
    points: list[_Point]


def read_object(path: Path) -> dict[str, Any]:
    """A JSON object file; a UsageError naming it when missing, unreadable or not JSON."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: not found") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc.strerror})") from None
    if len(raw) > MAX_JSON_BYTES:
        raise UsageError(f"{path}: larger than {MAX_JSON_BYTES:,} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UsageError(f"{path}: not a readable JSON file ({reason})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def checked(model: type[_Stored], data: dict[str, Any], path: Path) -> dict[str, Any]:
    """`data` when it has the shape of `model`; else a UsageError naming file and field."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, data)
        field = ".".join(str(p) for p in where)
        raise UsageError(f"{path}: {field + ': ' if field else ''}{message} (a damaged or "
                         "edited file?)") from None
    return data


def read_checked(model: type[_Stored], path: Path) -> dict[str, Any]:
    """Read a JSON object file and check its shape against `model`."""
    return checked(model, read_object(path), path)
