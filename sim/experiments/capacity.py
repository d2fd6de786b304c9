"""The capacity envelope: what the plant can build per working day for a given mix.

A scenario's output answers "what does the plant build against this order book?"; a
planner also needs what it *could* build, apart from what the book asks. This module
turns a scenario into its saturated twin: the vehicle order source becomes an order book
that always has orders due, at a fixed mix, from the run start to the end of a
measurement window; everything else (calendars and their dated changes, supply, failures,
sequencing rules, spacing) is kept. Output per working day over the window, after a
warm-up from the run start that fills the plant, is the saturated rate for that mix. A
curve over one product's share keeps the other products in their base proportions.

Chosen: ramp-ups of new models are dropped (the envelope of a mature line); products
whose `sop` falls after the window start cannot be in the mix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sim.errors import ScenarioError
from sim.spec.clock import seconds_at
from sim.spec.export import resolved_dict
from sim.spec.scenario import Scenario

SATURATION_PER_DAY = 5000.0  # orders falling due per working day: far above any line rate


@dataclass(frozen=True)
class Window:
    """Where the saturated rate is measured: `days` calendar days from `start`."""

    start: dt.date
    days: int


def order_source(sc: Scenario) -> str:
    """The one source with an order book or a plan (the vehicle orders)."""
    books = [n for n, s in sc.sources.items() if s.kind in ("demand", "plan")]
    if len(books) != 1:
        raise ScenarioError("", "sources", "the capacity envelope needs exactly one source of "
                            f"kind 'demand' or 'plan' (the vehicle orders); found {len(books)}")
    return books[0]


def check_window(sc: Scenario, window: Window) -> None:
    """The window lies in the run and starts after its first day (the warm-up)."""
    start = sc.run.start
    end = window.start + dt.timedelta(days=window.days)
    if window.start < start or seconds_at(start, end) > sc.run.horizon:
        raise ScenarioError("", "--from", f"the window {window.start} .. {end} must lie in "
                            f"the run ({start} + {sc.run.horizon / 86400:g} days)")
    if window.start == start:
        raise ScenarioError("", "--from", "the window must start after the run start: the "
                            "days before it fill the plant (warm-up)")


def base_mix(sc: Scenario, window: Window) -> dict[str, float]:
    """The order book's (or plan's) mix over the periods that overlap the window."""
    src = sc.sources[order_source(sc)]
    book = src.demand if src.demand is not None else src.plan
    assert book is not None
    end = window.start + dt.timedelta(days=window.days)
    totals: dict[str, float] = {}
    for p in book.periods:
        if p.to < window.start or p.from_ >= end:
            continue
        for name, q in p.quantities.items():
            totals[name] = totals.get(name, 0.0) + q * book.scale.get(name, 1.0)
        for name, r in getattr(p, "per_day", {}).items():
            totals[name] = totals.get(name, 0.0) + r * book.scale.get(name, 1.0)
    total = sum(totals.values())
    if total <= 0:
        raise ScenarioError("", f"sources.{order_source(sc)}", "no orders in the book over "
                            f"the window from {window.start}: give the mix (--mix)")
    return {k: v / total for k, v in totals.items() if v > 0}


def share_curve(base: dict[str, float], product: str, shares: list[float]
                ) -> list[dict[str, float]]:
    """Mixes with `product` at each share, the others in their base proportions."""
    rest = {k: v for k, v in base.items() if k != product}
    total = sum(rest.values())
    if not rest or total <= 0:
        raise ScenarioError("", "--share", f"a curve over {product}'s share needs other "
                            "products in the mix")
    return [{product: s, **{k: (1.0 - s) * v / total for k, v in rest.items()}}
            for s in shares]


def saturated(sc: Scenario, mix: dict[str, float], window: Window,
              unlimited_supply: bool = False) -> Scenario:
    """The scenario's saturated twin for `mix`, measured over `window`. With
    `unlimited_supply`, every arrivals source that fills a stock runs at ten times its
    nominal rate all run (its ramp, and dated changes of its `active`, dropped): the
    envelope of the line and the shops alone."""
    name = order_source(sc)
    check_window(sc, window)
    start = sc.run.start
    end = window.start + dt.timedelta(days=window.days)
    for product, share in mix.items():
        if product not in sc.products:
            raise ScenarioError("", "--mix", f"unknown product {product!r} (products: "
                                f"{', '.join(sc.products)})")
        if share < 0:
            raise ScenarioError("", "--mix", f"share of {product} must be >= 0 (got {share})")
        sop = sc.products[product].sop
        if share > 0 and sop is not None and sop > window.start:
            raise ScenarioError("", "--mix", f"{product} starts on {sop}, after the window "
                                f"start {window.start}")
    if abs(sum(mix.values()) - 1.0) > 1e-6:
        raise ScenarioError("", "--mix", f"shares must sum to 1 (got {sum(mix.values()):g})")
    d: dict[str, Any] = resolved_dict(sc)
    src = d["sources"][name]
    book = src.pop("demand", None) or src.pop("plan")
    sequencing = book.get("sequencing", {})
    src["kind"] = "demand"
    src["demand"] = {
        "sequencing": sequencing,
        "periods": [{"from": start.isoformat(), "to": (end - dt.timedelta(days=1)).isoformat(),
                     "per_day": {p: SATURATION_PER_DAY * s for p, s in mix.items() if s > 0},
                     "note": "saturated: orders always due (sim.experiments.capacity)"}],
    }
    d["run"].pop("duration", None)
    d["run"]["end"] = (end - dt.timedelta(days=1)).isoformat()
    d["run"]["warmup"] = f"{(window.start - start).days} d"
    if unlimited_supply:
        _unlimited(sc, d)
    d["name"] = f"{sc.name}-capacity"
    for key in ("milestones", "reporting"):
        d.pop(key, None)
    return Scenario.model_validate(d)


def _unlimited(sc: Scenario, d: dict[str, Any]) -> None:
    stocks = {n for n, b in sc.buffers.items() if b.kind == "stock"}
    fills = {n for n, s in sc.sources.items() if s.kind == "arrivals"
             and set(sc.outputs(n)) & stocks}
    for n in fills:
        src = d["sources"][n]
        src["active"] = True
        src["ramp"] = [{"from": sc.run.start.isoformat(), "rate": 10.0,
                        "note": "unlimited supply (capacity envelope)"}]
    for label, change in list(d.get("changes", {}).items()):
        kept = {k: v for k, v in change["set"].items()
                if not any(k.startswith(f"sources.{n}.") for n in fills)}
        if kept:
            change["set"] = kept
        else:
            del d["changes"][label]
