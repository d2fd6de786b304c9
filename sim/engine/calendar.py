"""Shift calendars compiled into a lazy timeline of on-shift windows.

Why: the engine must spend zero events on off-shift time (docs/design.md §5 rule 7). Instead
of a process that switches stations on and off, a job that starts at ``t`` and needs ``w``
seconds of work simply ends at ``advance_work(t, w)``: the calendar maps work to clock
time across breaks, nights, weekends, holidays and shutdowns in O(log n).

The weekly pattern is expanded once, at build time, into sorted half-open windows
``[start, end)`` (breaks, holidays and shutdowns removed) with the cumulative rate-weighted
*work* and plain *on* time at each window edge. Scalar queries use ``bisect`` on plain
Python lists, which beats numpy for single lookups. Past ``horizon + margin`` the calendar
is off forever and ``advance_*`` returns ``math.inf``.

The clock is seconds since 00:00 of the ``start`` date. An overnight shift that began the
day before ``start`` counts from t = 0. A shift *starting* on a holiday or on a shutdown
day is cancelled entirely. A break is placed at the first occurrence of its clock time at
or after its shift's start (so a 02:00 break of a 22:00-06:00 shift falls the next day).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from itertools import pairwise
from typing import Any

import numpy as np

from sim.spec.clock import date_at, moment_at
from sim.spec.units import DAY, HOUR


def _advance(t: float, w: float, s: list[float], e: list[float], r: list[float],
             cs: list[float], ce: list[float]) -> float:
    """Earliest t' >= t accumulating work ``w`` (general case, any number of windows)."""
    i = bisect_right(s, t) - 1
    if i < 0 or t >= e[i]:
        i += 1
        if i == len(s):
            return math.inf
        t, done = s[i], cs[i]
    else:
        done = cs[i] + r[i] * (t - s[i])
    target = done + w
    j = max(bisect_left(ce, target), i)
    if j > i and target - ce[j - 1] <= 8.0 * math.ulp(target):
        return e[j - 1]
    if j == len(ce):
        return math.inf
    if target >= ce[j]:
        return e[j]
    x = s[j] + (target - cs[j]) / r[j]
    return max(min(x, e[j]), s[j], t)


def _cumulative(t: float, s: list[float], e: list[float], r: list[float],
                cs: list[float], ce: list[float]) -> float:
    """Work (rate-weighted with ``r``) accumulated in [0, t]."""
    i = bisect_right(s, t) - 1
    if i < 0:
        return 0.0
    if t >= e[i]:
        return ce[i]
    return cs[i] + r[i] * (t - s[i])


class Calendar:
    """On-shift windows with cumulative work; all queries in O(log windows).

    Scalar queries first try the window of the previous hit (``_k``): callers mostly ask
    about "now", so this skips the bisect. The check is safe for any ``_k`` because
    windows are disjoint. An empty calendar holds one sentinel window at +inf.
    """

    __slots__ = ("_e", "_k", "_n", "_np", "_oe", "_one", "_os", "_prod", "_r", "_s",
                 "_span_e", "_span_n", "_span_s", "_we", "_ws", "always_on", "end", "start")

    def __init__(self, start: dt.date | None, end: float, pieces: list[tuple[float, float, float]],
                 spans: list[tuple[float, float, str]],
                 prod: dict[int, tuple[float, float]] | None = None) -> None:
        """Internal: use ``build`` or ``always``. ``pieces`` are sorted (start, end, rate);
        ``prod`` maps each production day (day index) to the span of its shifts."""
        self._prod = prod or {}
        self._np: tuple[np.ndarray, ...] | None = None
        self.always_on = False
        self.start = start
        self.end = end
        self._n = len(pieces)
        self._k = 0
        if not pieces:
            pieces = [(math.inf, math.inf, 1.0)]
        self._s = [p[0] for p in pieces]
        self._e = [p[1] for p in pieces]
        self._r = [p[2] for p in pieces]
        self._one = [1.0] * len(pieces)
        self._ws, self._we = self._cumsum(self._r)
        self._os, self._oe = self._cumsum(self._one)
        self._span_s = [sp[0] for sp in spans]
        self._span_e = [sp[1] for sp in spans]
        self._span_n = [sp[2] for sp in spans]

    def _cumsum(self, rates: list[float]) -> tuple[list[float], list[float]]:
        starts, ends, acc = [], [], 0.0
        for a, b, r in zip(self._s, self._e, rates):
            starts.append(acc)
            if b > a:
                acc = acc + r * (b - a)
            ends.append(acc)
        return starts, ends

    @classmethod
    def build(cls, spec: Any, start: dt.date, horizon: float,
              margin: float = 14 * DAY, rates: bool = True) -> Calendar:
        """Compile ``spec`` (a CalendarSpec, or None for always on) over [0, horizon + margin].

        With ``rates=False`` every shift works at rate 1 (a station that does not follow
        the shifts' speed: same on-shift windows, work equal to on-shift time)."""
        if spec is None:
            return AlwaysOn(start)
        limit = float(horizon) + float(margin)
        pieces, spans, prod = _expand(spec, start, limit)
        if not rates:
            pieces = _merge([(a, b, 1.0) for a, b, _ in pieces], limit)
        return cls(start, limit, pieces, spans, prod)

    def with_speed(self, steps: list[tuple[float, float]]) -> Calendar:
        """This calendar with its work rate multiplied by ``factor`` from each time on.

        ``steps`` are sorted (time, factor) pairs; before the first the factor is 1. A line
        that runs 15% faster from a date is this calendar with factor 1.15 from that date:
        work in progress at the step continues at the new speed (docs/design.md §5 rule 7: a
        speed change costs no event)."""
        if not steps:
            return self
        pieces = list(zip(self._s[:self._n], self._e[:self._n], self._r[:self._n]))
        limit = self.end
        if self.always_on:
            pieces, limit = [(0.0, math.inf, 1.0)], math.inf
        cuts = [t for t, _ in steps]
        factors = [1.0] + [f for _, f in steps]
        out: list[tuple[float, float, float]] = []
        for a, b, r in pieces:
            edges = [a] + [c for c in cuts if a < c < b] + [b]
            for x, y in pairwise(edges):
                out.append((x, y, r * factors[bisect_right(cuts, x)]))
        spans = list(zip(self._span_s, self._span_e, self._span_n))
        return Calendar(self.start, limit, _merge(out, limit), spans, self._prod)

    @classmethod
    def always(cls, start: dt.date | None = None) -> Calendar:
        """The trivial 24/7 calendar (fast paths, no lookups)."""
        return AlwaysOn(start)

    def work_between(self, a: float, b: float) -> float:
        """Rate-weighted on-shift seconds in [a, b] (0 if b <= a)."""
        if b <= a:
            return 0.0
        k = self._k
        if self._s[k] <= a and b <= self._e[k]:
            return self._r[k] * (b - a)
        s = self._s
        i = bisect_right(s, a) - 1
        if i >= 0 and b <= self._e[i]:
            self._k = i
            return self._r[i] * (b - a)
        return (_cumulative(b, s, self._e, self._r, self._ws, self._we)
                - _cumulative(a, s, self._e, self._r, self._ws, self._we))

    def on_between(self, a: float, b: float) -> float:
        """On-shift seconds in [a, b], rate ignored (0 if b <= a)."""
        if b <= a:
            return 0.0
        k = self._k
        if self._s[k] <= a and b <= self._e[k]:
            return b - a
        s = self._s
        i = bisect_right(s, a) - 1
        if i >= 0 and b <= self._e[i]:
            self._k = i
            return b - a
        return (_cumulative(b, s, self._e, self._one, self._os, self._oe)
                - _cumulative(a, s, self._e, self._one, self._os, self._oe))

    def advance_work(self, t: float, w: float) -> float:
        """Earliest t' >= t with work_between(t, t') == w; inf if the calendar runs out."""
        if w <= 0.0:
            return t
        k = self._k
        if self._s[k] <= t:
            x = t + w / self._r[k]
            if x <= self._e[k]:
                return x
        i = bisect_right(self._s, t) - 1
        if i >= 0:
            self._k = i
            x = t + w / self._r[i]
            if x <= self._e[i]:
                return x
        return _advance(t, w, self._s, self._e, self._r, self._ws, self._we)

    def advance_work_many(self, t: float, w: np.ndarray) -> np.ndarray:
        """`advance_work(t, w_k)` for every w_k > 0 at once, float for float the same.

        The same arithmetic as the scalar path, done element-wise: the window holding `t`
        when the work fits in it, else `_advance`'s search of the cumulative work."""
        return self._advance_many(t, w, on=False)

    def advance_on_many(self, t: float, d: np.ndarray) -> np.ndarray:
        """`advance_on(t, d_k)` for every d_k > 0 at once, float for float the same (the
        rate-1 case of `advance_work_many`: dividing by 1.0 is exact)."""
        return self._advance_many(t, d, on=True)

    def _arrays(self) -> tuple[np.ndarray, ...]:
        """The windows as numpy arrays (built once): s, e, rates, work cumulated at the
        starts and ends, ones, on-shift time cumulated at the starts and ends."""
        if self._np is None:
            self._np = tuple(np.asarray(v, dtype=np.float64) for v in (
                self._s, self._e, self._r, self._ws, self._we, self._one, self._os, self._oe))
        return self._np

    def _advance_many(self, t: float, w: np.ndarray, on: bool) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        s, e, rw, ws, we, one, os_, oe = self._arrays()
        r, cs, ce = (one, os_, oe) if on else (rw, ws, we)
        out = np.empty_like(w)
        i = bisect_right(self._s, t) - 1
        fits = np.zeros(w.shape, dtype=bool)
        if i >= 0:
            fast = t + w / r[i]
            fits = fast <= e[i]
            out[fits] = fast[fits]
        rest = ~fits
        if not rest.any():
            return out
        t0 = t
        if i < 0 or t >= e[i]:
            i += 1
            if i == len(s):
                out[rest] = math.inf
                return out
            t0, done = float(s[i]), float(cs[i])
        else:
            done = float(cs[i] + r[i] * (t - s[i]))
        target = done + w[rest]
        j = np.maximum(np.searchsorted(ce, target, side="left"), i)
        res = np.full(target.shape, math.inf)
        prev = np.maximum(j - 1, 0)
        at_end = (j > i) & (target - ce[prev] <= 8.0 * np.spacing(target))
        res[at_end] = e[prev[at_end]]
        inside = ~at_end & (j < len(ce))
        jj = np.minimum(j, len(ce) - 1)
        whole = inside & (target >= ce[jj])
        res[whole] = e[jj[whole]]
        part = inside & ~whole
        x = s[jj[part]] + (target[part] - cs[jj[part]]) / r[jj[part]]
        res[part] = np.maximum(np.maximum(np.minimum(x, e[jj[part]]), s[jj[part]]), t0)
        out[rest] = res
        return out

    def advance_on(self, t: float, d: float) -> float:
        """Earliest t' >= t with on_between(t, t') == d; inf if the calendar runs out."""
        if d <= 0.0:
            return t
        x = t + d
        k = self._k
        if self._s[k] <= t and x <= self._e[k]:
            return x
        i = bisect_right(self._s, t) - 1
        if i >= 0:
            self._k = i
            if x <= self._e[i]:
                return x
        return _advance(t, d, self._s, self._e, self._one, self._os, self._oe)

    def next_on(self, t: float) -> float:
        """``t`` if on shift, else the start of the next window (inf if none)."""
        k = self._k
        if self._s[k] <= t < self._e[k]:
            return t
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            self._k = i
            return t
        return self._s[i + 1] if i + 1 < self._n else math.inf

    def is_on(self, t: float) -> bool:
        """Whether t lies in an on-shift window (windows are half-open [start, end))."""
        k = self._k
        if self._s[k] <= t < self._e[k]:
            return True
        i = bisect_right(self._s, t) - 1
        if i >= 0 and t < self._e[i]:
            self._k = i
            return True
        return False

    def rate_at(self, t: float) -> float:
        """Work rate at t (0 off shift)."""
        i = bisect_right(self._s, t) - 1
        return self._r[i] if i >= 0 and t < self._e[i] else 0.0

    def shift_at(self, t: float) -> str | None:
        """Name of the shift whose window (breaks included) holds t; None otherwise."""
        i = bisect_right(self._span_s, t) - 1
        return self._span_n[i] if i >= 0 and t < self._span_e[i] else None

    def windows(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the on-shift windows, sorted; adjacent ones merged if same rate."""
        return _frozen(self._s[:self._n]), _frozen(self._e[:self._n])

    def rates(self) -> np.ndarray:
        """Work rate of each window of ``windows()``."""
        return _frozen(self._r[:self._n])

    def shift_spans(self) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """(starts, ends, names) of every shift held, breaks included, sorted."""
        return _frozen(self._span_s), _frozen(self._span_e), tuple(self._span_n)

    def on_upto(self, ts: np.ndarray) -> np.ndarray:
        """On-shift seconds in [0, t] for every t of an array (vectorised `on_between`)."""
        ts = np.asarray(ts, dtype=np.float64)
        if self.always_on:
            return ts.copy()
        s, e = (np.asarray(x[:self._n]) for x in (self._s, self._e))
        cum = np.asarray(self._os[:self._n])
        i = np.searchsorted(s, ts, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip(ts - s[j], 0.0, e[j] - s[j]) if len(s) else np.zeros_like(ts)
        return np.where(i < 0, 0.0, cum[j] + inside) if len(s) else np.zeros_like(ts)

    def scheduled_hours(self, a: float, b: float) -> float:
        """On-shift hours in [a, b]."""
        return self.on_between(a, b) / HOUR

    def on_per_day(self, n_days: int) -> np.ndarray:
        """On-shift seconds in each calendar day [d, d + 1) for d = 0 .. n_days - 1."""
        if self._n == 0:
            return np.zeros(n_days)
        edges = np.arange(n_days + 1, dtype=float) * DAY
        s, e, c = (np.asarray(x[:self._n]) for x in (self._s, self._e, self._os))
        i = np.searchsorted(s, edges, side="right") - 1
        j = np.maximum(i, 0)
        cum = np.where(i < 0, 0.0, c[j] + np.clip(edges - s[j], 0.0, e[j] - s[j]))
        return np.diff(cum)

    def production_days(self, n_days: int) -> np.ndarray:
        """Whether each calendar day d = 0 .. n_days - 1 is a production day: the day a
        held shift belongs to, which is the day of its midpoint. A night from Sunday 21:00
        to Monday 05:00 belongs to Monday, so it makes no Sunday a working day; a day or
        afternoon shift belongs to its own day. Working days (``per_day``, an order book's
        daily rates) count production days."""
        out = np.zeros(n_days, dtype=bool)
        days = [d for d in self._prod if 0 <= d < n_days]
        out[days] = True
        return out

    def production_span(self, d: int) -> tuple[float, float] | None:
        """(first start, last end) of the shifts of production day d, None if it has none."""
        return self._prod.get(d)

    def __repr__(self) -> str:
        return f"Calendar(start={self.start}, windows={self._n}, end={self.end:g} s)"


class AlwaysOn(Calendar):
    """24/7: work equals elapsed time; no shifts, no lookups."""

    __slots__ = ()

    def __init__(self, start: dt.date | None = None) -> None:
        super().__init__(start, math.inf, [(0.0, math.inf, 1.0)], [])
        self.always_on = True

    def work_between(self, a: float, b: float) -> float:
        return b - a if b > a else 0.0

    def on_between(self, a: float, b: float) -> float:  # written out: mypyc refuses aliases
        return b - a if b > a else 0.0

    def advance_work(self, t: float, w: float) -> float:
        return t + w if w > 0.0 else t

    def advance_work_many(self, t: float, w: np.ndarray) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        return np.where(w > 0.0, t + w, t)

    def advance_on_many(self, t: float, d: np.ndarray) -> np.ndarray:
        return self.advance_work_many(t, d)

    def advance_on(self, t: float, d: float) -> float:
        return t + d if d > 0.0 else t

    def next_on(self, t: float) -> float:
        return t

    def is_on(self, t: float) -> bool:
        return True

    def rate_at(self, t: float) -> float:
        return 1.0

    def shift_at(self, t: float) -> str | None:
        """Always None: a 24/7 calendar has no named shifts (use is_on for on/off)."""
        return None

    def on_per_day(self, n_days: int) -> np.ndarray:
        return np.full(n_days, DAY)

    def production_days(self, n_days: int) -> np.ndarray:
        return np.ones(n_days, dtype=bool)

    def production_span(self, d: int) -> tuple[float, float] | None:
        return d * DAY, (d + 1) * DAY

    def __repr__(self) -> str:
        return "Calendar.always()"


def _frozen(values: list[float]) -> np.ndarray:
    arr = np.array(values, dtype=float)
    arr.flags.writeable = False
    return arr


def _cancelled(day: dt.date, holidays: set[dt.date], shutdowns: list[tuple[dt.date, dt.date]]
               ) -> bool:
    return day in holidays or any(a <= day <= b for a, b in shutdowns)


def _shift_pieces(shift: Any, base: float) -> tuple[tuple[float, float, str],
                                                   list[tuple[float, float, float]]]:
    """The span of one shift started at ``base`` (00:00 of its day) and its on pieces."""
    s = base + float(shift.start)
    e = base + float(shift.end)
    if shift.end <= shift.start:
        e += DAY
    cuts = []
    for br in getattr(shift, "breaks", None) or ():
        bs = base + float(br.start)
        if bs < s:
            bs += DAY
        cuts.append((bs, bs + float(br.duration)))
    rate = float(getattr(shift, "rate", 1.0))
    pieces, t = [], s
    for bs, be in sorted(cuts):
        if bs > t:
            pieces.append((t, min(bs, e), rate))
        t = max(t, be)
        if t >= e:
            break
    if t < e:
        pieces.append((t, e, rate))
    return (s, e, str(shift.name)), pieces


def _expand(spec: Any, start: dt.date, limit: float
            ) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, str]],
                       dict[int, tuple[float, float]]]:
    """Expand the weekly patterns over [0, limit] into sorted, merged pieces, the shifts'
    spans and their production days (the day of each held shift's midpoint)."""
    holidays = set(getattr(spec, "holidays", None) or ())
    shutdowns = [(sd.from_, sd.to) for sd in getattr(spec, "shutdowns", None) or ()]
    if hasattr(spec, "patterns"):
        dated = spec.patterns()[1:]
    else:
        dated = [(c.from_, c.shifts) for c in getattr(spec, "changes", None) or ()]
    dated.sort(key=lambda c: c[0])
    change_days = [d for d, _ in dated]
    spans: list[tuple[float, float, str]] = []
    pieces: list[tuple[float, float, float]] = []
    for d in range(-1, math.ceil(limit / DAY) + 1):
        day = start + dt.timedelta(days=d)
        k = bisect_right(change_days, day) - 1
        shifts = spec.shifts if k < 0 else dated[k][1]
        for shift in shifts:
            if day.weekday() in shift.days:
                span, parts = _shift_pieces(shift, d * DAY)
                made = date_at(start, (span[0] + span[1]) / 2)
                if _cancelled(made, holidays, shutdowns):
                    continue  # a holiday cancels the shifts of its production day
                learning = getattr(shift, "learning", None)
                if learning is not None:  # the crew's rate on the day the shift starts
                    f = learning.at(start, span[0])
                    parts = [(a, b, r * f) for a, b, r in parts]
                spans.append(span)
                pieces.extend(parts)
    spans.sort()
    for (_, a1, an), (b0, _, bn) in pairwise(spans):
        if b0 < a1:
            when = moment_at(start, b0)
            raise ValueError(f"calendar shifts overlap: {an!r} and {bn!r} at {when:%Y-%m-%d %H:%M}")
    held = [(a, b, n) for a, b, n in spans if b > 0.0 and a < limit]
    prod: dict[int, tuple[float, float]] = {}
    for a, b, _ in held:
        d = math.floor((a + b) / 2 / DAY)
        first, last = prod.get(d, (a, b))
        prod[d] = (min(first, a), max(last, b))
    spans = [(max(a, 0.0), min(b, limit), n) for a, b, n in held]
    return _merge(sorted(pieces), limit), spans, prod


def _merge(pieces: list[tuple[float, float, float]], limit: float
           ) -> list[tuple[float, float, float]]:
    """Clip sorted pieces to [0, limit] and merge touching pieces of equal rate."""
    out: list[tuple[float, float, float]] = []
    for a, b, r in pieces:
        a, b = max(a, 0.0), min(b, limit)
        if b <= a:
            continue
        if out and out[-1][1] == a and out[-1][2] == r:
            out[-1] = (out[-1][0], b, r)
        else:
            out.append((a, b, r))
    return out
