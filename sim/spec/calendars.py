"""Working-time calendars as written in a scenario: weekly shifts, breaks, holidays,
shutdowns and dated changes of the weekly pattern.

Only the description lives here; `sim/engine/calendar.py` compiles it into a timeline. What can be
checked without a timeline is checked here, so that a calendar that loads is one the
compiler can trust: shift days are real weekdays, a break lies inside its shift, the
shift windows of one weekly pattern do not overlap (overnight shifts included), shutdowns
and changes are in date order.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from sim.spec.base import Clock, Duration, Spec, fail, join, shown
from sim.spec.learning import RateLearning
from sim.spec.units import DAY, format_clock, format_duration, parse_clock

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEK = 7 * DAY
_DAYS_HELP = "day names like [mon, tue], a range like 'mon-fri', or 'daily'"


def _day_index(text: str) -> int:
    name = text.strip().lower()
    if name not in DAY_NAMES:
        raise fail(f"unknown day {shown(text)}; expected {_DAYS_HELP}")
    return DAY_NAMES.index(name)


def _days(x: Any) -> tuple[int, ...]:
    """Weekday numbers (0 = Monday) from names, ranges ("mon-fri", "sat-sun") or "daily"."""
    items = [x] if isinstance(x, str) else x
    if not isinstance(items, (list, tuple)) or not items:
        raise fail(f"expected {_DAYS_HELP} (got {shown(x)})")
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str):
            raise fail(f"expected {_DAYS_HELP} (got {shown(item)})")
        text = item.strip().lower()
        if text == "daily":
            days.update(range(7))
        elif "-" in text:
            first, last = (_day_index(part) for part in text.split("-", 1))
            days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        else:
            days.add(_day_index(text))
    return tuple(sorted(days))


def days_text(days: tuple[int, ...]) -> str | list[str]:
    """Write weekdays compactly: "daily", a range like "mon-fri", or a list of names."""
    if len(days) == 7:
        return "daily"
    if len(days) >= 3 and days == tuple(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
    return [DAY_NAMES[i] for i in days]


Days = Annotated[
    tuple[int, ...],
    BeforeValidator(_days),
    PlainSerializer(days_text, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "description": _DAYS_HELP},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]
"""Weekdays a shift runs, 0 = Monday, sorted and unique."""


class BreakSpec(Spec):
    """A break inside a shift: from a clock time, for a duration (or until an end time)."""

    start: Clock
    duration: Duration
    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _end_to_duration(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "end" not in data:
            return data
        if "duration" in data:
            raise fail("give a break 'duration' or 'end', not both")
        rest = {k: v for k, v in data.items() if k != "end"}
        try:
            start = parse_clock(data.get("start"))
        except ValueError:
            return rest
        try:
            end = parse_clock(data["end"])
        except ValueError as exc:
            raise fail(str(exc), "end") from None
        length = (end - start) % DAY
        if length == 0:
            raise fail("a break needs end different from start", "end")
        return {**rest, "duration": format_duration(length)}


class ShiftSpec(Spec):
    """One shift of the weekly pattern: the days it starts on, its clock window, breaks."""

    name: str
    days: Days
    start: Clock
    end: Clock
    breaks: tuple[BreakSpec, ...] = ()
    rate: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0  # applies to stations with shift_rate
    learning: RateLearning | None = None  # a new crew: its rate rising by time since a date
    note: str = ""

    @property
    def length(self) -> float:
        """Length of the shift window in seconds (an end <= start is on the next day)."""
        length = (self.end - self.start) % DAY
        return length if length > 0 else DAY

    @model_validator(mode="after")
    def _breaks_inside(self) -> ShiftSpec:
        if self.start >= DAY:
            raise fail("a shift must start before 24:00", "start")
        spans = []
        for i, b in enumerate(self.breaks):
            offset = (b.start - self.start) % DAY
            if offset + b.duration > self.length + 1e-9:
                window = f"{format_clock(self.start)}-{format_clock(self.end)}"
                raise fail(
                    f"break at {format_clock(b.start)} for {format_duration(b.duration)} "
                    f"is not inside the shift {window}",
                    f"breaks.{i}",
                )
            spans.append((offset, offset + b.duration, i))
        spans.sort()
        for (_, end, _), (start, _, i) in pairwise(spans):
            if start < end:
                raise fail("breaks overlap", f"breaks.{i}")
        return self


def check_pattern(shifts: tuple[ShiftSpec, ...], path: str) -> None:
    """Fail if two shifts of one weekly pattern share a name or overlap in time."""
    names = [s.name for s in shifts]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise fail(f"duplicate shift name {shown(name)}", f"{path}.{i}.name")
    windows: list[tuple[float, float, str]] = []
    for s in shifts:
        for d in s.days:
            a = d * DAY + s.start
            b = a + s.length
            if b > WEEK:
                windows.append((a, WEEK, s.name))
                windows.append((0.0, b - WEEK, s.name))
            else:
                windows.append((a, b, s.name))
    windows.sort()
    for (_, end, first), (start, _, second) in pairwise(windows):
        if start < end:
            day = DAY_NAMES[int(start // DAY)]
            raise fail(f"shifts {shown(first)} and {shown(second)} overlap on {day}", path)


class Shutdown(Spec):
    """Whole days off, both dates inclusive."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> Shutdown:
        if self.to < self.from_:
            raise fail(f"dates out of order: to {self.to} is before from {self.from_}", "to")
        return self


class CalendarChange(Spec):
    """From a date on, the weekly pattern changes: restated whole (`shifts`), or edited
    relative to the pattern in force (`remove` named shifts, then `add` new ones)."""

    from_: dt.date = Field(alias="from")
    shifts: tuple[ShiftSpec, ...] | None = None
    add: tuple[ShiftSpec, ...] = ()
    remove: tuple[str, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _pattern(self) -> CalendarChange:
        if self.shifts is not None and (self.add or self.remove):
            raise fail("give 'shifts' (the whole new pattern) or 'add'/'remove' (edits of "
                       "the pattern in force), not both", "shifts")
        if self.shifts is None and not (self.add or self.remove):
            raise fail("a calendar change needs 'shifts', 'add' or 'remove'")
        if self.shifts is not None:
            if not self.shifts:
                raise fail("a calendar change must leave at least one shift", "shifts")
            check_pattern(self.shifts, "shifts")
        return self

    def apply(self, before: tuple[ShiftSpec, ...]) -> tuple[ShiftSpec, ...]:
        """The pattern in force after this change, given the one in force before it."""
        if self.shifts is not None:
            return self.shifts
        names = [s.name for s in before]
        for i, name in enumerate(self.remove):
            if name not in names:
                raise fail(f"no shift {shown(name)} is in force on {self.from_}; shifts in "
                           f"force: {', '.join(names)}", f"remove.{i}")
        kept = tuple(s for s in before if s.name not in self.remove)
        for i, shift in enumerate(self.add):
            if shift.name in (s.name for s in kept):
                raise fail(f"shift {shown(shift.name)} is already in force on {self.from_}; "
                           "remove it first to replace it", f"add.{i}.name")
        after = kept + self.add
        if not after:
            raise fail(f"this change leaves the calendar with no shift from {self.from_}",
                       "remove")
        check_pattern(after, "add" if self.add else "remove")
        return after


class CalendarSpec(Spec):
    """A working-time calendar: weekly shifts minus holidays and shutdowns."""

    shifts: Annotated[tuple[ShiftSpec, ...], Field(min_length=1)]
    holidays: tuple[dt.date, ...] = ()
    shutdowns: tuple[Shutdown, ...] = ()
    changes: tuple[CalendarChange, ...] = ()
    note: str = ""

    @model_validator(mode="after")
    def _order(self) -> CalendarSpec:
        check_pattern(self.shifts, "shifts")
        for i, (a, b) in enumerate(zip(self.changes, self.changes[1:])):
            if b.from_ <= a.from_:
                raise fail(
                    f"dates out of order: change from {b.from_} is not after {a.from_}",
                    f"changes.{i + 1}.from",
                )
        self.patterns()
        return self

    def patterns(self) -> list[tuple[dt.date | None, tuple[ShiftSpec, ...]]]:
        """The weekly pattern in force from each date on (the first from the start: None)."""
        out: list[tuple[dt.date | None, tuple[ShiftSpec, ...]]] = [(None, self.shifts)]
        for i, change in enumerate(self.changes):
            try:
                out.append((change.from_, change.apply(out[-1][1])))
            except PydanticCustomError as exc:
                path = join("changes", i, (exc.context or {}).get("path", ""))
                raise fail(str((exc.context or {}).get("message", exc)), path) from None
        return out
