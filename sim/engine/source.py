"""Sources: where parts enter the system.

A source produces a timeline of *orders* (release time, part type). Each of its output
buffers is fed through a `Port`; a source with several outputs releases a kit: one part
per port for every order, sharing the order number (a body and the battery pack built for
it). A port may release earlier than the order by a `lead`.

* saturated: the port always holds the next part, as a permanently blocked feeder of its
  buffer, so the consumer never starves and no event is ever scheduled;
* arrivals / plan: the port sleeps until the next release time (one reused event per
  release). A release into a full buffer waits, and later releases queue behind it
  (backlog), or is lost when `when_full: lose`.

A part counts as released, and its lead time starts, when it enters its buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mypy_extensions import trait

from sim.engine.buffer import Buffer, Part, Wip
from sim.engine.kernel import Wakeup
from sim.engine.percls import own_methods


def admit(part: Part, t: float, wip, counters: dict) -> None:
    """A released part enters the system at t: its lead time starts, WIP and count grow."""
    part.t_release = t
    wip.change(t, 1)
    counters["released"] += 1


@trait
class Book:
    """What a port reads its orders from: order k's (time, type), None past the last."""

    __slots__ = ()

    def get(self, k: int) -> tuple[float, int] | None:  # pragma: no cover - abstract
        raise NotImplementedError


class OrderBook(Book):
    """The source's lazily generated timeline of orders: times and types.

    Orders are numbered from 0 for the whole run; the book keeps only those from `base`
    on. Once every reader has read past an order it is forgotten (in blocks of `KEEP`),
    so a long run does not hold every order it ever released. A reader that may look
    back (a call-off port) is registered with `sequential=False` and keeps them all."""

    KEEP = 1 << 16

    def __init__(self, next_order: Callable[[float], tuple[float, int] | None],
                 batch: int = 1) -> None:
        self.next_order = next_order
        self.batch = batch
        self.times: list[float] = []
        self.types: list[int] = []
        self.done = False
        self.last = 0.0
        self.base = 0
        self.readers: list[Any] = []   # objects whose `k` is the next order they read
        self.trimmable = True

    def read_by(self, reader: Any, sequential: bool = True) -> None:
        """Register a port that reads this book."""
        self.readers.append(reader)
        self.trimmable = self.trimmable and sequential

    def get(self, k: int) -> tuple[float, int] | None:
        """Order k (0-based), generating up to it; None when the source is exhausted."""
        times = self.times
        i = k - self.base
        if i >= len(times) and not self.done:
            if self.trimmable and len(times) >= 2 * self.KEEP and self.readers:
                self._forget()
                i = k - self.base
            while len(times) <= i and not self.done:
                item = self.next_order(self.last)
                if item is None:
                    self.done = True
                    break
                t, ptype = item
                self.last = t
                for _ in range(self.batch):
                    times.append(t)
                    self.types.append(ptype)
        if i < len(times):
            return times[i], self.types[i]
        return None

    def _forget(self) -> None:
        """Drop the orders every reader has passed (all but the last KEEP of them)."""
        drop = min(r.k for r in self.readers) - self.base - self.KEEP
        if drop > 0:
            del self.times[:drop], self.types[:drop]
            self.base += drop

    def cut(self, keep: int) -> None:
        """Forget the orders from number `keep` on (a dated change regenerates them)."""
        del self.times[keep - self.base:], self.types[keep - self.base:]


class TimedPort:
    """A source output that sleeps until its next order is due (one reused event)."""

    lead = 0.0
    name: str
    env: Any
    book: Book
    k: int
    horizon: float
    ev: Wakeup

    def _sleep(self, t: float, item: tuple[float, int] | None = None) -> None:
        """Schedule the next release, if any falls before the horizon (`item`: order k,
        when the caller has just read it)."""
        if item is None:
            item = self.book.get(self.k)
        if item is None:
            return
        due = max(item[0] - self.lead, t)
        if due >= self.horizon:
            return
        self.ev.after(due - t)

    def _fire(self, t: float) -> None:
        self._release_due(t)

    def restart(self, t: float) -> None:
        """After a dated change of the source: forget the queued release, sleep anew."""
        if self.ev.pending:  # queued and not yet fired
            self.ev = self.ev.renew()
        if not self.holding():
            self._sleep(t)

    def holding(self) -> bool:
        """Whether a release waits at a full buffer (it goes on when the buffer frees)."""
        raise NotImplementedError

    def _release_due(self, t: float) -> None:
        raise NotImplementedError


class Port(TimedPort):
    """One output of a source: releases the source's orders into one buffer."""

    def __init__(self, name: str, env, book: Book, buf: Buffer, lead: float,
                 saturated: bool, lose: bool, ids: Iterator[int], wip: Wip,
                 counters: dict[str, int], horizon: float) -> None:
        self.name = name
        self.env = env
        self.book = book
        self.buf = buf
        self.lead = lead
        self.saturated = saturated
        self.lose = lose
        self.ids = ids
        self.wip = wip
        self.counters = counters
        self.horizon = horizon
        self.k = 0
        self.offering = False
        self.limit_free = True
        self.part: Part | None = None
        self.ev = Wakeup(env, self._fire)

    def start(self) -> None:
        """Called once at t = 0."""
        if self.saturated:
            self._hold_next(0.0)
            if self.part is not None:
                self.buf.endless = self.limit_free
                self.buf.block(self, 0.0)
        else:
            self._sleep(0.0)

    def holding(self) -> bool:
        return self.part is not None

    def poke(self, t: float) -> None:
        """The kit's leader released an order: release this output's part of it."""
        if self.part is None:
            self._release_due(t)

    def _make(self, k: int, ptype: int) -> Part:
        return Part(next(self.ids), k, ptype, 0.0)

    def _hold_next(self, t: float) -> None:
        item = self.book.get(self.k)
        if item is None:
            self.part = None
            return
        self.part = self._make(self.k, item[1])
        self.k += 1

    def _release_due(self, t: float) -> None:
        """Release every order due by `t` until one blocks; then sleep."""
        buf = self.buf
        while True:
            item = self.book.get(self.k)
            if item is None:
                return
            if item[0] - self.lead > t:
                break
            part = self._make(self.k, item[1])
            self.k += 1
            if len(buf.items) < buf.cap:  # Buffer.has_space
                self._admit(part, t)
                buf.put(part, t)
            elif self.lose:
                self._offer(part, t)
            else:
                self.part = part
                buf.block(self, t)
                return
        self._sleep(t, item)

    def _offer(self, part: Part, t: float) -> None:
        """A full buffer may still hand the part straight to an idle consumer (capacity 0);
        if nobody takes it at once, it is lost."""
        self.part = part
        self.offering = True
        self.buf.block(self, t)
        self.offering = False
        if self.holding():  # not `self.part`: mypy keeps it narrowed across the call above
            self.buf.blocked.remove(self)
            self.part = None
            self.counters["lost"] += 1

    def _admit(self, part: Part, t: float) -> None:
        # admit(), inlined on purpose: a saturated source releases on the hot path.
        part.t_release = t
        self.wip.change(t, 1)
        self.counters["released"] += 1

    def released(self, t: float) -> None:
        """The buffer took the part this port held."""
        part = self.part
        assert part is not None, "released without a part held"
        if self.saturated:  # once per part of a saturated line: _admit and _hold_next inlined
            part.t_release = t
            wip = self.wip
            wip.area += wip.n * (t - wip.last)
            wip.last = t
            wip.n += 1
            self.counters["released"] += 1
            k = self.k
            item = self.book.get(k)
            if item is None:
                self.part = None
                return
            self.part = Part(next(self.ids), k, item[1], 0.0)
            self.k = k + 1
            self.buf.blocked.append(self)
            return
        self._admit(part, t)
        self.part = None
        if not self.offering:
            self._release_due(t)


# Each class its own copy of the methods it inherits (a statement, not a decorator:
# mypyc compiles a decorated class as a plain Python class).
own_methods(Port)
