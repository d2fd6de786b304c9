"""Factories: one scenario section in, one engine callable out.

Why a module of its own: the model build (`sim/engine/model.py`) wires these at the start
of a run, and dated changes (`sim/engine/changes.py`) call the same factories mid-run to
replace a station's cycle sampler, failure model or router, or a source's order
generator. Random streams are named after the component and purpose (docs/design.md §6); a
factory called for a dated change gets a `tag` (``@<change name>``) so that the new
values draw from a stream of their own, common to every scenario with that change.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right

from sim.engine.calendar import Calendar
from sim.engine.distributions import Sampler, make_sampler
from sim.engine.machine import FailureModel
from sim.engine.plan import release_timeline
from sim.engine.routing import Router, Uniforms, learning_curve
from sim.engine.streams import Streams
from sim.errors import ScenarioError
from sim.spec.clock import seconds_at
from sim.spec.scenario import attr_key


def days(d, start) -> float:
    return seconds_at(start, d)


def cycle_fn(spec, name: str, streams: Streams, types, path: str, tag: str = "",
             speed: float = 1.0):
    """A function: type index -> work content (seconds) of one job, divided by the
    station's `speed` (the same draws: a faster station stays paired with the base)."""
    rng = streams.rng(name, "cycle" + tag)
    by = getattr(spec, "by", None)
    dists, scales = [], []
    for attrs in (t.attrs for t in types):
        if by is None:
            d, scale = spec, 1.0
        else:
            d = spec.spec_for(attrs)
            if d is None:
                raise ScenarioError("", path, f"no cycle time for type {attrs['product']}/"
                                    f"{attrs['variant']} ({by}={attrs.get(by)}) and no default")
            scale = float(attrs[spec.scale_by]) if spec.scale_by else 1.0
        dists.append(d)
        scales.append(scale / speed)
    # One stream per distinct distribution: with several, each is keyed by its own
    # attribute value, so adding a product leaves the others' draws unchanged (CRN).
    distinct = list({id(d): (d, t.attrs.get(by)) for d, t in zip(dists, types)}.values())
    samplers: dict[int, Sampler] = {}
    for d, key in distinct:
        stream = rng if len(distinct) == 1 else streams.rng(name, f"cycle:{by}={key}{tag}")
        samplers[id(d)] = make_sampler(d, stream)
    if all(d.dist == "deterministic" for d in dists):
        return [d.value * s for d, s in zip(dists, scales)].__getitem__
    draws = [samplers[id(d)].draw for d in dists]
    if all(s == 1.0 for s in scales):
        return lambda k: draws[k]()
    return lambda k: draws[k]() * scales[k]


def constant_of(cycle) -> float | None:
    """The work content every job of `cycle` (a `cycle_fn` result) has, if it is one
    number for every type: the deterministic case `cycle_fn` returns as a list lookup."""
    table = getattr(cycle, "__self__", None)
    if isinstance(table, list) and table and all(w == table[0] for w in table):
        return float(table[0])
    return None


def failure_model(spec, name: str, streams: Streams, tag: str = "") -> FailureModel | None:
    if spec is None:
        return None
    return FailureModel(make_sampler(spec.uptime, streams.rng(name, "uptime" + tag)),
                        make_sampler(spec.repair, streams.rng(name, "repair" + tag)),
                        spec.mode == "time", spec.repair_off_shift,
                        spec.after_failure == "repeat")


def router(st_name: str, spec, outputs: dict, types, streams: Streams, start):
    """One target per type when there is no choice, else a Router."""
    if len(outputs) == 1 and not spec.route:
        return next(iter(outputs.values())), None
    tables = []
    for attrs in (t.attrs for t in types):
        rules = []
        for rule in spec.route:
            if all(attr_key(attrs.get(k)) == v for k, v in rule.when.items()):
                p = rule.p
                if p is not None and not isinstance(p, (int, float)):
                    p = learning_curve(p.initial, p.final, days(p.from_, start), p.over,
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


def type_chooser(types, streams: Streams, src: str):
    """product name -> function drawing one of its variant types by share."""
    by_product: dict[str, list[tuple[int, float]]] = {}
    for k, t in enumerate(types):
        by_product.setdefault(t.product, []).append((k, t.share))
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


def order_source(name: str, spec, cal: Calendar, choose, streams: Streams, sc, horizon,
                 counters, tag: str = "", count=None):
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
        rng = streams.rng(name, "mix" + tag)

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
    count = itertools.count() if count is None else count
    if not spec.active:
        return lambda last: None
    if spec.kind == "saturated":
        return (lambda last: None if limit is not None and next(count) >= limit
                else (0.0, pick()))
    ia = make_sampler(spec.interarrival, streams.rng(name, "arrivals" + tag))
    if spec.ramp:
        return _ramped(spec.ramp, sc.run.start, ia, cal, pick, limit, count, horizon)

    def next_arrival(last: float):
        if limit is not None and next(count) >= limit:
            return None
        t = cal.advance_on(last, ia.draw())
        return (t, pick()) if t < horizon else None
    return next_arrival


def _ramped(ramp, start, ia, cal: Calendar, pick, limit, count, horizon):
    """next_arrival of a source whose rate follows dated points: held from a point to the
    next (or linear to it, `to_next: linear`), constant after the last, zero before the
    first; a rate-0 point stops the source until the next point. The next interarrival, drawn at the
    nominal rate, is divided by the rate at the previous arrival (a ramp of weeks or
    months barely moves within one interarrival); the draws are those of the unramped
    source, one per arrival."""
    times = [seconds_at(start, p.from_) for p in ramp]
    rates = [p.rate for p in ramp]
    linear = [p.to_next == "linear" for p in ramp]

    def rate_at(t: float) -> float:
        i = bisect_right(times, t) - 1
        if i < 0 or rates[i] == 0.0:
            return 0.0
        if i + 1 == len(times) or not linear[i]:
            return rates[i]
        f = (t - times[i]) / (times[i + 1] - times[i])
        return rates[i] + f * (rates[i + 1] - rates[i])

    def wakes(t: float) -> float:
        """The first instant from t with a positive rate (inf if none)."""
        if rate_at(t) > 0.0:
            return t
        later = [x for x, r in zip(times, rates) if x > t and r > 0.0]
        return later[0] if later else math.inf

    def next_arrival(last: float):
        if limit is not None and next(count) >= limit:
            return None
        d = ia.draw()
        x = wakes(last)
        if x >= horizon:
            return None
        t = cal.advance_on(x, d / rate_at(x))
        return (t, pick()) if t < horizon else None
    return next_arrival
