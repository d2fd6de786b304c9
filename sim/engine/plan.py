"""A production plan turned into a release timeline: how many of each, in which order, when.

Each period's quantities are sequenced by a rule and released evenly over the on-shift
time of the period, weighted by the shifts' rates (release k of N at capacity-weighted
on-shift offset (k + 0.5)/N: a half-rate night shift gets half the releases of a day
shift of the same length), so that a plan is a rate, not a burst. `spread` is goal chasing (Monden's heuristic, as in Toyota's mixed-model
lines): at each slot take the product furthest behind its ideal cumulative share, subject
to a limit on consecutive parts sharing an attribute value. Ramps thin a new product's
releases along an S-curve: planned volume is not attainable at start of production.
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.calendar import Calendar
from sim.spec.clock import seconds_at
from sim.spec.units import DAY


def sequence(quantities: dict[str, int], rule: str, rng: np.random.Generator,
             group_of: dict[str, str] | None = None, max_run: int | None = None,
             group_value: str | None = None, run: int = 0) -> list[str]:
    """Release order of the products of one period; `run` is the number of limited
    products that ended the previous period, so the limit holds across periods."""
    names = [n for n, q in quantities.items() if q > 0]
    if rule == "batch":
        return [n for n in names for _ in range(quantities[n])]
    if rule == "random":
        shuffled = [n for n in names for _ in range(quantities[n])]
        rng.shuffle(shuffled)
        return shuffled
    total = sum(quantities[n] for n in names)
    qty = [quantities[n] for n in names]
    done = [0] * len(names)
    limited = [group_of is not None and max_run is not None and group_of.get(n) == group_value
               for n in names]
    cap = max_run if max_run is not None else -1
    seq: list[str] = []
    for i in range(1, total + 1):
        # the product furthest behind its ideal share, first in `names` order on ties, among
        # those open and not over the consecutive limit (all open ones if none is allowed)
        best = -1
        best_gap = 0.0
        for k in range(2):
            for m, q in enumerate(qty):
                if done[m] >= q or (k == 0 and cap >= 0 and limited[m] and run >= cap):
                    continue
                gap = i * q / total - done[m]
                if best < 0 or gap > best_gap:
                    best, best_gap = m, gap
            if best >= 0:
                break
        run = run + 1 if limited[best] else 0
        done[best] += 1
        seq.append(names[best])
    return seq


def ramp_factor(t: float, start: float, duration: float, initial: float) -> float:
    """Share of planned releases attainable at t: logistic from `initial` to 1."""
    if t < start:
        return 0.0
    x = (t - start) / duration
    s = 1.0 / (1.0 + math.exp(-10.0 * (x - 0.5)))
    return initial + (1.0 - initial) * s


def release_timeline(plan, cal: Calendar, start_date, horizon: float,
                     type_choice, product_attr, rng_seq: np.random.Generator,
                     rng_ramp: np.random.Generator) -> tuple[list[float], list[int], int]:
    """Times and types of every release of a plan; also the number dropped by ramps."""
    times: list[float] = []
    types: list[int] = []
    dropped = 0
    seq_spec = plan.sequencing
    mc = seq_spec.max_consecutive
    group_of = None
    if mc is not None:
        group_of = {p: str(product_attr(p, mc.attr)) for p in _all_products(plan)}
    ramps = {p: (seconds_at(start_date, r.start), r.duration, r.initial)
             for p, r in plan.ramps.items()}
    run = 0
    for period in plan.periods:
        a = seconds_at(start_date, period.from_)
        b = min(seconds_at(start_date, period.to) + DAY, horizon)
        quantities = {p: round(q * plan.scale.get(p, 1.0))
                      for p, q in period.quantities.items()}
        order = sequence(quantities, seq_spec.rule, rng_seq, group_of,
                         mc.n if mc else None, mc.value if mc else None, run)
        run = _trailing_run(run, order, group_of, mc.value if mc else None)
        n = len(order)
        if n == 0:
            continue
        on = cal.work_between(a, b)  # capacity-weighted: a half-rate shift gets half
        if on <= 0:
            raise ValueError(f"plan period {period.from_}..{period.to} has no on-shift time")
        offsets = (np.arange(n, dtype=np.float64) + 0.5) / n * on
        at = cal.advance_work_many(a, offsets).tolist()
        ramped = [product in ramps for product in order]
        draws = iter(rng_ramp.random(sum(ramped)).tolist())  # the same stream, one call
        for t, product, is_ramped in zip(at, order, ramped):
            if is_ramped:
                s, d, init = ramps[product]
                if next(draws) >= ramp_factor(t, s, d, init):
                    dropped += 1
                    continue
            times.append(t)
            types.append(type_choice(product))
    return times, types, dropped


def _trailing_run(run: int, order: list[str], group_of, value) -> int:
    """Limited products at the end of `order`, continuing `run` if all of it is limited."""
    if group_of is None:
        return 0
    for k, product in enumerate(reversed(order)):
        if group_of.get(product) != value:
            return k
    return run + len(order)


def _all_products(plan) -> set[str]:
    return {p for period in plan.periods for p in period.quantities}
