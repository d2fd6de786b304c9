"""Stock buffers: bulk material counted in units, delivered in batches, taken by assembly.

Purchased parts such as battery modules have no identity worth tracking: a pack takes
"12 modules", not modules 4711 to 4722. Modelling each unit as a part would create and
move millions of objects a year. A stock holds a *level*; a source delivers `batch` units
per arrival in one event, and an assembly station takes `consume` units per job.

A delivery that does not fit waits (blocked, FIFO) until all of it fits, or, with
`when_full: lose`, tops the stock up to its capacity, the rest counted as `units_lost`
(a call-off that ships only what there is room for). Units are material, not parts: they count neither as released
nor in WIP, so part conservation is unaffected; `units_delivered` and `units_consumed`
count them instead.
"""

from __future__ import annotations

from array import array
from collections import deque
from typing import Any

from sim.engine.kernel import Wakeup
from sim.engine.percls import own_methods
from sim.engine.source import TimedPort


class Stock:
    """A counted buffer of identical units with one consuming station."""

    is_stock = True

    def __init__(self, name: str, capacity: float, trace: bool, counters: dict) -> None:
        self.name = name
        self.cap = capacity
        self.level = 0
        self.blocked: deque[StockPort] = deque()
        self.consumer: Any = None
        self.ready: list = [True]
        self.counters = counters
        self.area = 0.0
        self.last = 0.0
        self.stat_from = 0.0
        self.max_level = 0
        self.items: tuple = ()
        self.trace_t = array("d") if trace else None
        self.trace_l = array("i") if trace else None

    def count(self) -> int:
        return self.level

    def add_initial(self, units: int) -> None:
        """Units in stock at the start (stated WIP)."""
        self._set(0.0, self.level + units)

    def available(self) -> bool:
        return self.level > 0

    def _set(self, t: float, level: int) -> None:
        self.area += self.level * (t - self.last)
        self.last = t
        self.level = level
        if level > self.max_level:  # noqa: PLR1730 - cheaper than max(), once per pack
            self.max_level = level
        trace_t = self.trace_t
        if trace_t is not None:
            trace_t.append(t)
            self.trace_l.append(level)  # type: ignore[union-attr]  # traced: both arrays

    def fits(self, n: int) -> bool:
        return self.level + n <= self.cap

    def deliver(self, n: int, t: float) -> None:
        """Add a delivery of `n` units (the caller checked `fits`) and wake the consumer."""
        self._set(t, self.level + n)
        self.counters["units_delivered"] += n
        if self.ready:
            self.consumer.on_input(t)

    def take_units(self, n: int, t: float) -> None:
        """Remove `n` units (the caller checked `count`); waiting deliveries may now fit."""
        self._set(t, self.level - n)
        self.counters["units_consumed"] += n
        self.unblock(t)

    def unblock(self, t: float) -> None:
        """Let in the waiting deliveries that fit now (FIFO)."""
        while self.blocked and self.fits(self.blocked[0].batch):
            port = self.blocked.popleft()
            self._set(t, self.level + port.batch)
            self.counters["units_delivered"] += port.batch
            port.released(t)

    def flush(self, t: float) -> None:
        self.area += self.level * (t - self.last)
        self.last = t

    def reset(self, t: float) -> None:
        self.flush(t)
        self.area = 0.0
        self.stat_from = t
        self.max_level = self.level

    def mean_level(self, t: float) -> float:
        self.flush(t)
        span = t - self.stat_from
        return self.area / span if span > 0 else 0.0


class StockPort(TimedPort):
    """A source's deliveries into a stock: one event per delivery of `batch` units."""

    def __init__(self, name: str, env, book, stock: Stock, batch: int, lose: bool,
                 horizon: float) -> None:
        self.name = name
        self.env = env
        self.book = book
        self.buf = stock
        self.batch = batch
        self.lose = lose
        self.horizon = horizon
        self.k = 0
        self.waiting = False
        self.ev = Wakeup(env, self._fire)

    def start(self) -> None:
        self._sleep(0.0)

    def holding(self) -> bool:
        return self.waiting

    def _release_due(self, t: float) -> None:
        """Deliver every batch due by `t` until one has to wait; then sleep."""
        stock = self.buf
        while True:
            item = self.book.get(self.k)
            if item is None or item[0] > t:
                break
            self.k += 1
            if stock.fits(self.batch):
                stock.deliver(self.batch, t)
            elif self.lose:  # a call-off: top the stock up, the rest is not delivered
                room = max(int(stock.cap - stock.level), 0)
                if room:
                    stock.deliver(room, t)
                stock.counters["units_lost"] += self.batch - room
            else:
                self.waiting = True
                stock.blocked.append(self)
                return
        self._sleep(t)

    def released(self, t: float) -> None:
        """The stock took the delivery this port held back."""
        self.waiting = False
        self._release_due(t)


# Each class its own copy of the methods it inherits (a statement, not a decorator:
# mypyc compiles a decorated class as a plain Python class).
own_methods(StockPort)
