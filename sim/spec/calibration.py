"""The calibration file: which parameters to fit, to which targets, within which bounds.

Why a module of its own: the file is a contract written by hand (like a scenario), so it
is validated by frozen pydantic models that refuse unknown keys, and every mistake becomes
one `ScenarioError` line naming the calibration file and the field, exactly as the loader
does for scenarios. `sim.experiments.calibrate` holds the algorithm; this holds the format:

```yaml
scenario: 2024-plan.yaml        # the uncalibrated base, relative to this file
output: 2024.yaml               # (re)written: extends the base, holds the fitted values
replications: 20                # default 10
seed: 2024                      # default: the base's run.seed
tolerance: 0.001                # relative; every fitted target within it
max_iterations: 8               # evaluations, the first at the starting values
damping: 1.0                    # exponent of the multiplicative step, in (0, 1]
parameters:                     # one per target; initial defaults to the base's value, else 1
  - {path: sources.orders.plan.scale.Megane, target: completed.Megane, bounds: [0.5, 2.0],
     initial: 1.0, why: "..."}
targets:                        # a KPI of sim.analysis.kpi.run_kpis -> value (and source); when
                                # absent: meta.targets of the base scenario (same form)
  completed.Megane: {value: 30171, source: "..."}
  completed: 89527              # a bare number is a value without source
checks:                         # reported at the final point, not fitted
  battery_busy: {kpi: station.battery.working, min: 0.3, max: 0.95, note: "..."}
  plausibility: "free text"
output_name: douai-2024         # `name:` of the written scenario (default: its file stem)
note: "..."
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import ScenarioError
from sim.spec.base import fail
from sim.spec.loader import load_scenario, path_keys, read_yaml
from sim.spec.messages import first_error

DECIMALS = 4  # fitted values are rounded to this many decimals


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Target(_Model):
    """A published value of a KPI and where it comes from."""

    value: float = Field(gt=0)
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, (int, float)) else data


class Parameter(_Model):
    """A scenario field (dotted path) fitted to the target it mainly drives."""

    path: str = Field(min_length=1)
    target: str
    bounds: tuple[float, float]
    initial: float | None = None
    why: str = ""

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, b: tuple[float, float]) -> tuple[float, float]:
        if not 0 < b[0] < b[1]:
            raise fail(f"expected [low, high] with 0 < low < high (got {list(b)})")
        if not 0 < round(b[0], DECIMALS) < round(b[1], DECIMALS):
            raise fail(f"values are fitted to {DECIMALS} decimals: bounds {list(b)} are "
                       "too close to 0 or to each other")
        return b


class Check(_Model):
    """A KPI reported at the final point, optionally against a plausible range."""

    kpi: str
    min: float | None = None
    max: float | None = None
    note: str = ""


class CalibrationSpec(_Model):
    """The calibration file."""

    scenario: str
    output: str
    replications: int = Field(default=10, ge=1)
    seed: int | None = Field(default=None, ge=0)
    tolerance: float = Field(default=0.001, gt=0, lt=1)
    max_iterations: int = Field(default=8, ge=1)
    damping: float = Field(default=1.0, gt=0, le=1)
    parameters: list[Parameter] = Field(min_length=1)
    targets: dict[str, Target] = Field(min_length=1)
    checks: dict[str, Check | str] = Field(default_factory=dict)
    output_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    note: str = ""

    @model_validator(mode="after")
    def _paired(self) -> CalibrationSpec:
        seen: dict[str, int] = {}
        for i, p in enumerate(self.parameters):
            if p.target not in self.targets:
                raise fail(f"target {p.target!r} is not listed under targets "
                           f"({', '.join(self.targets)})", f"parameters.{i}.target")
            if p.path in seen or p.target in {q.target for q in self.parameters[:i]}:
                raise fail("each parameter needs its own path and its own target",
                           f"parameters.{i}")
            seen[p.path] = i
            if p.initial is not None and not p.bounds[0] <= p.initial <= p.bounds[1]:
                raise fail(f"initial {p.initial} outside bounds {list(p.bounds)}",
                           f"parameters.{i}.initial")
        return self


def load_spec(path: str | Path) -> CalibrationSpec:
    """Read and validate a calibration file; ScenarioError naming the field if bad."""
    file = str(path)
    data = read_yaml(path)  # the scenario files' guards: regular file, size, depth, aliases
    base = None
    if "targets" not in data and isinstance(data.get("scenario"), str):
        base = Path(path).parent / data["scenario"]
        data = {**data, "targets": meta_targets(base, file)}
    try:
        return CalibrationSpec.model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, data)
        dotted = ".".join(str(p) for p in where)
        if base is not None and dotted.startswith("targets."):
            raise ScenarioError(str(base), "meta." + dotted, message) from None
        raise ScenarioError(file, dotted, message) from None


def meta_targets(base: Path, file: str) -> dict[str, Any]:
    """`meta.targets` of the base scenario (`sim.spec.targets`), as {kpi: {value, source}}:
    the targets of a calibration file that lists none."""
    if not base.is_file():
        raise ScenarioError(file, "scenario", f"file not found: {base}")
    found = load_scenario(base).targets
    if not found:
        raise ScenarioError(file, "", "no targets: list them under `targets`, or in "
                            f"meta.targets of {base}")
    return {k: {"value": t.value, "source": t.source} for k, t in found.items()}


def lookup(data: Any, path: str) -> tuple[tuple[Any, ...], Any]:
    """Keys along a dotted path (as `--set` resolves them) and the value there (None)."""

    keys = path_keys(data, path.split("."))
    node = data
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return tuple(keys), None
    return tuple(keys), node
