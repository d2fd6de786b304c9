"""Build: a validated Scenario becomes a wired SimPy model.

Each component receives only its own section of the scenario plus the shared clock,
calendar and random streams (docs/design.md §3). Random streams are named after the component
and purpose, so two scenarios that share a station draw the same numbers there (§6).
Problems only visible once the graph is assembled (a product type no route rule accepts,
a plan period without on-shift time) raise `ScenarioError` naming the field path.
"""

from __future__ import annotations

import itertools
import tempfile
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.engine.activity import Activity
from sim.engine.buffer import Buffer, CompletionLog, Part, Sink, SinkPort, Wip
from sim.engine.calendar import Calendar
from sim.engine.calloff import CalloffPort, WatchedBuffer
from sim.engine.changes import ChangeRunner
from sim.engine.demand import DemandBook, DemandPort, due_times
from sim.engine.factories import (
    cycle_fn,
    days,
    failure_model,
    order_source,
    router,
    type_chooser,
)
from sim.engine.kernel import Environment, new_env
from sim.engine.paced import PacedLine
from sim.engine.plan import ramp_factor
from sim.engine.source import OrderBook, Port
from sim.engine.stalls import StallFold, stall_calendar
from sim.engine.station import LineServer, Station
from sim.engine.stock import Stock, StockPort
from sim.engine.streams import Streams
from sim.engine.tally import Folder, SpillLog, TallyLog
from sim.errors import ScenarioError
from sim.spec.calendars import CalendarSpec
from sim.spec.changes import resolve_changes
from sim.spec.scenario import ProductType, Scenario, SourceSpec
from sim.spec.units import DAY


@dataclass
class Model:
    """Everything one replication runs: the environment and its components."""

    env: Environment
    scenario: Scenario
    replication: int
    horizon: float
    types: list[ProductType]
    calendars: dict[str, Calendar]
    stations: dict[str, Station | PacedLine]
    buffers: dict[str, Any]  # Buffer, WatchedBuffer, Stock or SinkPort
    sinks: dict[str, Sink]
    ports: list[Any]  # Port, StockPort, DemandPort, CalloffPort: start() each
    log: CompletionLog  # a TallyLog when the run keeps no per-vehicle rows
    wip: Wip
    counters: dict[str, int] = field(default_factory=dict)
    source_calendars: dict[str, Calendar] = field(default_factory=dict)
    source_counts: dict[str, Iterator[int]] = field(default_factory=dict)
    demand: dict[str, DemandPort] = field(default_factory=dict)
    changes: ChangeRunner | None = None
    folder: Folder | None = None  # folds the completions for the KPIs (sim.engine.tally)


def build(sc: Scenario, replication: int = 0, fuse: bool = True,
          vehicles: bool = True, activity: bool = False, rows: str | None = None) -> Model:
    """Wire the SimPy model of one replication of scenario `sc`.

    `vehicles=False`: keep no per-vehicle rows, only their tally (memory flat in the
    horizon). `rows`: a folder to keep the rows in, on disk (a sub-folder of its own per
    build; memory flat too, every row kept). `activity=True`: log every station's active periods (sim.engine.activity). `fuse=False` builds every station with generic servers: the same run,
    event for event, at the old cost; tests compare the two."""
    env = new_env()
    streams = Streams(sc.run.seed, replication)
    horizon = sc.run.horizon
    start = sc.run.start
    types = sc.types()
    changes = resolve_changes(sc)
    calendars: dict[tuple[str, bool], Calendar] = {}
    for n, c in sc.calendars.items():
        for rates in (True, False):
            try:
                calendars[n, rates] = Calendar.build(c, start, horizon, rates=rates)
            except ValueError as e:
                raise ScenarioError("", f"calendars.{n}", str(e)) from None
    always = Calendar.always()

    def cal_of(name: str | None, rates: bool = True) -> Calendar:
        name = name or sc.run.calendar
        return calendars[name, rates] if name else always

    def station_cal(n: str, s: Any) -> Calendar:
        """The station's calendar, with its dated outages as days off (a station of no
        calendar works 24/7 outside them) and its learning curve as speed steps."""
        if not s.outages:
            cal = cal_of(s.calendar, s.shift_rate)
        else:
            name = s.calendar or sc.run.calendar
            spec = sc.calendars[name] if name else ALL_DAY
            spec = spec.model_copy(update={"shutdowns": (*spec.shutdowns, *s.outages)})
            cal = Calendar.build(spec, start, horizon, rates=s.shift_rate)
        if s.learning is not None:
            steps = s.learning.daily_steps(start, horizon)
            if s.paced is not None:  # a dated takt change multiplies the learning rate
                takts = [(c.time, s.paced.takt / c.spec.paced.takt) for c in changes
                         if c.section == "stations" and c.name == n and "paced" in c.fields]
                steps = combined(steps, takts)
            cal = cal.with_speed(steps)
        return cal

    log: CompletionLog = TallyLog()
    if vehicles:
        log = (CompletionLog() if rows is None else
               SpillLog(tempfile.mkdtemp(prefix=f"replication-{replication}-", dir=rows)))
    wip = Wip()
    counters = {"released": 0, "lost": 0, "consumed": 0, "ramp_dropped": 0,
                "units_delivered": 0, "units_consumed": 0, "units_lost": 0}
    sinks = {n: Sink(n, i, s.scrap, log, wip) for i, (n, s) in enumerate(sc.sinks.items())}
    points = {r.at for src in sc.sources.values() for r in src.calloff.values()}
    buffers: dict[str, Any] = {}
    for n, b in sc.buffers.items():
        if b.to in sinks:
            buffers[n] = SinkPort(n, sinks[b.to])
        elif b.kind == "stock":
            buffers[n] = Stock(n, b.capacity, b.trace, counters)
        elif n in points:
            buffers[n] = WatchedBuffer(n, b.capacity, b.trace)
        else:
            buffers[n] = Buffer(n, b.capacity, b.trace)
    inputs = {n: [buffers[b] for b in sc.inputs(n)] for n in sc.stations}
    outputs = {n: {b: buffers[b] for b in sc.outputs(n)}
               for n in list(sc.stations) + list(sc.sources)}

    plain = _fusable(sc, changes) if fuse else set()
    stations: dict[str, Station | PacedLine] = {}
    for n, s in sc.stations.items():
        cal = station_cal(n, s)
        out, rt = router(n, s, outputs[n], types, streams, start)
        st: Station | PacedLine
        if s.paced is not None:
            steps = [] if s.learning is not None else [
                (c.time, s.paced.takt / c.spec.paced.takt) for c in changes
                if c.section == "stations" and c.name == n and "paced" in c.fields]
            content = s.paced.content
            st = PacedLine(n, env, cal.with_speed(steps),
                           failure_model(s.failures, n, streams),
                           s.paced.positions, s.paced.takt / s.speed, inputs[n][0], rt, out,
                           None if content is None else [content.factor(t.attrs) for t in types])
        else:
            names = [f"{n}#{i}" if s.servers > 1 else n for i in range(s.servers)]
            ins = inputs[n]
            carrier = [b.name for b in ins].index(s.carrier) if s.carrier else 0
            consume = {}
            for bname, q in s.consume.items():
                consume[bname] = q if isinstance(q, int) else [
                    round(float(t.attrs[q])) for t in types]
            st = Station(n, env, s.servers, cal,
                         [failure_model(s.failures, m, streams) for m in names],
                         cycle_fn(s.cycle, n, streams, types, f"stations.{n}.cycle",
                                  speed=s.speed),
                         ins, carrier, s.match == "order", consume, rt, out, wip,
                         counters, fuse=n in plain)
        stations[n] = st
        if activity:
            for m in st.machines():
                m.act = Activity()
        for b in inputs[n]:
            b.consumer = st
            if isinstance(st, Station):
                b.ready = st.idle
                if isinstance(st.servers[0], LineServer):
                    b.consumer = st.servers[0]  # its one server wakes itself (fused)

    model = Model(env, sc, replication, horizon, types, {n: c for (n, r), c in calendars.items()
                                                          if r}, stations, buffers, sinks,
                  [], log, wip, counters)
    ids = itertools.count()
    for n, src in sc.sources.items():
        _source_ports(model, n, src, cal_of(src.calendar), streams, ids)
    model.changes = ChangeRunner(model, changes, streams) if changes else None
    _initial(model, streams, ids)
    model.folder = Folder.for_scenario(sc, types, [s.scrap for s in sc.sinks.values()],
                                       cal_of(None) if sc.run.calendar else None,
                                       StallFold(stall_calendar(model), sc.run.stall_after),
                                       horizon)
    if isinstance(log, TallyLog):
        log.folder = model.folder
    return model


def _initial(model: Model, streams: Streams, ids: Iterator[int]) -> None:
    """Stated WIP at t = 0: units in stocks, parts ({product: count}, variants drawn by
    their shares) in parts buffers; released before the run, so not counted as released,
    and of no order (checks refuse them upstream of kits: sim.spec.checks)."""
    for n, spec in model.scenario.buffers.items():
        buf = model.buffers[n]
        if isinstance(buf, Stock):
            if spec.initial:
                buf.add_initial(int(spec.initial))  # type: ignore[arg-type]
            continue
        if not isinstance(spec.initial, dict) or not spec.initial:
            continue
        choose = type_chooser(model.types, streams, f"initial:{n}")
        parts = [Part(next(ids), -1, choose(product), 0.0)
                 for product, count in spec.initial.items() for _ in range(count)]
        buf.items.extend(parts)
        buf.max_level = max(buf.max_level, len(buf.items))
        model.wip.change(0.0, len(parts))
        if buf.ready:  # as Buffer.put: the station takes them at t = 0
            buf.consumer.on_input(0.0)


def combined(a: list[tuple[float, float]], b: list[tuple[float, float]]
             ) -> list[tuple[float, float]]:
    """Two sets of speed steps (factor 1 before each's first) as one: their product."""
    def at(steps: list[tuple[float, float]], t: float) -> float:
        k = bisect_right([x for x, _ in steps], t) - 1
        return steps[k][1] if k >= 0 else 1.0
    times = sorted({t for t, _ in a} | {t for t, _ in b})
    return [(t, at(a, t) * at(b, t)) for t in times]


ALL_DAY = CalendarSpec.model_validate(
    {"shifts": [{"name": "all_day", "days": "daily", "start": "00:00", "end": "00:00"}]})
"""24/7 as a calendar of whole days, for a station without a calendar that has outages."""


def _fusable(sc: Scenario, changes) -> set[str]:
    """Stations whose job end may be fused (`sim.engine.station.LineServer`), as far as the
    graph tells: on no loop (a part they pass on never comes back to them), and neither
    they nor their input buffers touched by a dated change. The station checks the rest.

    A node is on a loop when its strongly connected component has more than one node or
    it feeds itself; the components come from one pass of Tarjan's algorithm (iterative,
    linear in the graph: a check of thousands of stations stays fast)."""
    succ: dict[str, list[str]] = {}
    for b in sc.buffers.values():
        for f in b.from_:
            succ.setdefault(f, []).append(b.to)
    touched = {c.name for c in changes if c.section == "stations"}
    touched |= {sc.buffers[c.name].to for c in changes if c.section == "buffers"}
    looped = _on_loops(succ)
    return {n for n in sc.stations if n not in looped and n not in touched}


def _on_loops(succ: dict[str, list[str]]) -> set[str]:
    """Nodes on a cycle of the graph `succ` (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    looped: set[str] = set()
    for root in list(succ):
        if root in index:
            continue
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child == node:
                    looped.add(node)
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(succ.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    looped.update(component)
    return looped


def _source_ports(model: Model, n: str, s: SourceSpec, cal: Calendar, streams: Streams,
                  ids: Iterator[int]) -> None:
    """The ports of source `n`: how its orders enter each of its output buffers."""
    sc, env, horizon = model.scenario, model.env, model.horizon
    outs = {b: model.buffers[b] for b in sc.outputs(n)}
    choose = type_chooser(model.types, streams, n)
    model.source_calendars[n] = cal
    if any(isinstance(buf, Stock) for buf in outs.values()):
        count = model.source_counts[n] = itertools.count()
        (bname, buf), = outs.items()
        units = OrderBook(order_source(n, s, cal, choose, streams, sc, horizon, model.counters,
                                       count=count))
        stock_port = StockPort(f"{n}->{bname}", env, units, buf, s.batch,
                               s.when_full == "lose", horizon)
        units.read_by(stock_port)
        model.ports.append(stock_port)
        return
    leader: DemandPort | None = None
    if s.kind == "demand":
        demand_book = DemandBook()
        book: DemandBook | OrderBook = demand_book
        first = next(b for b in outs if b not in s.calloff)
        leader = _demand_port(model, n, s, cal, choose, streams, outs[first], demand_book, ids)
        model.demand[n] = leader
        model.ports.append(leader)
    else:
        count = model.source_counts[n] = itertools.count()
        try:
            next_order = order_source(n, s, cal, choose, streams, sc, horizon, model.counters,
                                      count=count)
        except ValueError as e:
            raise ScenarioError("", f"sources.{n}.plan", str(e)) from None
        book = OrderBook(next_order, s.batch)
    port: Port | CalloffPort
    for bname, buf in outs.items():
        name = f"{n}->{bname}"
        if leader is not None and buf is leader.buf:
            continue
        if bname in s.calloff:
            rule = s.calloff[bname]
            port = CalloffPort(name, env, book, buf, rule.lead, ids, model.wip,
                                       model.counters, horizon)
            model.buffers[rule.at].watchers.append(port.trigger)
            if isinstance(book, OrderBook):
                book.read_by(port, sequential=False)  # it reads orders as bodies pass
        else:
            port = Port(name, env, book, buf, s.leads.get(bname, 0.0), s.kind == "saturated",
                        s.when_full == "lose", ids, model.wip, model.counters, horizon)
            port.limit_free = s.limit is None
            if isinstance(book, OrderBook):
                book.read_by(port)
        if leader is not None:
            leader.followers.append(port)
        model.ports.append(port)


def _demand_port(model: Model, n: str, s: SourceSpec, cal: Calendar, choose,
                 streams: Streams, buf: Any, book: DemandBook, ids: Iterator[int]
                 ) -> DemandPort:
    """The order book of a demand source: due times per product, shares per period."""
    sc, spec, start = model.scenario, s.demand, model.scenario.run.start
    assert spec is not None
    products = list(dict.fromkeys(p for per in spec.periods
                                  for p in (*per.quantities, *per.per_day)))
    on_days = cal.production_days(int(np.ceil(model.horizon / DAY)) + 1)
    rng_drop = streams.rng(n, "ramp")
    due: list[list[np.ndarray]] = [[] for _ in products]
    shares = np.zeros((len(spec.periods), len(products)))
    planned = np.zeros((len(spec.periods), len(products)), dtype=np.int64)
    for j, per in enumerate(spec.periods):
        a = days(per.from_, start)
        b = min(days(per.to, start) + DAY, model.horizon)
        work_days = int(on_days[int(a // DAY):int(np.ceil(b / DAY))].sum())
        for i, p in enumerate(products):
            q = per.quantities.get(p, 0) + per.per_day.get(p, 0.0) * work_days
            planned[j, i] = round(q * spec.scale.get(p, 1.0))
            try:
                due[i].append(due_times(cal, a, b, int(planned[j, i]), spec.due))
            except ValueError as e:
                raise ScenarioError("", f"sources.{n}.demand.periods.{j}",
                                    f"period {per.from_}..{per.to} {e}") from None
        total = planned[j].sum()
        shares[j] = planned[j] / total if total else 0.0
    caps: list[tuple[float, float, float, int] | None] = []
    merged = []
    for i, p in enumerate(products):
        times = np.concatenate(due[i]) if due[i] else np.zeros(0)
        sop = sc.products[p].sop
        if sop is not None:
            times = np.maximum(times, days(sop, start))
        ramp = spec.ramps.get(p)
        cap = None
        if ramp is not None:
            r0 = days(ramp.start, start)
            if ramp.mode == "drop":
                keep = np.array([rng_drop.random() < ramp_factor(t, r0, ramp.duration,
                                                                ramp.initial) for t in times],
                                dtype=bool)
                model.counters["ramp_dropped"] += int((~keep).sum())
                times = times[keep]
            else:
                assert ramp.per_day is not None  # checked by DemandSpec
                cap = (r0, ramp.duration, ramp.initial, ramp.per_day)
        caps.append(cap)
        merged.append(times)
    mc = spec.sequencing.max_consecutive
    limited = [mc is not None and str(sc.products[p].attrs.get(mc.attr)) == mc.value
               for p in products]
    port = DemandPort(f"{n}->{buf.name}", model.env, buf, book, products, merged, shares,
                      np.array([days(per.from_, start) for per in spec.periods]), caps,
                      choose, spec.sequencing.rule, limited, mc.n if mc else None,
                      streams.rng(n, "sequence"), ids, model.wip, model.counters,
                      model.horizon)
    port.planned = planned
    port.period_bounds = [(per.from_, per.to) for per in spec.periods]
    spacing = spec.sequencing.max_in_window
    if spacing is not None:
        port.space([str(sc.products[p].attrs.get(spacing.attr)) == spacing.value
                    for p in products], spacing.n, spacing.window, spacing.pitch)
    return port
