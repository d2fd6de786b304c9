"""Dated changes: each kind checked against arithmetic done on paper.

The semantics under test are those of `sim/engine/changes.py`: a takt change rescales the
movement in progress; a cycle change leaves the job in progress alone; a failure change
applies from the next up-time and repair; sources restart; buffers keep their parts.
"""

from __future__ import annotations

import numpy as np
import pytest
from scenario_builder import DAY, HOUR, deterministic, done, line, run, station

from sim.engine.run import run_once
from sim.spec.scenario import Scenario


def _paced(takt: str, positions: int = 5, duration: str = "20 d") -> dict:
    d = line([{"paced": {"positions": positions, "takt": takt}}], 3, duration=duration)
    d["run"]["start"] = "2025-01-01"
    return d


def test_a_paced_line_at_60_s_for_10_days_then_50_s_makes_the_paper_count() -> None:
    d = _paced("60 s")
    d["changes"] = {"c": {"from": "2025-01-11", "set": {"stations.s1.paced.takt": "50 s"}}}
    t = done(run(d))
    change = 10 * DAY
    # Before: exits at 300 + 60 k up to the change; after: one per 50 s, the last one
    # before the horizon (20 d, not processed when exactly on it).
    before = 300.0 + 60.0 * np.arange(int((change - 300) // 60) + 1)
    after = change + 50.0 * np.arange(1, int((20 * DAY - change) // 50))
    np.testing.assert_allclose(t, np.concatenate([before, after]), rtol=0, atol=1e-6)
    assert len(t) == 14396 + 17279


def test_a_takt_change_mid_step_rescales_the_movement_left() -> None:
    # Takt 70 s: at 10 d the step begun at 863,940 s has done 60 of its 70 s; the 10 s
    # left run at speed 70/50, i.e. 10 / 1.4 = 7.142857 s, then one step per 50 s.
    d = _paced("70 s", positions=1)
    d["changes"] = {"c": {"from": "2025-01-11", "set": {"stations.s1.paced.takt": "50 s"}}}
    t = done(run(d))
    change = 10 * DAY
    last_old = 70.0 * (change // 70)
    assert t[t <= change][-1] == pytest.approx(last_old)
    first_new = change + 10.0 / 1.4
    assert t[t > change][0] == pytest.approx(first_new, abs=1e-6)
    assert np.diff(t[t > change]) == pytest.approx(50.0)


def test_a_cycle_change_leaves_the_job_in_progress_at_its_drawn_work() -> None:
    d = line(["70 s"], 2, duration="2 d")
    d["run"]["start"] = "2025-01-01"
    d["changes"] = {"c": {"from": "2025-01-02", "set": {"stations.s1.cycle": "30 s"}}}
    t = done(run(d))
    # Jobs of 70 s until the one begun at 86,380 s (ends 86,450, old work), then 30 s.
    assert t[t <= 86450.0][-1] == pytest.approx(86450.0)
    assert t[t <= 86450.0][-2] == pytest.approx(86380.0)
    assert np.diff(t[t >= 86450.0]) == pytest.approx(30.0)


def test_a_failure_change_applies_from_the_next_repair() -> None:
    # 60 s jobs, up-time exactly 1 h of work, repair 10 min, then 20 min from 03:00.
    # Failures at 3600 and 7800 (10 min each), 12000 and 16800 (20 min each; 16800 =
    # 13200 + 3600); the next would fall on the horizon. 6 h - 60 min down = 5 h of work
    # = 300 jobs, the last ending exactly at the horizon (not processed): 299.
    fail = {"uptime": deterministic("1 h"), "repair": deterministic("10 min")}
    d = line([{"cycle": "60 s", "failures": fail}], 2, duration="6 h")
    d["run"]["start"] = "2025-01-01"
    d["changes"] = {"c": {"from": "2025-01-01", "at": "03:00",
                     "set": {"stations.s1.failures.repair": "20 min"}}}
    r = run(d)
    assert station(r, "s1").state_seconds["failed"] == pytest.approx(3600.0)
    assert station(r, "s1").failures == 4
    assert len(done(r)) == 299


def test_a_route_probability_change_sends_every_later_part_the_new_way() -> None:
    d = line(["60 s"], 2, duration="2 h")
    d["run"]["start"] = "2025-01-01"
    d["sinks"] = {"yard": {}, "scrap": {"scrap": True}}
    d["buffers"]["bad"] = {"from": "s1", "to": "scrap", "capacity": "inf"}
    d["stations"]["s1"]["route"] = [{"to": "bad", "p": 0.0}, {"to": "out"}]
    d["changes"] = {"c": {"from": "2025-01-01", "at": "01:00",
                     "set": {"stations.s1.route.0.p": 1.0}}}
    r = run(d)
    # The part finished exactly at the change is routed with the new probability.
    assert (done(r, "yard") < HOUR).all() and len(done(r, "yard")) == 59
    assert (done(r, "scrap") >= HOUR).all() and len(done(r, "scrap")) == 60


def _switch(duration: str = "10 d") -> dict:
    """Imported parts until 6 Jan, then the local supplier (one arrival per hour each)."""
    d = line(["1 min"], 100, duration=duration)
    d["run"]["start"] = "2025-01-01"
    d["products"] = {"imported": {}, "local": {}}
    d["sources"] = {
        "src": {"kind": "arrivals", "interarrival": "1 h", "mix": {"imported": 1.0}},
        "local": {"kind": "arrivals", "interarrival": "1 h", "mix": {"local": 1.0},
                  "active": False},
    }
    d["buffers"]["b0"]["from"] = ["src", "local"]
    d["changes"] = {"c": {"from": "2025-01-06", "set": {"sources.src.active": False,
                                                 "sources.local.active": True}}}
    return d


def test_a_supplier_switch_delivers_from_the_new_source_only_after_the_date() -> None:
    r = run(_switch())
    c = r.completions
    product = np.array(r.type_product)[c.type]
    switch = 5 * DAY
    imported = c.t_release[product == "imported"]
    local = c.t_release[product == "local"]
    # The arrival due exactly at the switch is dropped (the change comes first).
    np.testing.assert_allclose(imported, HOUR * np.arange(1, 120), rtol=0)
    np.testing.assert_allclose(local, switch + HOUR * np.arange(1, 5 * 24), rtol=0)


def test_an_interarrival_change_restarts_the_source_at_the_change() -> None:
    d = line(["1 min"], 100, duration="2 d")
    d["run"]["start"] = "2025-01-01"
    d["sources"]["src"] = {"kind": "arrivals", "interarrival": "10 min"}
    d["changes"] = {"c": {"from": "2025-01-02", "set": {"sources.src.interarrival": "5 min"}}}
    released = np.sort(run(d).completions.t_release)
    before = 600.0 * np.arange(1, 144)
    after = DAY + 300.0 * np.arange(1, 288)
    np.testing.assert_allclose(released, np.concatenate([before, after]), rtol=0)


def test_a_lower_capacity_keeps_the_parts_and_admits_none_until_below_it() -> None:
    d = line(["10 s", "60 s"], [1, 5], duration="3 h", trace=True)
    d["run"]["start"] = "2025-01-01"
    d["changes"] = {"c": {"from": "2025-01-01", "at": "01:00", "set": {"buffers.b1.capacity": 2}}}
    r = run(d)
    b1 = next(b for b in r.buffers if b.name == "b1")
    t, level = np.asarray(b1.trace_t), np.asarray(b1.trace_level)
    after = t > HOUR
    assert level[~after].max() == 5 and level[after][0] == 4  # nothing destroyed
    below = np.argmax(after & (level <= 2))
    assert below > 0 and list(level[after][:4]) == [4, 3, 2, 2]
    assert level[below:].max() <= 2


def test_a_higher_capacity_lets_a_blocked_feeder_in_at_once() -> None:
    d = line(["10 s", "60 s"], [1, 5], duration="2 h", trace=True)
    d["run"]["start"] = "2025-01-01"
    d["changes"] = {"c": {"from": "2025-01-01", "at": "01:00", "set": {"buffers.b1.capacity": 9}}}
    r = run(d)
    b1 = next(b for b in r.buffers if b.name == "b1")
    t, level = np.asarray(b1.trace_t), np.asarray(b1.trace_level)
    assert level[t < HOUR].max() == 5
    assert level[t == HOUR].max() == 6  # the blocked part of s1 enters at the change
    assert level.max() == 9


def test_no_changes_and_an_empty_list_give_identical_runs() -> None:
    d = line([{"cycle": {"dist": "exponential", "mean": "60 s"},
               "failures": {"mtbf": "2 h", "mttr": "5 min"}}, "55 s"], 3, duration="2 d")
    a = run(d)
    d["changes"] = {}
    b = run(d)
    np.testing.assert_array_equal(a.completions.t_done, b.completions.t_done)


def test_changes_share_random_numbers_across_scenarios_with_the_same_change() -> None:
    d = line([{"cycle": {"dist": "exponential", "mean": "60 s"}}], 3, duration="2 d")
    d["run"]["start"] = "2025-01-01"
    d["changes"] = {"c": {"from": "2025-01-02",
                     "set": {"stations.s1.cycle": {"dist": "exponential", "mean": "40 s"}}}}
    sc = Scenario.model_validate({"name": "x", "sinks": {"yard": {}}, **d})
    a, b = run_once(sc, 3), run_once(sc, 3)
    np.testing.assert_array_equal(a.completions.t_done, b.completions.t_done)
    assert run_once(sc, 4).completions.t_done[0] != a.completions.t_done[0]


def test_a_supplier_switch_of_a_stock_delivers_batches_at_the_new_rate() -> None:
    # Imported modules (10 per hourly delivery) until day 2, then the local supplier (10 per
    # hour too): 47 deliveries each over 4 days (the one due at the switch is dropped).
    d = {
        "run": {"duration": "4 d", "start": "2025-01-01"},
        "products": {"car": {}, "module": {}},
        "sources": {
            "src": {"kind": "saturated", "mix": {"car": 1.0}},
            "imp": {"kind": "arrivals", "interarrival": "1 h", "mix": {"module": 1.0},
                    "batch": 10},
            "loc": {"kind": "arrivals", "interarrival": "1 h", "mix": {"module": 1.0},
                    "batch": 10, "active": False},
        },
        "stations": {"asm": {"cycle": "1 min", "carrier": "bodies",
                             "consume": {"stock": 1}}},
        "buffers": {"bodies": {"from": "src", "to": "asm", "capacity": 1},
                    "stock": {"from": ["imp", "loc"], "to": "asm", "capacity": "inf",
                              "kind": "stock"},
                    "out": {"from": "asm", "to": "yard", "capacity": "inf"}},
        "changes": {"switch": {"from": "2025-01-03", "set": {"sources.imp.active": False,
                                                             "sources.loc.active": True}}},
    }
    r = run(d)
    assert r.counters["units_delivered"] == 2 * 47 * 10
    assert r.counters["units_consumed"] == len(r.completions)
