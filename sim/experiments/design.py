"""A sweep file turned into its points, each one a validated scenario, before anything runs.

Why all at once and first: a sweep of hundreds of runs must not fail at point 37 on a typo
in a level; every point is built through the scenario loader (extends, `--set`, the whole
validator) and the first bad one is one error naming the sweep file, the factor and the
point. The expansion is deterministic: a grid in the factors' order (the last factor
varies fastest), a list as written, a Latin hypercube from `scipy.stats.qmc.LatinHypercube`
seeded with `design_seed`. The sweep's fingerprint hashes what the runs depend on (the
resolved scenario of every point, the seeds, the KPIs kept) so a resumed sweep or a shard
can prove it belongs to the same experiment.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.spec.loader import (
    Source,
    load_scenario,
    load_validated,
    load_with_sources,
    resolved_dict,
)
from sim.spec.sweep import Factor, SweepSpec, grid_levels, level_number, range_level


@dataclass(frozen=True)
class Point:
    """One combination of factor levels."""

    index: int
    labels: dict[str, str]               # factor -> level as written
    numbers: dict[str, float | None]      # factor -> position on a numeric axis (or None)
    sets: tuple[str, ...]                 # the `--set` overrides of this point
    seed: int                             # root seed of the point's replications


@dataclass(frozen=True)
class Plan:
    """A sweep ready to run: its points, their scenarios, the runs and a fingerprint."""

    file: Path
    spec: SweepSpec
    points: tuple[Point, ...]
    scenarios: tuple[Any, ...]            # validated Scenario per point
    scenario_file: Path
    fingerprint: str
    sources: tuple[Source, ...] = ()      # the sweep file's and scenario files' bytes

    @property
    def runs(self) -> list[tuple[int, int]]:
        """Every (point, replication), point-major."""
        return [(p.index, r) for p in self.points for r in range(self.spec.replications)]

    def record(self) -> dict[str, Any]:
        """What a results folder keeps of the plan (enough to merge and report)."""
        spec = self.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {
            "name": self.spec.name, "fingerprint": self.fingerprint,
            "sweep_file": str(self.file), "scenario": str(self.scenario_file),
            "design": self.spec.design, "replications": self.spec.replications,
            "factors": list(self.spec.factors), "spec": spec,
            "points": [{"point": p.index, "labels": p.labels, "numbers": p.numbers,
                        "set": list(p.sets), "seed": p.seed} for p in self.points],
        }


def load_sweep(path: str | Path, sources: list[Source] | None = None) -> SweepSpec:
    """Read and validate a sweep file (ScenarioError naming the file and field)."""
    return load_validated(SweepSpec, path, sources)


def plan_sweep(path: str | Path) -> Plan:
    """Load the sweep file, expand its design and validate every point as a scenario."""
    path = Path(path)
    sources: list[Source] = []
    spec = load_sweep(path, sources)
    scenario_file = path.parent / spec.scenario
    if not scenario_file.is_file():
        raise ScenarioError(str(path), "scenario", f"file not found: {spec.scenario} "
                            f"(relative to the sweep file: {scenario_file})")
    base, files = load_with_sources(scenario_file, spec.set)
    root = base.run.seed if spec.seed is None else spec.seed
    points = expand(spec, root)
    scenarios = tuple(_scenario(path, spec, scenario_file, p) for p in points)
    return Plan(path, spec, tuple(points), scenarios, scenario_file,
                fingerprint(spec, points, scenarios), (*sources, *files))


def expand(spec: SweepSpec, root_seed: int) -> list[Point]:
    """The design's points in order (grid: last factor fastest)."""
    names = list(spec.factors)
    combos: list[list[tuple[str, dict[str, Any], float | None]]]
    if spec.design == "grid":
        combos = [list(c) for c in itertools.product(*(grid_levels(spec.factors[n])
                                                       for n in names))]
    elif spec.design == "list":
        combos = [[_listed(spec.factors[n], point[n]) for n in names]
                  for point in spec.points or []]
    else:
        combos = _latin_hypercube(spec, names)
    points = []
    for i, combo in enumerate(combos):
        sets = tuple(f"{p}={json.dumps(v, default=str)}" for _, level, _ in combo
                     for p, v in level.items())
        seed = root_seed if spec.common_random_numbers else _point_seed(root_seed, i)
        points.append(Point(i, {n: c[0] for n, c in zip(names, combo)},
                            {n: c[2] for n, c in zip(names, combo)}, tuple(spec.set) + sets,
                            seed))
    return points


def _listed(f: Factor, value: Any) -> tuple[str, dict[str, Any], float | None]:
    if f.levels is not None:
        return next(level for level in grid_levels(f) if level[0] == str(value))
    if f.range is not None and not isinstance(value, str):
        return range_level(f, float(value))
    label = value if isinstance(value, str) else json.dumps(value, default=str)
    return label, {p: value for p in f.paths}, level_number(value)


def _latin_hypercube(spec: SweepSpec, names: list[str]
                     ) -> list[list[tuple[str, dict[str, Any], float | None]]]:
    """`samples` points; a range is sampled continuously, listed levels by stratum."""
    from scipy.stats import qmc  # lazy: scipy.stats (1 s), only for a Latin hypercube

    assert spec.samples is not None
    unit = qmc.LatinHypercube(d=len(names), seed=spec.design_seed).random(spec.samples)
    out = []
    for row in unit:
        combo = []
        for name, u in zip(names, row):
            f = spec.factors[name]
            if f.range is not None and f.values is None and f.levels is None:
                low, high, _ = f.range.numbers()
                combo.append(range_level(f, low + float(u) * (high - low)))
            else:
                levels = grid_levels(f)
                combo.append(levels[min(int(u * len(levels)), len(levels) - 1)])
        out.append(combo)
    return out


def _point_seed(root: int, index: int) -> int:
    """An independent root seed per point (common random numbers off)."""
    return int(np.random.SeedSequence([root, index]).generate_state(1, np.uint32)[0])


def _scenario(path: Path, spec: SweepSpec, scenario_file: Path, point: Point) -> Any:
    """The point's scenario, validated; a bad level names the sweep, factor and point."""
    try:
        scenario = load_scenario(scenario_file, point.sets)
    except ScenarioError as err:
        factor = _factor_of(spec, err.path)
        where = f"factors.{factor}" if factor else "set"
        levels = ", ".join(f"{k}={v}" for k, v in point.labels.items())
        raise ScenarioError(str(path), where, f"point {point.index} ({levels}): "
                            f"{err.path or err.file}: {err.message}") from None
    run = scenario.run.model_copy(update={"seed": point.seed})
    return scenario.model_copy(update={"run": run})


def _factor_of(spec: SweepSpec, dotted: str) -> str | None:
    """The factor whose path is, contains or lies under the failing field."""
    for name, f in spec.factors.items():
        for p in f.paths:
            if dotted == p or dotted.startswith(p + ".") or p.startswith(dotted + "."):
                return name
    return None


def fingerprint(spec: SweepSpec, points: list[Point], scenarios: tuple[Any, ...]) -> str:
    """SHA-256 over what the results depend on (not the file's comments or notes)."""
    h = hashlib.sha256()
    h.update(json.dumps({"replications": spec.replications, "kpis": spec.kpis,
                         "factors": list(spec.factors)}, sort_keys=True).encode())
    for point, scenario in zip(points, scenarios):
        h.update(json.dumps([point.labels, point.seed], sort_keys=True).encode())
        h.update(json.dumps(resolved_dict(scenario), sort_keys=True, default=str).encode())
    return h.hexdigest()
