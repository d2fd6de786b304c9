"""Stations: parallel servers, assembly (marriage) of several inputs, blocking after service.

A station wakes only on real state changes (docs/design.md §5 rule 1): a part arrives
(`on_input`), a job ends (its server, pushed on SimPy's heap as its own event, is popped),
or a blocked server's part is taken downstream (`released`). A job costs one heap push
and one direct call (rule 8).

Assembly: with several inputs the station starts only when every input can supply its
parts: one from each (or `consume` of them), matched by order number if `match: order`.
The carrier's part continues; the others are absorbed into it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from heapq import heappush
from typing import Any

from sim.engine.buffer import Buffer, Consumer, Part, SinkPort
from sim.engine.factories import constant_of
from sim.engine.kernel import NORMAL, Timed, heap, timed
from sim.engine.machine import BLOCKED, STARVED, WORKING, Machine
from sim.engine.percls import own_methods
from sim.engine.routing import Router


class Server(Machine, Timed):
    """One server: a machine that holds at most one part and handles its own job ends.

    The server is its own job-end event (`sim.engine.kernel.Timed`): it goes on SimPy's
    heap as it is, and the run loop calls `fire` with the time it popped."""

    __slots__ = ("env", "part", "station")

    def __init__(self, station: Station, name: str, cal, fm, env) -> None:
        super().__init__(name, cal, fm)
        self.station = station
        self.env = env
        self.part: Part | None = None

    def fire(self, t: float) -> None:
        """The job ends at t: hand the part on, or keep it and block (blocking after
        service)."""
        st = self.station
        part: Part = self.part  # type: ignore[assignment]  # a busy server holds its part
        if self.act is not None:
            self.act.off(t)  # a next job begun at t in on_input extends the period
        out = st.out
        if out is None:  # routed: a station without one output has a router
            router = st.router
            assert router is not None
            out = router.choose(part.type, t)
        self.jobs += 1
        if self.fails:
            self._account(WORKING, self.since, t)
        elif self.always_on:
            pass  # working time is the remainder (`Machine.totals`): nothing to add
        elif self.unit_rate and self.w_left >= 0.0:
            self.acc[WORKING] += self.w_left  # as Machine.finish
        else:  # Machine._account without failures, inlined: the job's on-shift time
            self.acc[WORKING] += self.cal.on_between(self.since, t)
        self.since = t
        if len(out.items) < out.cap:
            self.state = STARVED
            self.part = None
            st.idle.append(self)
            if type(out) is Buffer:  # Buffer.put, inlined: the commonest hand-over
                items = out.items
                n = len(items)
                out.area += n * (t - out.last)
                out.last = t
                items.append(part)
                if n >= out.watch:
                    out._traced(t)
                if out.ready:
                    out.consumer.on_input(t)
            else:
                out.put(part, t)
            inp = st.inp
            if inp is None or inp.items or inp.blocked:
                st.on_input(t)
        else:
            self.state = BLOCKED
            out.block(self, t)

    def released(self, t: float) -> None:
        """Downstream took the part this blocked server held."""
        self.part = None
        if self.simple:
            self.acc[BLOCKED] += t - self.since
            self.state = STARVED
            self.since = t
        else:
            self.idle_to(t, STARVED)
        st = self.station
        st.idle.append(self)
        st.on_input(t)


class LineServer(Server, Consumer):
    """The one server of a plain line station, with its job end fused (docs/design.md §5 rule 8).

    A station qualifies when it has one server that never stops (no calendar, no
    time-dependent failures), one plain input buffer and one output, and when the graph
    has no loop back to it and no dated change touches it (`sim.engine.model._fusable`). Its job end then puts the part down and starts the next job in the
    same call, without passing through the station's idle list: a job that follows a job
    costs no state change and no accounting (working time is the remainder,
    `Machine.totals`). The order of events, draws and heap ids is that of `Server`."""

    __slots__ = ("eid", "inp", "out", "queue", "w")

    def __init__(self, station: Station, name: str, cal, fm, env) -> None:
        super().__init__(station, name, cal, fm, env)
        self.inp: Buffer = station.inp  # type: ignore[assignment]  # fusable: one plain input
        self.out: Buffer = station.out  # type: ignore[assignment]  # fusable: one output
        self.queue = station.queue
        self.eid = station.eid
        self.w = constant_of(station.cycle)  # the work of every job, if the same for all

    def on_input(self, t: float) -> None:
        """A part arrived for this (starved) server: its input buffer wakes it directly."""
        idle = self.station.idle
        if not idle:
            return
        idle.pop()
        self.acc[STARVED] += t - self.since
        self.state = WORKING
        if self.act is not None:
            self.act.on(t)
        self._next(t)

    def fire(self, t: float) -> None:
        out = self.out
        self.jobs += 1
        if self.fails:  # a repair fell inside the job just ended: account it
            self._account(WORKING, self.since, t)
        items = out.items
        n = len(items)
        if n >= out.cap:  # Buffer.block, inlined: 2 job ends in 5 on a tight line
            self.since = t
            self.state = BLOCKED
            if self.act is not None:
                self.act.off(t)
            out.blocked.append(self)
            if out.ready:
                out.consumer.on_input(t)
            return
        part: Part = self.part  # type: ignore[assignment]  # a busy server holds its part
        if type(out) is Buffer:  # Buffer.put, inlined
            out.area += n * (t - out.last)
            out.last = t
            items.append(part)
            if n >= out.watch:
                out._traced(t)
            if out.ready:
                out.consumer.on_input(t)
        else:
            out.put(part, t)
        self._next(t)

    def released(self, t: float) -> None:
        """Downstream took the part this blocked server held: start the next job."""
        self.acc[BLOCKED] += t - self.since
        self.state = WORKING
        if self.act is not None:
            self.act.on(t)
        self._next(t)

    def _next(self, t: float) -> None:
        """Take the next part and start on it at t; or go idle (starved) if there is none."""
        inp = self.inp
        items = inp.items
        if items:  # Buffer.take, inlined (as in Station.on_input)
            inp.area += len(items) * (t - inp.last)
            inp.last = t
            part = items.popleft()
            blocked = inp.blocked
            if blocked:
                feeder = blocked.popleft()
                items.append(feeder.part)
                if inp.trace_t is not None:
                    inp._traced(t)
                feeder.released(t)
            elif inp.trace_t is not None:
                inp._traced(t)
        elif inp.blocked:
            # Buffer.take from an empty buffer, inlined: the first blocked feeder's part
            # passes straight through (a saturated source, a buffer of capacity 0)
            feeder = inp.blocked.popleft()
            part = feeder.part
            feeder.released(t)
        else:
            self.part = None
            self.state = STARVED
            self.since = t
            self.station.idle.append(self)
            if self.act is not None:
                self.act.off(t)
            return
        self.part = part
        w = self.w
        if w is None:
            w = self.station.cycle(part.type)
        b = self.budget
        if w < b:
            self.budget = b - w
            end = t + w
        else:
            end = self._walk_operation(t, w)
        heappush(self.queue, (end, NORMAL, next(self.eid), self))


class Station(Consumer):
    """A station of one or more identical servers fed by one or more input buffers."""

    __slots__ = (
        "assembling",
        "carrier",
        "carrier_index",
        "counters",
        "cycle",
        "eid",
        "env",
        "idle",
        "inp",
        "inputs",
        "match_order",
        "missing",
        "missing_since",
        "name",
        "others",
        "out",
        "queue",
        "router",
        "servers",
        "waited",
        "wip",
    )

    def __init__(self, name: str, env, servers: int, cal, failure_models,
                 cycle: Callable[[int], float], inputs: list[Any], carrier: int,
                 match_order: bool, consume, router: Router | None, out: Buffer | None,
                 wip, counters: dict, fuse: bool = False) -> None:
        self.name = name
        self.env = env
        # Jobs go straight onto SimPy's event heap, the entry `Wakeup.after` would push
        # (labelled inline: the hottest path saves the call).
        self.queue: list[Any]
        self.eid: Iterator[int]
        self.queue, self.eid = heap(env)
        self.cycle = cycle
        self.inputs = inputs  # buffers, and stocks of an assembly
        self.inp: Buffer | None = (inputs[0] if len(inputs) == 1 and not consume
                                   and isinstance(inputs[0], Buffer) else None)
        self.out = out
        fm = failure_models[0]
        # A fused job end blocks the way a plain buffer does (`Buffer.block`, inlined): an
        # output that does more when a part waits at it (a call-off point) is not fused.
        plain_out = isinstance(out, SinkPort) or getattr(type(out), "block", None) is Buffer.block
        kind = LineServer if (fuse and servers == 1 and cal.always_on and plain_out
                              and type(self.inp) is Buffer
                              and (fm is None or not fm.time_mode)) else Server
        self.servers: list[Server] = [kind(self, f"{name}#{i}" if servers > 1 else name, cal,
                             failure_models[i], env) for i in range(servers)]
        self.idle = list(reversed(self.servers))
        self.carrier = inputs[carrier]
        self.carrier_index = carrier
        self.others = [(b, consume.get(b.name), getattr(b, "is_stock", False), i)
                       for i, b in enumerate(inputs) if i != carrier]
        self.match_order = match_order
        self.router = router  # where a part goes when there is no single `out`
        self.wip = wip
        self.counters = counters
        self.assembling = False
        # Assembly only: on-shift seconds with an idle server waiting for each non-carrier
        # input (the first that cannot supply, once the carrier has a part).
        self.waited = [0.0] * len(inputs)
        self.missing = -1
        self.missing_since = 0.0

    # -- starting jobs ------------------------------------------------------------------

    def on_input(self, t: float) -> None:
        """A part arrived, or a server freed: start every job that idle servers and waiting
        parts allow."""
        idle = self.idle
        if not idle:
            return
        inp = self.inp
        queue, eid, cycle = self.queue, self.eid, self.cycle
        if inp is not None:
            items, blocked = inp.items, inp.blocked
            while idle and (items or blocked):
                srv = idle.pop()
                if items:  # Buffer.take's common case, inlined (the hottest line of the engine)
                    inp.area += len(items) * (t - inp.last)
                    inp.last = t
                    part = items.popleft()
                    if blocked:  # one part left a full buffer: its first blocked feeder enters
                        feeder = blocked.popleft()
                        items.append(feeder.part)
                        if inp.trace_t is not None:
                            inp._traced(t)
                        feeder.released(t)
                    elif inp.trace_t is not None:
                        inp._traced(t)
                else:
                    part = inp.take(t)
                srv.part = part
                w = cycle(part.type)
                if srv.simple:  # Machine.begin, inlined (hot path)
                    srv.acc[srv.state] += t - srv.since
                    srv.state = WORKING
                    srv.since = t
                    b = srv.budget
                    if w < b:
                        srv.budget = b - w
                        end = t + w
                    else:
                        end = srv._walk_operation(t, w)
                else:
                    end = srv.begin(t, w)
                if srv.act is not None:
                    srv.act.on(t)
                heappush(queue, (end, NORMAL, next(eid), srv))
            return
        if self.assembling:
            return  # re-entered from a feeder woken by our own takes: the loop below re-checks
        self.assembling = True
        try:
            miss = -1
            while idle:
                miss = self._missing()
                if miss >= 0:
                    break
                srv = idle.pop()
                part = self._assemble(t)
                srv.part = part
                end = srv.begin(t, cycle(part.type))
                if srv.act is not None:
                    srv.act.on(t)
                heappush(queue, (end, NORMAL, next(eid), srv))
        finally:
            self.assembling = False
        if not idle or miss == self.carrier_index:
            miss = -1
        if miss != self.missing:  # rare: only a non-carrier input starts or stops missing
            self._waiting(miss, t)

    def _waiting(self, miss: int, t: float) -> None:
        """Account the wait for the (non-carrier) input that was missing until t; start the
        next one. Waiting for the carrier, the common case, is not timed here: it is the
        remainder of the station's starved time (`sim.engine.run`), which costs nothing."""
        if miss == self.missing:
            return
        if self.missing >= 0:
            self.waited[self.missing] += self.servers[0].cal.on_between(self.missing_since, t)
        self.missing = miss
        self.missing_since = t

    def flush_waiting(self, t: float) -> None:
        """Account the wait under way up to t (warm-up end, run end)."""
        miss = self.missing
        self._waiting(-1, t)
        self._waiting(miss, t)


    def _need(self, qty, part: Part) -> int:
        if qty is None:
            return 1
        if isinstance(qty, int):
            return qty
        return qty[part.type]

    def _missing(self) -> int:
        """Index (in the station's inputs) of the first input that cannot supply the next
        job, the carrier first; -1 when the assembly can start."""
        carrier = self.carrier
        if not carrier.available():
            return self.carrier_index
        head = carrier.peek()
        for buf, qty, stock, i in self.others:
            if self.match_order and not stock:
                if not buf.has_order(head.order):
                    return i
            elif buf.count() < self._need(qty, head):
                return i
        return -1

    def _assemble(self, t: float) -> Part:
        part = self.carrier.take(t)
        absorbed = 0
        for buf, qty, stock, _ in self.others:
            if stock:
                buf.take_units(self._need(qty, part), t)
            elif self.match_order:
                buf.take_order(part.order, t)
                absorbed += 1
            else:
                n = self._need(qty, part)
                for _ in range(n):
                    buf.take(t)
                absorbed += n
        if absorbed:
            self.wip.change(t, -absorbed)
            self.counters["consumed"] += absorbed
        return part

    # -- statistics ---------------------------------------------------------------------

    def machines(self) -> list[Machine]:
        return list(self.servers)


# Each class its own copy of the methods it inherits (a statement, not a decorator:
# mypyc compiles a decorated class as a plain Python class).
own_methods(Server)
own_methods(LineServer)
timed(Server)
timed(LineServer)
