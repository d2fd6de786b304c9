"""The SimPy internals `sim.engine.kernel` relies on for speed: fail loudly if a SimPy
release changes them (pyproject pins simpy to >=4.1.2,<4.2).

The kernel pushes `(time, priority, id, event)` tuples straight onto
`Environment._queue` with ids from `Environment._eid`, sets `Environment._now` in its own
copy of `Environment.step`, and lets long-lived objects stand in for events (`_ok`,
`_value`, `callbacks`)."""

from __future__ import annotations

import inspect
import itertools
from importlib import metadata

import simpy
from simpy.core import NORMAL, URGENT

from sim.engine import kernel
from sim.engine.kernel import Wakeup


def test_the_pinned_range_and_the_queue_layout() -> None:
    major, minor = (int(x) for x in metadata.version("simpy").split(".")[:2])
    assert (major, minor) == (4, 1), "the kernel is tested against SimPy 4.1 only"
    assert (URGENT, NORMAL) == (0, 1) == (kernel.URGENT, kernel.NORMAL)
    env = simpy.Environment()
    assert env._queue == [] and isinstance(env._eid, itertools.count) and env._now == 0
    ev = env.event()
    env.schedule(ev, NORMAL, 5.0)
    (entry,) = env._queue
    assert entry[0] == 5.0 and entry[1] == NORMAL and entry[3] is ev and len(entry) == 4


def test_step_reads_what_a_stand_in_event_offers() -> None:
    """`Environment.step` pops, sets `_now`, swaps `callbacks` for None, calls them and
    checks `_ok` / `_defused`: the names `kernel.run_until` copies."""
    src = inspect.getsource(simpy.Environment.step)
    for name in ("heappop(self._queue)", "self._now", "event.callbacks = event.callbacks, None",
                 "event._ok", "'_defused'", "exc.__cause__ = event._value", "StopSimulation"):
        assert name in src, name


def test_a_wakeup_is_processed_by_simpy_step_again_and_again() -> None:
    env = simpy.Environment()
    seen: list[float] = []
    wake = Wakeup(env, seen.append)
    assert wake._ok is True and wake._value is None
    for delay in (1.0, 1.0, 0.5):
        wake.after(delay)
        env.step()
    assert seen == [1.0, 2.0, 2.5]
