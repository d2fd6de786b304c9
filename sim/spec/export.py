"""Write a validated scenario back as plain data, and describe the format as JSON Schema.

`resolved_dict` is what a run records as "the scenario that was actually simulated": every
default filled in, durations as unit strings, dates as ISO strings, and guaranteed to load
back into an equal Scenario. `scenario_schema` gives editors completion and checking of
the *input* format, so the shorthands an author may write (a duration for a distribution,
`mtbf`, a break `end`, `extends`) appear in it even though the models store them expanded.
"""

from __future__ import annotations

from typing import Any

from sim.spec.base import CLOCK_SCHEMA, DURATION_SCHEMA, Spec
from sim.spec.dists import DIST_MODELS
from sim.spec.scenario import Scenario
from sim.spec.units import parse_duration


def _optional_collections() -> frozenset[str]:
    """Fields that default to an empty collection and are nowhere required."""
    optional: set[str] = set()
    required: set[str] = set()
    todo = list(Spec.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if field.is_required():
                required.add(key)
            elif field.get_default(call_default_factory=True) in ({}, ()):
                optional.add(key)
    return frozenset(optional - required)


_DROP_EMPTY = _optional_collections()
_DISTS = frozenset(m.__name__ for m in DIST_MODELS.values())


def _tidy(x: Any) -> Any:
    """Drop empty notes and collections, write deterministic times as plain durations and
    a lognormal by its cv alone when its sd follows exactly."""
    if isinstance(x, list):
        return [_tidy(v) for v in x]
    if not isinstance(x, dict):
        return x
    out = {
        k: _tidy(v)
        for k, v in x.items()
        if not ((k == "note" and v == "") or (k in _DROP_EMPTY and v in ({}, [])))
    }
    if set(out) == {"dist", "value"} and out["dist"] == "deterministic":
        return out["value"]
    lognormal = out.get("dist") == "lognormal" and "sd" in out
    if lognormal and parse_duration(out["mean"]) * out["cv"] == parse_duration(out["sd"]):
        del out["sd"]
    return out


def resolved_dict(s: Scenario) -> dict[str, Any]:
    """Plain JSON/YAML data for a scenario; loading it back gives an equal Scenario."""
    data = s.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"meta"})
    return {**_tidy(data), "meta": s.meta}


def _patch(defs: dict[str, Any]) -> None:
    """Add the shorthands that validators expand; leave required fields to the loader.

    A file that `extends` another may give any part of any object, so only the `dist` key
    of a distribution mapping is required here; `check` reports what is really missing.
    """
    for name, schema in defs.items():
        schema.pop("required", None)
        if name in _DISTS:
            schema["required"] = ["dist"]
    failures = defs["FailureSpec"]["properties"]
    failures["mtbf"] = {**DURATION_SCHEMA, "description": "mean up time (exponential)"}
    failures["mttr"] = {**DURATION_SCHEMA, "description": "mean repair time (exponential)"}
    defs["BreakSpec"]["properties"]["end"] = {**CLOCK_SCHEMA, "description": "end of the break"}
    for name in ("SinkSpec", "ProductSpec"):
        defs[name] = {"anyOf": [defs[name], {"type": "null"}]}


def scenario_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the scenario input format, for editors."""
    schema = Scenario.model_json_schema(mode="validation", by_alias=True)
    _patch(schema["$defs"])
    schema["properties"]["extends"] = {
        "type": "string",
        "description": "a base scenario file, relative to this one, merged under this file",
    }
    required = [r for r in schema.pop("required", []) if r != "name"]
    schema["if"] = {"not": {"required": ["extends"]}}
    schema["then"] = {"required": required}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Scenario"
    return schema
