"""The reference line as a minimal hand-written heapq event loop: the practical speed limit.

Why this file exists: docs/design.md §5 measures every way of writing a line model against the
fastest thing plain Python can do. This is that thing, written the way an expert would for
speed but without tricks: one heap of ``(time, seq, station)`` job-end events, integer
buffer counts, and zero-time transfers (put a part down, wake a starved neighbour, unblock
an upstream station) as plain code inside the event handler, never as extra events.

Semantics (shared with ``naive_simpy.py`` and ``reference_line.yaml``):

- ``stations`` stations in series, deterministic cycle ``CYCLE``; station 0 is fed by a
  saturated source (never starves); the last station delivers to a sink.
- Buffers of capacity ``CAPACITY`` between consecutive stations; blocking after service:
  a station that finishes while its output buffer is full keeps its part and is blocked.
- Operation-dependent failures, preempt-resume: each station holds a budget of operating
  time left before its next failure (exponential, mean ``MTBF``). Failures are lazy: at job
  start, while the budget is smaller than the work still to do, the job consumes the budget,
  suffers a repair (exponential, mean ``MTTR``) and a new budget is drawn. So
  ``job end = start + cycle + the repairs that fall inside it``. A budget equal to the work
  left is not a failure during this job; the failure then happens at the next job start.
- One ``random.Random`` stream per station, drawn in the order time to failure, repair,
  time to failure, ... (as in ``naive_simpy.py``, so both follow the same sample path).
- The horizon is half-open: a job ending exactly at the horizon is not counted.
"""

from __future__ import annotations

import heapq
import random

CYCLE = 60.0
CAPACITY = 5
MTBF = 8 * 3600.0
MTTR = 10 * 60.0
STATIONS = 20


def run(seed: int, days: float = 365, failures: bool = True, stations: int = STATIONS) -> int:
    """Simulate the line for ``days`` and return the number of parts that reached the sink."""
    horizon = days * 86400.0
    expos = [random.Random(f"{seed}:{i}").expovariate for i in range(stations)]
    fail_rate, repair_rate = 1.0 / MTBF, 1.0 / MTTR
    last = stations - 1
    cycle = CYCLE
    cap = CAPACITY
    buf = [0] * stations            # buf[i]: parts waiting in front of station i (i >= 1)
    busy = [False] * stations       # holds a part (working or blocked)
    blocked = [False] * stations    # finished, waiting for space downstream
    budget = [expos[i](fail_rate) if failures else float("inf") for i in range(stations)]
    heap: list[tuple[float, int, int]] = []
    push, pop = heapq.heappush, heapq.heappop
    seq = 0
    done = 0

    def try_start(i: int, t: float) -> None:
        """Start station ``i`` (idle) if it has a part; cascade unblocking upstream."""
        nonlocal seq
        while True:
            if i:
                if not buf[i]:
                    return
                buf[i] -= 1
            b = budget[i]
            if b >= cycle:
                budget[i] = b - cycle
                end = t + cycle
            else:
                left, down, expo = cycle, 0.0, expos[i]
                while b < left:
                    left -= b
                    down += expo(repair_rate)
                    b = expo(fail_rate)
                budget[i] = b - left
                end = t + cycle + down
            busy[i] = True
            seq += 1
            push(heap, (end, seq, i))
            if not i:
                return
            i -= 1
            if not blocked[i]:
                return
            blocked[i] = busy[i] = False
            buf[i + 1] += 1

    for i in range(stations):
        try_start(i, 0.0)
    while heap:
        t, _, i = pop(heap)
        if t >= horizon:
            break
        if i == last:
            done += 1
        else:
            k = i + 1
            if buf[k] >= cap:
                blocked[i] = True
                continue
            buf[k] += 1
            if not busy[k]:
                try_start(k, t)
        busy[i] = False
        try_start(i, t)
    return done


if __name__ == "__main__":
    import sys
    import time

    t0 = time.perf_counter()
    n = run(1, float(sys.argv[1]) if len(sys.argv) > 1 else 365)
    print(f"heapq loop: {n} vehicles in {time.perf_counter() - t0:.2f} s")
