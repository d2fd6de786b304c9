"""Build: a validated Scenario becomes a wired SimPy model.

Each component receives only its own section of the scenario plus the shared clock,
calendar and random streams (DESIGN.md §3). Random streams are named after the component
and purpose, so two scenarios that share a station draw the same numbers there (§6).
Problems only visible once the graph is assembled (a product type no route rule accepts,
a plan period without on-shift time) raise `ScenarioError` naming the field path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import simpy

from sim.calendar import Calendar
from sim.distributions import make_sampler
from sim.engine.buffer import Buffer, CompletionLog, Sink, SinkPort, Wip
from sim.engine.machine import FailureModel
from sim.engine.paced import PacedLine
from sim.engine.plan import release_timeline
from sim.engine.routing import Router, Uniforms, learning_curve
from sim.engine.source import OrderBook, Port
from sim.engine.station import Station
from sim.engine.stock import Stock, StockPort
from sim.errors import ScenarioError
from sim.scenario import attr_key
from sim.streams import Streams


@dataclass
class Model:
    """Everything one replication runs: the environment and its components."""

    env: simpy.Environment
    scenario: object
    replication: int
    horizon: float
    types: list[tuple[str, str, dict]]
    calendars: dict[str, Calendar]
    stations: dict[str, object]
    buffers: dict[str, object]
    sinks: dict[str, Sink]
    ports: list
    log: CompletionLog
    wip: Wip
    counters: dict[str, int] = field(default_factory=dict)


def _days(d, start) -> float:
    return (d - start).days * 86400.0


def _cycle(spec, name: str, streams: Streams, types, path: str):
    """A function: type index -> work content (seconds) of one job."""
    rng = streams.rng(name, "cycle")
    by = getattr(spec, "by", None)
    dists, scales = [], []
    for _, _, attrs in types:
        if by is None:
            d, scale = spec, 1.0
        else:
            d = spec.spec_for(attrs)
            if d is None:
                raise ScenarioError("", path, f"no cycle time for type {attrs['product']}/"
                                    f"{attrs['variant']} ({by}={attrs.get(by)}) and no default")
            scale = float(attrs[spec.scale_by]) if spec.scale_by else 1.0
        dists.append(d)
        scales.append(scale)
    # One stream per distinct distribution: with several, each is keyed by its own
    # attribute value, so adding a product leaves the others' draws unchanged (CRN).
    distinct = list({id(d): (d, attrs.get(by)) for d, (_, _, attrs) in zip(dists, types)}.values())
    samplers: dict[int, object] = {}
    for d, key in distinct:
        stream = rng if len(distinct) == 1 else streams.rng(name, f"cycle:{by}={key}")
        samplers[id(d)] = make_sampler(d, stream)
    if all(d.dist == "deterministic" for d in dists):
        return [d.value * s for d, s in zip(dists, scales)].__getitem__
    draws = [samplers[id(d)].draw for d in dists]
    if all(s == 1.0 for s in scales):
        return lambda k: draws[k]()
    return lambda k: draws[k]() * scales[k]


def _failure_model(spec, name: str, streams: Streams) -> FailureModel | None:
    if spec is None:
        return None
    return FailureModel(make_sampler(spec.uptime, streams.rng(name, "uptime")),
                        make_sampler(spec.repair, streams.rng(name, "repair")),
                        spec.mode == "time", spec.repair_off_shift)


def _router(st_name: str, spec, outputs: dict, types, streams: Streams, start):
    """One target per type when there is no choice, else a Router."""
    if len(outputs) == 1 and not spec.route:
        return next(iter(outputs.values())), None
    tables = []
    for _, _, attrs in types:
        rules = []
        for rule in spec.route:
            if all(attr_key(attrs.get(k)) == v for k, v in rule.when.items()):
                p = rule.p
                if p is not None and not isinstance(p, (int, float)):
                    p = learning_curve(p.initial, p.final, _days(p.from_, start), p.over,
                                       p.shape)
                rules.append((outputs[rule.to], p))
        fixed = [p for _, p in rules if p is not None and not callable(p)]
        complete = any(p is None for _, p in rules) or (
            len(fixed) == len(rules) and abs(sum(fixed) - 1.0) < 1e-9)
        if not rules or not complete:
            raise ScenarioError("", f"stations.{st_name}.route",
                                f"parts of type {attrs['product']}/{attrs['variant']} are not "
                                "always routed: add a rule without p (the remainder) or make "
                                "the probabilities of the matching rules sum to 1")
        tables.append(rules)
    return None, Router(tables, Uniforms(streams.rng(st_name, "route")))


def _type_chooser(types, streams: Streams, src: str):
    """product name -> function drawing one of its variant types by share."""
    by_product: dict[str, list[tuple[int, float]]] = {}
    for k, (product, _, attrs) in enumerate(types):
        by_product.setdefault(product, []).append((k, attrs.get("_share", 1.0)))
    rng = streams.rng(src, "variant")

    def choose(product: str) -> int:
        options = by_product[product]
        if len(options) == 1:
            return options[0][0]
        u, cum = rng.random(), 0.0
        for k, share in options:
            cum += share
            if u < cum:
                return k
        return options[-1][0]
    return choose


def _order_source(name: str, spec, cal: Calendar, choose, streams: Streams, sc, horizon,
                  counters):
    """The next_order function of a source's OrderBook."""
    products = list(sc.products)
    if spec.kind == "plan":
        times, types, dropped = release_timeline(
            spec.plan, cal, sc.run.start, horizon, choose,
            lambda p, a: sc.products[p].attrs.get(a), streams.rng(name, "sequence"),
            streams.rng(name, "ramp"))
        counters["ramp_dropped"] += dropped
        it = iter(zip(times, types))
        return lambda last: next(it, None)
    if spec.sequence:
        cyc = itertools.cycle(spec.sequence)
        pick = lambda: choose(next(cyc))
    else:
        mix = spec.mix or {products[0]: 1.0}
        names, shares = list(mix), list(mix.values())
        total = sum(shares)
        rng = streams.rng(name, "mix")

        def pick() -> int:
            if len(names) == 1:
                return choose(names[0])
            u, cum = rng.random() * total, 0.0
            for n, s in zip(names, shares):
                cum += s
                if u < cum:
                    return choose(n)
            return choose(names[-1])
    limit = spec.limit
    count = itertools.count()
    if spec.kind == "saturated":
        return (lambda last: None if limit is not None and next(count) >= limit
                else (0.0, pick()))
    ia = make_sampler(spec.interarrival, streams.rng(name, "arrivals"))

    def next_arrival(last: float):
        if limit is not None and next(count) >= limit:
            return None
        t = cal.advance_on(last, ia.draw())
        return (t, pick()) if t < horizon else None
    return next_arrival


def build(sc, replication: int = 0) -> Model:
    """Wire the SimPy model of one replication of scenario `sc`."""
    env = simpy.Environment()
    streams = Streams(sc.run.seed, replication)
    horizon = sc.run.horizon
    start = sc.run.start
    types = sc.types()
    for product, variant, attrs in types:
        variants = sc.products[product].variants
        attrs["_share"] = variants[variant].share if variants else 1.0
    calendars = {}
    for n, c in sc.calendars.items():
        try:
            calendars[n] = Calendar.build(c, start, horizon)
        except ValueError as e:
            raise ScenarioError("", f"calendars.{n}", str(e)) from None
    always = Calendar.always()

    def cal_of(name: str | None) -> Calendar:
        name = name or sc.run.calendar
        return calendars[name] if name else always

    log, wip = CompletionLog(), Wip()
    counters = {"released": 0, "lost": 0, "consumed": 0, "ramp_dropped": 0,
                "units_delivered": 0, "units_consumed": 0, "units_lost": 0}
    sinks = {n: Sink(n, i, s.scrap, log, wip) for i, (n, s) in enumerate(sc.sinks.items())}
    buffers: dict[str, object] = {}
    for n, b in sc.buffers.items():
        if b.to in sinks:
            buffers[n] = SinkPort(n, sinks[b.to])
        elif b.kind == "stock":
            buffers[n] = Stock(n, b.capacity, b.trace, counters)
        else:
            buffers[n] = Buffer(n, b.capacity, b.trace)
    inputs = {n: [buffers[b] for b, s in sc.buffers.items() if s.to == n] for n in sc.stations}
    outputs = {n: {b: buffers[b] for b, s in sc.buffers.items() if n in s.from_}
               for n in list(sc.stations) + list(sc.sources)}

    stations: dict[str, object] = {}
    for n, s in sc.stations.items():
        cal = cal_of(s.calendar)
        out, router = _router(n, s, outputs[n], types, streams, start)
        if s.paced is not None:
            if len(inputs[n]) != 1:
                raise ScenarioError("", f"stations.{n}.paced",
                                    "a paced line takes exactly one input buffer")
            st = PacedLine(n, env, cal, _failure_model(s.failures, n, streams),
                           s.paced.positions, s.paced.takt, inputs[n][0], router, out)
        else:
            names = [f"{n}#{i}" if s.servers > 1 else n for i in range(s.servers)]
            ins = inputs[n]
            carrier = [b.name for b in ins].index(s.carrier) if s.carrier else 0
            consume = {}
            for bname, q in s.consume.items():
                consume[bname] = q if isinstance(q, int) else [
                    round(float(a[q])) for _, _, a in types]
            st = Station(n, env, s.servers, cal,
                         [_failure_model(s.failures, m, streams) for m in names],
                         _cycle(s.cycle, n, streams, types, f"stations.{n}.cycle"),
                         ins, carrier, s.match == "order", consume, router, out, wip,
                         counters)
        stations[n] = st
        for b in inputs[n]:
            b.consumer = st
            if isinstance(st, Station):
                b.ready = st.idle

    ports: list[Port] = []
    ids = itertools.count()
    for n, s in sc.sources.items():
        cal = cal_of(s.calendar)
        choose = _type_chooser(types, streams, n)
        try:
            next_order = _order_source(n, s, cal, choose, streams, sc, horizon, counters)
        except ValueError as e:
            raise ScenarioError("", f"sources.{n}.plan", str(e)) from None
        if any(isinstance(buf, Stock) for buf in outputs[n].values()):
            (bname, buf), = outputs[n].items()
            ports.append(StockPort(f"{n}->{bname}", env, OrderBook(next_order), buf, s.batch,
                                   s.when_full == "lose", horizon))
            continue
        book = OrderBook(next_order, s.batch)
        for bname, buf in outputs[n].items():
            port = Port(f"{n}->{bname}", env, book, buf, s.leads.get(bname, 0.0),
                        s.kind == "saturated", s.when_full == "lose", ids, wip, counters,
                        horizon)
            port.limit_free = s.limit is None
            ports.append(port)
    return Model(env, sc, replication, horizon, types, calendars, stations, buffers, sinks,
                 ports, log, wip, counters)
