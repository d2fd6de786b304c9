"""Stations, buffers, assembly and routing against arithmetic worked out on paper.

Deterministic lines have exact answers: a saturated line of equal 60 s stations delivers
its first part after the fill time and one part per 60 s after it; a bottleneck sets the
pace and the others' blocked and starved seconds follow. Random routing is checked against
binomial and geometric bounds derived from the routing probability, never against numbers
recorded from an earlier run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_builder import DAY, buffer, done, line, run, scenario, station, via_yaml

from sim.engine import buffer as buffer_module
from sim.engine.model import build
from sim.engine.records import STATES
from sim.engine.run import run_once
from sim.engine.station import LineServer


def _count_before(first: float, period: float, horizon: float) -> int:
    """How many of first, first + period, ... fall strictly before the horizon."""
    return max(0, math.ceil((horizon - first) / period))


# -- deterministic line arithmetic --------------------------------------------------------

@pytest.mark.parametrize("duration, horizon", [("1 h", 3600.0), ("3630 s", 3630.0)])
def test_balanced_line_delivers_one_per_cycle_after_the_fill(duration: str,
                                                             horizon: float) -> None:
    r = run(line(["60 s", "60 s", "60 s"], caps=2, duration=duration))
    t = done(r)
    n = _count_before(180.0, 60.0, horizon)  # the first part needs 3 x 60 s
    assert len(t) == n
    np.testing.assert_array_equal(t, 180.0 + 60.0 * np.arange(n))
    assert r.counters["completed"] == n


def test_balanced_line_state_seconds() -> None:
    r = run(line(["60 s", "60 s", "60 s"], caps=2))
    # One part per station once filled: 1, 2, then 3 parts inside (buffers stay empty).
    assert r.wip_mean == pytest.approx((60.0 + 120.0 + 3 * (3600.0 - 120.0)) / 3600.0)
    assert r.wip_end == 3
    for k, name in enumerate(["s1", "s2", "s3"]):
        s = station(r, name).state_seconds
        assert s["starved"] == 60.0 * k  # waits for its first part
        assert s["working"] == 3600.0 - 60.0 * k
        assert s["blocked"] == 0.0


def test_bottleneck_sets_the_pace_and_the_blocked_and_starved_seconds() -> None:
    # s1 30 s, s2 90 s, s3 30 s. s2 starts at 30 and never stops; from t = 120 every 90 s
    # s1 works 30 s and waits blocked 60 s, s3 works 30 s and waits starved 60 s.
    horizon = 120.0 + 90.0 * 40
    r = run(line(["30 s", "90 s", "30 s"], caps=2, duration=f"{horizon:g} s"))
    t = done(r)
    n = _count_before(150.0, 90.0, horizon)
    np.testing.assert_array_equal(t, 150.0 + 90.0 * np.arange(n))
    s1, s2, s3 = (station(r, n).state_seconds for n in ("s1", "s2", "s3"))
    assert s1["working"] == 120.0 + 30.0 * 40 and s1["blocked"] == 60.0 * 40
    assert s2["working"] == horizon - 30.0 and s2["starved"] == 30.0
    assert s3["working"] == 30.0 * 40 and s3["starved"] == 120.0 + 60.0 * 40
    assert s1["blocked"] / (horizon - 120.0) == pytest.approx(2 / 3)
    # b1 holds part 2 from 60 and is full (2) from 90 on: s1's held part is not counted.
    assert buffer(r, "b1").max_level == 2
    assert buffer(r, "b1").mean_level == pytest.approx((30.0 + 2 * (horizon - 90.0)) / horizon)


def test_capacity_zero_buffers_hand_parts_over_directly() -> None:
    r = run(line(["60 s", "60 s", "60 s"], caps=0))
    t = done(r)
    n = _count_before(180.0, 60.0, 3600.0)
    np.testing.assert_array_equal(t, 180.0 + 60.0 * np.arange(n))
    for name in ("b0", "b1", "b2"):
        assert buffer(r, name).max_level == 0
        assert buffer(r, name).mean_level == 0.0


def test_blocking_after_service_keeps_the_part_out_of_the_buffer() -> None:
    # s1 30 s -> (capacity 0) -> s2 90 s: s1 hands part 1 over at 30, finishes part 2 at
    # 60 and holds it, blocked, until s2 takes it at 120; then 30 s work, 60 s blocked.
    horizon = 120.0 + 90.0 * 20
    r = run(line(["30 s", "90 s"], caps=[1, 0], duration=f"{horizon:g} s", trace=True))
    s1 = station(r, "s1").state_seconds
    assert s1["blocked"] == 60.0 + 60.0 * 20
    assert s1["working"] == 60.0 + 30.0 * 20
    b1 = buffer(r, "b1")
    assert b1.max_level == 0 and b1.mean_level == 0.0
    assert b1.trace_level is not None and not b1.trace_level.any()
    np.testing.assert_array_equal(done(r), 120.0 + 90.0 * np.arange(20))


def test_a_blocked_part_is_not_counted_in_a_full_buffer() -> None:
    r = run(line(["30 s", "90 s"], caps=[1, 1], duration="30 min", trace=True))
    b1 = buffer(r, "b1")
    assert b1.max_level == 1
    assert b1.trace_level.max() == 1
    # s1 works 30 s per 90 s once the buffer is full; the rest of the time it is blocked.
    s1 = station(r, "s1").state_seconds
    assert s1["blocked"] > 0.6 * 1800.0


def test_parallel_servers_double_the_rate() -> None:
    r = run(line([{"cycle": "120 s", "servers": 2}], caps=2))
    t = done(r)
    # Two parts every 120 s from t = 120.
    n = 2 * _count_before(120.0, 120.0, 3600.0)
    assert len(t) == n
    np.testing.assert_array_equal(t, np.repeat(120.0 + 120.0 * np.arange(n // 2), 2))
    s = station(r, "s1")
    assert s.servers == 2
    assert sum(s.state_seconds.values()) == pytest.approx(2 * 3600.0)


def test_a_dict_and_its_yaml_file_run_the_same(tmp_path) -> None:
    d = line([{"cycle": {"dist": "exponential", "mean": "50 s"}}, "55 s"], caps=[1, 3])
    a, b = run_once(scenario(d)), run_once(via_yaml(d, tmp_path))
    np.testing.assert_array_equal(a.completions.t_done, b.completions.t_done)
    assert len(a.completions) > 50


def test_warmup_discards_statistics_before_it() -> None:
    r = run(line(["60 s", "60 s"], caps=1, duration="2 h", warmup="30 min"))
    t = r.completions.t_done
    assert r.counters["completed"] == int((t >= 1800.0).sum())
    assert r.counters["completed"] < len(t)
    for s in r.stations:
        assert set(s.state_seconds) == set(STATES)
        assert sum(s.state_seconds.values()) == pytest.approx(5400.0)
        assert s.jobs == pytest.approx(5400.0 / 60.0, abs=1)


# -- assembly -----------------------------------------------------------------------------

def _kit_line(match: str) -> dict:
    """Bodies and packs from one kit source; packs of `slow` orders take 300 s to build."""
    return {
        "run": {"duration": "20 min"},
        "products": {"slow": {}, "fast": {}},
        "sources": {"src": {"kind": "saturated", "sequence": ["slow", "fast"]}},
        "stations": {
            "packshop": {"servers": 2, "cycle": {"by": "product",
                                                 "values": {"slow": "300 s", "fast": "10 s"}}},
            "marry": {"cycle": "60 s", "match": match, "carrier": "bodies"},
        },
        "buffers": {
            "bodies": {"from": "src", "to": "marry", "capacity": 10},
            "pack_in": {"from": "src", "to": "packshop", "capacity": 0},
            "packs": {"from": "packshop", "to": "marry", "capacity": 10},
            "out": {"from": "marry", "to": "yard", "capacity": "inf"},
        },
    }


def test_match_order_waits_for_the_pack_built_for_the_body(monkeypatch) -> None:
    pairs: list[tuple[int, int | None]] = []
    original = buffer_module.Buffer.take_order

    def spy(self, order: int, t: float):
        part = original(self, order, t)
        pairs.append((order, None if part is None else part.order))
        return part

    monkeypatch.setattr(buffer_module.Buffer, "take_order", spy)
    r = run(_kit_line("order"))
    c = r.completions
    # Pack 0 (slow) is ready at 300 although pack 1 is ready at 10: body 0 waits for it.
    # Packs: 1 at 10, 0 at 300, 2 and 3 at 310, 4 at 610; marriages take 60 s in body order.
    np.testing.assert_array_equal(c.t_done[:5], [360.0, 420.0, 480.0, 540.0, 670.0])
    np.testing.assert_array_equal(c.order, np.arange(len(c)))
    assert pairs and all(want == got for want, got in pairs)
    assert r.counters["consumed"] == len(pairs) == station(r, "marry").jobs == len(c)


def test_match_none_takes_whatever_pack_is_first() -> None:
    r = run(_kit_line("none"))
    assert r.completions.t_done[0] == 10.0 + 60.0


def _assembly(bodies: dict, packs: dict, consume: dict | None = None,
              products: dict | None = None) -> dict:
    st = {"cycle": "60 s"}
    if consume:
        st["consume"] = consume
    d = {
        "run": {"duration": "1 h"},
        "sources": {"bsrc": bodies, "psrc": packs},
        "stations": {"marry": st},
        "buffers": {
            "bodies": {"from": "bsrc", "to": "marry", "capacity": 5},
            "packs": {"from": "psrc", "to": "marry", "capacity": 50},
            "out": {"from": "marry", "to": "yard", "capacity": "inf"},
        },
    }
    if products:
        d["products"] = products
    return d


@pytest.mark.parametrize("bodies, packs, n", [
    ({"kind": "saturated"}, {"kind": "saturated", "limit": 3}, 3),
    ({"kind": "saturated", "limit": 2}, {"kind": "saturated"}, 2),
])
def test_assembly_starves_without_either_input(bodies: dict, packs: dict, n: int) -> None:
    r = run(_assembly(bodies, packs))
    assert len(r.completions) == n
    s = station(r, "marry").state_seconds
    assert s["working"] == 60.0 * n
    assert s["starved"] == 3600.0 - 60.0 * n


def test_consume_takes_a_numeric_attribute_of_parts_from_the_module_input() -> None:
    products = {"A": {"attrs": {"modules": 4}}, "B": {"attrs": {"modules": 3}}}
    bodies = {"kind": "saturated", "sequence": ["A", "B"]}
    modules = {"kind": "arrivals", "interarrival": "1 s", "limit": 10}
    r = run(_assembly(bodies, modules, {"packs": "modules"}, products))
    # Modules arrive at 1, 2, ... 10 s. A takes 4 (starts at 4), B takes 3 (starts at 64);
    # the next A needs 4 but only 3 remain, forever.
    np.testing.assert_array_equal(r.completions.t_done, [64.0, 124.0])
    assert r.counters["consumed"] == 7
    assert r.wip_end == 3


def test_consume_an_integer() -> None:
    modules = {"kind": "arrivals", "interarrival": "1 s", "limit": 11}
    r = run(_assembly({"kind": "saturated"}, modules, {"packs": 2}))
    assert len(r.completions) == 5
    assert r.counters["consumed"] == 10
    assert r.wip_end == 1


def test_consume_from_a_saturated_input_never_starves() -> None:
    r = run(_assembly({"kind": "saturated"}, {"kind": "saturated"}, {"packs": 2}))
    assert len(r.completions) == 59


def test_two_server_assembly_fed_by_a_backlogged_source() -> None:
    d = _assembly({"kind": "arrivals", "interarrival": "10 s"},
                  {"kind": "arrivals", "interarrival": "100 s"})
    d["stations"]["marry"]["servers"] = 2
    d["buffers"]["bodies"]["capacity"] = 1
    r = run(d)
    # Packs arrive every 100 s and limit the station: one marriage per pack.
    assert len(r.completions) == 35
    assert r.counters["consumed"] == 35


# -- routing ------------------------------------------------------------------------------

def _split(route: list[dict], products: dict | None = None, mix: dict | None = None,
           scrap: bool = False) -> dict:
    src = {"kind": "saturated"}
    if mix:
        src["mix"] = mix
    d = {
        "run": {"duration": "1 h", "seed": 3},
        "sources": {"src": src},
        "stations": {"s1": {"cycle": "1 s", "route": route}},
        "buffers": {
            "b0": {"from": "src", "to": "s1", "capacity": 1},
            "to_a": {"from": "s1", "to": "a", "capacity": "inf"},
            "to_b": {"from": "s1", "to": "b", "capacity": "inf"},
        },
        "sinks": {"a": {}, "b": {"scrap": scrap}},
    }
    if products:
        d["products"] = products
    return d


def test_probabilistic_split_within_a_binomial_bound() -> None:
    p = 0.3
    r = run(_split([{"to": "to_a", "p": p}, {"to": "to_b"}]))
    n = len(r.completions)
    assert n == 3599
    k = int((r.completions.sink == r.sinks.index("a")).sum())
    assert abs(k - p * n) <= 4.0 * math.sqrt(n * p * (1 - p))


def test_learning_curve_probability_moves_linearly() -> None:
    curve = {"initial": 1.0, "final": 0.0, "from": "2024-01-02", "over": "1 d",
             "shape": "linear"}
    d = _split([{"to": "to_a", "p": curve}, {"to": "to_b"}])
    d["run"]["duration"] = "3 d"
    d["stations"]["s1"]["cycle"] = "60 s"
    r = run(d)
    c = r.completions
    to_a = c.sink == r.sinks.index("a")
    day = (c.t_done // 86400).astype(int)
    assert to_a[day == 0].all()  # p = 1 before `from`
    assert not to_a[day == 2].any()  # p = 0 after `from + over`
    # On day 2 p falls linearly from 1 to 0: the expected count is the sum of p.
    p = 1.0 - (c.t_done[day == 1] - 86400.0) / 86400.0
    k = int(to_a[day == 1].sum())
    assert abs(k - p.sum()) <= 4.0 * math.sqrt((p * (1 - p)).sum())


def test_split_by_product_attribute_is_exact() -> None:
    products = {"R5": {"attrs": {"platform": "small"}}, "Megane": {"attrs": {"platform": "medium"}}}
    route = [{"to": "to_a", "when": {"platform": "small"}},
             {"to": "to_b", "when": {"platform": "medium"}}]
    r = run(_split(route, products, {"R5": 0.5, "Megane": 0.5}))
    c = r.completions
    small = np.array([r.type_product[k] == "R5" for k in c.type])
    np.testing.assert_array_equal(c.sink == r.sinks.index("a"), small)
    assert 0 < small.sum() < len(c)


def test_scrap_sink_counts_as_scrapped_not_completed() -> None:
    p = 0.1
    r = run(_split([{"to": "to_b", "p": p}, {"to": "to_a"}], scrap=True))
    scrapped = int((r.completions.sink == r.sinks.index("b")).sum())
    assert r.counters["scrapped"] == scrapped > 0
    assert r.counters["completed"] == len(r.completions) - scrapped == int(r.done_mask().sum())
    n = len(r.completions)
    assert abs(scrapped - p * n) <= 4.0 * math.sqrt(n * p * (1 - p))


def test_rework_loop_visit_ratio() -> None:
    # Every part visits the inspection a geometric number of times, mean 1 / (1 - p).
    p = 0.2
    d = {
        "run": {"duration": "12 h", "seed": 5},
        "sources": {"src": {"kind": "saturated"}},
        "stations": {"build": {"cycle": "60 s"},
                     "inspect": {"cycle": "30 s",
                                 "route": [{"to": "b1", "p": p}, {"to": "out"}]}},
        "buffers": {
            "b0": {"from": "src", "to": "build", "capacity": 1},
            "b1": {"from": ["build", "inspect"], "to": "inspect", "capacity": "inf"},
            "out": {"from": "inspect", "to": "yard", "capacity": "inf"},
        },
    }
    r = run(d)
    n = len(r.completions)
    visits = station(r, "inspect").jobs
    in_flight = r.wip_end
    # Visits of the n finished parts: sum of n geometrics, sd sqrt(n p) / (1 - p).
    bound = 4.0 * math.sqrt(n * p) / (1 - p) + 4 * in_flight
    assert abs(visits - n / (1 - p)) <= bound
    assert visits > n


def test_an_assembly_reports_which_input_it_waited_for() -> None:
    # Bodies never run out; a pack arrives every 2 min and the job takes 30 s: in one hour
    # 29 jobs (packs at 2, 4, ..., 58 min) work 870 s, and the rest is waiting for packs.
    from sim.analysis.kpi import run_kpis

    d = {"run": {"duration": "1 h"},
         "products": {"body": {}, "pack": {}},
         "sources": {"src": {"kind": "saturated", "mix": {"body": 1.0}},
                     "packs": {"kind": "arrivals", "interarrival": "2 min",
                               "mix": {"pack": 1.0}}},
         "stations": {"m": {"cycle": "30 s", "carrier": "b_body"}},
         "buffers": {"b_body": {"from": "src", "to": "m", "capacity": 1},
                     "b_pack": {"from": "packs", "to": "m", "capacity": "inf"},
                     "out": {"from": "m", "to": "yard", "capacity": "inf"}}}
    k = run_kpis(run(d))
    assert k["station.m.waiting_for.b_pack"] == pytest.approx((3600 - 29 * 30) / 3600)
    assert k["station.m.waiting_for.b_body"] == 0.0
    assert k["station.m.waiting_for.b_pack"] == pytest.approx(k["station.m.starved"])


# -- the fused job end (LineServer) --------------------------------------------------------

@st.composite
def plain_lines(draw) -> dict:
    """Lines whose stations qualify for the fused job end: one server, no calendar, no
    time-dependent failures; cycles deterministic or not, buffers traced or not, warm-up."""
    n = draw(st.integers(1, 5))
    stations = []
    for _ in range(n):
        mean = draw(st.integers(5, 90))
        spec: dict = {"cycle": (f"{mean} s" if draw(st.booleans()) else
                                {"dist": "exponential", "mean": f"{mean} s"})}
        if draw(st.booleans()):
            spec["failures"] = {"mtbf": f"{draw(st.integers(120, 3600))} s",
                                "mttr": f"{draw(st.integers(10, 600))} s",
                                "mode": "operation",
                                "after_failure": draw(st.sampled_from(["resume", "repeat"]))}
        stations.append(spec)
    caps = [draw(st.integers(0, 4)) for _ in range(n)]
    source = draw(st.sampled_from([
        None, {"kind": "arrivals", "interarrival": {"dist": "exponential", "mean": "40 s"}}]))
    return line(stations, caps, source=source, duration=f"{draw(st.integers(2, 12))} h",
                seed=draw(st.integers(0, 999)), trace=draw(st.booleans()),
                warmup=draw(st.sampled_from(["0 s", "30 min", "61 min"])))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(plain_lines())
def test_the_fused_job_end_runs_the_same_line_as_generic_servers(d: dict) -> None:
    """LineServer is a pure speed-up: same events, draws and heap order as Server, so the
    same completions, counts and buffer traces; state seconds equal to rounding (working
    is a remainder on both, but summed in another order)."""
    sc = scenario(d)
    fused_model = build(sc, 0)
    assert any(isinstance(s, LineServer) for st_ in fused_model.stations.values()
               for s in st_.machines())
    fused = run_once(sc, 0, model=fused_model)
    plain = run_once(sc, 0, model=build(sc, 0, fuse=False))
    for field in ("part", "order", "type", "sink", "t_release", "t_done"):
        np.testing.assert_array_equal(getattr(fused.completions, field),
                                      getattr(plain.completions, field))
    assert fused.counters == plain.counters and fused.wip_end == plain.wip_end
    for a, b in zip(fused.stations, plain.stations):
        assert a.jobs == b.jobs and a.failures == b.failures
        for state, sec in a.state_seconds.items():
            assert sec == pytest.approx(b.state_seconds[state], rel=1e-12, abs=1e-6), state
    for a, b in zip(fused.buffers, plain.buffers):
        assert a.max_level == b.max_level and a.mean_level == b.mean_level
        if a.trace_t is not None:
            np.testing.assert_array_equal(a.trace_t, b.trace_t)
            np.testing.assert_array_equal(a.trace_level, b.trace_level)


def test_stations_on_a_loop_or_under_a_dated_change_are_not_fused() -> None:
    """A station a part can come back to keeps the generic server (its restart must see
    the parts the loop brings back in the generic order); so does one a change touches."""
    d = line(["60 s", "60 s", "60 s"], 2)
    d["buffers"]["b1"]["from"] = ["s1", "s3"]
    d["stations"]["s3"]["route"] = [{"to": "b1", "p": 0.1}, {"to": "out"}]
    d["run"].update(start="2025-01-01", duration="2 d")
    d["changes"] = {"c": {"from": "2025-01-02", "set": {"stations.s1.cycle": "50 s"}}}
    kinds = {n: type(s.servers[0]).__name__ for n, s in build(scenario(d), 0).stations.items()}
    assert kinds == {"s1": "Server", "s2": "Server", "s3": "Server"}
    kinds = {n: type(s.servers[0]).__name__
             for n, s in build(scenario(line(["60 s", "60 s"], 2)), 0).stations.items()}
    assert kinds == {"s1": "LineServer", "s2": "LineServer"}


def _naive_on_loop(succ: dict[str, list[str]]) -> set[str]:
    """A node is on a loop when it can reach itself: the definition, quadratic."""
    out = set()
    for n in succ:
        seen, todo = set(), list(succ.get(n, ()))
        while todo:
            x = todo.pop()
            if x not in seen:
                seen.add(x)
                todo.extend(succ.get(x, ()))
        if n in seen:
            out.add(n)
    return out


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"),
                       st.lists(st.sampled_from("abcdefgh"), max_size=3), max_size=8))
def test_the_linear_loop_finder_agrees_with_the_definition(succ) -> None:
    from sim.engine.model import _on_loops

    assert _on_loops(succ) == _naive_on_loop(succ)


def test_the_loop_finder_is_iterative_on_a_long_line() -> None:
    from sim.engine.model import _on_loops

    n = 50_000  # far deeper than Python's recursion limit
    succ = {f"s{i}": [f"s{i + 1}"] for i in range(n)}
    assert _on_loops(succ) == set()
    succ[f"s{n}"] = ["s0"]
    assert len(_on_loops(succ)) == n + 1


def test_checking_and_building_a_long_line_indexes_its_buffers_once(monkeypatch) -> None:
    """The flow graph is indexed in one pass and reused (a check of thousands of stations
    is linear, not a scan of every buffer per station)."""
    from sim.spec.scenario import Scenario

    builds = []
    real = Scenario._flow

    def counting(self):
        if self._flow_index is None or self._flow_index[0] is not self.buffers:
            builds.append(1)
        return real(self)

    monkeypatch.setattr(Scenario, "_flow", counting)
    sc = scenario(line(["50 s"] * 2000, 1))
    build(sc, 0)
    assert len(builds) == 1


def test_a_dated_outage_stops_a_station_for_its_whole_days() -> None:
    """A 60 s station of no calendar, down on 2 Jan: 1,440 jobs a day on the 1st and 3rd
    (the one ending at the horizon is not processed), none inside the 2nd, which is its
    off-shift time; the line around it is unchanged."""
    d = line([{"cycle": "60 s", "outages": [{"from": "2024-01-02", "to": "2024-01-02",
                                             "note": "maintenance"}]}], 1, duration="3 d")
    r = run(d)
    t = np.sort(r.completions.t_done)
    assert len(t) == 2 * 1440 - 1
    assert not np.any((t > DAY) & (t < 2 * DAY))
    s1 = next(s for s in r.stations if s.name == "s1")
    assert s1.state_seconds["off_shift"] == DAY and s1.state_seconds["working"] == 2 * DAY


def test_an_outage_on_a_calendar_cancels_that_production_day_only() -> None:
    shifts = {"c": {"shifts": [{"name": "day", "days": "mon-fri", "start": "06:00",
                                "end": "14:00"}]}}
    d = line([{"cycle": "60 s", "calendar": "c",
               "outages": [{"from": "2024-01-03", "to": "2024-01-04"}]}], 1,
             duration="5 d", calendars=shifts)
    r = run(d)
    days = np.bincount((np.sort(r.completions.t_done) // DAY).astype(int), minlength=5)
    assert days.tolist() == [480, 480, 0, 0, 480]  # 8 h of 60 s jobs, none on 3-4 Jan


def test_an_outage_outside_the_run_is_refused() -> None:
    from pydantic import ValidationError

    d = line([{"cycle": "60 s", "outages": [{"from": "2025-01-02", "to": "2025-01-03"}]}],
             1, duration="3 d")
    with pytest.raises(ValidationError, match="outside the run"):
        scenario(d)
