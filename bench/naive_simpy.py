"""The reference line in plain, naive, idiomatic SimPy: the baseline a typical user writes.

Why this file exists: docs/design.md §5 claims that *how* a line model is written moves its speed
by 7x or more. This is the "how a typical user writes it" end of that claim, so it is written
the textbook way on purpose: one generator process per station, ``simpy.Store`` buffers
(a blocked station waits on ``put``), and one failure process per station that interrupts the
station process. Do not optimise it; it is a yardstick.

Semantics are those of ``heapq_loop.py`` (read its docstring): saturated source, blocking
after service, operation-dependent failures with preempt-resume, half-open horizon
(``env.run(until=horizon)`` does not process events at the horizon itself).

The failure clock only runs while the station works. The station keeps a tally of its
operating time; the failure process draws an operating-time budget, sleeps for the part of
it not yet worked, wakes, reads the tally and sleeps again for the rest, until the budget is
used up. It then interrupts the station (at once if it is working, else as soon as it starts),
passing the repair time; the station waits for the repair and resumes the job.

Randomness: one ``random.Random`` stream per station, drawn in the order time to failure,
repair, time to failure, ... exactly as in ``heapq_loop.py``, so that both models given the
same seed follow the same sample path (a strong cross-check of the two implementations).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from typing import Any

import simpy

CYCLE = 60.0
CAPACITY = 5
MTBF = 8 * 3600.0
MTTR = 10 * 60.0
STATIONS = 20
TOLERANCE = 1e-6    # s: a budget this close to used up is used up (float round-off)


class Station:
    """A single-server station: take a part, work on it, put it downstream."""

    def __init__(self, env: simpy.Environment, inp: simpy.Store | None,
                 out: simpy.Store | None, rng: random.Random | None) -> None:
        self.env = env
        self.inp = inp
        self.out = out
        self.rng = rng
        self.done = 0
        self.working = False
        self.worked = 0.0                       # operating seconds before ``since``
        self.since = 0.0                        # start of the current stretch of work
        self.wake: simpy.Event | None = None    # a failure waiting for work to start
        self.process = env.process(self.work())
        if rng is not None:
            env.process(self.failure_clock())

    def operating_time(self) -> float:
        """Seconds worked so far (the failure clock)."""
        if self.working:
            return self.worked + (self.env.now - self.since)
        return self.worked

    def start_work(self) -> None:
        """Start the failure clock and release a failure that waits for it."""
        self.working = True
        self.since = self.env.now
        if self.wake is not None:
            wake, self.wake = self.wake, None
            wake.succeed()

    def stop_work(self) -> None:
        """Stop the failure clock."""
        self.working = False
        self.worked += self.env.now - self.since

    def work(self) -> Generator[simpy.Event, Any, None]:
        """Station process: fetch, process (surviving failures), deliver."""
        env = self.env
        part = 0
        while True:
            if self.inp is None:
                part += 1
            else:
                part = yield self.inp.get()
            remaining = CYCLE
            while remaining > 0:
                self.start_work()
                started = env.now
                try:
                    yield env.timeout(remaining)
                    remaining = 0.0
                    self.stop_work()
                except simpy.Interrupt as failure:
                    remaining -= env.now - started
                    self.stop_work()
                    yield env.timeout(failure.cause)
            if self.out is None:
                self.done += 1
            else:
                yield self.out.put(part)

    def failure_clock(self) -> Generator[simpy.Event, Any, None]:
        """Failure process: wait until the budget is worked, then interrupt the station."""
        assert self.rng is not None
        env = self.env
        while True:
            due = self.operating_time() + self.rng.expovariate(1.0 / MTBF)
            while (left := due - self.operating_time()) > TOLERANCE:
                yield env.timeout(left)
            while not self.working:
                self.wake = env.event()
                yield self.wake
            self.process.interrupt(self.rng.expovariate(1.0 / MTTR))


def run(seed: int, days: float = 365, failures: bool = True, stations: int = STATIONS) -> int:
    """Simulate the line for ``days`` and return the number of parts that reached the sink."""
    env = simpy.Environment()
    stores = [simpy.Store(env, capacity=CAPACITY) for _ in range(stations - 1)]
    line = [
        Station(env, stores[i - 1] if i else None, stores[i] if i < stations - 1 else None,
                random.Random(f"{seed}:{i}") if failures else None)
        for i in range(stations)
    ]
    env.run(until=days * 86400.0)
    return line[-1].done


if __name__ == "__main__":
    import sys
    import time

    t0 = time.perf_counter()
    n = run(1, float(sys.argv[1]) if len(sys.argv) > 1 else 365)
    print(f"naive SimPy: {n} vehicles in {time.perf_counter() - t0:.2f} s")
