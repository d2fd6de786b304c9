"""The run clock: dates and moments <-> seconds from 00:00 of the run's start."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from sim.spec.clock import date_after, date_at, day_index, moment_at, seconds_at, when
from sim.spec.units import DAY

START = dt.date(2024, 12, 2)


def test_paper_values() -> None:
    assert seconds_at(START, dt.date(2025, 1, 1)) == 30 * DAY
    assert day_index(START, dt.date(2024, 12, 1)) == -1
    assert date_at(START, 30 * DAY - 1) == dt.date(2024, 12, 31)
    assert date_at(START, 30 * DAY) == dt.date(2025, 1, 1)
    assert date_after(START, 0.99) == START
    assert moment_at(START, 5.5 * 3600) == dt.datetime(2024, 12, 2, 5, 30)
    assert when(START, DAY + 90) == "2024-12-03T00:01"


@given(st.integers(min_value=-400, max_value=4000), st.floats(0, DAY - 1e-3))  # a ms short of
# midnight: closer, t + into may round up to the next day, a property of floats, not of the clock
def test_a_day_and_back(days: int, into: float) -> None:
    day = START + dt.timedelta(days=days)
    t = seconds_at(START, day)
    assert date_at(START, t) == day and date_at(START, t + into) == day
    assert moment_at(START, t).date() == day
