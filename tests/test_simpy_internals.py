"""The SimPy internals the engine relies on for speed: fail loudly if a SimPy release
changes them (pyproject pins simpy to >=4.1,<5).

The engine pushes `(time, priority, id, event)` tuples straight onto
`Environment._queue` with ids from `Environment._eid`, runs its own copy of
`Environment.step` (`sim.engine.run._run_until`), reuses events by resetting
`callbacks`, and lets a station's server stand in for its own job-end event."""

from __future__ import annotations

import itertools
from heapq import heappush
from importlib import metadata

import simpy
from simpy.core import NORMAL, URGENT

from sim.engine.machine import reusable_event


def test_the_pinned_range_and_the_queue_layout() -> None:
    major, minor = (int(x) for x in metadata.version("simpy").split(".")[:2])
    assert (major, minor) >= (4, 1) and major < 5
    assert (URGENT, NORMAL) == (0, 1)
    env = simpy.Environment()
    assert env._queue == [] and isinstance(env._eid, itertools.count) and env._now == 0
    ev = env.event()
    env.schedule(ev, NORMAL, 5.0)
    (entry,) = env._queue
    assert entry[0] == 5.0 and entry[1] == NORMAL and entry[3] is ev and len(entry) == 4


def test_a_reused_event_and_a_stand_in_event_are_processed_by_simpy_step() -> None:
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    ev = reusable_event(env)
    assert ev._ok is True and ev._value is None

    class StandIn:  # what sim.engine.station.Server offers SimPy
        _ok = True
        _value = None

        def __init__(self) -> None:
            self.callbacks: list | None = [lambda e: seen.append(("stand-in", env.now))]

    for when in (1.0, 2.0):
        ev.callbacks = [lambda e: seen.append(("reused", env.now))]
        heappush(env._queue, (when, NORMAL, next(env._eid), ev))
        env.step()
    heappush(env._queue, (3.0, NORMAL, next(env._eid), StandIn()))
    env.step()
    assert seen == [("reused", 1.0), ("reused", 2.0), ("stand-in", 3.0)]
