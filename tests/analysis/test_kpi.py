"""KPIs and tables of hand-made runs against values computed on paper."""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest
from factories import DAY, HOUR, buffer, make_result, random_result, station

from sim.analysis.kpi import (
    buffer_table,
    completions_table,
    daily_table,
    run_kpis,
    station_table,
    trace_table,
)
from sim.engine.records import STATES

H = HOUR
# (type, sink, t_release, t_done); types 0 = A/std, 1 = B/x, 2 = B/y; sink 1 = scrap.
ROWS = [
    (0, 0, 10 * H, 20 * H),  # good A, done before warm-up: excluded from KPIs
    (0, 0, 20 * H, 26 * H),  # good A, lead 6 h
    (1, 0, 30 * H, 32 * H),  # good B, lead 2 h
    (2, 0, 40 * H, 44 * H),  # good B, lead 4 h
    (2, 1, 41 * H, 50 * H),  # scrap B after warm-up, sojourn 9 h
    (0, 1, 5 * H, 10 * H),   # scrap before warm-up: excluded
    (1, 0, 60 * H, 72 * H),  # good B exactly at the horizon, lead 12 h
]


@pytest.fixture
def run():
    return make_result(
        ROWS, warmup=24 * H, horizon=72 * H, released=9, lost=2, wip_mean=2.0,
        stations=[station("s1", working=30.0, blocked=10.0), station("s2", failed=5.0)],
        buffers=[buffer("b1", capacity=4, mean_level=1.25), buffer("b2", math.inf, 0.5)],
        counters={"ramp_dropped": 3},
    )


def test_counts_filter_warmup_and_scrap(run):
    k = run_kpis(run)
    assert k["completed"] == 4
    assert k["completed.A"] == 1
    assert k["completed.B"] == 3
    assert k["scrapped"] == 1
    assert k["released"] == 9
    assert k["lost"] == 2
    assert k["counter.ramp_dropped"] == 3


def test_throughput_over_window(run):
    assert run_kpis(run)["throughput_per_hour"] == pytest.approx(4 / 48)


def test_lead_times(run):
    k = run_kpis(run)
    assert k["lead_time_mean_h"] == pytest.approx(6.0)  # (6 + 2 + 4 + 12) / 4
    assert k["lead_time_p50_h"] == pytest.approx(5.0)  # between 4 and 6
    assert k["lead_time_p95_h"] == pytest.approx(6 + 0.85 * 6)  # linear, rank 2.85


def test_little_gap(run):
    # lambda * W = (6 + 2 + 4 + 9 + 12) h / 48 h; L = 2
    assert run_kpis(run)["little_gap"] == pytest.approx(abs(2.0 - 33 / 48) / 2.0)


def test_station_and_buffer_kpis(run):
    k = run_kpis(run)
    assert k["station.s1.working"] == pytest.approx(0.75)
    assert k["station.s1.blocked"] == pytest.approx(0.25)
    assert k["station.s1.failed"] == 0.0
    assert k["station.s2.failed"] == 1.0
    assert sum(k[f"station.s1.{s}"] for s in STATES) == pytest.approx(1.0)
    assert k["buffer.b1.mean_level"] == 1.25
    assert k["buffer.b2.mean_level"] == 0.5


def test_empty_run_gives_zeros_and_nan():
    k = run_kpis(make_result([], wip_mean=0.0))
    assert k["completed"] == 0 and k["completed.A"] == 0 and k["completed.B"] == 0
    assert k["scrapped"] == 0
    assert math.isnan(k["lead_time_mean_h"]) and math.isnan(k["lead_time_p95_h"])
    assert math.isnan(k["little_gap"])


def test_little_gap_small_for_steady_flow():
    # One part every hour, each staying exactly 3 h: L = 3, lambda = 1/h, W = 3 h.
    t = np.arange(0, 1000) * H
    rows = [(0, 0, float(a), float(a + 3 * H)) for a in t]
    r = make_result(rows, warmup=10 * H, horizon=1000 * H + 3 * H, wip_mean=3.0)
    k = run_kpis(r)
    assert k["little_gap"] < 0.01


def test_daily_table_zero_filled_and_sums(run):
    d = daily_table(run)
    assert d["date"].dtype == np.dtype("datetime64[D]")
    assert len(d["date"]) == 3 * 2  # 3 days x 2 products, zero rows included
    assert d["date"][0] == np.datetime64("2024-01-01")
    assert d["date"][-1] == np.datetime64("2024-01-03")
    got = {(str(a), b): int(c) for a, b, c in zip(d["date"], d["product"], d["completed"])}
    assert got == {
        ("2024-01-01", "A"): 1, ("2024-01-01", "B"): 0,
        ("2024-01-02", "A"): 1, ("2024-01-02", "B"): 2,
        ("2024-01-03", "A"): 0, ("2024-01-03", "B"): 1,  # the horizon instant counts on day 3
    }
    good_whole_run = sum(1 for r in ROWS if r[1] == 0)
    assert d["completed"].sum() == good_whole_run


def test_daily_table_partial_last_day_and_big_run():
    r = random_result(n=5000, days=10)
    d = daily_table(r)
    good = ~np.array(r.sink_scrap)[r.completions.sink]
    assert d["completed"].sum() == good.sum()
    assert len(np.unique(d["date"])) == 10
    r2 = make_result([(0, 0, 0.0, 2.5 * DAY)], horizon=2.5 * DAY)
    d2 = daily_table(r2)
    assert len(d2["date"]) == 3 * 2 and d2["completed"].sum() == 1


def test_completions_table_columns(run):
    t = completions_table(run)
    n = len(ROWS)
    assert all(len(v) == n for v in t.values())
    assert list(t["product"]) == ["A", "A", "B", "B", "B", "A", "B"]
    assert list(t["type"][:3]) == ["A/std", "A/std", "B/x"]
    assert list(t["sink"][4:6]) == ["scrap", "scrap"]
    assert list(t["scrap"]) == [r[1] == 1 for r in ROWS]
    assert t["lead_time_h"][1] == pytest.approx(6.0)
    assert str(t["date_done"][1]) == "2024-01-02"


def test_date_done_crosses_leap_day():
    r = make_result([(0, 0, 0.0, 1.5 * DAY)], start=datetime.date(2024, 2, 28))
    assert str(completions_table(r)["date_done"][0]) == "2024-02-29"


def test_station_table_all_states(run):
    t = station_table(run)
    assert len(t["station"]) == 2 * len(STATES)
    s1 = t["station"] == "s1"
    assert t["seconds"][s1].sum() == pytest.approx(40.0)
    assert t["fraction"][s1].sum() == pytest.approx(1.0)
    assert dict(zip(t["state"][s1], t["fraction"][s1]))["blocked"] == pytest.approx(0.25)


def test_buffer_and_trace_tables():
    r = make_result(buffers=[buffer("b1", 3, 1.0, 2, ([0.0, 5.0], [1, 2])), buffer("b2")])
    b = buffer_table(r)
    assert list(b["buffer"]) == ["b1", "b2"] and list(b["capacity"]) == [3.0, 5.0]
    tr = trace_table(r)
    assert list(tr["buffer"]) == ["b1", "b1"] and list(tr["level"]) == [1, 2]
    assert len(trace_table(make_result())["t_s"]) == 0


def test_counters_repeating_kpis_are_not_repeated():
    k = run_kpis(make_result(counters={"released": 5, "completed": 9, "rework": 2}))
    assert k["counter.rework"] == 2
    assert "counter.released" not in k and "counter.completed" not in k


def _milestone_result(before: int, count: int, product: str | None = "A"):
    import dataclasses

    from sim.engine.records import Milestone

    rows = [(0, 0, 0.0, 3600.0 * (i + 1)) for i in range(20)]  # 20 A, one per hour
    r = make_result(rows)
    return dataclasses.replace(r, built_before={"A": before},
                               milestones=(Milestone("m", product, count),))


@pytest.mark.parametrize(("before", "count", "day"), [
    (100, 110, 10 / 24),       # the 10th completion, at 10 h
    (100, 100, 0.0),           # reached before the run started
    (0, 20, 20 / 24),
    (0, 21, float("nan")),     # not reached by the horizon
])
def test_milestone_day_counts_units_built_before_the_start(before, count, day) -> None:
    k = run_kpis(_milestone_result(before, count))
    if math.isnan(day):
        assert math.isnan(k["milestone.m.day"]) and k["milestone.m.reached"] == 0
    else:
        assert k["milestone.m.day"] == pytest.approx(day) and k["milestone.m.reached"] == 1


def test_a_reporting_window_counts_its_days_output_per_working_day() -> None:
    import dataclasses

    from sim.engine.records import ReportWindow

    rows = [(0, 0, 0.0, 3600.0 * (i + 1)) for i in range(60)]  # one per hour, 2.5 days
    r = dataclasses.replace(make_result(rows), reporting=(
        ReportWindow("d2", DAY, 2 * DAY, 1), ReportWindow("none", 0.0, DAY, 0),
        ReportWindow("b", 0.0, 3 * DAY, 3, ("B",))))
    k = run_kpis(r)
    assert k["reporting.b.completed"] == 0
    assert k["reporting.d2.completed"] == 24 and k["reporting.d2.per_day"] == 24
    assert k["reporting.none.completed"] == 23 and math.isnan(k["reporting.none.per_day"])


def test_per_day_and_jph_on_shift_count_working_days_and_on_shift_hours() -> None:
    from scenario_builder import line, run, shift

    # One 8 h shift Monday to Friday, a 60 s station that never starves: 480 a day, 60 an
    # on-shift hour; the week of 1 Jan 2024 has 5 working days of 7.
    d = line(["60 s"], 2, duration="1 w", calendar="day",
             calendars={"day": {"shifts": [shift("day", "06:00", "14:00", "mon-fri")]}})
    k = run_kpis(run(d))
    assert k["completed"] == 5 * 480
    assert k["per_day"] == 480 and k["jph_on_shift"] == 60
    assert k["throughput_per_hour"] == pytest.approx(5 * 480 / (7 * 24))


def test_jph_per_shift_and_lead_time_in_on_shift_hours() -> None:
    from scenario_builder import line, run, shift

    # Two 8 h shifts Monday to Friday and a 60 s station: 480 per shift a day, 60 JPH each.
    two = {"p": {"shifts": [shift("early", "06:00", "14:00", "mon-fri"),
                            shift("late", "14:00", "22:00", "mon-fri")]}}
    k = run_kpis(run(line(["60 s"], 2, duration="1 w", calendar="p", calendars=two)))
    assert k["shift.early.completed"] == k["shift.late.completed"] == 5 * 480
    assert k["shift.early.jph"] == k["shift.late.jph"] == 60
    # A 10 h job on one 8 h day shift crosses a night: 10 on-shift hours, 26 elapsed.
    day = {"p": {"shifts": [shift("day", "06:00", "14:00", "mon-fri")]}}
    k = run_kpis(run(line(["10 h"], 1, duration="1 w", calendar="p", calendars=day)))
    assert k["lead_time_on_shift_p50_h"] == pytest.approx(10.0)
    assert k["lead_time.part.p50_h"] == pytest.approx(26.0)


def test_a_milestone_does_not_count_the_warm_up_twice() -> None:
    """built_before counts what was built before the window: with a warm-up of 5 h the
    units done at 1-4 h are among them, so the 110th unit with built_before = 100 is the
    10th from the warm-up end (t_done >= 5 h), at 14 h."""
    import dataclasses

    r = dataclasses.replace(_milestone_result(100, 110), warmup=5 * 3600.0)
    assert run_kpis(r)["milestone.m.day"] == pytest.approx(14 / 24)
