"""Dated changes: what a planner moves during a year, written as data.

A scenario's `changes:` mapping names dated changes; each says, from a date (and
optionally a clock time), new values for fields of stations, sources and buffers,
addressed by the same dotted paths as `--set`:

    changes:
      line_56jph:
        from: 2025-06-02
        set: {stations.trim.paced.takt: 64 s, buffers.painted_body_store.capacity: 300}

Why one mapping at scenario level rather than a `changes` key on every object: one
mechanism for every kind of parameter, one place to read what moves during the run; and
named like every other collection of the format, so a variant file adds, moves or
removes (`name: null`) one change in a few lines. Changes apply in time order, those at
the same instant in the order written. Each change is checked here as the scenario
would be if the value were written in place (the section's own model validates it), and
only the fields the engine can change mid-run are accepted: a changed value that the
engine could not honour is an error, not a silent no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from sim.spec.base import Clock, Spec, fail, shown
from sim.spec.clock import seconds_at
from sim.spec.messages import first_error

if TYPE_CHECKING:
    from sim.spec.scenario import Scenario


# What may change mid-run, per section (and, for sources, per kind): field -> help text.
CHANGEABLE: dict[str, dict[str, str]] = {
    "stations": {"cycle": "cycle", "paced": "paced.takt", "failures": "failures",
                 "route": "route.N.p"},
    "sources": {"interarrival": "interarrival", "mix": "mix", "batch": "batch",
                "active": "active"},
    "buffers": {"capacity": "capacity"},
}
_IGNORED = {"note"}


class ChangeSpec(Spec):
    """From a date (and clock time `at`), new values for fields addressed by path."""

    from_: dt.date = Field(alias="from")
    at: Clock = 0.0
    set_: Annotated[dict[str, Any], Field(alias="set", min_length=1)]
    note: str = ""


@dataclass(frozen=True)
class Change:
    """One object's new section after a dated change, as the engine applies it."""

    label: str
    time: float
    section: str
    name: str
    spec: Any
    fields: tuple[str, ...]


def resolve_changes(s: Scenario) -> list[Change]:
    """Every dated change in time order, each with the object's whole new section."""
    current: dict[tuple[str, str], Any] = {}
    out: list[Change] = []
    timed = [(_time(s, c, f"changes.{n}"), k, n, c) for k, (n, c) in enumerate(s.changes.items())]
    for t, _, i, change in sorted(timed, key=lambda x: x[:2]):
        path = f"changes.{i}"
        edits: dict[tuple[str, str], list[tuple[str, list[str], Any]]] = {}
        for key, value in change.set_.items():
            section, name, rest = _target(s, key, f"{path}.set.{key}")
            edits.setdefault((section, name), []).append((key, rest, value))
        for (section, name), items in edits.items():
            old = current.get((section, name)) or getattr(s, section)[name]
            new = _edited(old, items, path)
            fields = _changed(s, section, name, old, new, f"{path}.set.{items[0][0]}")
            current[(section, name)] = new
            out.append(Change(i, t, section, name, new, fields))
    return out


def _time(s: Scenario, change: ChangeSpec, path: str) -> float:
    first, last = s.run.start, s.run.last_day
    if not first <= change.from_ <= last:
        raise fail(f"change date {change.from_} is outside the run horizon {first} .. {last}",
                   f"{path}.from")
    t = seconds_at(first, change.from_) + change.at
    if t >= s.run.horizon:
        raise fail(f"change at {change.from_} is after the end of the run", f"{path}.at")
    return t


def _target(s: Scenario, key: str, path: str) -> tuple[str, str, list[str]]:
    """(section, object name, field path inside the object) of a `set` key."""
    section, _, rest = key.partition(".")
    if section not in CHANGEABLE:
        hint = (" (a calendar changes with calendars.<name>.changes)"
                if section == "calendars" else "")
        raise fail(f"cannot change {shown(section)} by date; dated changes apply to "
                   f"stations, sources and buffers{hint}", path)
    names = getattr(s, section)
    for name in sorted(names, key=len, reverse=True):
        if rest == name or rest.startswith(name + "."):
            field = rest[len(name) + 1:]
            if not field:
                raise fail(f"name the field of {section}.{name} to change", path)
            return section, name, field.split(".")
    known = ", ".join(names) or "(none)"
    raise fail(f"unknown {section[:-1]} in {shown(key)}; expected one of: {known}", path)


def _edited(old: BaseModel, items: list[tuple[str, list[str], Any]], path: str) -> Any:
    """The object's section with the edits applied, validated by its own model."""
    data = old.model_dump(mode="json", by_alias=True)
    for key, parts, value in items:
        if parts[0] == "failures" and len(parts) > 1 and data.get("failures") is None:
            raise fail("a station keeps or lacks failures for the whole run: give it "
                       "failures from the start to change them", f"{path}.set.{key}")
        short = {"mtbf": "uptime", "mttr": "repair"}
        if (len(parts) == 2 and parts[0] == "failures" and parts[1] in short
                and isinstance(data.get("failures"), dict)):
            data["failures"].pop(short[parts[1]], None)
        try:
            _put(data, parts, value)
        except (KeyError, IndexError, TypeError):
            raise fail(f"no field {'.'.join(parts)} to set", f"{path}.set.{key}") from None
    try:
        return type(old).model_validate(data)
    except ValidationError as exc:
        where, message = first_error(exc, data)
        inner = ".".join(str(p) for p in where)
        key = items[0][0]
        for k, parts, _ in items:
            if inner.startswith(".".join(parts)):
                key = k
        raise fail(f"{inner}: {message}" if inner else message, f"{path}.set.{key}") from None


def _put(data: Any, parts: list[str], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
        if node is None:
            raise KeyError(part)
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise TypeError(last)


def _changed(s: Scenario, section: str, name: str, old: Any, new: Any, path: str
             ) -> tuple[str, ...]:
    """The fields that differ, each one the engine can change mid-run; else an error."""
    fields = tuple(f for f in type(old).model_fields
                   if f not in _IGNORED and getattr(old, f) != getattr(new, f))
    allowed = CHANGEABLE[section]
    what = ", ".join(allowed.values())
    for f in fields:
        if f not in allowed:
            raise fail(f"{section}.{name}.{f} cannot change during a run; what can change: "
                       f"{what}", path)
    if section == "sources" and old.kind != "arrivals":
        raise fail(f"only sources of kind 'arrivals' change by date ({name} is "
                   f"{shown(old.kind)}: its quantities are already dated)", path)
    if section == "buffers" and s.buffers[name].to in s.sinks:
        raise fail(f"buffer {name} feeds a sink and has no capacity to change", path)
    if section == "stations":
        _station_change(old, new, fields, path)
    return fields


def _station_change(old: Any, new: Any, fields: tuple[str, ...], path: str) -> None:
    if "paced" in fields and (old.paced is None or new.paced is None
                              or old.paced.positions != new.paced.positions):
        raise fail("of a paced segment only the takt (paced.takt) can change", path)
    if "failures" in fields:
        if old.failures is None or new.failures is None:
            raise fail("a station keeps or lacks failures for the whole run; change their "
                       "parameters (failures.mtbf, failures.mttr, ...) instead", path)
        fixed = ("mode", "repair_off_shift", "after_failure")
        if any(getattr(old.failures, f) != getattr(new.failures, f) for f in fixed):
            raise fail("failures.mode, repair_off_shift and after_failure cannot change "
                       "during a run", path)
    if "route" in fields:
        same = len(old.route) == len(new.route) and all(
            (a.to, a.when) == (b.to, b.when) for a, b in zip(old.route, new.route))
        if not same:
            raise fail("only route probabilities (route.N.p) can change during a run", path)


def check_changes(s: Scenario) -> None:
    """Validate every dated change (raises a path-naming error)."""
    resolve_changes(s)
