"""Durations and clock times: parsing, helpful refusals, exact round trips."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.spec.units import (
    DURATION_PATTERN,
    UNITS,
    format_clock,
    format_duration,
    parse_clock,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60 s", 60.0),
        ("7.5 h", 27000.0),
        ("10 min", 600.0),
        ("2 d", 172800.0),
        ("1 w", 604800.0),
        ("250 ms", 0.25),
        ("3 sec", 3.0),
        ("  45s ", 45.0),
        (".5 h", 1800.0),
        ("1e3 s", 1000.0),
        ("0 s", 0.0),
        ("-5 s", -5.0),
    ],
)
def test_parse_duration_examples(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (60, "expected a duration with a unit, e.g. '60 s' (got 60)"),
        (7.5, "expected a duration with a unit, e.g. '60 s' (got 7.5)"),
        ("60", "expected a duration with a unit, e.g. '60 s' (got '60')"),
        (None, "(got null)"),
        (True, "(got true)"),
        ([1, "s"], "expected a duration with a unit"),
        ("60 months", "unknown time unit 'months' in '60 months'; expected one of: ms, s, sec"),
        ("sixty s", "expected a duration like '60 s'"),
        ("inf s", "expected a duration like '60 s'"),
        ("", "expected a duration like '60 s'"),
    ],
)
def test_parse_duration_refuses_with_a_readable_message(bad: object, expected: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(bad)
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0 s"),
        (45.0, "45 s"),
        (60.0, "1 min"),
        (90.0, "1.5 min"),
        (600.0, "10 min"),
        (3600.0, "1 h"),
        (5400.0, "1.5 h"),
        (27000.0, "7.5 h"),
        (86400.0, "1 d"),
        (30 * 86400.0, "30 d"),
        (604800.0, "1 w"),
        (0.25, "250 ms"),
    ],
)
def test_format_duration_picks_the_largest_natural_unit(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_then_parse_is_exact_for_every_float(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_parse_then_format_keeps_the_value(n: int, unit: str) -> None:
    seconds = parse_duration(f"{n} {unit}")
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_format_duration_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        format_duration(value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("05:30", 19800.0), ("00:00", 0.0), ("24:00", 86400.0), ("5:07", 18420.0)],
)
def test_parse_clock(text: str, seconds: float) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize("bad", ["24:01", "12:60", "25:00", "noon", "12", None, 12.5])
def test_parse_clock_refuses(bad: object) -> None:
    with pytest.raises(ValueError, match="clock time"):
        parse_clock(bad)


def test_unquoted_yaml_clock_gets_a_hint() -> None:
    with pytest.raises(ValueError, match='write "13:00"'):
        parse_clock(780)  # YAML 1.1 reads an unquoted 13:00 as 780


@given(st.integers(min_value=0, max_value=24 * 60))
def test_clock_round_trip(minutes: int) -> None:
    seconds = minutes * 60.0
    assert parse_clock(format_clock(seconds)) == seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("2 days", 2 * 86400.0), ("90 minutes", 5400.0), ("1.5 hours", 5400.0),
    ("3 weeks", 3 * 604800.0), ("45 secs", 45.0),
    ("1h30", 5400.0), ("1 h 30 min", 5400.0), ("2min30", 150.0), ("2 d 4 h", 187200.0),
    ("1 day 2 hours 30 minutes", 95400.0),
])
def test_spelled_out_and_compound_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert re.match(DURATION_PATTERN, text)  # the JSON Schema accepts what the parser does


@pytest.mark.parametrize(("text", "words"), [
    ("1h30m", "unknown time unit 'm'"),          # m: minutes or months? refused
    ("30 min 1 h", "larger unit first"), ("1 h 1 h", "larger unit first"),
    ("1 h 30 s 5", "expected a unit after 5"), ("-1 h 30 min", "has no sign"),
    ("1 d 30", "expected a unit after 30"),      # a bare number only after h or min
])
def test_compound_durations_refuse_what_reads_ambiguously(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        parse_duration(text)
