"""Calendar timeline against exact expectations: hours, holidays, changes, inverse maps."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace as NS

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import ROOT

from sim.engine.calendar import DAY, Calendar

H = 3600.0
MIN = 60.0
MON_FRI = (0, 1, 2, 3, 4)
MONDAY = dt.date(2024, 1, 1)
SHIFT_H = 8 - 1 / 3  # an 8 h shift with a 20 min break


def shift(name: str, days: tuple[int, ...], start_h: float, end_h: float,
          breaks: tuple[tuple[float, float], ...] = (), rate: float = 1.0) -> NS:
    return NS(name=name, days=days, start=start_h * H, end=end_h * H, rate=rate,
              breaks=tuple(NS(start=b * H, duration=d) for b, d in breaks))


def calendar_spec(shifts: tuple[NS, ...], holidays: tuple[dt.date, ...] = (),
                  shutdowns: tuple[tuple[dt.date, dt.date], ...] = (),
                  changes: tuple[tuple[dt.date, tuple[NS, ...]], ...] = ()) -> NS:
    return NS(shifts=shifts, holidays=holidays,
              shutdowns=tuple(NS(from_=a, to=b) for a, b in shutdowns),
              changes=tuple(NS(from_=d, shifts=s) for d, s in changes))


TWO_SHIFTS = (
    shift("morning", MON_FRI, 5, 13, ((9, 20 * MIN),)),
    shift("afternoon", MON_FRI, 13, 21, ((17, 20 * MIN),)),
)
NIGHT = shift("night", MON_FRI, 21, 5, rate=0.5)
CHANGE_DAY = dt.date(2024, 1, 15)  # Monday of week 3
CHANGED = Calendar.build(
    calendar_spec(TWO_SHIFTS, changes=((CHANGE_DAY, TWO_SHIFTS + (NIGHT,)),)),
    MONDAY, 28 * DAY)


def at(day: int, hour: float) -> float:
    return day * DAY + hour * H


def test_two_shifts_four_weeks_scheduled_hours() -> None:
    cal = Calendar.build(calendar_spec(TWO_SHIFTS), MONDAY, 28 * DAY)
    assert cal.scheduled_hours(0, 28 * DAY) == pytest.approx(4 * 5 * 2 * SHIFT_H, rel=1e-12)
    assert cal.work_between(0, 28 * DAY) == cal.on_between(0, 28 * DAY)
    starts, ends = cal.windows()
    # per day: 05:00-09:00, 09:20-17:00 (morning and afternoon merged at 13:00), 17:20-21:00
    assert (starts < 28 * DAY).sum() == 20 * 3
    assert list(starts[:3]) == [5 * H, 9 * H + 20 * MIN, 17 * H + 20 * MIN]
    assert list(ends[:3]) == [9 * H, 17 * H, 21 * H]
    assert np.all(np.diff(starts) > 0) and np.all(ends[:-1] < starts[1:])


def test_shift_names_and_breaks() -> None:
    cal = Calendar.build(calendar_spec(TWO_SHIFTS), MONDAY, 28 * DAY)
    assert cal.shift_at(at(0, 12.99)) == "morning"
    assert cal.shift_at(at(0, 13)) == "afternoon"
    assert cal.shift_at(at(0, 9.1)) == "morning" and not cal.is_on(at(0, 9.1))
    assert cal.shift_at(at(0, 21)) is None and cal.shift_at(at(0, 4.99)) is None
    assert cal.shift_at(at(5, 10)) is None  # Saturday
    assert cal.advance_work(at(0, 8 + 50 / 60), 20 * MIN) == at(0, 9.5)
    assert cal.advance_work(at(4, 20), 2 * H) == at(7, 6)  # Friday evening -> Monday


def test_holidays_and_shutdowns_remove_exactly_their_shifts() -> None:
    holiday = dt.date(2024, 1, 10)
    shutdown = (dt.date(2024, 1, 18), dt.date(2024, 1, 19))
    cal = Calendar.build(calendar_spec(TWO_SHIFTS, (holiday,), (shutdown,)), MONDAY, 28 * DAY)
    assert cal.scheduled_hours(0, 28 * DAY) == pytest.approx((40 - 6) * SHIFT_H, rel=1e-12)
    per_day = cal.on_per_day(28) / H
    off = {9, 17, 18}
    for d in range(28):
        expected = 0.0 if d in off or d % 7 >= 5 else 2 * SHIFT_H
        assert per_day[d] == pytest.approx(expected, abs=1e-9)
    assert cal.shift_at(at(9, 10)) is None and cal.next_on(at(9, 10)) == at(10, 5)


def test_change_adds_a_half_rate_night_shift() -> None:
    cal, week3 = CHANGED, 14
    assert not cal.is_on(at(7, 22))  # night shift not yet in force
    assert cal.shift_at(at(week3, 22)) == "night" and cal.rate_at(at(week3, 22)) == 0.5
    a, b = at(week3, 21), at(week3 + 1, 5)
    assert cal.on_between(a, b) == 8 * H
    assert cal.work_between(a, b) == 0.5 * cal.on_between(a, b)
    assert cal.work_between(at(week3, 20), at(week3, 22)) == 1.5 * H
    assert cal.advance_work(at(week3, 20), 1.5 * H) == at(week3, 22)
    assert cal.is_on(at(week3 + 5, 4)) and cal.shift_at(at(week3 + 5, 4)) == "night"  # Sat 4 h
    day_s, week_s = (at(week3, 0), at(week3 + 7, 0))
    assert cal.on_between(day_s, week_s) == pytest.approx(5 * (2 * SHIFT_H + 8) * H)
    assert cal.work_between(day_s, week_s) == pytest.approx(5 * (2 * SHIFT_H + 4) * H)


def test_overnight_shift_across_time_zero() -> None:
    night = (shift("night", tuple(range(7)), 22, 6, ((2, 20 * MIN),)),)
    tuesday = dt.date(2024, 1, 2)
    cal = Calendar.build(calendar_spec(night), tuesday, 7 * DAY)
    assert cal.is_on(0.0) and cal.shift_at(0.0) == "night" and cal.windows()[0][0] == 0.0
    assert cal.on_between(0, 6 * H) == 6 * H - 20 * MIN
    assert not cal.is_on(2.1 * H) and cal.shift_at(2.1 * H) == "night"
    # A night belongs to the production day of its midpoint: the night from Monday 1 Jan
    # 22:00 makes Tuesday 2 Jan. A holiday cancels the shifts of its production day.
    assert list(cal.production_days(3)) == [True, True, True]
    eve = Calendar.build(calendar_spec(night, holidays=(dt.date(2024, 1, 1),)), tuesday, 7 * DAY)
    assert eve.is_on(0.0)  # 1 Jan's own night started on 31 Dec, before the run
    own = Calendar.build(calendar_spec(night, holidays=(tuesday,)), tuesday, 7 * DAY)
    assert not own.is_on(0.0) and own.next_on(0.0) == 22 * H
    assert own.on_between(0, DAY) == 2 * H
    assert own.on_between(DAY, 2 * DAY) == 8 * H - 20 * MIN
    assert list(own.production_days(3)) == [False, True, True]


def test_french_2024_two_shift_year() -> None:
    holidays = tuple(dt.date(2024, m, d) for m, d in (
        (1, 1), (4, 1), (5, 1), (5, 8), (5, 9), (5, 20), (8, 15), (11, 1), (11, 11), (12, 25)))
    cal = Calendar.build(calendar_spec(TWO_SHIFTS, holidays), MONDAY, 366 * DAY)
    per_day = cal.on_per_day(366)
    assert int((per_day > 0).sum()) == 252
    assert cal.scheduled_hours(0, 366 * DAY) == pytest.approx(252 * 2 * SHIFT_H, rel=1e-12)


def test_always_on_fast_path() -> None:
    cal = Calendar.build(None, MONDAY, 10 * DAY)
    assert cal.always_on and Calendar.always().always_on
    assert cal.work_between(3.0, 10.5) == 7.5 and cal.on_between(5.0, 1.0) == 0.0
    assert cal.advance_work(1e6, 60.0) == 1e6 + 60.0 and cal.advance_on(2.0, 0.0) == 2.0
    assert cal.next_on(123.0) == 123.0 and cal.is_on(1e9) and cal.shift_at(5.0) is None
    assert cal.scheduled_hours(0, DAY) == 24.0
    assert list(cal.on_per_day(3)) == [DAY] * 3
    assert not CHANGED.always_on


def test_calendar_ends_after_horizon_plus_margin() -> None:
    cal = Calendar.build(calendar_spec(TWO_SHIFTS), MONDAY, 7 * DAY, margin=7 * DAY)
    assert cal.windows()[1][-1] <= 14 * DAY
    assert cal.advance_work(at(13, 0), 1.0) == math.inf
    assert cal.next_on(14 * DAY) == math.inf and not cal.is_on(20 * DAY)
    assert cal.advance_work(0.0, cal.work_between(0, 14 * DAY)) == cal.windows()[1][-1]
    assert cal.advance_work(0.0, cal.work_between(0, 14 * DAY) + 1.0) == math.inf


def test_no_shifts_means_never_on() -> None:
    cal = Calendar.build(calendar_spec(()), MONDAY, 7 * DAY)
    assert cal.advance_work(0.0, 1.0) == math.inf and cal.next_on(0.0) == math.inf
    assert cal.on_between(0, 7 * DAY) == 0.0 and not cal.is_on(3.0)


def test_overlapping_shifts_are_an_error() -> None:
    clash = (shift("a", MON_FRI, 5, 14), shift("b", MON_FRI, 13, 21))
    with pytest.raises(ValueError, match="overlap"):
        Calendar.build(calendar_spec(clash), MONDAY, 7 * DAY)


def test_window_edges_are_half_open() -> None:
    starts, ends = CHANGED.windows()
    for s, e in zip(starts[:40], ends[:40]):
        assert CHANGED.is_on(s) and CHANGED.next_on(s) == s
        assert CHANGED.is_on(e) == (e in set(starts))


HORIZON = 28 * DAY
times = st.floats(min_value=0.0, max_value=HORIZON, allow_nan=False)


def is_window_end(cal: Calendar, t: float) -> bool:
    return t in set(cal.windows()[1].tolist())


@settings(max_examples=300, deadline=None)
@given(t=times, x=times)
def test_advance_inverts_work_between(t: float, x: float) -> None:
    cal = CHANGED
    t, x = min(t, x), max(t, x)
    for between, advance in ((cal.work_between, cal.advance_work),
                             (cal.on_between, cal.advance_on)):
        w = between(t, x)
        y = advance(t, w)
        assert t <= y <= x + 1e-6
        assert between(t, y) == pytest.approx(w, abs=1e-6)
        assert cal.on_between(y, x) == pytest.approx(0.0, abs=1e-6)
        if w > 0:
            assert cal.is_on(y) or is_window_end(cal, y)
            assert cal.is_on(y - 1e-3)
        if cal.is_on(x) and cal.is_on(x - 1e-3):
            assert y == pytest.approx(x, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(t=times, w=st.floats(min_value=0.0, max_value=10 * DAY, allow_nan=False))
def test_work_between_inverts_advance(t: float, w: float) -> None:
    cal = CHANGED
    y = cal.advance_work(t, w)
    if w > cal.work_between(t, cal.end):
        assert y == math.inf
        return
    assert y >= t and cal.work_between(t, y) == pytest.approx(w, abs=1e-6, rel=1e-12)
    if w > 0:
        assert cal.is_on(y) or is_window_end(cal, y)
        assert cal.work_between(t, y - 1e-3) < w


@settings(max_examples=300, deadline=None)
@given(t=st.floats(min_value=-DAY, max_value=HORIZON, allow_nan=False))
def test_is_on_and_next_on_agree(t: float) -> None:
    cal = CHANGED
    n = cal.next_on(t)
    assert n >= t
    assert (n == t) == cal.is_on(t)
    assert cal.is_on(n)
    assert cal.on_between(t, n) == 0.0
    assert (cal.shift_at(t) is not None) or not cal.is_on(t)


def test_work_ending_exactly_at_a_window_end_returns_that_end() -> None:
    starts, ends = CHANGED.windows()
    for i in range(0, 60, 3):
        for j in range(i, i + 12):
            a = float(starts[i]) + 123.25
            assert CHANGED.advance_work(a, CHANGED.work_between(a, ends[j])) == ends[j]
            assert CHANGED.advance_on(a, CHANGED.on_between(a, ends[j])) == ends[j]


def test_builds_from_the_validated_scenario_models() -> None:
    scenario = pytest.importorskip("sim.spec.scenario")
    spec = scenario.CalendarSpec.model_validate({
        "shifts": [
            {"name": "morning", "days": "mon-fri", "start": "05:00", "end": "13:00",
             "breaks": [{"start": "09:00", "duration": "20 min"}]},
            {"name": "afternoon", "days": "mon-fri", "start": "13:00", "end": "21:00",
             "breaks": [{"start": "17:00", "duration": "20 min"}]},
        ],
        "holidays": ["2024-01-10"],
        "shutdowns": [{"from": "2024-01-18", "to": "2024-01-19"}],
        "changes": [{"from": "2024-01-15", "shifts": [
            {"name": "night", "days": "mon-fri", "start": "21:00", "end": "05:00", "rate": 0.5}]}],
    })
    cal = Calendar.build(spec, MONDAY, 28 * DAY)
    # weeks 1-2: 9 days x 2 shifts; weeks 3-4: 8 nights of 8 h (Thu-Fri of week 3 shut)
    assert cal.scheduled_hours(0, 28 * DAY) == pytest.approx(9 * 2 * SHIFT_H + 8 * 8)
    assert cal.work_between(0, 28 * DAY) == pytest.approx((9 * 2 * SHIFT_H + 8 * 4) * H)


@settings(max_examples=40, deadline=None)
@given(start=st.floats(0.0, 40 * DAY), seed=st.integers(0, 2**31 - 1), rates=st.booleans())
def test_advance_work_many_is_the_scalar_query_float_for_float(start: float, seed: int,
                                                               rates: bool) -> None:
    # The plan timeline asks thousands of offsets from one period start at once; each
    # answer must be exactly what advance_work gives (goldens depend on it).

    from sim.spec.loader import load_scenario

    sc = load_scenario(ROOT / "scenarios/douai/2025.yaml")
    cal = Calendar.build(sc.calendars["line_2shift"], sc.run.start, 60 * DAY, rates=rates)
    rng = np.random.default_rng(seed)
    w = np.concatenate([rng.uniform(0.0, 3e6, 300), rng.uniform(0.0, 600.0, 100),
                        (np.arange(200) + 0.5) / 200 * cal.work_between(start, start + 20 * DAY),
                        [1e12]])
    assert cal.advance_work_many(start, w).tolist() == [cal.advance_work(start, x) for x in w]
    always = Calendar.always()
    assert always.advance_work_many(start, w).tolist() == [always.advance_work(start, x)
                                                           for x in w]
