"""Hand-made RunResult objects for tests of everything downstream of a run.

The engine is not needed to test KPIs, tables, output and plots: a few completions,
stations and buffers written by hand give KPIs that can be computed on paper.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence

import numpy as np

from sim.engine.records import BufferRecord, Completions, RunResult, StationRecord, frozen_array

DAY = 86400.0
HOUR = 3600.0

TYPES = ("A/std", "B/x", "B/y")
TYPE_PRODUCT = ("A", "B", "B")
SINKS = ("yard", "scrap")
SINK_SCRAP = (False, True)


def completions(rows: Sequence[tuple[int, int, float, float]]) -> Completions:
    """Completions from rows (type index, sink index, t_release s, t_done s)."""
    n = len(rows)
    types = [r[0] for r in rows]
    sinks = [r[1] for r in rows]
    rel = [r[2] for r in rows]
    done = [r[3] for r in rows]
    return Completions(
        part=frozen_array(np.arange(n), "int64"),
        order=frozen_array(np.arange(n) // 2, "int64"),
        type=frozen_array(types, "int32"),
        sink=frozen_array(sinks, "int16"),
        t_release=frozen_array(rel, "float64"),
        t_done=frozen_array(done, "float64"),
    )


def station(name: str, **seconds: float) -> StationRecord:
    """A one-server station with the given seconds per state (missing states absent)."""
    return StationRecord(name=name, servers=1, state_seconds=dict(seconds), jobs=0, failures=0)


def buffer(
    name: str,
    capacity: float = 5,
    mean_level: float = 1.0,
    max_level: int = 3,
    trace: tuple[Sequence[float], Sequence[int]] | None = None,
) -> BufferRecord:
    """A buffer record, optionally with a level trace (times s, levels)."""
    t = frozen_array(trace[0], "float64") if trace is not None else None
    lv = frozen_array(trace[1], "int32") if trace is not None else None
    return BufferRecord(name, capacity, mean_level, max_level, t, lv)


def make_result(
    rows: Sequence[tuple[int, int, float, float]] = (),
    *,
    warmup: float = 0.0,
    horizon: float = 3 * DAY,
    replication: int = 0,
    stations: Sequence[StationRecord] = (),
    buffers: Sequence[BufferRecord] = (),
    released: int = 0,
    lost: int = 0,
    wip_mean: float = 0.0,
    start: datetime.date = datetime.date(2024, 1, 1),
    counters: dict[str, int] | None = None,
) -> RunResult:
    """A RunResult with products A (one type) and B (two types), sinks yard and scrap."""
    return RunResult(
        scenario="hand-made",
        replication=replication,
        seed=1000 + replication,
        start=start,
        warmup=warmup,
        horizon=horizon,
        types=TYPES,
        type_product=TYPE_PRODUCT,
        sinks=SINKS,
        sink_scrap=SINK_SCRAP,
        log=completions(rows),
        stations=tuple(stations),
        buffers=tuple(buffers),
        released=released,
        lost=lost,
        wip_mean=wip_mean,
        wip_end=0,
        events=10 * len(rows),
        wall_seconds=0.01,
        counters=dict(counters or {}),
    )


def random_result(
    replication: int = 0,
    n: int = 2000,
    days: int = 14,
    seed: int = 7,
    trace: bool = True,
) -> RunResult:
    """A plausible larger run (random completions, two stations, two buffers), for plots/output."""
    rng = np.random.default_rng([seed, replication])
    horizon = days * DAY
    done = np.sort(rng.uniform(0.0, horizon, n))
    lead = rng.gamma(4.0, 1.5 * HOUR, n)
    rel = np.maximum(done - lead, 0.0)
    typ = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    sink = (rng.random(n) < 0.03).astype(int)
    rows = list(zip(typ.tolist(), sink.tolist(), rel.tolist(), done.tolist()))
    obs = horizon - DAY
    st = (
        station("s1", working=0.7 * obs, blocked=0.1 * obs, starved=0.05 * obs,
                failed=0.05 * obs, off_shift=0.1 * obs),
        station("s2", working=0.6 * obs, blocked=0.0, starved=0.2 * obs,
                failed=0.1 * obs, off_shift=0.1 * obs),
    )
    tt = np.sort(rng.uniform(0.0, horizon, 20000)) if trace else None
    walk = np.cumsum(rng.choice([-1, 1], 20000))
    lv = 5 - np.abs(walk % 10 - 5) if trace else None  # a walk reflected into [0, 5]
    bufs = (
        buffer("b1", 5, 2.5 + 0.1 * replication, 5, (tt, lv) if trace else None),
        buffer("b2", math.inf, 7.0, 30),
    )
    return make_result(
        rows, warmup=DAY, horizon=horizon, replication=replication, stations=st,
        buffers=bufs, released=n + 5, lost=0, wip_mean=12.0,
    )
