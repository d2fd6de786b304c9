"""Building blocks shared by every scenario model.

All scenario models are frozen and refuse unknown keys, so a typo is an error rather than a
silently ignored line. Field types here turn the author's notation (durations with units,
"HH:MM" clock times, numbers used as names) into plain floats and strings once, at load
time, and know how to write themselves back (JSON mode) for the resolved scenario.

Validators raise `fail(message, path)`: a pydantic error carrying the message verbatim and
an optional field path relative to the model being validated, which the loader appends to
pydantic's location to name the exact field in the user's YAML.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from sim.spec.units import (
    DURATION_PATTERN,
    format_clock,
    format_duration,
    parse_clock,
    parse_duration,
    show_value,
)

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
NAME_RE = re.compile(NAME_PATTERN)
DURATION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": DURATION_PATTERN,
    "description": "a duration with a unit: ms, s, sec, min, h, d, w (e.g. '60 s', '7.5 h')",
    "examples": ["60 s", "10 min", "7.5 h"],
}
CLOCK_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\s*\d{1,2}:\d{2}\s*$",
    "description": "a clock time of day 'HH:MM' (quote it in YAML)",
}


class Spec(BaseModel):
    """Base of all scenario models: immutable, unknown keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def fail(message: str, path: str = "") -> PydanticCustomError:
    """A validation error with a readable message and a path below the current model."""
    return PydanticCustomError("scenario", "{message}", {"message": message, "path": path})


def join(*parts: object) -> str:
    """Join field path parts with dots, skipping empty ones."""
    return ".".join(str(p) for p in parts if p != "")


def shown(x: object) -> str:
    """An input value shown as a YAML author would write it."""
    return show_value(x)


def attr_key(value: object) -> str:
    """Canonical text of an attribute value, so that 4, 4.0 and "4" all compare equal."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


MIN_DURATION = 1e-3   # s: the resolution of every output (times written in ms)
MAX_DURATION = 1e12   # s, ~31,700 years: beyond, float times lose whole seconds


def _duration(x: object, *, positive: bool) -> float:
    try:
        seconds = parse_duration(x)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if positive and seconds <= 0:
        raise fail(f"duration must be > 0 (got {shown(x)})")
    if seconds < 0:
        raise fail(f"duration must be >= 0 (got {shown(x)})")
    if 0 < seconds < MIN_DURATION:
        raise fail(f"duration must be at least 1 ms, the resolution of the results "
                   f"(got {shown(x)})")
    if seconds > MAX_DURATION:
        raise fail(f"duration must be at most 1e12 s (~31,700 years) (got {shown(x)})")
    return seconds


def _whole(x: object) -> object:
    """YAML `true` is not a number: refuse booleans where a whole number is expected."""
    if isinstance(x, bool):
        raise fail(f"expected a whole number (got {shown(x)})")
    return x


def _positive(x: object) -> float:
    return _duration(x, positive=True)


def _non_negative(x: object) -> float:
    return _duration(x, positive=False)


def _clock(x: object) -> float:
    try:
        return parse_clock(x)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _text(x: object) -> object:
    """Numbers used as values or keys (YAML `4`) become their canonical text."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return attr_key(float(x))
    return x


def _attr_value(x: object) -> object:
    if isinstance(x, bool) or not isinstance(x, (str, int, float)):
        raise fail(f"expected a string or a number (got {shown(x)})")
    if isinstance(x, float) and not math.isfinite(x):
        raise fail(f"expected a finite number (got {shown(x)})")
    return x


MAX_FOLDER_NAME = 100


def folder_name_problem(name: object) -> str | None:
    """Why `name` cannot be a results folder name, or None when it is one safe path segment.

    A name becomes `--out/<name>`: it must stay inside `--out` (no separator, not `.` or
    `..`, not empty), must not be hidden (writers' temporary folders start with a dot) and
    must be printable text of a length every file system takes."""
    if not isinstance(name, str) or not name.strip():
        return "a name is needed (it becomes the results folder name)"
    if name in (".", ".."):
        return f"{name!r} is not a folder name"
    if "/" in name or "\\" in name:
        return f"{name!r} has a path separator; a name is one folder name, not a path"
    if name.startswith("."):
        return f"{name!r} starts with '.' (hidden; temporary folders use that)"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name) or name != name.strip():
        return f"{name!r} has control characters or leading or trailing spaces"
    if len(name) > MAX_FOLDER_NAME:
        return f"a name has at most {MAX_FOLDER_NAME} characters (got {len(name)})"
    return None


def _folder_name(x: object) -> object:
    problem = folder_name_problem(x) if isinstance(x, str) else None
    if problem:
        raise fail(problem)
    return x


FolderName = Annotated[str, BeforeValidator(_folder_name)]
"""A name used as a results folder name: one safe path segment (`folder_name_problem`)."""

_DURATION_OUT = PlainSerializer(format_duration, return_type=str, when_used="json")

Duration = Annotated[
    float, BeforeValidator(_positive), _DURATION_OUT, WithJsonSchema(DURATION_SCHEMA)
]
"""A duration > 0, written with a unit, held in seconds."""

NonNegDuration = Annotated[
    float, BeforeValidator(_non_negative), _DURATION_OUT, WithJsonSchema(DURATION_SCHEMA)
]
"""A duration >= 0 (warm-up), written with a unit, held in seconds."""

Clock = Annotated[
    float,
    BeforeValidator(_clock),
    PlainSerializer(format_clock, return_type=str, when_used="json"),
    WithJsonSchema(CLOCK_SCHEMA),
]
"""A clock time of day "HH:MM", held in seconds after midnight."""

Text = Annotated[
    str, BeforeValidator(_text), WithJsonSchema({"type": ["string", "number"]})
]
"""A string that may be written as a number in YAML (attribute values, keys)."""

AttrValue = Annotated[str | int | float, BeforeValidator(_attr_value)]
"""A product attribute value: a string or a number (a YAML integer stays an int, so that
str(value) reads as written; compare values with `attr_key`)."""

PositiveInt = Annotated[int, BeforeValidator(_whole), Field(ge=1)]
"""A whole number >= 1 (true/false refused)."""

NonNegInt = Annotated[int, BeforeValidator(_whole), Field(ge=0)]
"""A whole number >= 0 (true/false refused)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""A probability in [0, 1]."""
