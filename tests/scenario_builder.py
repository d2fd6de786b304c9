"""Small scenarios for engine tests, written as Python dicts and validated for real.

The engine tests need many tiny lines (three stations, a buffer of 0, one calendar) whose
behaviour can be worked out on paper. Writing each as a YAML file would hide the numbers
the test reasons about; writing them as dicts next to the assertions keeps the arithmetic
in view. Every dict still goes through the real validation (`Scenario.model_validate`, the
same models the loader fills), and `via_yaml` round-trips a dict through a YAML file and
`load_scenario`, so nothing here bypasses the scenario contract.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.engine.records import BufferRecord, RunResult, StationRecord
from sim.engine.run import run_once
from sim.spec.loader import load_scenario
from sim.spec.scenario import Scenario

Spec = dict[str, Any]

HOUR = 3600.0
DAY = 86400.0


def _with_defaults(d: Spec) -> Spec:
    out = copy.deepcopy(d)
    out.setdefault("name", "test")
    out.setdefault("run", {"duration": "1 h"})
    out.setdefault("sinks", {"yard": {}})
    return out


def scenario(d: Spec) -> Scenario:
    """Validate a scenario dict (name, run and a `yard` sink defaulted)."""
    return Scenario.model_validate(_with_defaults(d))


def via_yaml(d: Spec, folder: Path, stem: str = "test") -> Scenario:
    """Write the dict as YAML into `folder` and load it with the real loader."""
    path = Path(folder) / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(_with_defaults(d), sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def run(d: Spec, replication: int = 0) -> RunResult:
    """Validate and run one replication."""
    return run_once(scenario(d), replication)


def line(stations: Sequence[str | Spec], caps: int | str | Sequence[int | str] = 2, *,
         source: Spec | None = None, duration: str = "1 h", seed: int = 1,
         warmup: str = "0 s", calendars: Spec | None = None, trace: bool = False,
         **run_extra: Any) -> Spec:
    """A serial line src -> b0 -> s1 -> b1 -> s2 ... -> sN -> out -> yard.

    `stations` items are a cycle (a duration) or a full station spec; `caps` is one capacity
    for every inner buffer b0..b(N-1) or a list of them.
    """
    n = len(stations)
    caps_list = [caps] * n if isinstance(caps, (int, str)) else list(caps)
    assert len(caps_list) == n, "one capacity per buffer b0..b(N-1)"
    st = {f"s{i + 1}": ({"cycle": s} if isinstance(s, str) else dict(s))
          for i, s in enumerate(stations)}
    buffers: Spec = {}
    for i in range(n):
        feeder = "src" if i == 0 else f"s{i}"
        buffers[f"b{i}"] = {"from": feeder, "to": f"s{i + 1}", "capacity": caps_list[i],
                            "trace": trace}
    buffers["out"] = {"from": f"s{n}", "to": "yard", "capacity": "inf"}
    run_spec = {"duration": duration, "seed": seed, "warmup": warmup, **run_extra}
    d: Spec = {"run": run_spec, "sources": {"src": source or {"kind": "saturated"}},
               "stations": st, "buffers": buffers, "sinks": {"yard": {}}}
    if calendars:
        d["calendars"] = calendars
    return d


def station(r: RunResult, name: str) -> StationRecord:
    """The record of station `name`."""
    return next(s for s in r.stations if s.name == name)


def buffer(r: RunResult, name: str) -> BufferRecord:
    """The record of buffer `name`."""
    return next(b for b in r.buffers if b.name == name)


def done(r: RunResult, sink: str = "yard") -> np.ndarray:
    """Completion times (whole run) into one sink, sorted."""
    k = r.sinks.index(sink)
    return np.sort(r.completions.t_done[r.completions.sink == k])


def shift(name: str, start: str, end: str, days: str = "daily", **extra: Any) -> Spec:
    """One shift of a weekly pattern."""
    return {"name": name, "days": days, "start": start, "end": end, **extra}


def deterministic(value: str) -> Spec:
    """A deterministic DistSpec written out in full (e.g. for `uptime:`)."""
    return {"dist": "deterministic", "value": value}


def deadlocking_loop() -> dict:
    """A rework loop with buffers of one: s2 sends half its parts back into s1's full input
    while s1 holds a finished part for s2's full input: a deadlock within minutes."""
    return {
        "run": {"duration": "2 d", "start": "2025-01-01", "seed": 3},
        "sources": {"src": {"kind": "saturated"}},
        "stations": {"s1": {"cycle": {"dist": "exponential", "mean": "1 min"}},
                     "s2": {"cycle": {"dist": "exponential", "mean": "1 min"},
                            "route": [{"to": "b0", "p": 0.5}, {"to": "out"}]}},
        "buffers": {"b0": {"from": ["src", "s2"], "to": "s1", "capacity": 1},
                    "b1": {"from": "s1", "to": "s2", "capacity": 1},
                    "out": {"from": "s2", "to": "yard", "capacity": "inf"}},
    }


TABLE_SCENARIO = """\
run: {start: 2025-01-01, duration: 14 d}
products: {A: {}, B: {}}
sources: {orders: {kind: demand, demand: {periods: {table: book.csv}}}}
stations: {s1: {cycle: 60 s}}
buffers:
  feed: {from: orders, to: s1, capacity: 1}
  out: {from: s1, to: yard, capacity: inf}
sinks: {yard: {}}
"""
TABLE_CSV = "from,to,A,B per day,note\n2025-01-01,2025-01-07,700,,week 1\n2025-01-08,2025-01-14,,90.5,\n"


def table_files(tmp_path: Path, table: str = TABLE_CSV, scenario: str = TABLE_SCENARIO) -> Path:
    """A scenario whose order book is the table book.csv beside it."""
    (tmp_path / "book.csv").write_text(table, encoding="utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(scenario, encoding="utf-8")
    return path
