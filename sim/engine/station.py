"""Stations: parallel servers, assembly (marriage) of several inputs, blocking after service.

A station wakes only on real state changes (DESIGN.md §5 rule 1): a part arrives
(`on_input`), a job ends (its server's reused SimPy event fires), or a blocked server's
part is taken downstream (`released`). Each server owns one SimPy event that is re-armed
for every job, so a job costs one heap push and one callback (rule 8).

Assembly: with several inputs the station starts only when every input can supply its
parts: one from each (or `consume` of them), matched by order number if `match: order`.
The carrier's part continues; the others are absorbed into it.
"""

from __future__ import annotations

from simpy.core import NORMAL

from sim.engine.buffer import Part
from sim.engine.machine import BLOCKED, STARVED, Machine, reusable_event


class Server(Machine):
    """One server: a machine that holds at most one part."""

    __slots__ = ("station", "part", "ev", "cb")

    def __init__(self, station: "Station", name: str, cal, fm, env) -> None:
        super().__init__(name, cal, fm)
        self.station = station
        self.part: Part | None = None
        self.ev = reusable_event(env)
        self.cb = [self._done]

    def _done(self, _ev) -> None:
        self.station.job_done(self)

    def released(self, t: float) -> None:
        """Downstream took the part this blocked server held."""
        self.part = None
        self.idle_to(t, STARVED)
        st = self.station
        st.idle.append(self)
        st.try_start(t)


class Station:
    """A station of one or more identical servers fed by one or more input buffers."""

    def __init__(self, name: str, env, servers: int, cal, failure_models, cycle,
                 inputs, carrier: int, match_order: bool, consume, router, out, wip,
                 counters: dict) -> None:
        self.name = name
        self.env = env
        self.schedule = env.schedule
        self.servers = [Server(self, f"{name}#{i}" if servers > 1 else name, cal,
                               failure_models[i], env) for i in range(servers)]
        self.idle = list(reversed(self.servers))
        self.cycle = cycle
        self.inputs = inputs
        self.inp = inputs[0] if len(inputs) == 1 and not consume else None
        self.carrier = inputs[carrier]
        self.others = [(b, consume.get(b.name)) for i, b in enumerate(inputs) if i != carrier]
        self.match_order = match_order
        self.router = router
        self.out = out
        self.wip = wip
        self.counters = counters

    # -- starting jobs ------------------------------------------------------------------

    def on_input(self, t: float) -> None:
        if self.idle:
            self.try_start(t)

    def try_start(self, t: float) -> None:
        idle = self.idle
        inp = self.inp
        if inp is not None:
            while idle and (inp.items or inp.blocked):
                srv = idle.pop()
                part = inp.take(t)
                srv.part = part
                end = srv.begin(t, self.cycle(part.type))
                ev = srv.ev
                ev.callbacks = srv.cb
                self.schedule(ev, NORMAL, end - t)
            return
        while idle and self._assembly_ready():
            srv = idle.pop()
            part = self._assemble(t)
            srv.part = part
            end = srv.begin(t, self.cycle(part.type))
            ev = srv.ev
            ev.callbacks = srv.cb
            self.schedule(ev, NORMAL, end - t)

    def _need(self, qty, part: Part) -> int:
        if qty is None:
            return 1
        if isinstance(qty, int):
            return qty
        return qty[part.type]

    def _assembly_ready(self) -> bool:
        carrier = self.carrier
        if not carrier.available():
            return False
        head = carrier.peek()
        for buf, qty in self.others:
            if self.match_order:
                if not buf.has_order(head.order):
                    return False
            elif buf.count() < self._need(qty, head):
                return False
        return True

    def _assemble(self, t: float) -> Part:
        part = self.carrier.take(t)
        absorbed = 0
        for buf, qty in self.others:
            if self.match_order:
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

    # -- ending jobs --------------------------------------------------------------------

    def job_done(self, srv: Server) -> None:
        t = self.env._now
        part = srv.part
        out = self.out
        if out is None:
            out = self.router.choose(part.type, t)
        if out.has_space():
            srv.finish(t, STARVED)
            srv.part = None
            self.idle.append(srv)
            out.put(part, t)
            self.try_start(t)
        else:
            srv.finish(t, BLOCKED)
            out.block(srv, t)

    # -- statistics ---------------------------------------------------------------------

    def machines(self) -> list[Machine]:
        return self.servers
