"""Published targets a scenario is measured against: `meta.targets`, parsed once.

A scenario may name, under `meta.targets`, the values a KPI should reach, each a number
or `{value, source}` (the citation a planner checks; `note` is read as the source when
`source` is absent). The run's page, its cumulative figure, a comparison's curves and a
calibration all read them; they are checked when the scenario is validated, so a target
that is not a number is one clear error naming its path, not a silently missing line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.spec.base import fail


@dataclass(frozen=True)
class Target:
    """One KPI's published value and where it comes from."""

    value: float
    source: str = ""


def parse_targets(meta: Any) -> dict[str, Target]:
    """`meta.targets` as {kpi: Target}; a validation error naming the entry if one is bad
    (a ScenarioError naming file and path once the loader has caught it)."""
    found = meta.get("targets") if isinstance(meta, dict) else None
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise fail("expected a mapping {kpi: value or {value, source}}", "meta.targets")
    out: dict[str, Target] = {}
    for name, t in found.items():
        value = t.get("value") if isinstance(t, dict) else t
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("expected a number, or {value: number, source: text} "
                       f"(got {t!r})", f"meta.targets.{name}")
        source = (t.get("source") or t.get("note") or "") if isinstance(t, dict) else ""
        out[str(name)] = Target(float(value), str(source))
    return out


def target_values(targets: dict[str, Target]) -> dict[str, float]:
    """{kpi: value}: what a comparison draws against."""
    return {k: t.value for k, t in targets.items()}
