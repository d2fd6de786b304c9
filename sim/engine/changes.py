"""Dated changes applied during a run: new cycle times, failures, yields, sources, capacities.

Why here and how: a change is data (`sim/spec/changes.py` resolves each into the object's
whole new section); the engine applies it at its instant, on the cold path, with one
SimPy event per change instant at URGENT priority, so it takes effect before any job that
starts at that same instant. What happens to work in progress is part of the semantics:

* cycle: the job in progress keeps the work drawn at its start; jobs that start at or
  after the change draw from the new distribution;
* takt of a paced segment: not applied here but compiled into the segment's calendar as a
  speed step (`Calendar.with_speed`): the movement in progress continues at the new
  speed from the instant of the change (no event at all);
* failures: the up-time already drawn runs out as drawn (operation-dependent budget or
  time-dependent next failure); every later up-time and every repair that starts after
  the change use the new distributions;
* route probabilities: parts routed at or after the change use them;
* arrivals source (interarrival, mix, batch, active): the source restarts at the change:
  arrivals drawn but not yet released are discarded and the next arrival is drawn from
  the change instant with the new values; an inactive source releases nothing;
* buffer capacity: a larger capacity lets blocked feeders in at once; a smaller one
  keeps the parts already in the buffer (none is destroyed) and admits no part until the
  level is below the new capacity.

New values draw from streams of their own, tagged with the change's name, so scenarios
that share a change share its random numbers (docs/design.md §6).
"""

from __future__ import annotations

from sim.engine import factories
from sim.engine.kernel import URGENT, Wakeup
from sim.engine.station import Station
from sim.engine.stock import Stock, StockPort


class ChangeRunner:
    """Applies the resolved changes of a scenario at their instants."""

    def __init__(self, model, changes: list, streams) -> None:
        self.model = model
        self.changes = [c for c in changes if c.fields != ("paced",)]
        self.streams = streams
        self.k = 0
        self.ev = Wakeup(model.env, self._fire, URGENT)

    def start(self) -> None:
        self._arm(0.0)

    def _arm(self, now: float) -> None:
        if self.k < len(self.changes) and self.changes[self.k].time < self.model.horizon:
            self.ev.after(self.changes[self.k].time - now)

    def _fire(self, t: float) -> None:
        while self.k < len(self.changes) and self.changes[self.k].time <= t:
            self.apply(self.changes[self.k], t)
            self.k += 1
        self._arm(t)

    def apply(self, change, t: float) -> None:
        """Apply one change at time t."""
        getattr(self, f"_{change.section}")(change, t)

    # -- per section --------------------------------------------------------------------

    def _stations(self, change, t: float) -> None:
        m, spec, name = self.model, change.spec, change.name
        st = m.stations[name]
        tag = f"@{change.label}"
        if "cycle" in change.fields:
            st.cycle = factories.cycle_fn(spec.cycle, name, self.streams, m.types,
                                          f"changes.{change.label}", tag, speed=spec.speed)
        if "failures" in change.fields:
            for machine in st.machines():
                machine.fm = factories.failure_model(spec.failures, machine.name,
                                                     self.streams, tag)
        if "route" in change.fields:
            outputs = {b: m.buffers[b] for b in m.scenario.outputs(name)}
            _, new = factories.router(name, spec, outputs, m.types, self.streams,
                                      m.scenario.run.start)
            new.uniforms = st.router.uniforms  # the routing stream continues
            st.router = new

    def _sources(self, change, t: float) -> None:
        m, spec, name = self.model, change.spec, change.name
        ports = [p for p in m.ports if p.name.split("->")[0] == name]
        book = ports[0].book
        cal = m.source_calendars[name]
        choose = factories.type_chooser(m.types, self.streams, name)
        book.next_order = factories.order_source(
            name, spec, cal, choose, self.streams, m.scenario, m.horizon, m.counters,
            f"@{change.label}", m.source_counts[name])
        book.cut(max(p.k for p in ports))
        book.done = False
        book.last = t
        for port in ports:
            if isinstance(port, StockPort):
                port.batch = spec.batch  # units per delivery; one book entry per delivery
            else:
                book.batch = spec.batch  # parts per arrival: one book entry per part
            port.restart(t)

    def _buffers(self, change, t: float) -> None:
        buf = self.model.buffers[change.name]
        lower = change.spec.capacity < buf.cap
        buf.cap = change.spec.capacity
        if isinstance(buf, Stock):
            buf.unblock(t)
            return
        consumer = buf.consumer
        if lower and isinstance(consumer, Station) and consumer.inp is buf:
            # The station's inlined take assumes a blocked feeder enters as soon as one
            # part leaves; above a lowered capacity it must not. From now on the station
            # takes through Buffer.take, which checks the level (cost only after such a
            # change, none on the hot path otherwise).
            consumer.inp = None
        while buf.blocked and len(buf.items) < buf.cap:
            buf.refill(t)
