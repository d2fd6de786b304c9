"""Order books the line pulls from: release order, backlog, sop, delayed and dropped ramps.

The rules are those of `sim/engine/demand.py`; each test states the arithmetic it checks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scenario_builder import DAY, line, run, scenario

from sim.analysis.kpi import demand_table, run_kpis
from sim.engine.calendar import Calendar
from sim.engine.demand import due_times


def _book(periods: list[dict], cycle: str = "60 s", duration: str = "2 d",
          ramps: dict | None = None, products: dict | None = None, cap: int = 1) -> dict:
    d = line([cycle], cap, duration=duration)
    d["run"]["start"] = "2025-01-01"
    d["products"] = products or {"A": {}, "B": {}}
    demand: dict = {"periods": periods}
    if ramps:
        demand["ramps"] = ramps
    d["sources"]["src"] = {"kind": "demand", "demand": demand}
    return d


def _releases(r, product: str) -> np.ndarray:
    d = r.demand[0]
    return np.sort(d.release_t[d.release_product == d.products.index(product)])


def _due(n: int, a: float, b: float) -> np.ndarray:
    """Due times of n orders spread over [a, b) of a 24/7 calendar."""
    return a + (np.arange(n) + 0.5) / n * (b - a)


def test_demand_above_capacity_follows_the_current_period_and_carries_the_backlog() -> None:
    # Day 1: 2,000 A for a line of 1,440 a day; day 2: 1,000 B. On day 2 the B orders
    # (current period) go first: no A is released while a B is due and not released.
    r = run(_book([{"from": "2025-01-01", "to": "2025-01-01", "quantities": {"A": 2000}},
                   {"from": "2025-01-02", "to": "2025-01-02", "quantities": {"B": 1000}}]))
    a, b = _releases(r, "A"), _releases(r, "B")
    due_b = _due(1000, DAY, 2 * DAY)
    for t in a[a >= DAY]:
        assert np.searchsorted(due_b, t, side="right") == np.searchsorted(b, t, side="right")
    assert len(a[a < DAY]) <= 1440 + 1
    k = run_kpis(r)
    assert k["demand.ordered"] == 3000
    assert k["demand.backlog_end.B"] <= 1
    assert k["demand.backlog_end.A"] == 2000 - len(a) > 0
    assert k["demand.backlog_end"] == 3000 - len(a) - len(b)


def test_the_demand_table_reports_planned_released_and_built_per_period() -> None:
    r = run(_book([{"from": "2025-01-01", "to": "2025-01-01", "quantities": {"A": 2000}},
                   {"from": "2025-01-02", "to": "2025-01-02", "per_day": {"B": 1000}}]))
    t = demand_table(r)
    rows = {(str(f), p): (pl, rel, c) for f, p, pl, rel, c in zip(
        t["period_from"], t["product"], t["planned"], t["released"], t["completed"])}
    a, b = _releases(r, "A"), _releases(r, "B")
    assert rows["2025-01-01", "A"][:2] == (2000, int((a < DAY).sum()))
    assert rows["2025-01-02", "B"][:2] == (1000, len(b))
    built = r.completions.t_done[np.array(r.type_product)[r.completions.type] == "A"]
    assert rows["2025-01-01", "A"][2] == int((built < DAY).sum())


def test_no_order_is_released_before_the_products_sop() -> None:
    d = _book([{"from": "2025-01-01", "to": "2025-01-02", "quantities": {"A": 200, "B": 200}}],
              products={"A": {}, "B": {"sop": "2025-01-02"}})
    r = run(d)
    b = _releases(r, "B")
    assert b.min() >= DAY
    # The 100 B orders due on day 1 wait for the sop, then go out one per cycle.
    assert len(b) == 200 and b[0] == pytest.approx(DAY)


def _ramp_factor(t: float, start: float, duration: float, initial: float) -> float:
    """The S-curve of the format doc, written out again here."""
    if t < start:
        return 0.0
    return initial + (1 - initial) / (1 + math.exp(-10 * ((t - start) / duration - 0.5)))


def test_a_delaying_ramp_caps_daily_releases_and_keeps_the_rest_as_backlog() -> None:
    ramp = {"start": "2025-01-01", "duration": "8 d", "initial": 0.1, "per_day": 100}
    r = run(_book([{"from": "2025-01-01", "to": "2025-01-10", "per_day": {"A": 100}}],
                  duration="10 d", ramps={"A": ramp}))
    a = _releases(r, "A")
    per_day = np.bincount((a // DAY).astype(int), minlength=10)
    due = _due(1000, 0.0, 10 * DAY)
    released = 0
    for day in range(10):
        cap = round(100 * _ramp_factor(day * DAY, 0.0, 8 * DAY, 0.1))
        backlog_then = int(np.searchsorted(due, (day + 1) * DAY)) - released
        assert per_day[day] == min(cap, backlog_then), day
        released += per_day[day]
    k = run_kpis(r)
    assert k["counter.ramp_dropped"] == 0
    assert k["demand.released"] + k["demand.backlog_end"] == 1000


def test_a_dropping_ramp_thins_due_orders_instead() -> None:
    ramp = {"start": "2025-01-01", "duration": "8 d", "initial": 0.1, "mode": "drop"}
    r = run(_book([{"from": "2025-01-01", "to": "2025-01-10", "per_day": {"A": 100}}],
                  duration="10 d", ramps={"A": ramp}))
    k = run_kpis(r)
    assert 0 < k["counter.ramp_dropped"] < 1000
    assert k["demand.due"] == 1000 - k["counter.ramp_dropped"]
    assert k["demand.released"] + k["demand.backlog_end"] == k["demand.due"]


def test_releases_wait_for_room_in_the_first_buffer() -> None:
    # 100 orders due 864 s apart, a buffer of 2 and a 20 min station: releases 20 min apart
    # once the buffer is full.
    r = run(_book([{"from": "2025-01-01", "to": "2025-01-01", "quantities": {"A": 100}}],
                  duration="1 d", cycle="20 min", cap=2))
    a = _releases(r, "A")
    assert np.diff(a[10:30]) == pytest.approx(1200.0)


NIGHT = {"name": "night", "days": ["sun", "mon", "tue", "wed", "thu"], "start": "22:00",
         "end": "06:00", "rate": 0.5}


def _shifts(night_from: str | None) -> dict:
    """Two day shifts Monday to Friday; a Sunday-to-Thursday night from a date ("always":
    from the start)."""
    cal: dict = {"shifts": [{"name": "early", "days": "mon-fri", "start": "06:00",
                             "end": "14:00"},
                            {"name": "late", "days": "mon-fri", "start": "14:00",
                             "end": "22:00"}]}
    if night_from == "always":
        cal["shifts"].append(NIGHT)
    elif night_from:
        cal["changes"] = [{"from": night_from, "add": [NIGHT]}]
    return cal


def _line_with_book(night_from: str | None, due: str = "working_days",
                    per_day: int = 1100) -> dict:
    # Monday 6 Jan 2025 to Sunday 2 Feb; the line (60 s) builds 960 a two-shift day.
    d = _book([{"from": "2025-01-06", "to": "2025-02-02", "per_day": {"A": per_day}}],
              duration="28 d", products={"A": {}})
    d["run"].update(start="2025-01-06", calendar="line")
    d["calendars"] = {"line": _shifts(night_from)}
    d["stations"]["s1"]["shift_rate"] = True
    d["sources"]["src"]["demand"]["due"] = due
    return d


def test_a_night_shift_from_a_date_leaves_the_weeks_before_it_unchanged() -> None:
    """Orders fall due over the period's working days: capacity added from 20 January
    moves no order and no vehicle before that date."""
    without, with_night = run(_line_with_book(None)), run(_line_with_book("2025-01-20"))
    cut = 14 * DAY  # 20 January 00:00; the first night starts there at 22:00
    for r in (without, with_night):
        assert r.working_days == 20  # Mondays to Fridays: Sunday nights count for Monday
    a, b = (np.sort(r.completions.t_done) for r in (without, with_night))
    assert np.array_equal(a[a < cut], b[b < cut])
    assert len(b) > len(a)  # the nights build more after the date
    ra, rb = (r.demand[0] for r in (without, with_night))
    assert np.array_equal(ra.release_t[ra.release_t < cut], rb.release_t[rb.release_t < cut])


def test_the_capacity_weighted_spread_is_still_an_option_and_moves_orders_later() -> None:
    # 900 a working day, under the two-shift capacity (960): output follows what falls due.
    # Over working days 9,000 of 18,000 fall due in the two weeks before the nights.
    # Capacity-weighted: 160 h of work before, 160 h + 37 h after (nights of 8 h at half
    # rate: Monday 20 to Thursday 23, Sunday 26 to Thursday 30, 2 h of Sunday 2 Feb's),
    # so order k falls due before when (k + 0.5) / 18,000 x 357 h < 160 h.
    working = run(_line_with_book("2025-01-20", per_day=900))
    capacity = run(_line_with_book("2025-01-20", due="capacity", per_day=900))
    cut = 14 * DAY
    sc = scenario(_line_with_book("2025-01-20"))
    cal = Calendar.build(sc.calendars["line"], sc.run.start, sc.run.horizon)
    due = [due_times(cal, 0.0, 28 * DAY, 18000, how) for how in ("working_days", "capacity")]
    assert [int((d < cut).sum()) for d in due] == [9000,
                                                   math.floor(18000 * 160 / 357 - 0.5) + 1]
    built = [int((r.completions.t_done < cut).sum()) for r in (working, capacity)]
    assert built[1] < built[0] <= 9000


def test_per_day_divides_by_production_days_not_days_with_a_sunday_night() -> None:
    r = run(_line_with_book("always"))  # nights on Sundays to Thursdays
    k = run_kpis(r)
    assert r.working_days == 20
    assert k["per_day"] == pytest.approx(k["completed"] / 20)


def _spaced(quantities: dict, n: int = 1, window: int = 3) -> dict:
    d = _book([{"from": "2025-01-01", "to": "2025-01-01", "quantities": quantities}],
              duration="1 d", products={"H": {"attrs": {"size": "big"}}, "L": {}})
    d["sources"]["src"]["demand"]["sequencing"] = {"max_in_window": {
        "attr": "size", "value": "big", "n": n, "window": window, "pitch": "60 s"}}
    return d


def test_one_in_three_spacing_with_only_heavy_orders_leaves_two_empty_pitches() -> None:
    """Only heavy orders, 1-in-3, pitch 60 s: H, gap, gap, H... so one heavy per 180 s
    from the first order due (5,000 over the day: one per 17.28 s, the first at 8.64 s),
    two empty pitches each, nothing released during them."""
    r = run(_spaced({"H": 5000}))
    h = _releases(r, "H")
    np.testing.assert_allclose(h[:20], 8.64 + 180.0 * np.arange(20))
    assert r.counters["spacing_gaps"] == pytest.approx(2 * len(h), abs=2)


def test_spacing_interleaves_light_orders_without_gaps() -> None:
    """Half heavy, half light, at most 1 heavy in any 3 slots: heavy at most a third of
    the releases, no gap while light orders are due, the line never idle for it."""
    r = run(_spaced({"H": 5000, "L": 5000}))
    seq = r.demand[0].release_product[np.argsort(r.demand[0].release_t, kind="stable")]
    heavy = seq == r.demand[0].products.index("H")
    windows = np.convolve(heavy.astype(int), np.ones(3, dtype=int), mode="valid")
    assert windows.max() == 1
    assert heavy.mean() == pytest.approx(1 / 3, abs=0.01)
    assert r.counters.get("spacing_gaps", 0) == 0


def test_a_share_per_window_and_bad_spacing_rules() -> None:
    """2 in 5: at most 2 heavy in any 5 consecutive slots."""
    r = run(_spaced({"H": 5000, "L": 5000}, n=2, window=5))
    d = r.demand[0]
    heavy = (d.release_product[np.argsort(d.release_t, kind="stable")]
             == d.products.index("H")).astype(int)
    assert np.convolve(heavy, np.ones(5, dtype=int), mode="valid").max() == 2
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="must be below window"):
        scenario(_spaced({"H": 1}, n=3, window=3))


def test_a_plan_refuses_spacing_it_cannot_honour() -> None:
    from pydantic import ValidationError

    d = line(["60 s"], 1, duration="1 d")
    d["run"]["start"] = "2025-01-01"
    d["products"] = {"H": {"attrs": {"size": "big"}}}
    d["sources"]["src"] = {"kind": "plan", "plan": {
        "periods": [{"from": "2025-01-01", "to": "2025-01-01", "quantities": {"H": 10}}],
        "sequencing": {"max_in_window": {"attr": "size", "value": "big", "n": 1,
                                         "window": 3, "pitch": "60 s"}}}}
    with pytest.raises(ValidationError, match="cannot leave gaps"):
        scenario(d)
