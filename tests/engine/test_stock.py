"""Stock buffers: units delivered in batches, taken by `consume`, counted not tracked."""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builder import buffer, run, scenario

from sim.errors import ScenarioError


def _plant(*, every: str = "1 h", batch: int = 10, cap: object = 100, take: int = 2,
           cycle: str = "10 min", when_full: str = "block", duration: str = "10 h") -> dict:
    """Saturated orders assembled with `take` units each from a stock fed every `every`."""
    return {
        "run": {"duration": duration},
        "sources": {
            "orders": {"kind": "saturated"},
            "supplier": {"kind": "arrivals", "interarrival": every, "batch": batch,
                         "when_full": when_full},
        },
        "stations": {"asm": {"cycle": cycle, "consume": {"units": take}}},
        "buffers": {
            "o": {"from": "orders", "to": "asm", "capacity": 1},
            "units": {"from": "supplier", "to": "asm", "capacity": cap, "kind": "stock",
                      "trace": True},
            "out": {"from": "asm", "to": "yard", "capacity": "inf"},
        },
    }


def test_supply_limits_output_exactly() -> None:
    # 10 units arrive at 1 h, 2 h, ... 9 h (10 h horizon); each job takes 2 units and 10 min.
    # Each delivery allows 5 jobs of 10 min, done before the next delivery: 9 x 5 = 45 jobs.
    r = run(_plant())
    assert r.counters["completed"] == 45
    assert r.counters["units_delivered"] == 90
    assert r.counters["units_consumed"] == 90
    assert r.counters["units_lost"] == 0
    assert r.released == 45 + r.wip_end  # units are material: never released as parts


def test_level_stays_within_capacity_and_non_negative() -> None:
    r = run(_plant(every="5 min", batch=7, cap=20, take=3, cycle="2 min", duration="2 d"))
    trace = buffer(r, "units").trace_level
    assert trace.min() >= 0 and trace.max() <= 20
    assert r.counters["units_lost"] == 0
    delivered, consumed = r.counters["units_delivered"], r.counters["units_consumed"]
    assert delivered - consumed == trace[-1]


def test_full_stock_tops_up_and_loses_the_rest() -> None:
    # 10 units every 10 min (29 deliveries in 5 h) into a stock of 15; 2 units used per hour,
    # so after the first the stock is topped up to 15 each time and the rest is lost.
    r = run(_plant(every="10 min", batch=10, cap=15, take=2, cycle="1 h", when_full="lose",
                   duration="5 h"))
    c = r.counters
    assert c["units_delivered"] + c["units_lost"] == 29 * 10
    levels = buffer(r, "units").trace_level
    assert levels.max() == 15
    assert c["units_delivered"] - c["units_consumed"] == levels[-1]


def test_blocked_delivery_waits_for_room() -> None:
    r = run(_plant(every="10 min", batch=10, cap=15, take=2, cycle="1 h", duration="5 h"))
    assert r.counters["units_lost"] == 0
    levels = buffer(r, "units").trace_level
    assert levels.max() <= 15
    # consumption of 2 per hour frees room for a waiting batch only when level <= 5
    assert np.all(np.diff(levels)[np.diff(levels) > 0] == 10)


def test_stock_fed_by_a_station_is_refused() -> None:
    d = _plant()
    d["stations"]["pre"] = {"cycle": "1 min"}
    d["buffers"]["feed_pre"] = {"from": "supplier", "to": "pre", "capacity": 1}
    d["buffers"]["units"]["from"] = "pre"
    d["sources"]["supplier"] = {"kind": "saturated"}
    with pytest.raises((ScenarioError, ValueError), match="fed by sources only"):
        scenario(d)


def test_stock_as_carrier_is_refused() -> None:
    d = _plant()
    d["stations"]["asm"]["carrier"] = "units"
    with pytest.raises((ScenarioError, ValueError), match="not that station's carrier"):
        scenario(d)


def test_a_stock_can_start_with_stated_units() -> None:
    """30 units at the start plus 90 delivered (10 at 1 h ... 9 h): 60 jobs of 2 units.
    Working without a break takes 12 units an hour, and before the delivery at k h the
    stock holds 30 - 12 k + 10 (k - 1) >= 20 units, so the stock never runs dry: the 60th
    job starts at 590 min and ends at the 10 h horizon, so 59 are completed and all 120
    units consumed (without the initial units: 45)."""
    d = _plant()
    d["buffers"]["units"]["initial"] = 30
    r = run(d)
    assert r.counters["units_consumed"] == 90 + 30
    assert r.counters["completed"] == 59


def test_two_suppliers_overlap_with_complementary_ramps() -> None:
    """Imports (10 units a day) at full rate until day 5, then a tenth; a local plant (10 a
    day nominal) from day 5 at full rate, into one stock. Imports deliver on days 1-5 (the
    one drawn on day 4 lands on day 5; the next, at a tenth, 10 days later, beyond the
    horizon); local deliveries come on days 6-9: 5 + 4 deliveries, split by the ramps."""
    d = _plant(cap=1000, take=1, cycle="1 min", every="1 d", duration="10 d")
    d["run"]["start"] = "2024-01-01"
    d["sources"]["supplier"]["ramp"] = [{"from": "2024-01-01", "rate": 1.0},
                                        {"from": "2024-01-06", "rate": 0.1}]
    d["sources"]["local"] = {"kind": "arrivals", "interarrival": "1 d", "batch": 10,
                             "ramp": [{"from": "2024-01-06", "rate": 1.0}]}
    d["buffers"]["units"]["from"] = ["supplier", "local"]
    r = run(d)
    assert r.counters["units_delivered"] == 10 * (5 + 4)
    units = r.buffers[[b.name for b in r.buffers].index("units")]
    up = np.diff(np.concatenate([[0], units.trace_level])) > 0  # deliveries raise the level
    days = sorted(set((units.trace_t[up] // 86400).astype(int)))
    assert days == [1, 2, 3, 4, 5, 6, 7, 8, 9]
