"""The run clock: calendar dates and moments <-> seconds from the run's start.

Inside a run every time is a float of seconds from 00:00 of `run.start` (local plant time,
no time zone, no daylight saving: a day is always `DAY` seconds). Everything that turns a
date into run seconds or back goes through here, so the convention is written once.
"""

from __future__ import annotations

import datetime as dt
import math

from sim.spec.units import DAY


def day_index(start: dt.date, day: dt.date) -> int:
    """Whole days from `start` to `day` (negative before the start)."""
    return (day - start).days


def seconds_at(start: dt.date, day: dt.date) -> float:
    """Run seconds at 00:00 of `day`."""
    return (day - start).days * DAY


def date_after(start: dt.date, days: float) -> dt.date:
    """The calendar day holding the moment `days` (fractional) after the start."""
    return start + dt.timedelta(days=math.floor(days))


def date_at(start: dt.date, t: float) -> dt.date:
    """The calendar day holding run second `t`."""
    return date_after(start, t / DAY)


def moment_at(start: dt.date, t: float) -> dt.datetime:
    """The date and time of run second `t`."""
    return dt.datetime.combine(start, dt.time()) + dt.timedelta(seconds=t)


def when(start: dt.date, t: float) -> str:
    """Run second `t` as an ISO date and time to the minute (messages, warnings)."""
    return moment_at(start, t).isoformat(timespec="minutes")


def add_days(day: dt.date, n: int) -> dt.date:
    """The day `n` days after `day`."""
    return day + dt.timedelta(days=n)
