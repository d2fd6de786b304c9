"""Whole-scenario checks: the flow graph is connected sensibly and every name refers to
something that exists.

These run once, after every section has validated on its own, and stop at the first
problem with a message naming the exact field (`buffers.b1.from`), so that a scenario that
loads is one the engine can build without further defensive code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.spec.base import NAME_RE, attr_key, fail, join, shown
from sim.spec.changes import check_changes
from sim.spec.dists import ByCycle
from sim.spec.flow import LearningCurve, RouteRule, SourceSpec, StationSpec
from sim.spec.plans import DemandPeriod, DemandSpec, PlanPeriod, PlanSpec
from sim.spec.reporting import check_reporting

if TYPE_CHECKING:
    from sim.spec.scenario import Scenario

FLOW_SECTIONS = ("sources", "stations", "buffers", "sinks")


def _listing(names: Any) -> str:
    names = list(names)
    return ", ".join(names) if names else "(none)"


def _unknown(kind: str, name: object, known: Any, path: str) -> None:
    raise fail(f"unknown {kind} {shown(name)}; expected one of: {_listing(known)}", path)


class _Context:
    """Facts derived once from the scenario: product types and attribute domains."""

    def __init__(self, s: Scenario) -> None:
        self.s = s
        self.types = s.types()
        self.domain: dict[str, set[str]] = {}
        for attrs in (t.attrs for t in self.types):
            for key, value in attrs.items():
                self.domain.setdefault(key, set()).add(attr_key(value))

    def type_name(self, attrs: Mapping[str, Any]) -> str:
        return f"{attrs['product']}/{attrs['variant']}"

    def check_attr(self, attr: str, path: str) -> None:
        if attr not in self.domain:
            _unknown("attribute", attr, sorted(self.domain), path)

    def check_value(self, attr: str, value: str, path: str) -> None:
        self.check_attr(attr, path)
        if value not in self.domain[attr]:
            raise fail(
                f"no product type has {attr} = {shown(value)}; "
                f"values are: {_listing(sorted(self.domain[attr]))}",
                path,
            )

    def numeric(self, attr: str, path: str, *, every: bool) -> None:
        self.check_attr(attr, path)
        for attrs in (t.attrs for t in self.types):
            value = attrs.get(attr)
            if value is None and not every:
                continue
            if isinstance(value, str) or value is None:
                got = "no value" if value is None else shown(value)
                raise fail(
                    f"attribute {shown(attr)} must be a number for every product type "
                    f"({self.type_name(attrs)} has {got})",
                    path,
                )


def check_scenario(s: Scenario) -> None:
    """Raise a path-naming validation error at the first structural problem."""
    if not s.products:
        raise fail("at least one product is needed", "products")
    _check_names(s)
    ctx = _Context(s)
    _check_calendars(s)
    _check_buffers(s)
    for name, source in s.sources.items():
        _check_source(ctx, name, source)
    for name, station in s.stations.items():
        _check_station(ctx, name, station)
    _check_live(s)
    check_changes(s)
    check_reporting(s)


def _check_names(s: Scenario) -> None:
    for section in ("products", "calendars", *FLOW_SECTIONS):
        for name in getattr(s, section):
            if not NAME_RE.match(name):
                raise fail(
                    f"bad name {shown(name)}: a name starts with a letter and has only "
                    "letters, digits, '_', '.' and '-'",
                    f"{section}.{name}",
                )
    seen: dict[str, str] = {}
    for section in FLOW_SECTIONS:
        for name in getattr(s, section):
            if name in seen:
                raise fail(
                    f"name {shown(name)} is already used in {seen[name]}; sources, stations, "
                    "buffers and sinks share one namespace",
                    f"{section}.{name}",
                )
            seen[name] = section


def _check_live(s: Scenario) -> None:
    """Refuse structurally dead flow: a sink no buffer leads to, or a station that can never
    start because one of its inputs (an assembly needs every one) is fed by nothing a
    source reaches, e.g. only by its own downstream. Such a model runs and builds nothing.

    Liveness spreads from the sources: a buffer is live when one of its feeders is, a
    station when all its inputs are, a sink when one of its inputs is (a worklist pass,
    linear in the graph)."""
    for name in s.sinks:
        if not s.inputs(name):
            raise fail(f"sink {shown(name)} has no input buffer (no buffer has 'to: {name}'): "
                       "nothing can reach it", f"sinks.{name}")
    missing = {n: len(set(s.inputs(n))) for n in s.stations}
    live: set[str] = set()
    todo = list(s.sources)
    while todo:
        node = todo.pop()
        for b in s.outputs(node):
            if b in live:
                continue
            live.add(b)
            to = s.buffers[b].to
            if to in missing:
                missing[to] -= 1
                if missing[to] == 0:
                    todo.append(to)
    for name in s.stations:
        if missing[name] > 0:
            dead = next(b for b in s.inputs(name) if b not in live)
            feeders = ", ".join(s.buffers[dead].from_)
            raise fail(f"station {shown(name)} can never start: its input {dead} (from "
                       f"{feeders}) is fed by nothing a source reaches (only from its own "
                       "downstream, or from another dead station)", f"stations.{name}")


def _check_calendars(s: Scenario) -> None:
    refs = [("run.calendar", s.run.calendar)]
    refs += [(f"sources.{n}.calendar", x.calendar) for n, x in s.sources.items()]
    refs += [(f"stations.{n}.calendar", x.calendar) for n, x in s.stations.items()]
    for path, name in refs:
        if name is not None and name not in s.calendars:
            _unknown("calendar", name, s.calendars, path)
    first, last = s.run.start, s.run.last_day
    for name, cal in s.calendars.items():
        for i, change in enumerate(cal.changes):
            if not first < change.from_ <= last:
                raise fail(f"change date {change.from_} is outside the run horizon {first} .. "
                           f"{last} (the pattern in force at the start is 'shifts')",
                           f"calendars.{name}.changes.{i}.from")


def _check_buffers(s: Scenario) -> None:
    upstream = {**s.sources, **s.stations}
    downstream = {**s.stations, **s.sinks}
    for name, buf in s.buffers.items():
        for node in buf.from_:
            if node not in upstream:
                _unknown("source or station", node, upstream, f"buffers.{name}.from")
        if buf.to not in downstream:
            _unknown("station or sink", buf.to, downstream, f"buffers.{name}.to")
        if buf.kind == "stock":
            _check_stock(s, name, buf)
        if isinstance(buf.initial, dict) and buf.initial:
            _check_initial(s, name, buf)


def _check_initial(s: Scenario, name: str, buf: Any) -> None:
    """Stated WIP: known products, in a buffer a station takes from, and never upstream of
    an order-matched assembly or a call-off point (an initial part has no kit partner)."""
    path = f"buffers.{name}.initial"
    for product in buf.initial:
        if product not in s.products:
            _unknown("product", product, s.products, join(path, product))
    if buf.to in s.sinks:
        raise fail("a buffer into a sink holds nothing: parts in it are done", path)
    points = {r.at for src in s.sources.values() for r in src.calloff.values()}
    for b in sorted(downstream(s, name)):
        st = s.stations.get(s.buffers[b].to)
        if b in points or (st is not None and st.match == "order"):
            raise fail(f"initial parts would reach {shown(b)}, "
                       + ("a call-off point" if b in points else "an order-matched assembly")
                       + ", with no kit partner: state the WIP further down, or warm up by "
                       "starting the run earlier (run.warmup)", path)


def _check_stock(s: Scenario, name: str, buf: Any) -> None:
    """A stock is fed only by sources that feed nothing else, and is taken by `consume`."""
    path = f"buffers.{name}"
    for node in buf.from_:
        if node not in s.sources:
            raise fail(f"a stock is fed by sources only ({shown(node)} is not a source)",
                       f"{path}.from")
        if len(s.outputs(node)) > 1:
            raise fail(f"source {shown(node)} feeds a stock and must feed nothing else",
                       f"{path}.from")
    st = s.stations.get(buf.to)
    inputs = s.inputs(buf.to) if st is not None else []
    if st is None or len(inputs) < 2 or (st.carrier or inputs[0]) == name:
        raise fail("a stock feeds an assembly station that takes units from it with "
                   "'consume' (and is not that station's carrier)", f"{path}.to")


def _check_products(ctx: _Context, names: Any, path: str) -> None:
    for i, product in enumerate(names):
        if product not in ctx.s.products:
            key = i if isinstance(names, (list, tuple)) else product
            _unknown("product", product, ctx.s.products, join(path, key))


def _check_source(ctx: _Context, name: str, src: SourceSpec) -> None:
    s, path = ctx.s, f"sources.{name}"
    outputs = s.outputs(name)
    if not outputs:
        raise fail(f"source {shown(name)} feeds no buffer (no buffer lists it in 'from')", path)
    for buf in src.leads:
        if buf not in outputs:
            _unknown("output buffer", buf, outputs, f"{path}.leads.{buf}")
    _check_products(ctx, src.mix or {}, f"{path}.mix")
    _check_products(ctx, src.sequence or (), f"{path}.sequence")
    _check_calloff(s, name, src, outputs, path)
    book: PlanSpec | DemandSpec | None = src.plan if src.plan is not None else src.demand
    if book is None:
        return
    key = "plan" if src.plan is not None else "demand"
    first, last = s.run.start, s.run.last_day
    periods: Sequence[PlanPeriod | DemandPeriod] = book.periods
    for i, period in enumerate(periods):
        for end, day in (("from", period.from_), ("to", period.to)):
            if not first <= day <= last:
                raise fail(
                    f"{key} date {day} is outside the run horizon {first} .. {last}",
                    f"{path}.{key}.periods.{i}.{end}",
                )
        _check_products(ctx, period.quantities, f"{path}.{key}.periods.{i}.quantities")
        _check_products(ctx, getattr(period, "per_day", {}),
                        f"{path}.{key}.periods.{i}.per_day")
    for i, period in enumerate(periods):
        for product in (*period.quantities, *getattr(period, "per_day", {})):
            sop = s.products[product].sop
            if key == "plan" and sop is not None and period.from_ < sop and (
                    period.quantities.get(product)):
                raise fail(f"plan orders of {product} from {period.from_} come before its "
                           f"start of production (sop {sop}); a plan is released as written, "
                           "so start the period at the sop (a demand source holds orders "
                           "until the sop instead)",
                           f"{path}.{key}.periods.{i}.quantities.{product}")
    _check_products(ctx, book.ramps, f"{path}.{key}.ramps")
    _check_products(ctx, book.scale, f"{path}.{key}.scale")
    for product, ramp in book.ramps.items():
        sop = s.products[product].sop
        if sop is not None and ramp.start < sop:
            raise fail(f"ramp-up of {product} starts {ramp.start}, before its start of "
                       f"production (sop {sop})", f"{path}.{key}.ramps.{product}.start")
    for rule, limit in (("max_consecutive", book.sequencing.max_consecutive),
                        ("max_in_window", book.sequencing.max_in_window)):
        if limit is not None:
            mpath = f"{path}.{key}.sequencing.{rule}"
            ctx.check_attr(limit.attr, f"{mpath}.attr")
            ctx.check_value(limit.attr, limit.value, f"{mpath}.value")


def downstream(s: Scenario, buffer: str) -> set[str]:
    """Buffers a part in `buffer` can reach (itself included), following stations' outputs."""
    seen, todo = {buffer}, [buffer]
    while todo:
        node = s.buffers[todo.pop()].to
        for nxt in s.outputs(node) if node in s.stations else ():
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check_calloff(s: Scenario, name: str, src: SourceSpec, outputs: list[str],
                   path: str) -> None:
    """A called-off output waits for the same order's part from another output to reach
    `at`: `at` must lie on such a path and not on the called-off part's own path."""
    for buf, rule in src.calloff.items():
        where = f"{path}.calloff.{buf}"
        if buf not in outputs:
            _unknown("output buffer", buf, outputs, where)
        if rule.at not in s.buffers:
            _unknown("buffer", rule.at, s.buffers, f"{where}.at")
        at = s.buffers[rule.at]
        if at.kind == "stock" or at.to in s.sinks:
            raise fail(f"call-off point {rule.at} must be a buffer of parts between two "
                       "stations (not a stock, not a buffer into a sink)", f"{where}.at")
        for other in s.sources:
            feeds_parts = all(s.buffers[b].kind == "parts" for b in s.outputs(other))
            if other != name and feeds_parts and any(
                    rule.at in downstream(s, b) for b in s.outputs(other)):
                raise fail(f"call-off point {rule.at} is also reached by parts of source "
                           f"{other}: choose a point only this source's orders pass",
                           f"{where}.at")
        others = [b for b in outputs if b != buf and b not in src.calloff]
        if not others:
            raise fail("a call-off needs another output of the source released at once, "
                       "whose part reaches the call-off point", where)
        if rule.at in downstream(s, buf):
            raise fail(f"call-off point {rule.at} is on the called-off part's own path: it "
                       "would wait for itself", f"{where}.at")
        if not any(rule.at in downstream(s, b) for b in others):
            raise fail(f"call-off point {rule.at} is not on the path of the order's other "
                       f"parts (from {', '.join(others)})", f"{where}.at")


def _check_station(ctx: _Context, name: str, st: StationSpec) -> None:
    s, path = ctx.s, f"stations.{name}"
    for i, outage in enumerate(st.outages):
        if outage.to < s.run.start or outage.from_ > s.run.last_day:
            raise fail(f"outage {outage.from_} .. {outage.to} lies outside the run "
                       f"{s.run.start} .. {s.run.last_day}", f"{path}.outages.{i}")
    inputs, outputs = s.inputs(name), s.outputs(name)
    if not inputs:
        raise fail(f"station {shown(name)} has no input buffer (no buffer has 'to: {name}')",
                   path)
    if not outputs:
        raise fail(f"station {shown(name)} has no output buffer (no buffer lists it in 'from')",
                   path)
    if st.paced is not None and len(inputs) > 1:
        raise fail(f"a paced segment takes exactly one input buffer (has {_listing(inputs)})",
                   f"{path}.paced")
    if st.carrier is not None and st.carrier not in inputs:
        _unknown("input buffer", st.carrier, inputs, f"{path}.carrier")
    for buf, amount in st.consume.items():
        if buf not in inputs:
            _unknown("input buffer", buf, inputs, f"{path}.consume.{buf}")
        if isinstance(amount, str):
            ctx.numeric(amount, f"{path}.consume.{buf}", every=True)
            for attrs in (t.attrs for t in ctx.types):
                if attrs[amount] < 0:
                    raise fail(f"attribute {shown(amount)} gives the units taken per job: it "
                               f"must be >= 0 ({ctx.type_name(attrs)} has "
                               f"{shown(attrs[amount])})", f"{path}.consume.{buf}")
    if isinstance(st.cycle, ByCycle):
        _check_cycle(ctx, st.cycle, f"{path}.cycle")
    if len(outputs) > 1 and not st.route:
        raise fail(
            f"station {shown(name)} has {len(outputs)} output buffers "
            f"({_listing(outputs)}) and needs 'route' rules",
            f"{path}.route",
        )
    _check_route(ctx, st.route, outputs, f"{path}.route")


def _check_cycle(ctx: _Context, cycle: ByCycle, path: str) -> None:
    ctx.check_attr(cycle.by, f"{path}.by")
    for key in cycle.values:
        ctx.check_value(cycle.by, key, f"{path}.values.{key}")
    for attrs in (t.attrs for t in ctx.types):
        if cycle.spec_for(attrs) is None:
            value = attrs.get(cycle.by)
            got = "has no value" if value is None else f"= {shown(attr_key(value))}"
            raise fail(
                f"no cycle time for product type {ctx.type_name(attrs)} "
                f"({cycle.by} {got}); add it to 'values' or give a 'default'",
                path,
            )
    if cycle.scale_by is not None:
        ctx.numeric(cycle.scale_by, f"{path}.scale_by", every=True)


def _matches(rule: RouteRule, attrs: Mapping[str, Any]) -> bool:
    return all(k in attrs and attr_key(attrs[k]) == v for k, v in rule.when.items())


def _check_route(ctx: _Context, route: tuple[RouteRule, ...], outputs: list[str],
                 path: str) -> None:
    for i, rule in enumerate(route):
        if rule.to not in outputs:
            _unknown("output buffer", rule.to, outputs, f"{path}.{i}.to")
        for key, value in rule.when.items():
            ctx.check_value(key, value, f"{path}.{i}.when.{key}")
    if not route:
        return
    for attrs in (t.attrs for t in ctx.types):
        kept = [r for r in route if _matches(r, attrs)]
        label = ctx.type_name(attrs)
        if not kept:
            raise fail(f"product type {label} matches no route rule", path)
        total = sum(r.p for r in kept if isinstance(r.p, float))
        if total > 1.0 + 1e-9:
            raise fail(f"route probabilities for {label} sum to {total:g} > 1", path)
        if any(r.p is None for r in kept):
            continue
        if any(isinstance(r.p, LearningCurve) for r in kept):
            raise fail(f"route rules for {label} use a learning curve and need a "
                       "final rule without 'p' to take the rest", path)
        if total < 1.0 - 1e-9:
            raise fail(f"route probabilities for {label} sum to {total:g}, not 1; "
                       "give the last rule no 'p' to take the rest", path)
