"""bench/bench_events.py counts what the run loop pops, and its merge bound is exact
where it can be checked by hand: a job end into a sink is quiet unless work waits."""

from __future__ import annotations

import importlib.util

from paths import BENCH
from scenario_builder import via_yaml

from sim.engine.run import run_once


def _census():
    spec = importlib.util.spec_from_file_location("bench_events", BENCH / "bench_events.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.census


def test_census_counts_every_job_end_and_bounds_the_quiet_ones(tmp_path):
    d = {"run": {"duration": "2 d", "start": "2025-01-01", "seed": 3},
         "sources": {"src": {"kind": "arrivals", "interarrival": {"dist": "exponential",
                                                                  "mean": "100 s"}}},
         "stations": {"a": {"servers": 3, "cycle": {"dist": "exponential", "mean": "250 s"}}},
         "buffers": {"queue": {"from": "src", "to": "a", "capacity": "inf"},
                     "out": {"from": "a", "to": "yard", "capacity": "inf"}}}
    sc = via_yaml(d, tmp_path)
    events, ends, done = _census()(str(tmp_path / "test.yaml"), 0)
    plain = run_once(sc, 0)  # not wrapped: the census changes nothing in the run
    a = next(s for s in plain.stations if s.name == "a")
    assert done == plain.counters["completed"] == a.jobs > 1000
    assert events["job end [a]"] == a.jobs
    released = plain.counters["released"]
    assert sum(events.values()) == a.jobs + released  # one release event per arrival
    c = ends["a"]
    assert c["job ends"] == a.jobs
    assert c["full, work waiting"] > 0 and c["blocked"] == 0
    assert c["could skip"] + c["full, work waiting"] == c["job ends"]  # a sink never waits
