"""Sequenced call-off (just in sequence): a kit part released by its order's progress.

Why: a battery pack built for an order should be called off when that order's body
passes a point of the main flow (it leaves paint, enters the painted-body store), not on
a timer after the order's release: with a timer, orders queuing in front of the body shop
call off packs for bodies that are days away, and the pack buffer swells. Here the pack
order is released when the body reaches the point, plus an optional lead, so the packs
in the shop and its buffer are those of bodies already past the point.

The point is a buffer (`WatchedBuffer`): a part *reaches* it when it is put in, or when
its feeder finds the buffer full and waits at its entrance with it (blocking after
service). Only the first pass of an order counts (a body that comes back through a
repair loop does not call off its pack twice). The check that only one source's orders
pass the point keeps order numbers unambiguous (`sim/spec/checks.py`).
"""

from __future__ import annotations

import heapq
from collections import deque

from sim.engine.buffer import Buffer, Part
from sim.engine.kernel import Wakeup
from sim.engine.percls import own_methods
from sim.engine.source import admit


class WatchedBuffer(Buffer):
    """A buffer that tells its watchers when a part reaches it (the call-off point)."""

    __slots__ = ("watchers",)

    def __init__(self, name: str, capacity: float, trace: bool) -> None:
        super().__init__(name, capacity, trace)
        self.watchers: list = []

    def put(self, part: Part, t: float) -> None:
        for watch in self.watchers:
            watch(part, t)
        Buffer.put(self, part, t)

    def block(self, feeder, t: float) -> None:
        for watch in self.watchers:
            watch(feeder.part, t)
        Buffer.block(self, feeder, t)


class CalloffPort:
    """A source output whose part of order k is released when order k reaches `at`."""

    def __init__(self, name: str, env, book, buf, lead: float, ids, wip, counters: dict,
                 horizon: float) -> None:
        self.name = name
        self.env = env
        self.book = book
        self.buf = buf
        self.lead = lead
        self.ids = ids
        self.wip = wip
        self.counters = counters
        self.horizon = horizon
        self.called: set[int] = set()
        self.pending: list[tuple[float, int]] = []
        self.queue: deque[Part] = deque()
        self.part: Part | None = None
        self.ev = Wakeup(env, self._fire)
        self.armed = float("inf")

    def start(self) -> None:
        """Nothing happens before the first order reaches the point."""

    def poke(self, t: float) -> None:
        """The kit's leader released an order: the call-off waits for its progress."""

    def trigger(self, part: Part, t: float) -> None:
        """A part of order `part.order` reached the call-off point."""
        k = part.order
        if k in self.called:
            return
        self.called.add(k)
        if self.lead <= 0.0:
            self._release(k, t)
            return
        due = t + self.lead
        if due >= self.horizon:
            return
        heapq.heappush(self.pending, (due, k))
        if due < self.armed:
            self._arm(due, t)

    def _arm(self, due: float, t: float) -> None:
        if self.armed != float("inf"):
            self.ev = self.ev.renew()  # the timer already queued for a later time does nothing
        self.armed = due
        self.ev.after(due - t)

    def _fire(self, t: float) -> None:
        self.armed = float("inf")
        pending = self.pending
        while pending and pending[0][0] <= t:
            self._release(heapq.heappop(pending)[1], t)
        if pending:
            self._arm(pending[0][0], t)

    def _release(self, k: int, t: float) -> None:
        item = self.book.get(k)
        if item is None:  # pragma: no cover - the leader released order k before its part moved
            return
        part = Part(next(self.ids), k, item[1], t)
        if self.part is not None:
            self.queue.append(part)
        elif self.buf.has_space():
            self._admit(part, t)
            self.buf.put(part, t)
        else:
            self.part = part
            self.buf.block(self, t)

    def _admit(self, part: Part, t: float) -> None:
        admit(part, t, self.wip, self.counters)

    def released(self, t: float) -> None:
        """The buffer took the part this port held; offer the next called-off one."""
        part = self.part
        assert part is not None, "released without a part held"
        self.part = None
        self._admit(part, t)
        buf = self.buf
        while self.queue and self.part is None:
            nxt = self.queue.popleft()
            if buf.has_space():
                self._admit(nxt, t)
                buf.put(nxt, t)
            else:
                self.part = nxt
                buf.block(self, t)


# Each class its own copy of the methods it inherits (a statement, not a decorator:
# mypyc compiles a decorated class as a plain Python class).
own_methods(WatchedBuffer)
