"""A machine's clock: failures and shift calendars turn work into exact end times.

With deterministic up times, repairs and cycles, every job end, failure count and failed
second can be worked out by hand (or by the few-line reference walks below, which restate
the semantics of docs/scenario-format.md, not the engine's code): operation-dependent
failures count only working time, time-dependent ones count on-shift time whether the
station works or not, a failure interrupts the job which resumes after the repair, and off
shift work stops where it stands.
"""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builder import HOUR, deterministic, done, line, run, shift, station

UP, REPAIR, CYCLE = 130.0, 100.0, 60.0


def _failures(mode: str, up: float = UP, repair: float = REPAIR, **extra) -> dict:
    return {"uptime": deterministic(f"{up:g} s"), "repair": deterministic(f"{repair:g} s"),
            "mode": mode, **extra}


def _operation_walk(arrivals: list[float], w: float, up: float, repair: float):
    """Job ends and failure windows of one server whose failure clock counts work only."""
    t_free, worked, next_fail = 0.0, 0.0, up
    ends, fails = [], []
    for a in arrivals:
        x, left = max(a, t_free), w
        while worked + left > next_fail:  # the failure falls inside this job
            d = next_fail - worked
            x += d
            fails.append((x, x + repair))
            x += repair
            worked, left, next_fail = worked + d, left - d, next_fail + up
        x += left
        worked += left
        ends.append(x)
        t_free = x
    return ends, fails


def _time_walk(arrivals: list[float], w: float, up: float, repair: float, horizon: float):
    """Job ends and failure windows when failures follow the clock, busy or idle."""
    fails, f = [], up
    while f < horizon + 10 * w:
        fails.append((f, f + repair))
        f += repair + up
    ends, t_free = [], 0.0
    for a in arrivals:
        x, left = max(a, t_free), w
        for f0, r0 in fails:
            if r0 <= x:
                continue
            if f0 <= x:  # arrives during a repair
                x = r0
                continue
            if x + left <= f0:
                break
            left -= f0 - x
            x = r0
        x += left
        ends.append(x)
        t_free = x
    return ends, fails


def _failed_seconds(fails, horizon: float) -> float:
    return sum(min(r, horizon) - f for f, r in fails if f < horizon)


# -- failures without a calendar ----------------------------------------------------------

def test_operation_failures_of_a_saturated_station_are_exact() -> None:
    horizon = 3600.0
    r = run(line([{"cycle": "60 s", "failures": _failures("operation")}], caps=1))
    ends, fails = _operation_walk([0.0] * 60, CYCLE, UP, REPAIR)
    expected = [e for e in ends if e < horizon]
    # Job 3 starts at 120, fails at 150 after 30 s, is repaired until 250, resumes: ends 280.
    assert expected[:4] == [60.0, 120.0, 280.0, 340.0]
    np.testing.assert_array_equal(done(r), expected)
    s = station(r, "s1")
    assert s.failures == sum(f < horizon for f, _ in fails)
    assert s.state_seconds["failed"] == _failed_seconds(fails, horizon)
    assert s.state_seconds["working"] == horizon - s.state_seconds["failed"]


def test_preempt_resume_end_is_start_plus_work_plus_repair() -> None:
    r = run(line([{"cycle": "60 s", "failures": _failures("operation", up=90.0,
                                                          repair=45.0)}], caps=1))
    # Job 2 starts at 60 and is cut at 90: it ends at 60 + 60 + 45.
    assert done(r)[:2].tolist() == [60.0, 165.0]


def _behind_slow_upstream(mode: str, duration: str = "2 h") -> dict:
    """s1 (200 s, reliable) feeds s2 (60 s) with deterministic failures: s2 idles 140 s."""
    return line(["200 s", {"cycle": "60 s", "failures": _failures(mode)}], caps=2,
                duration=duration)


def test_operation_failures_only_accumulate_while_working() -> None:
    horizon = 7200.0
    r = run(_behind_slow_upstream("operation"))
    arrivals = [200.0 * k for k in range(1, 40)]
    ends, fails = _operation_walk(arrivals, CYCLE, UP, REPAIR)
    # s2 works [200, 260], [400, 460], then fails 10 s into job 3 (at 610) -> ends 760.
    assert ends[:3] == [260.0, 460.0, 760.0]
    np.testing.assert_array_equal(done(r), [e for e in ends if e < horizon])
    s2 = station(r, "s2")
    assert s2.failures == sum(f < horizon for f, _ in fails)
    assert s2.state_seconds["failed"] == _failed_seconds(fails, horizon)
    # One failure per 130 s of work done, not per 130 s of clock (that would be ~31).
    assert s2.failures == int(s2.state_seconds["working"] // UP) == 16


def test_time_failures_also_happen_while_idle() -> None:
    horizon = 7200.0
    r = run(_behind_slow_upstream("time"))
    arrivals = [200.0 * k for k in range(1, 40)]
    ends, fails = _time_walk(arrivals, CYCLE, UP, REPAIR, horizon)
    # Failures at 130, 360, 590, 820, 1050: job 1 waits for the repair to end at 230,
    # job 4 (800) is cut at 820 and resumes at 920, ending at 960.
    assert ends[:5] == [290.0, 520.0, 750.0, 960.0, 1160.0]
    np.testing.assert_array_equal(done(r), [e for e in ends if e < horizon])
    s2 = station(r, "s2")
    assert s2.failures == sum(f < horizon for f, _ in fails)
    assert s2.state_seconds["failed"] == _failed_seconds(fails, horizon)
    assert sum(s2.state_seconds.values()) == pytest.approx(horizon)


# -- calendars ----------------------------------------------------------------------------

def _on_calendar(station_spec: dict, shifts: list[dict], duration: str) -> dict:
    d = line([station_spec], caps=1, duration=duration, calendar="plant",
             calendars={"plant": {"shifts": shifts}})
    return d


def test_work_pauses_at_shift_end_and_resumes_next_shift() -> None:
    # 08:00-15:00, 90-minute jobs: the job begun at 14:00 does 60 minutes, stops at 15:00
    # and ends at 08:30 the next day; the one begun at 14:30 ends at 09:00.
    r = run(_on_calendar({"cycle": "90 min"}, [shift("day", "08:00", "15:00")], "3 d"))
    hours = [9.5, 11, 12.5, 14, 24 + 8.5, 24 + 10, 24 + 11.5, 24 + 13, 24 + 14.5,
             48 + 9, 48 + 10.5, 48 + 12, 48 + 13.5, 48 + 15]
    np.testing.assert_allclose(done(r), np.array(hours) * HOUR, rtol=0, atol=1e-6)
    of_day = done(r) % (24 * HOUR)
    assert ((of_day >= 8 * HOUR) & (of_day <= 15 * HOUR)).all()
    s = station(r, "s1").state_seconds
    assert s["working"] == pytest.approx(3 * 7 * HOUR)
    assert s["off_shift"] == pytest.approx(r.horizon - 3 * 7 * HOUR)
    assert s["starved"] == s["blocked"] == s["failed"] == 0.0
    assert r.scheduled_seconds == pytest.approx(3 * 7 * HOUR)


def test_a_break_pauses_the_job_under_way() -> None:
    day = shift("day", "08:00", "16:00", breaks=[{"start": "12:00", "duration": "20 min"}])
    r = run(_on_calendar({"cycle": "60 min"}, [day], "2 d"))
    hours = [9, 10, 11, 12, 13 + 1 / 3, 14 + 1 / 3, 15 + 1 / 3, 24 + 8 + 1 / 3]
    np.testing.assert_allclose(done(r)[:8], np.array(hours) * HOUR, rtol=0, atol=1e-6)


def test_rate_one_half_doubles_job_durations() -> None:
    r = run(_on_calendar({"cycle": "60 min", "shift_rate": True},
                         [shift("day", "08:00", "16:00", rate=0.5)], "2 d"))
    hours = [10, 12, 14, 16, 34, 36, 38, 40]
    np.testing.assert_allclose(done(r), np.array(hours) * HOUR, rtol=0, atol=1e-6)
    s = station(r, "s1").state_seconds
    assert s["working"] == pytest.approx(16 * HOUR)  # on-shift seconds, not work content
    assert s["off_shift"] == pytest.approx(32 * HOUR)


def test_a_station_that_does_not_opt_in_ignores_the_shift_rate() -> None:
    # Same half-rate shift, but the station keeps its process time (paint keeps its 4 h
    # when the line slows at night): one job per hour, 8 a day.
    r = run(_on_calendar({"cycle": "60 min"}, [shift("day", "08:00", "16:00", rate=0.5)],
                         "2 d"))
    hours = [h for d in (0, 24) for h in range(d + 9, d + 17)]
    np.testing.assert_allclose(done(r), np.array(hours) * HOUR, rtol=0, atol=1e-6)


@pytest.mark.parametrize("off_shift, ends, failed_off", [
    # The repair starts at 15:55 (after 7 h 55 min of work). If it stops off shift it ends
    # at 08:25 and the job's last 5 minutes end at 08:30; if it goes on, it ends at 16:25
    # and the job ends at 08:05 the next morning.
    (False, [24 + 8.5, 24 + 9.5], 0.0),
    (True, [24 + 8 + 5 / 60, 24 + 9 + 5 / 60], 25 * 60.0),
])
def test_repair_off_shift_decides_when_a_late_repair_ends(off_shift: bool, ends: list[float],
                                                          failed_off: float) -> None:
    failures = {"uptime": deterministic("475 min"),
                "repair": deterministic("30 min"), "repair_off_shift": off_shift}
    r = run(_on_calendar({"cycle": "60 min", "failures": failures},
                         [shift("day", "08:00", "16:00")], "34 h"))
    t = done(r)
    np.testing.assert_allclose(t[:7], np.arange(9, 16) * HOUR, rtol=0, atol=1e-6)
    np.testing.assert_allclose(t[7:], np.array(ends) * HOUR, rtol=0, atol=1e-6)
    s = station(r, "s1")
    assert s.failures == 1
    assert s.state_seconds["failed"] == pytest.approx(30 * 60.0)
    scheduled = 10 * HOUR  # 8 h on day 1, 08:00-10:00 on day 2
    assert s.state_seconds["off_shift"] == pytest.approx(r.horizon - scheduled - failed_off)
    assert s.state_seconds["working"] == pytest.approx(scheduled - 30 * 60.0 + failed_off)


def _time_mode_on_shift(source: dict) -> dict:
    failures = {"uptime": deterministic("615 min"), "repair": deterministic("30 min"),
                "mode": "time"}
    d = _on_calendar({"cycle": "60 min", "failures": failures},
                     [shift("day", "08:00", "16:00")], "3 d")
    d["sources"]["src"] = source
    return d


def test_time_failure_clock_freezes_off_shift() -> None:
    # 10 h 15 min of on-shift time after t = 0 is day 2 at 10:15 (8 h on day 1); after the
    # repair (10:45) another 10 h 15 min lands on day 3 at 13:00.
    r = run(_time_mode_on_shift({"kind": "saturated"}))
    t = done(r) / HOUR
    assert 24 + 11.5 in t and 48 + 14 in t  # the two interrupted jobs, 30 min late
    assert 24 + 11 not in t
    s = station(r, "s1")
    assert s.failures == 2
    assert s.state_seconds["failed"] == pytest.approx(HOUR)


def test_time_failures_of_an_idle_station_on_a_calendar() -> None:
    one_part = {"kind": "arrivals", "interarrival": "1 min", "limit": 1}
    r = run(_time_mode_on_shift(one_part))
    s = station(r, "s1")
    assert len(r.completions) == 1
    assert s.failures == 2
    assert s.state_seconds["failed"] == pytest.approx(HOUR)
    assert sum(s.state_seconds.values()) == pytest.approx(r.horizon)


def test_operation_failures_of_an_idle_station_never_happen() -> None:
    d = _time_mode_on_shift({"kind": "arrivals", "interarrival": "1 min", "limit": 1})
    d["stations"]["s1"]["failures"]["mode"] = "operation"
    s = station(run(d), "s1")
    assert s.failures == 0 and s.state_seconds["failed"] == 0.0


def test_warmup_with_a_calendar_and_failures_keeps_the_state_sum() -> None:
    failures = {"mtbf": "2 h", "mttr": "10 min"}
    d = _on_calendar({"cycle": {"dist": "exponential", "mean": "5 min"}, "servers": 2,
                      "failures": failures}, [shift("day", "06:00", "22:00")], "3 d")
    d["run"]["warmup"] = "1 d"
    r = run(d)
    s = station(r, "s1")
    assert sum(s.state_seconds.values()) == pytest.approx(2 * 2 * 24 * HOUR)
    assert s.state_seconds["off_shift"] == pytest.approx(2 * 2 * 8 * HOUR, abs=1e-3)
    assert s.failures > 0


def test_no_work_on_holidays_and_shutdown_days() -> None:
    cal = {"shifts": [shift("day", "08:00", "16:00")], "holidays": ["2024-01-02"],
           "shutdowns": [{"from": "2024-01-04", "to": "2024-01-05"}]}
    d = line(["30 min"], caps=1, duration="6 d", calendar="plant", calendars={"plant": cal})
    r = run(d)
    days = (done(r) // (24 * HOUR)).astype(int)
    assert sorted(set(days)) == [0, 2, 5]
    assert len(r.completions) == 3 * 16
    s = station(r, "s1").state_seconds
    assert s["working"] == pytest.approx(3 * 8 * HOUR)
    assert s["off_shift"] == pytest.approx(6 * 24 * HOUR - 3 * 8 * HOUR)


@pytest.mark.parametrize("mode", ["operation", "time"])
def test_preempt_repeat_matches_its_expected_cycle_time(mode: str) -> None:
    # A 1 h job, exponential failures (MTBF 2 h) and repairs (MTTR 20 min), the work done
    # lost at each failure: E[T] = (MTBF + MTTR)(exp(tau / MTBF) - 1) = 1.5137 h. The
    # preempt-resume value, tau + tau / MTBF * MTTR = 1.1667 h, is far outside.
    import math

    from scenario_builder import scenario

    from sim.analysis.stats import ci95
    from sim.experiments.replications import run_replications

    d = {"run": {"duration": "365 d", "seed": 7},
         "sources": {"src": {"kind": "saturated"}},
         "stations": {"s1": {"cycle": "1 h", "failures": {
             "mtbf": "2 h", "mttr": "20 min", "mode": mode, "after_failure": "repeat"}}},
         "buffers": {"b0": {"from": "src", "to": "s1", "capacity": 1},
                     "out": {"from": "s1", "to": "yard", "capacity": "inf"}}}
    rs = run_replications(scenario(d), 10, workers=1, progress=False)
    hours = 365 * 24
    mean_cycle = ci95([hours / len(r.completions) for r in rs])
    theory = (2 + 1 / 3) * (math.exp(0.5) - 1)
    half = mean_cycle.half_width * 4.78 / 2.262  # the 99.9% t interval, 9 d.f.
    assert abs(mean_cycle.mean - theory) <= half
    assert abs(mean_cycle.mean - (1 + 0.5 / 3)) > 10 * half


def test_an_idle_station_off_shift_takes_the_arriving_part_and_works_it_next_shift() -> None:
    # Stated semantics: the part does not wait in the buffer during the night; the station
    # takes it at once (it is one more place for a part during a stop) and works it when
    # the shift starts. Arrivals at 10:00 and 20:00, a 1 h job, a shift 08:00-16:00.
    d = line([{"cycle": "1 h", "calendar": "plant"}], caps=1, duration="2 d", trace=True,
             calendars={"plant": {"shifts": [shift("day", "08:00", "16:00")]}},
             source={"kind": "arrivals", "interarrival": "10 h"})  # the source: 24/7
    r = run(d)
    np.testing.assert_allclose(done(r)[:2], [11 * HOUR, 33 * HOUR])
    b0 = next(b for b in r.buffers if b.name == "b0")
    at_20 = np.asarray(b0.trace_t) == 20 * HOUR
    assert list(np.asarray(b0.trace_level)[at_20]) == [1, 0]  # in, and taken at once


def test_a_station_under_repair_loads_a_part_and_works_it_after_the_repair() -> None:
    # Stated semantics (time-dependent failures): a failure of an idle station does not
    # stop it from taking the next part; the work starts when the repair ends. Failure
    # at 2 h (up-time 2 h of on-shift time), repair 1 h, a part at 2.5 h, a 10 min job.
    fail = {"uptime": deterministic("2 h"), "repair": deterministic("1 h"), "mode": "time"}
    d = line([{"cycle": "10 min", "failures": fail}], 1, duration="4 h",
             source={"kind": "arrivals", "interarrival": "2.5 h"}, trace=True)
    r = run(d)
    np.testing.assert_allclose(done(r), [2.5 * HOUR + 10 * 60 + 0.5 * HOUR])
    b0 = next(b for b in r.buffers if b.name == "b0")
    assert list(np.asarray(b0.trace_level)[np.asarray(b0.trace_t) == 2.5 * HOUR]) == [1, 0]


@pytest.mark.parametrize("rate", [1.0, 0.5])
def test_on_a_rated_shift_operation_failures_follow_work_and_repairs_take_real_time(
        rate: float) -> None:
    """The stated semantics of failures on a shift with a `rate` (docs/scenario-format.md):
    an operation-dependent up time is work content, so at half rate it lasts twice as
    long in real time, while a repair takes its real time. Saturated, deterministic: up
    1 h of work, repair 6 min, jobs of 1 min of work, a 24 h shift: one failure per
    (1 h / rate + 6 min) of real time, so 24 / 1.1 = 21.8 a day at rate 1 and 24 / 2.1 =
    11.4 at rate 0.5; each up time is 60 jobs."""
    st = {"cycle": "1 min", "shift_rate": True,
          "failures": {"uptime": deterministic("1 h"), "repair": deterministic("6 min")}}
    r = run(_on_calendar(st, [shift("all", "00:00", "00:00", rate=rate)], "10 d"))
    s = station(r, "s1")
    cycle_h = 1.0 / rate + 0.1
    assert s.failures == int(240 // cycle_h)
    assert s.state_seconds["failed"] == pytest.approx(s.failures * 360.0, abs=360.0)
    assert len(done(r)) == pytest.approx(60 * 240 / cycle_h, rel=0.01)  # 60 jobs per up time


LEARN = {"from": "2024-01-01", "over": "2 d", "initial": 0.5, "shape": "linear"}


def _per_day(r, days: int) -> list[int]:
    return list(np.bincount((done(r) // (24 * HOUR)).astype(int), minlength=days)[:days])


def test_a_new_crew_learns_its_rate_day_by_day() -> None:
    """A shift 08:00-16:00 whose crew starts at half rate and reaches full rate linearly
    over 2 days; each shift works at the rate of its start: 0.5 + 0.5 x 8/48 on day 0,
    0.5 + 0.5 x 32/48 on day 1, 1 after. Work done by each day's end: 4.67, 11.33, 19.33,
    27.33 h, so 1 h jobs complete 4, 7, 8, 8 a day (a station that does not follow shift
    rates ignores it)."""
    crew = shift("day", "08:00", "16:00", learning=LEARN)
    r = run(_on_calendar({"cycle": "60 min", "shift_rate": True}, [crew], "4 d"))
    assert _per_day(r, 4) == [4, 7, 8, 8]
    r = run(_on_calendar({"cycle": "60 min"}, [crew], "4 d"))
    assert _per_day(r, 4) == [8, 8, 8, 8]


def test_a_new_station_learns_its_speed_from_each_midnight() -> None:
    """24/7, 1 h jobs, the station's speed 0.5, 0.75, 1 on days 0, 1, 2: jobs of 2 h,
    4/3 h, then 1 h, ending at 2, 4, ... 24 h, then 24 + 4/3 k ... 48 h, then hourly."""
    r = run(line([{"cycle": "60 min", "learning": LEARN}], caps=1, duration="4 d",
                 start="2024-01-01"))
    want = np.concatenate([2.0 * np.arange(1, 13), 24 + 4 / 3 * np.arange(1, 19),
                           48 + np.arange(1, 48)])
    np.testing.assert_allclose(done(r) / HOUR, want, rtol=0, atol=1e-6)


def test_a_learning_rate_must_start_above_zero() -> None:
    from pydantic import ValidationError
    from scenario_builder import scenario

    with pytest.raises(ValidationError, match="greater than 0"):
        scenario(line([{"cycle": "60 min", "learning": {**LEARN, "initial": 0}}]))
