"""Invariants of any line, checked on random small lines drawn by hypothesis.

Whatever the cycles, buffers, failures, rework, scrap, assembly or calendar, a run must
conserve parts (every released part is completed, scrapped, absorbed by an assembly or
still inside), keep buffer levels within [0, capacity], account every second of every
server to exactly one state, and be a pure function of its seed.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_builder import run, shift

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

# Known engine bug (see the strict xfails in tests/engine/test_paced.py and test_station.py):
# a source port with a backlog re-enters its consumer while being taken from, so a paced
# line or a multi-server assembly fed straight by an arrivals source misbehaves. Until it
# is fixed those two shapes are left out here; set this to False to include them again.
AVOID_REENTRY_BUG = False


def _dur(seconds: float) -> str:
    return f"{seconds:g} s"


@st.composite
def lines(draw) -> dict:
    """A random line of 2-5 stations with optional failures, rework, scrap, kit, calendar."""
    n = draw(st.integers(2, 5))
    stations: dict = {}
    buffers: dict = {}
    saturated = draw(st.booleans())
    avoid = AVOID_REENTRY_BUG and not saturated
    paced_at = draw(st.sampled_from([None, *range(1 if avoid else 0, n)]))
    kit = draw(st.booleans())
    for i in range(n):
        name = f"s{i + 1}"
        if i == paced_at and not (kit and i == n - 1):
            spec: dict = {"paced": {"positions": draw(st.integers(1, 4)),
                                    "takt": _dur(draw(st.integers(20, 90)))}}
        else:
            one = avoid and kit and i == n - 1
            spec = {"cycle": {"dist": "exponential", "mean": _dur(draw(st.integers(10, 120)))},
                    "servers": 1 if one else draw(st.integers(1, 2))}
        if draw(st.booleans()):
            spec["failures"] = {"mtbf": _dur(draw(st.integers(600, 7200))),
                                "mttr": _dur(draw(st.integers(30, 900))),
                                "mode": draw(st.sampled_from(["operation", "time"])),
                                "repair_off_shift": draw(st.booleans())}
        stations[name] = spec
        feeder = "src" if i == 0 else f"s{i}"
        buffers[f"b{i}"] = {"from": [feeder], "to": name,
                            "capacity": draw(st.integers(0, 4)), "trace": True}
    last = f"s{n}"
    route = []
    sinks = {"yard": {}}
    if draw(st.booleans()):  # rework loop from the last station to an earlier buffer
        back = draw(st.integers(1, n - 1))
        buffers[f"b{back}"]["from"].append(last)
        route.append({"to": f"b{back}", "p": draw(st.floats(0.05, 0.3))})
    if draw(st.booleans()):
        sinks["scrap"] = {"scrap": True}
        buffers["to_scrap"] = {"from": last, "to": "scrap", "capacity": "inf"}
        route.append({"to": "to_scrap", "p": draw(st.floats(0.02, 0.2))})
    buffers["out"] = {"from": last, "to": "yard", "capacity": "inf"}
    if route:
        stations[last]["route"] = [*route, {"to": "out"}]
    if kit:
        buffers["kit"] = {"from": "src", "to": last, "capacity": draw(st.integers(0, 4)),
                          "trace": True}
        stations[last]["match"] = draw(st.sampled_from(["none", "order"]))
        stations[last]["carrier"] = f"b{n - 1}"
    if saturated:
        source = {"kind": "saturated"}
    else:
        source = {"kind": "arrivals",
                  "interarrival": {"dist": "exponential", "mean": _dur(draw(st.integers(20, 150)))},
                  "when_full": draw(st.sampled_from(["block", "lose"]))}
    hours = draw(st.integers(2, 8))
    d = {"run": {"duration": f"{hours} h", "seed": draw(st.integers(0, 10_000))},
         "sources": {"src": source}, "stations": stations, "buffers": buffers, "sinks": sinks}
    if draw(st.booleans()):
        day = shift("day", "01:00", "04:00", breaks=[{"start": "02:00", "duration": "10 min"}],
                    rate=draw(st.sampled_from([1.0, 0.5])))
        d["calendars"] = {"plant": {"shifts": [day, shift("late", "05:00", "23:00")]}}
        d["run"]["calendar"] = "plant"
    return d


@SETTINGS
@given(lines())
def test_parts_are_conserved(d: dict) -> None:
    r = run(d)
    c = r.counters
    assert c["released"] == r.released
    assert c["completed"] + c["scrapped"] == len(r.completions)
    assert r.released == len(r.completions) + r.wip_end + c["consumed"]


@SETTINGS
@given(lines())
def test_buffer_levels_stay_within_capacity(d: dict) -> None:
    r = run(d)
    for b in r.buffers:
        assert b.trace_level is not None
        assert (b.trace_level >= 0).all()
        assert (b.trace_level <= b.capacity).all()
        assert b.max_level <= b.capacity
        assert (np.diff(b.trace_t) >= 0).all()
        assert 0.0 <= b.mean_level <= b.capacity


@SETTINGS
@given(lines())
def test_every_server_second_is_in_exactly_one_state(d: dict) -> None:
    r = run(d)
    for s in r.stations:
        seconds = s.state_seconds
        assert min(seconds.values()) >= -1e-6
        assert math.isclose(sum(seconds.values()), r.horizon * s.servers, rel_tol=1e-9)
        if "calendars" not in d:
            assert seconds["off_shift"] == 0.0


@SETTINGS
@given(lines())
def test_a_run_is_a_pure_function_of_its_seed(d: dict) -> None:
    a, b = run(d), run(d)
    for field in ("part", "order", "type", "sink", "t_release", "t_done"):
        np.testing.assert_array_equal(getattr(a.completions, field),
                                      getattr(b.completions, field))
    assert a.counters == b.counters
    d["run"]["seed"] += 1
    c = run(d)
    if len(a.completions) >= 2 or len(c.completions) >= 2:
        assert not (np.array_equal(a.completions.t_done, c.completions.t_done)
                    and np.array_equal(a.completions.t_release, c.completions.t_release))
