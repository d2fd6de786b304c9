"""Buffers and sinks: where parts wait, and where blocking after service lives.

A buffer of capacity B holds up to B parts between its feeders and its one consumer.
A feeder that finishes and finds it full keeps its part and *blocks*: it is queued in
`blocked` (first come, first served) and the buffer hands its part on as soon as space
frees. The consumer sees blocked feeders' parts as available too, which makes a buffer of
capacity 0 a direct hand-over with no special case.

Transfers are plain method calls (docs/design.md §5 rule 3): `put` wakes the consumer, `take`
wakes the first blocked feeder. Levels are integrated at each change for time averages.
"""

from __future__ import annotations

from array import array
from collections import deque

from mypy_extensions import trait


class Part:
    """A part (vehicle, body, pack, module…) moving through the line."""

    __slots__ = ("id", "order", "t_release", "type")

    def __init__(self, pid: int, order: int, ptype: int, t_release: float) -> None:
        self.id = pid
        self.order = order
        self.type = ptype
        self.t_release = t_release


@trait
class Consumer:
    """What a buffer wakes when a part arrives (a station, a fused server, a paced line).

    A trait (mypy_extensions; nothing in Python): compiled, the buffer calls `on_input`
    through a table rather than a dictionary lookup. (What waits at a full buffer, its
    feeders, stay untyped: a demand port's part is a property, a server's an attribute.)"""

    __slots__ = ()

    def on_input(self, t: float) -> None:  # pragma: no cover - every consumer defines it
        raise NotImplementedError


class Unconnected(Consumer):
    """The consumer of a buffer not yet connected (the model connects every one)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def on_input(self, t: float) -> None:
        raise RuntimeError(f"buffer {self.name} has no consumer")


class Buffer:
    """A FIFO buffer with finite (or infinite) capacity and a single consumer."""

    __slots__ = (
        "area",
        "blocked",
        "cap",
        "consumer",
        "endless",
        "items",
        "last",
        "max_level",
        "name",
        "ready",
        "stat_from",
        "trace_l",
        "trace_t",
        "watch",
    )

    def __init__(self, name: str, capacity: float, trace: bool) -> None:
        self.name = name
        self.cap = capacity
        self.items: deque[Part] = deque()
        self.blocked: deque = deque()
        self.consumer: Consumer = Unconnected(name)  # the station (or line) it feeds
        self.ready: list = [True]  # the consumer's idle servers: skip waking a busy consumer
        self.endless = False  # fed by a saturated source: never short of parts
        self.area = 0.0
        self.last = 0.0
        self.stat_from = 0.0
        self.max_level = 0
        self.trace_t = array("d") if trace else None
        self.trace_l = array("i") if trace else None
        # A put from level n calls `_traced` when n >= watch: at a new maximum, or always
        # when traced (-1). One comparison per put instead of two.
        self.watch = -1 if trace else 0

    def has_space(self) -> bool:
        return len(self.items) < self.cap

    def available(self) -> bool:
        return bool(self.items) or bool(self.blocked)

    def count(self) -> float:
        if self.endless:
            return float("inf")
        return len(self.items) + len(self.blocked)

    def peek(self) -> Part:
        return self.items[0] if self.items else self.blocked[0].part

    def _level(self, t: float, n: int) -> None:
        self.area += n * (t - self.last)
        self.last = t

    def _traced(self, t: float) -> None:
        n = len(self.items)
        if n > self.max_level:  # noqa: PLR1730 - cheaper than max() on the hot path
            self.max_level = n
        trace_t = self.trace_t
        if trace_t is not None:
            trace_t.append(t)
            self.trace_l.append(n)  # type: ignore[union-attr]  # traced: both arrays
        else:
            self.watch = self.max_level

    def put(self, part: Part, t: float) -> None:
        """Add a part (the caller checked `has_space`) and wake the consumer."""
        items = self.items
        n = len(items)
        self.area += n * (t - self.last)
        self.last = t
        items.append(part)
        if n >= self.watch:
            self._traced(t)
        if self.ready:
            self.consumer.on_input(t)

    def block(self, feeder, t: float) -> None:
        """`feeder` holds `feeder.part` for this buffer and waits for space."""
        self.blocked.append(feeder)
        if self.ready:
            self.consumer.on_input(t)

    def take(self, t: float) -> Part:
        """Remove the head part (the caller checked `available`)."""
        items = self.items
        if items:
            self.area += len(items) * (t - self.last)
            self.last = t
            part = items.popleft()
            if self.blocked or self.trace_t is not None:
                self.refill(t)
            return part
        feeder = self.blocked.popleft()
        part = feeder.part
        feeder.released(t)
        return part

    def refill(self, t: float) -> None:
        """After the head left: let the first blocked feeder put its part, trace the level.

        The level can exceed the capacity only after a dated change lowered it; then no
        feeder enters until the level is below the new capacity."""
        if self.blocked and len(self.items) < self.cap:
            feeder = self.blocked.popleft()
            self.items.append(feeder.part)
            if self.trace_t is not None:
                self._traced(t)
            feeder.released(t)
        elif self.trace_t is not None:
            self._traced(t)

    def take_order(self, order: int, t: float) -> Part | None:
        """Remove the part built for `order`, wherever it waits; None if absent."""
        items = self.items
        for i, part in enumerate(items):
            if part.order == order:
                self.area += len(items) * (t - self.last)
                self.last = t
                del items[i]
                if self.blocked and len(items) < self.cap:
                    feeder = self.blocked.popleft()
                    items.append(feeder.part)
                    feeder.released(t)
                if self.trace_t is not None:
                    self._traced(t)
                return part
        for i, feeder in enumerate(self.blocked):
            if feeder.part.order == order:
                del self.blocked[i]
                part = feeder.part
                feeder.released(t)
                return part
        return None

    def has_order(self, order: int) -> bool:
        return any(p.order == order for p in self.items) or any(
            f.part.order == order for f in self.blocked)

    def flush(self, t: float) -> None:
        self._level(t, len(self.items))

    def reset(self, t: float) -> None:
        self.flush(t)
        self.area = 0.0
        self.stat_from = t
        self.max_level = len(self.items)
        if self.trace_t is None:
            self.watch = self.max_level

    def mean_level(self, t: float) -> float:
        self.flush(t)
        span = t - self.stat_from
        return self.area / span if span > 0 else 0.0


class Sink(Consumer):
    """End of the line: records completions (or scrap) as flat arrays."""

    __slots__ = ("index", "log", "name", "scrap", "wip")

    def __init__(self, name: str, index: int, scrap: bool, log: CompletionLog,
                 wip: Wip) -> None:
        self.name = name
        self.index = index
        self.scrap = scrap
        self.log = log
        self.wip = wip

    def on_input(self, t: float) -> None:  # pragma: no cover - sinks take parts via SinkPort
        pass


class SinkPort(Buffer):
    """A buffer whose consumer is a sink: never full, parts leave the system at once.

    A `Buffer` (so an output is always one type, which compiled code reads directly) whose
    `put` hands the part to the sink's log; nothing ever waits in it."""

    __slots__ = ("index", "log", "sink", "wip")

    def __init__(self, name: str, sink: Sink) -> None:
        super().__init__(name, float("inf"), False)
        self.sink = sink
        self.consumer = sink
        self.ready = []  # nothing to wake: the sink takes each part in `put`
        self.log = sink.log  # one completion per vehicle: the lookups made once
        self.index = sink.index
        self.wip = sink.wip

    def has_space(self) -> bool:
        return True

    def put(self, part: Part, t: float) -> None:
        self.log.add(part, self.index, t)
        wip = self.wip  # Wip.change(t, -1), inlined
        wip.area += wip.n * (t - wip.last)
        wip.last = t
        wip.n -= 1

    def flush(self, t: float) -> None:
        pass

    def reset(self, t: float) -> None:
        pass

    def mean_level(self, t: float) -> float:
        return 0.0


class CompletionLog:
    """Columns of completion records, appended at each completion, frozen at the end."""

    __slots__ = ("order", "part", "sink", "t_done", "t_release", "type")

    def __init__(self) -> None:
        self.part = array("q")
        self.order = array("q")
        self.type = array("i")
        self.sink = array("h")
        self.t_release = array("d")
        self.t_done = array("d")

    def add(self, part: Part, sink: int, t: float) -> None:
        self.part.append(part.id)
        self.order.append(part.order)
        self.type.append(part.type)
        self.sink.append(sink)
        self.t_release.append(part.t_release)
        self.t_done.append(t)


class Wip:
    """Parts in the system, with its time integral for the time-average WIP."""

    __slots__ = ("area", "last", "n", "stat_from")

    def __init__(self) -> None:
        self.n = 0
        self.area = 0.0
        self.last = 0.0
        self.stat_from = 0.0

    def change(self, t: float, d: int) -> None:
        self.area += self.n * (t - self.last)
        self.last = t
        self.n += d

    def reset(self, t: float) -> None:
        self.change(t, 0)
        self.area = 0.0
        self.stat_from = t

    def mean(self, t: float) -> float:
        self.change(t, 0)
        span = t - self.stat_from
        return self.area / span if span > 0 else 0.0
