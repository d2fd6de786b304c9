"""An order book the line pulls from: orders fall due, the source releases on room.

Why: a plan pushed into the line at fixed times builds a first-in-first-out backlog when
demand exceeds capacity, so months later the line still builds old orders and new models
start late. Here orders only fall *due* at their planned times (the same share every
working day of the period, `due_times`); the source releases the next order when
its first buffer has room, and chooses it at that moment, by the sequencing rule, among
the orders due. So the mix follows the current period even when the line cannot keep up,
and what it cannot build stays in the order book as backlog, reported per period.

The choice is made lazily: while the buffer is full the port waits as a blocked feeder
whose `part` is created only when the buffer takes it (a property), so no order is
committed before there is room. Rules:

* due times: order k of N of a product in a period falls due at position (k + 0.5) / N
  of the period's working days (each day's share spread over its shifts' on-shift time;
  `spread: capacity` spreads over capacity-weighted on-shift time instead); never before
  the product's `sop`;
* eligible: due and not yet released, and under the product's ramp-up cap of the day
  (`delay` ramps: at most round(per_day x s(t_d)) releases on calendar day d, s the
  S-curve at the day's 00:00); `drop` ramps thin due orders with probability s(t_due);
* `spread`: the eligible product furthest behind its share of the *current* period
  (goal chasing: share x (releases in the period + 1) - its releases in the period),
  subject to `max_consecutive`; `batch`: the last product while eligible; `random`: an
  eligible product drawn with probability proportional to its backlog.
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from bisect import bisect_right
from collections import deque

import numpy as np

from sim.engine.buffer import Part
from sim.engine.kernel import Wakeup
from sim.engine.plan import ramp_factor
from sim.engine.source import Book, admit
from sim.spec.units import DAY


def due_times(cal, a: float, b: float, n: int, spread: str = "working_days") -> np.ndarray:
    """Times of n orders of the period [a, b), order k at position u = (k + 0.5) / n.

    `working_days` (the default): the same share of orders every production day of the
    period (`Calendar.production_days`), spread within the day over its shifts' on-shift
    time. So a night shift added from a date adds no order due before that date, and a
    day's orders do not depend on how fast the line runs that day. `capacity`: spread over
    the period's capacity-weighted on-shift time (a half-rate shift gets half the orders
    of a full-rate shift as long), which moves orders toward capacity added later."""
    if n <= 0:
        return np.zeros(0)
    if spread == "working_days":
        return _over_working_days(cal, a, b, n)
    total = cal.work_between(a, b)
    if total <= 0:
        raise ValueError("has no on-shift time")
    base = cal.work_between(0.0, a)
    offsets = base + (np.arange(n) + 0.5) / n * total
    if cal.always_on:
        return offsets
    s, e = cal.windows()
    r = cal.rates()
    work = np.concatenate([[0.0], np.cumsum(r * (e - s))])
    j = np.searchsorted(work[1:], offsets, side="left")
    return np.minimum(s[j] + (offsets - work[j]) / r[j], e[j])


def _over_working_days(cal, a: float, b: float, n: int) -> np.ndarray:
    """Order k on production day j = floor(u D) of the period's D days, at on-shift
    fraction u D - j of that day's shifts (the orders of one day at once)."""
    first, last = int(a // DAY), math.ceil(b / DAY)
    days = [first + int(i) for i in np.flatnonzero(cal.production_days(last)[first:])]
    if not days:
        raise ValueError("has no working day")
    u = (np.arange(n) + 0.5) / n * len(days)
    j = np.minimum(u.astype(np.int64), len(days) - 1)
    out = np.empty(n)
    edges = np.searchsorted(j, np.arange(len(days) + 1))
    for day, (lo, hi) in enumerate(zip(edges[:-1].tolist(), edges[1:].tolist())):
        if lo == hi:
            continue
        span = cal.production_span(days[day])
        assert span is not None
        s0, e0 = span
        out[lo:hi] = cal.advance_on_many(s0, (u[lo:hi] - day) * cal.on_between(s0, e0))
    return out


class DemandBook(Book):
    """Orders released so far, in release order (time, type): what kit followers read."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.types: list[int] = []

    def get(self, k: int) -> tuple[float, int] | None:
        if k < len(self.times):
            return self.times[k], self.types[k]
        return None


class DemandPort:
    """The pulling output of a demand source; other outputs of its kit follow it."""

    def __init__(self, name: str, env, buf, book: DemandBook, products: list[str],
                 due: list[np.ndarray], shares: np.ndarray, period_starts: np.ndarray,
                 caps: list[tuple[float, float, float, int] | None], choose_type,
                 rule: str, limited: list[bool], max_run: int | None, rng, ids, wip,
                 counters: dict, horizon: float) -> None:
        self.name = name
        self.env = env
        self.buf = buf
        self.book = book
        self.products = products
        self.due = [d.tolist() for d in due]
        self.next_due = sorted(t for d in due for t in d.tolist())
        self.shares = shares
        self.period_starts = period_starts.tolist()
        self.caps = caps
        self.choose_type = choose_type
        self.rule = rule
        self.limited = limited
        self.max_run = max_run
        self.rng = rng
        self.ids = ids
        self.wip = wip
        self.counters = counters
        self.horizon = horizon
        self.followers: list = []
        self.planned = np.zeros((0, len(products)), dtype=np.int64)  # orders per [period, product]
        self.period_bounds: list[tuple[dt.date, dt.date]] = []
        n = len(products)
        self.n_released = [0] * n
        self.day = -1
        self.today = [0] * n
        self.period = -1
        self.in_period = [0] * n
        self.n_period = 0
        self.run = 0
        self.last = -1
        self.waiting = False
        self.armed = False
        self._part: Part | None = None
        self.rel_t = array("d")
        self.rel_p = array("i")
        self.ev = Wakeup(env, self._fire)
        self.heavy: list[bool] | None = None  # spacing (`space`): which products it limits
        self.slots: deque[bool] = deque()
        self.in_slots = 0
        self.max_heavy = 0
        self.window = 0
        self.pitch = 0.0
        self.slot_t = -math.inf
        self.gap_armed = False
        self.gap_until = -math.inf  # nothing is released during an empty pitch
        self.ev_gap = Wakeup(env, self._gap_fire)

    def space(self, heavy: list[bool], n: int, window: int, pitch: float) -> None:
        """At most `n` of any `window` consecutive slots (releases or empty pitches of
        `pitch` seconds) go to the products flagged `heavy`. Nothing is released during
        an empty pitch."""
        self.heavy, self.max_heavy, self.window, self.pitch = heavy, n, window, pitch

    # -- the port protocol ----------------------------------------------------------------

    def start(self) -> None:
        self._wake(0.0)

    @property
    def part(self) -> Part:
        """The part offered to the full buffer: chosen when the buffer first looks at it."""
        if self._part is None:
            self._part = self._choose(self.env.now)
        return self._part

    def released(self, t: float) -> None:
        """The buffer took the offered part."""
        part = self.part
        self._part = None
        self.waiting = False
        self._admit(part, t)
        self._wake(t)

    def _fire(self, t: float) -> None:
        self.armed = False
        self._wake(t)

    def _wake(self, t: float) -> None:
        """Release while orders are eligible and there is room; else wait or sleep. With
        spacing, where only forbidden orders are due, run an empty pitch each `pitch`."""
        if self.waiting:
            return
        buf = self.buf
        while True:  # runs once; `break` leaves to the sleep
            while self._eligible(t):
                if not buf.has_space():
                    self.waiting = True
                    buf.block(self, t)
                    return
                part = self._choose(t)
                self._admit(part, t)
                buf.put(part, t)
            if self.heavy is None or not self._spaced_out(t):
                break
            due = self.slot_t + self.pitch
            if t >= due:  # the last slot is over: the next one is an empty pitch
                self._slot(False, t)
                self.counters["spacing_gaps"] = self.counters.get("spacing_gaps", 0) + 1
                due = self.gap_until = t + self.pitch
            self._gap_at(due, t)
            break
        self._sleep(t)

    def _spaced_out(self, t: float) -> bool:
        """Orders are due, but only ones the spacing rule forbids now."""
        return any(self._backlog(i, t) > 0 and not self._capped(i, t)
                   for i in range(len(self.products)))

    def _slot(self, heavy: bool, t: float) -> None:
        slots = self.slots
        slots.append(heavy)
        self.in_slots += heavy
        if len(slots) >= self.window:
            self.in_slots -= slots.popleft()
        self.slot_t = t

    def _gap_at(self, due: float, t: float) -> None:
        if self.gap_armed:
            return
        self.gap_armed = True
        self.ev_gap.after(due - t)

    def _gap_fire(self, t: float) -> None:
        self.gap_armed = False
        self._wake(t)

    def _sleep(self, t: float) -> None:
        """Wake at the next due time, or at the next midnight while a cap holds orders."""
        k = bisect_right(self.next_due, t)
        wake = self.next_due[k] if k < len(self.next_due) else math.inf
        if any(self._backlog(i, t) for i in range(len(self.products))):
            wake = min(wake, (math.floor(t / DAY) + 1) * DAY)
        if wake >= self.horizon or self.armed:
            return
        self.armed = True
        self.ev.after(wake - t)

    # -- choosing -----------------------------------------------------------------------

    def _backlog(self, i: int, t: float) -> int:
        return bisect_right(self.due[i], t) - self.n_released[i]

    def _roll(self, t: float) -> None:
        day = int(t // DAY)
        if day != self.day:
            self.day = day
            self.today = [0] * len(self.products)
        period = max(bisect_right(self.period_starts, t) - 1, 0)
        if period != self.period:
            self.period = period
            self.in_period = [0] * len(self.products)
            self.n_period = 0

    def _capped(self, i: int, t: float) -> bool:
        cap = self.caps[i]
        if cap is None:
            return False
        start, duration, initial, per_day = cap
        return self.today[i] >= round(per_day * ramp_factor(self.day * DAY, start, duration,
                                                            initial))

    def _candidates(self, t: float) -> list[int]:
        self._roll(t)
        heavy = self.heavy
        if heavy is not None and t < self.gap_until:
            return []
        full = heavy is not None and self.in_slots >= self.max_heavy
        return [i for i in range(len(self.products))
                if self._backlog(i, t) > 0 and not self._capped(i, t)
                and not (full and heavy[i])]  # type: ignore[index]

    def _eligible(self, t: float) -> bool:
        return bool(self._candidates(t))

    def _choose(self, t: float) -> Part:
        options = self._candidates(t)
        if self.max_run is not None and self.run >= self.max_run:
            options = [i for i in options if not self.limited[i]] or options
        if self.rule == "batch" and self.last in options:
            pick = self.last
        elif self.rule == "random":
            weights = np.array([self._backlog(i, t) for i in options], dtype=float)
            pick = options[int(self.rng.choice(len(options), p=weights / weights.sum()))]
        else:
            shares = self.shares[self.period]
            n = self.n_period + 1
            pick = max(options, key=lambda i: shares[i] * n - self.in_period[i])
        self.run = self.run + 1 if self.limited[pick] else 0
        self.last = pick
        return Part(next(self.ids), len(self.book.times), self.choose_type(self.products[pick]),
                    0.0)

    def _admit(self, part: Part, t: float) -> None:
        i = self.last
        self.n_released[i] += 1
        self.today[i] += 1
        self.in_period[i] += 1
        self.n_period += 1
        if self.heavy is not None:
            self._slot(self.heavy[i], t)
        admit(part, t, self.wip, self.counters)
        self.book.times.append(t)
        self.book.types.append(part.type)
        self.rel_t.append(t)
        self.rel_p.append(i)
        for follower in self.followers:
            follower.poke(t)
