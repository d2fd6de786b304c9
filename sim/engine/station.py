"""Stations: parallel servers, assembly (marriage) of several inputs, blocking after service.

A station wakes only on real state changes (DESIGN.md §5 rule 1): a part arrives
(`on_input`), a job ends (its server, pushed on SimPy's heap as its own event, is popped),
or a blocked server's part is taken downstream (`released`). A job costs one heap push
and one direct call (rule 8).

Assembly: with several inputs the station starts only when every input can supply its
parts: one from each (or `consume` of them), matched by order number if `match: order`.
The carrier's part continues; the others are absorbed into it.
"""

from __future__ import annotations

from heapq import heappush

from simpy.core import NORMAL

from sim.engine.buffer import Buffer, Part
from sim.engine.machine import BLOCKED, STARVED, WORKING, Machine


class Server(Machine):
    """One server: a machine that holds at most one part and handles its own job ends.

    The server is its own job-end event: it goes on SimPy's heap as it is, and the run
    loop (`sim.engine.run._run_until`) calls `_done` directly. It still reads as a SimPy
    event (`callbacks`, `_ok`), so `Environment.step` would process it the same way."""

    __slots__ = ("callbacks", "cb", "env", "part", "station")
    _ok = True
    _value = None

    def __init__(self, station: Station, name: str, cal, fm, env) -> None:
        super().__init__(name, cal, fm)
        self.station = station
        self.env = env
        self.part: Part | None = None
        self.cb = [self._done]
        self.callbacks: list | None = None

    def _done(self, _ev) -> None:
        """The job ends: hand the part on, or keep it and block (blocking after service)."""
        st = self.station
        t = self.env._now
        part: Part = self.part  # type: ignore[assignment]  # a busy server holds its part
        out = st.out
        if out is None:
            out = st.router.choose(part.type, t)
        self.jobs += 1
        if not self.fails:
            if self.simple:
                self.acc[WORKING] += t - self.since
            elif self.unit_rate and self.w_left >= 0.0:
                self.acc[WORKING] += self.w_left  # as Machine.finish
            else:
                self._account(WORKING, self.since, t)
        else:
            self._account(WORKING, self.since, t)
        self.since = t
        if len(out.items) < out.cap:
            self.state = STARVED
            self.part = None
            st.idle.append(self)
            if out.__class__ is Buffer:  # Buffer.put, inlined: the commonest hand-over
                items = out.items
                n = len(items)
                out.area += n * (t - out.last)
                out.last = t
                items.append(part)
                if n >= out.max_level or out.trace_t is not None:
                    out._traced(t)
                if out.ready:
                    out.consumer.on_input(t)
            else:
                out.put(part, t)
            inp = st.inp
            if inp is None or inp.items or inp.blocked:
                st.try_start(t)
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
        st.try_start(t)


class Station:
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

    def __init__(self, name: str, env, servers: int, cal, failure_models, cycle,
                 inputs, carrier: int, match_order: bool, consume, router, out, wip,
                 counters: dict) -> None:
        self.name = name
        self.env = env
        # Jobs go straight onto SimPy's event heap: same (time, priority, id, event) entries
        # as Environment.schedule, without its call overhead on the hottest path.
        self.queue = env._queue
        self.eid = env._eid
        self.servers = [Server(self, f"{name}#{i}" if servers > 1 else name, cal,
                               failure_models[i], env) for i in range(servers)]
        self.idle = list(reversed(self.servers))
        self.cycle = cycle
        self.inputs = inputs
        self.inp = inputs[0] if len(inputs) == 1 and not consume else None
        self.carrier = inputs[carrier]
        self.carrier_index = carrier
        self.others = [(b, consume.get(b.name), getattr(b, "is_stock", False), i)
                       for i, b in enumerate(inputs) if i != carrier]
        self.match_order = match_order
        self.router = router
        self.out = out
        self.wip = wip
        self.counters = counters
        self.assembling = False
        # Assembly only: on-shift seconds with an idle server waiting for each non-carrier
        # input (the first that cannot supply, once the carrier has a part).
        self.waited = [0.0] * len(inputs)
        self.missing = -1
        self.missing_since = 0.0

    # -- starting jobs ------------------------------------------------------------------

    def try_start(self, t: float) -> None:
        """Start every job that idle servers and waiting parts allow (also `on_input`)."""
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
                if srv.simple:
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
                srv.callbacks = srv.cb
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
                srv.callbacks = srv.cb
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

    on_input = try_start

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
