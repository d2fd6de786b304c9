"""Durations and clock times as people write them, and back.

Scenario files say `"60 s"`, `"7.5 h"` or `"05:30"` so that no reader ever has to guess a
unit; inside the program every time is a float in seconds. A bare number is refused on
purpose: `cycle: 60` could mean seconds or minutes, and a silent guess is the costliest
kind of modelling error. `format_duration` writes a float back in the largest unit that
reads naturally, and always so that `parse_duration` gives back exactly the same float.
"""

from __future__ import annotations

import math
import re

UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "min": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
"""Accepted unit names and their length in seconds."""

HOUR = UNITS["h"]
DAY = UNITS["d"]
"""Seconds in an hour and a day: every module takes them from here (one owner of time units)."""

ALIASES: dict[str, str] = {
    "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
    "secs": "s", "second": "s", "seconds": "s",
    "mins": "min", "minute": "min", "minutes": "min",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d",
    "wk": "w", "week": "w", "weeks": "w",
}
"""Spelled-out unit names ("2 days", "90 minutes"); `m` is not one (minutes or months?)."""

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_UNIT = "|".join(sorted([*UNITS, *ALIASES], key=len, reverse=True))
DURATION_PATTERN = (rf"^\s*(?:{_NUMBER}\s*(?:{_UNIT})\s*)+(?:\d+\s*)?$")
"""Regular expression a duration string matches (also used in the JSON Schema): one or
more terms with units ("60 s", "2 days", "1 h 30 min"), and after hours or minutes a
last bare number of the next smaller unit ("1h30" is 1 h 30 min, "2min30" 2 min 30 s)."""

_DURATION = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z]*)\s*$")
_TERMS = re.compile(rf"({_NUMBER})\s*([A-Za-z]*)\s*")
_NEXT_SMALLER = {"h": "min", "min": "s"}
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_EXAMPLE = "e.g. '60 s'"
_FORMAT_ORDER = ("w", "d", "h", "min", "s", "ms")


def show_value(x: object) -> str:
    """Show an input the way a YAML author would recognise it."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, str):
        return repr(x)
    return str(x)


def parse_duration(x: object) -> float:
    """Parse a duration string with a unit ("60 s", "10 min", "250 ms") into seconds."""
    if isinstance(x, bool) or not isinstance(x, str):
        raise ValueError(  # noqa: TRY004 - the documented contract is ValueError
            f"expected a duration with a unit, {_EXAMPLE} (got {show_value(x)})"
        )
    m = _DURATION.match(x)
    if m is None:
        return _compound(x)
    number, unit = m.group(1), m.group(2)
    if not unit:
        raise ValueError(f"expected a duration with a unit, {_EXAMPLE} (got {show_value(x)})")
    return _term(float(number), _unit(unit, x), x)


def _unit(unit: str, x: str) -> str:
    if unit in UNITS:
        return unit
    if unit in ALIASES:
        return ALIASES[unit]
    names = ", ".join(UNITS)
    raise ValueError(f"unknown time unit '{unit}' in {show_value(x)}; expected one of: {names} "
                     "(or spelled out: seconds, minutes, hours, days, weeks)")


def _term(value: float, unit: str, x: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"duration must be finite (got {show_value(x)})")
    if unit == "ms":
        return value / 1000.0
    return value * UNITS[unit]


def _compound(x: str) -> float:
    """A sum of terms, larger units first: "1 h 30 min", "1h30", "2 d 4 h"."""
    terms, at = [], 0
    for m in _TERMS.finditer(x.strip()):
        if m.start() != at:
            break
        terms.append((m.group(1), m.group(2)))
        at = m.end()
    if not terms or at != len(x.strip()) or len(terms) < 2:
        raise ValueError(f"expected a duration like '60 s', '7.5 h' or '1 h 30 min' "
                         f"(got {show_value(x)})")
    total, previous = 0.0, ""
    for i, (number, name) in enumerate(terms):
        if not name and i == len(terms) - 1 and previous in _NEXT_SMALLER:
            unit = _NEXT_SMALLER[previous]
        elif not name:
            raise ValueError(f"expected a unit after {number} in {show_value(x)}")
        else:
            unit = _unit(name, x)
        if previous and UNITS[unit] >= UNITS[previous]:
            raise ValueError(f"write the larger unit first, each once, in {show_value(x)}")
        if number.startswith(("+", "-")):
            raise ValueError(f"a duration of several terms has no sign: {show_value(x)}")
        total += _term(float(number), unit, x)
        previous = unit
    return total


def _short(v: float) -> str:
    """A plain decimal text for v with at most three decimals."""
    return f"{v:.3f}".rstrip("0").rstrip(".")


def format_duration(seconds: float) -> str:
    """Write seconds as a duration string that parses back to exactly the same float."""
    seconds = float(seconds)
    if not math.isfinite(seconds):
        raise ValueError(f"cannot format a non-finite duration ({seconds})")
    if seconds == 0.0:
        return "0 s"
    for unit in _FORMAT_ORDER:
        factor = 1000.0 if unit == "ms" else 1.0 / UNITS[unit]
        v = seconds * factor
        if not math.isfinite(v) or abs(v) < 1.0:
            continue
        text = _short(v)
        if len(text) <= 10:
            candidate = f"{text} {unit}"
            if parse_duration(candidate) == seconds:
                return candidate
    return f"{seconds!r} s"


def parse_clock(x: object) -> float:
    """Parse a clock time "HH:MM" (00:00 to 24:00) into seconds after midnight."""
    if isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 1440:
        hint = f"{x // 60:02d}:{x % 60:02d}"
        raise ValueError(
            f"expected a clock time \"HH:MM\" in quotes (got {x}; YAML reads an unquoted "
            f"{hint} as a number, write \"{hint}\")"
        )
    if not isinstance(x, str):
        raise ValueError(  # noqa: TRY004 - the documented contract is ValueError
            f"expected a clock time \"HH:MM\" (got {show_value(x)})"
        )
    m = _CLOCK.match(x)
    if m is None:
        raise ValueError(f"expected a clock time \"HH:MM\" (got {show_value(x)})")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes > 0):
        raise ValueError(f"clock time out of range 00:00..24:00 (got {show_value(x)})")
    return float(hours * 3600 + minutes * 60)


def format_clock(seconds: float) -> str:
    """Write seconds after midnight (a whole number of minutes) as "HH:MM"."""
    minutes = round(seconds / 60.0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
