"""Headline KPIs and tidy tables of one run, computed from its records alone.

Everything a user reads (summary.json, CSVs, plots) goes through here, so there is one
definition of "completed", "lead time" or "station blocked fraction". KPIs cover the
statistics window [warmup, horizon]; tables keep the whole run (with times, so a reader
can filter). Tables are plain dicts of equal-length numpy columns, built vectorised.

Definitions (over the window, length ``W = horizon - warmup`` seconds):

- ``completed``: parts reaching a non-scrap sink at ``t_done >= warmup``;
  ``completed.<product>`` the same per product (summed over its types);
  ``scrapped``: parts reaching a scrap sink at ``t_done >= warmup``.
- ``per_day``: ``completed`` per working day (a production day of the window on the run
  calendar: the day a shift belongs to, that of its midpoint, so a Sunday-evening night
  counts for Monday; every day without a calendar); ``jph_on_shift``: ``completed`` per on-shift
  hour of the run calendar (jobs per hour while the plant works; equals
  ``throughput_per_hour`` without a calendar).
- ``throughput_per_hour = completed / (W / 3600)`` (per calendar hour).
- ``lead_time_*_h``: ``t_done - t_release`` of the good completions after warm-up, in hours
  (the full sojourn, even when the part was released before warm-up); ``nan`` if none.
  A run that kept no per-vehicle rows (sweeps) gives the quantiles from its tally's
  sketch, within 1e-4 relative (`sim.engine.tally`); every other KPI is the same.
- ``lead_time_on_shift_mean_h`` / ``_p50_h``: the same lead times counted in on-shift
  hours of the run calendar (nights and weekends left out); ``lead_time.<product>.p50_h``
  the median elapsed lead time per product (products that completed any).
- ``shift.<name>.completed`` and ``shift.<name>.jph``: good completions during each named
  shift of the run calendar and per on-shift hour of that shift (JPH per shift);
  ``shift.<name>.load``: those completions as a share of the takt capacity of the shift
  (the parts the paced segments could move in it at their takt, the least of them; only
  with paced segments).
- ``little_gap = |L - lambda * Wbar| / L`` with ``L = wip_mean`` (time-average parts in the
  system), ``lambda = (completed + scrapped) / W`` (departures per second) and ``Wbar`` the
  mean sojourn ``t_done - t_release`` of those same departures (good and scrap). Little's
  law holds exactly only over a window that starts and ends empty; here parts in the system
  at warm-up and at the horizon make it approximate (the gap shrinks like 1/W). ``nan``
  when ``L == 0``. Parts that leave by other ways than a sink are not departures here.
- ``station.<name>.<state>``: share of the station's post-warm-up server-seconds in each
  state of ``STATES`` (0 for states the station never entered).
- ``station.<name>.loaded`` (paced segments): mean share of the segment's positions that
  hold a part over its on-shift time (a blocked tail part counts). "working" of a paced
  segment means "moving", whatever the number of parts on it.
- ``station.<name>.waiting_for.<input>`` (assembly stations): share of the station's
  on-shift time during which a server was idle because that input could not supply the
  next job: for a non-carrier input, timed while the carrier had a part and that input
  was the first (in input order) that could not supply (with order matching: the matching
  part is not there); for the carrier, the rest of the starved time (starved per server
  minus the other inputs' waits; exact for one server).
- ``bottleneck.<station>.sole`` / ``.shifting`` (runs that logged active periods: `run`
  and `compare`, not sweeps): share of the observed on-shift time the station was the
  sole or a shifting bottleneck by the active-period method (`sim.analysis.bottleneck`;
  by shift and by month in the run folder's bottleneck.csv); ``bottleneck_none``: the
  share when no station is active (the plan or the supply holds output back).
- ``buffer.<name>.mean_level``: time-average level over the window.
- ``demand.ordered`` / ``demand.due`` / ``demand.released`` / ``demand.backlog_end``
  (order-book sources, summed over them): orders in the book's periods (after scale);
  orders due by the horizon (after sop and dropped ramp orders); orders released over the
  whole run; due but not released at the horizon (``demand.backlog_end.<product>`` per
  product). Whole run, not only the window: an order book is a plan for the horizon.
- ``milestone.<name>.day``: days from the run start (fractional) at which the
  ``count``-th unit of the milestone's product (all products when none) reached a
  non-scrap sink after warm-up, counting the product's ``built_before`` (units built
  before the window: a warm-up that replays the end of the previous year is not counted
  twice); 0 if reached before the start,
  nan if not reached by the horizon. ``milestone.<name>.reached``: 1 if reached, else 0.
- ``reporting.<name>.completed``: good completions in the reporting window's days (of
  its ``products`` when listed);
  ``reporting.<name>.per_day``: the same per working day of the window (the window's
  ``days`` when given, else the production days on the run calendar, every day when the
  run has no calendar), nan when the window has no working day.
- ``lockup``: 1 when the run ended locked up (no completion during the last
  ``run.stall_after`` of on-shift time with parts inside), else 0; ``stall.count`` and
  ``stall.hours``: gaps of at least ``stall_after`` on-shift time between completions
  while the plant held work (``sim.engine.stalls``).
- ``counter.<key>``: the engine's extra counters (e.g. ``ramp_dropped``, ``rework``), except
  those named like a KPI above (``released``, ``completed``...), which would repeat it.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, replace

import numpy as np

from sim.engine.records import STATES, BottleneckRecord, RunResult
from sim.engine.tally import fold_result
from sim.spec.clock import seconds_at
from sim.spec.units import DAY, HOUR

Table = dict[str, np.ndarray]


def products(r: RunResult) -> tuple[str, ...]:
    """Product names in order of first appearance among the types."""
    return tuple(dict.fromkeys(r.type_product))


def _type_product_index(r: RunResult) -> np.ndarray:
    """Index into ``products(r)`` of each type."""
    names = products(r)
    return np.array([names.index(p) for p in r.type_product], dtype=np.int64)


@dataclass(frozen=True)
class _Completed:
    """What the KPIs read of the completions: from the rows, or from the run's tally."""

    per_type: np.ndarray            # good completions after warm-up per type
    scrapped: int
    lead_h: tuple[float, float, float]  # mean, p50, p95 (nan when none)
    depart_s: float                 # summed sojourn of good and scrap parts (Little)
    on_shift_h: tuple[float, float] | None  # mean, p50 in on-shift hours (with a calendar)
    p50_by_product: dict[str, float]
    per_shift: np.ndarray | None    # good completions per shift of r.shift_names
    milestone_t: tuple[float, ...]  # seconds; nan when not reached (need > 0 only)
    per_window: tuple[int, ...]


SLICE = 1 << 18  # rows read at a time from a run's completions


def _exact_leads(r: RunResult, d: _Completed) -> _Completed:
    """`d` with the lead-time statistics computed exactly from the rows the run kept (the
    tally's sketch gives quantiles within 1e-4; with rows there is no need).

    Memory: the rows are read a slice at a time (rows kept on disk let their pages go
    after each) into one array of the good parts' lead times and one of their products'
    codes; the quantiles partition that array in place once nothing else reads it (the
    same numbers as a sorted copy)."""
    c = r.completions
    scrap = np.array(r.sink_scrap, dtype=bool)
    masks = []  # the done mask (`RunResult.done_mask`), slice by slice
    for a in range(0, len(c), SLICE):
        masks.append(~scrap[c.sink[a:a + SLICE]] & (c.t_done[a:a + SLICE] >= r.warmup))
        c.release()
    n = sum(int(m.sum()) for m in masks)
    if not n:
        return replace(d, lead_h=(math.nan, math.nan, math.nan), on_shift_h=None,
                       p50_by_product={})
    index = _type_product_index(r).astype(np.int16)
    lead_h, of_product = np.empty(n), np.empty(n, np.int16)
    on_h = np.empty(n) if r.lead_on_shift is not None else None
    at = 0
    for i, good in enumerate(masks):
        rows = slice(i * SLICE, i * SLICE + len(good))
        k = int(good.sum())
        lead_h[at:at + k] = c.t_done[rows][good] - c.t_release[rows][good]
        of_product[at:at + k] = index[c.type[rows][good]]
        if on_h is not None:
            on_h[at:at + k] = r.lead_on_shift[rows][good]  # type: ignore[index]
        at += k
        c.release()
    del masks
    lead_h /= HOUR
    on_shift = None
    if on_h is not None:
        on_h /= HOUR
        on_shift = (float(on_h.mean()), float(np.percentile(on_h, 50.0, overwrite_input=True)))
        del on_h
    by_product = {}
    for i, product in enumerate(products(r)):
        mine = lead_h[of_product == i]
        if mine.size:
            by_product[product] = float(np.percentile(mine, 50.0, overwrite_input=True))
    del of_product
    mean = float(lead_h.mean())
    p50, p95 = (float(x) for x in np.percentile(lead_h, [50.0, 95.0], overwrite_input=True))
    return replace(d, lead_h=(mean, p50, p95), on_shift_h=on_shift, p50_by_product=by_product)


def _from_tally(r: RunResult) -> _Completed:
    """What the KPIs read, from the run's tally (folded as it ran; a result made by hand
    is folded here by the same code)."""
    t = r.tally if r.tally is not None else fold_result(r)
    n = int(t.good_by_type.sum())
    lead = ((t.lead_sum / n / HOUR, t.lead.quantile(0.5) / HOUR,
             t.lead.quantile(0.95) / HOUR) if n else (math.nan, math.nan, math.nan))
    on_shift = None
    if t.on_shift is not None and n:
        on_shift = (t.on_shift_sum / n / HOUR, t.on_shift.quantile(0.5) / HOUR)
    by_product = {p: sk.quantile(0.5) / HOUR
                  for p, sk in zip(products(r), t.lead_by_product) if sk.n}
    return _Completed(t.good_by_type, t.scrapped, lead, t.depart_sum, on_shift, by_product,
                      t.shift_good if r.shift_names else None, t.milestone_t, t.window_good)


def _built_before(r: RunResult, product: str | None) -> int:
    return sum(r.built_before.values()) if product is None else r.built_before.get(product, 0)


def run_kpis(r: RunResult) -> dict[str, float]:
    """Flat dict of the headline scalar KPIs of one run (definitions in the module doc).

    Counts, milestones and windows always come from the run's tally (one fold of the
    completions, `sim.engine.tally`); lead-time statistics from the rows when the run kept
    them (exact), else from the tally's sketch (within 1e-4)."""
    d = _from_tally(r)
    if r.log is not None:
        d = _exact_leads(r, d)
    window = r.observed_seconds
    completed = int(d.per_type.sum())
    k: dict[str, float] = {
        "completed": float(completed),
        "per_day": completed / r.working_days if r.working_days else float("nan"),
        "jph_on_shift": (completed / (r.scheduled_seconds / HOUR) if r.scheduled_seconds
                         else float("nan")),
        "throughput_per_hour": completed / (window / HOUR) if window > 0 else float("nan"),
    }
    per_product = np.bincount(_type_product_index(r), weights=d.per_type,
                              minlength=len(products(r)))
    for name, n in zip(products(r), per_product):
        k[f"completed.{name}"] = float(n)
    k["scrapped"] = float(d.scrapped)
    k["released"] = float(r.released)
    k["lost"] = float(r.lost)
    k["wip_mean"] = float(r.wip_mean)
    k["lead_time_mean_h"], k["lead_time_p50_h"], k["lead_time_p95_h"] = d.lead_h
    k["little_gap"] = _little_gap(r.wip_mean, d.depart_s, window)
    if d.on_shift_h is not None:
        k["lead_time_on_shift_mean_h"], k["lead_time_on_shift_p50_h"] = d.on_shift_h
    for product, p50 in d.p50_by_product.items():
        k[f"lead_time.{product}.p50_h"] = p50
    if d.per_shift is not None:
        for i, name in enumerate(r.shift_names):
            n = int(d.per_shift[i])
            hours = r.shift_seconds.get(name, 0.0) / HOUR
            k[f"shift.{name}.completed"] = float(n)
            k[f"shift.{name}.jph"] = n / hours if hours > 0 else float("nan")
            cap = r.shift_capacity.get(name, 0.0)
            if cap > 0:
                k[f"shift.{name}.load"] = n / cap
    for st in r.stations:
        frac = st.fractions()
        for state in STATES:
            k[f"station.{st.name}.{state}"] = float(frac.get(state, 0.0))
        on = sum(v for s, v in st.state_seconds.items() if s != "off_shift")
        if st.loaded is not None:
            k[f"station.{st.name}.loaded"] = float(st.loaded)
        for buf, seconds in st.waiting.items():
            k[f"station.{st.name}.waiting_for.{buf}"] = seconds / on if on > 0 else math.nan
    if r.bottleneck is not None:
        k.update(bottleneck_kpis(r.bottleneck))
    for b in r.buffers:
        k[f"buffer.{b.name}.mean_level"] = float(b.mean_level)
    k["lockup"] = 1.0 if r.lockup is not None else 0.0
    k["stall.count"] = float(len(r.stalls))
    k["stall.hours"] = float(sum(s.hours for s in r.stalls))
    k.update(demand_kpis(r))
    for m, t in zip(r.milestones, d.milestone_t):
        day = 0.0 if m.count - _built_before(r, m.product) <= 0 else t / DAY
        k[f"milestone.{m.name}.day"] = day
        k[f"milestone.{m.name}.reached"] = 0.0 if math.isnan(day) else 1.0
    for w, n in zip(r.reporting, d.per_window):
        k[f"reporting.{w.name}.completed"] = float(n)
        k[f"reporting.{w.name}.per_day"] = n / w.working_days if w.working_days else math.nan
    for key, n in r.counters.items():
        if key not in k:  # the engine's own released/lost/... would repeat the KPIs above
            k[f"counter.{key}"] = float(n)
    return k


def bottleneck_kpis(b: BottleneckRecord) -> dict[str, float]:
    """Sole and shifting bottleneck shares of the observed time (module doc)."""
    obs = b.observed
    k: dict[str, float] = {"bottleneck_none": b.idle / obs if obs > 0 else math.nan}
    for i, name in enumerate(b.stations):
        k[f"bottleneck.{name}.sole"] = b.sole[i] / obs if obs > 0 else math.nan
        k[f"bottleneck.{name}.shifting"] = b.shifting[i] / obs if obs > 0 else math.nan
    return k


NO_BOTTLENECK = "(none active)"
"""bottleneck.csv's row for the time no station is active: the plan or the supply, not a
station, holds output back (its `sole` column)."""


def bottleneck_table(r: RunResult) -> Table:
    """Per station and bin (`all`, `shift:<name>`, `month:<YYYY-MM>`): on-shift seconds
    observed, and the sole and shifting bottleneck seconds and shares of them (empty
    when the run logged no active periods); last, the time no station was active."""
    b = r.bottleneck
    if b is None:
        return {c: np.zeros(0) for c in ("station", "bin", "observed_s", "sole_s",
                                          "shifting_s", "sole", "shifting")}
    n_b = len(b.bins)
    names = (*b.stations, NO_BOTTLENECK)
    n_k = len(names)
    observed = np.concatenate([[b.observed], b.bin_seconds])
    idle = np.concatenate([[b.idle], b.idle_by_bin if b.idle_by_bin is not None
                           else np.zeros(n_b)])
    sole = np.vstack([np.column_stack([b.sole, b.sole_by_bin]), idle]).ravel()
    shifting = np.vstack([np.column_stack([b.shifting, b.shifting_by_bin]),
                          np.zeros(n_b + 1)]).ravel()
    obs = np.tile(observed, n_k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "station": np.repeat(np.array(names, dtype=object), n_b + 1),
            "bin": np.tile(np.array(("all", *b.bins), dtype=object), n_k),
            "observed_s": obs, "sole_s": sole, "shifting_s": shifting,
            "sole": np.where(obs > 0, sole / obs, np.nan),
            "shifting": np.where(obs > 0, shifting / obs, np.nan),
        }


def demand_kpis(r: RunResult) -> dict[str, float]:
    """Ordered, due, released and backlog at the horizon of the run's order books."""
    if not r.demand:
        return {}
    k = {"demand.ordered": 0.0, "demand.due": 0.0, "demand.released": 0.0,
         "demand.backlog_end": 0.0}
    for d in r.demand:
        released = np.bincount(d.release_product, minlength=len(d.products))
        k["demand.ordered"] += float(d.planned.sum())
        k["demand.due"] += float(d.due_end.sum())
        k["demand.released"] += float(released.sum())
        backlog = np.maximum(d.due_end - released, 0)
        k["demand.backlog_end"] += float(backlog.sum())
        for name, b in zip(d.products, backlog):
            key = f"demand.backlog_end.{name}"
            k[key] = k.get(key, 0.0) + float(b)
    return k


def demand_table(r: RunResult) -> Table:
    """Per order-book source, period and product: orders planned, released and built.

    ``released`` counts the source's releases dated in the period; ``completed`` the
    product's good completions dated in the period (whole plant, every sink that is not
    scrap). Periods cover the whole run, warm-up included.
    """
    cols: dict[str, list] = {k: [] for k in ("source", "period_from", "period_to", "product",
                                             "planned", "released", "completed")}
    daily = daily_counts(r)
    names = products(r)
    for d in r.demand:
        for j, (a, b) in enumerate(zip(d.period_from, d.period_to)):
            lo = seconds_at(r.start, a)
            hi = ((b - r.start).days + 1) * DAY
            in_period = (d.release_t >= lo) & (d.release_t < hi)
            released = np.bincount(d.release_product[in_period], minlength=len(d.products))
            first, last = (a - r.start).days, (b - r.start).days + 1
            for i, p in enumerate(d.products):
                cols["source"].append(d.source)
                cols["period_from"].append(np.datetime64(a, "D"))
                cols["period_to"].append(np.datetime64(b, "D"))
                cols["product"].append(p)
                cols["planned"].append(int(d.planned[j, i]))
                cols["released"].append(int(released[i]))
                built = daily[max(first, 0):last, names.index(p)].sum() if p in names else 0
                cols["completed"].append(int(built))
    return {
        "source": np.array(cols["source"], dtype=str),
        "period_from": np.array(cols["period_from"], dtype="datetime64[D]"),
        "period_to": np.array(cols["period_to"], dtype="datetime64[D]"),
        "product": np.array(cols["product"], dtype=str),
        "planned": np.array(cols["planned"], dtype=np.int64),
        "released": np.array(cols["released"], dtype=np.int64),
        "completed": np.array(cols["completed"], dtype=np.int64),
    }


def _little_gap(wip_mean: float, sojourn_s: float, window: float) -> float:
    """Relative gap |L - lambda W| / L of Little's law over the window (`sojourn_s`: the
    summed sojourn of the window's departures)."""
    if wip_mean <= 0 or window <= 0:
        return float("nan")
    lam_w = sojourn_s / window
    return abs(wip_mean - lam_w) / wip_mean


def dates_of(start: datetime.date, t_s: np.ndarray) -> np.ndarray:
    """Calendar day (datetime64[D]) of each simulation time in seconds."""
    days = np.floor(np.asarray(t_s, dtype=np.float64) / DAY).astype(np.int64)
    return np.datetime64(start, "D") + days.astype("timedelta64[D]")


def horizon_days(r: RunResult) -> int:
    """Number of calendar days touched by [0, horizon) (at least 1)."""
    return max(1, int(np.ceil(r.horizon / DAY)))


def completions_table(r: RunResult) -> Table:
    """One row per part that reached a sink (whole run, warm-up included; scrap included)."""
    c = r.completions
    types = np.array(r.types, dtype=str)
    prods = np.array(r.type_product, dtype=str)
    sinks = np.array(r.sinks, dtype=str)
    scrap = np.array(r.sink_scrap, dtype=bool)
    return {
        "part": np.asarray(c.part, dtype=np.int64),
        "order": np.asarray(c.order, dtype=np.int64),
        "type": types[c.type] if len(c) else np.zeros(0, str),
        "product": prods[c.type] if len(c) else np.zeros(0, str),
        "sink": sinks[c.sink] if len(c) else np.zeros(0, str),
        "scrap": scrap[c.sink] if len(c) else np.zeros(0, bool),
        "t_release_s": np.asarray(c.t_release, dtype=np.float64),
        "t_done_s": np.asarray(c.t_done, dtype=np.float64),
        "lead_time_h": (c.t_done - c.t_release) / HOUR,
        "date_done": dates_of(r.start, c.t_done),
    }


def daily_counts(r: RunResult) -> np.ndarray:
    """Good completions per (day, product) over the whole run: int64 array [days, products]."""
    if r.tally is not None:  # folded from the same rows as they came: the same counts
        return r.tally.daily
    c = r.completions
    n_days, n_prod = horizon_days(r), len(products(r))
    good = ~np.array(r.sink_scrap, dtype=bool)[c.sink] if len(c) else np.zeros(0, bool)
    day = np.floor(c.t_done[good] / DAY).astype(np.int64)
    day = np.clip(day, 0, n_days - 1)
    prod = _type_product_index(r)[c.type[good]] if len(c) else np.zeros(0, np.int64)
    flat = np.bincount(day * n_prod + prod, minlength=n_days * n_prod)
    return flat.reshape(n_days, n_prod)


def day_dates(r: RunResult) -> np.ndarray:
    """The dates (datetime64[D]) of the run's days, in order."""
    return np.datetime64(r.start, "D") + np.arange(horizon_days(r)).astype("timedelta64[D]")


def daily_table(r: RunResult) -> Table:
    """Good completions per date x product, every day of the horizon (zero rows included).

    Covers the whole run, warm-up days included; a completion exactly at the horizon is
    counted on the last day. Rows are ordered by date, then product.
    """
    counts = daily_counts(r)
    n_days, n_prod = counts.shape
    return {
        "date": np.repeat(day_dates(r), n_prod),
        "product": np.tile(np.array(products(r), dtype=str), n_days),
        "completed": counts.ravel().astype(np.int64),
    }


def station_table(r: RunResult) -> Table:
    """Post-warm-up seconds and fraction per station x state (every state, zeros included)."""
    names, states, seconds, fractions = [], [], [], []
    for st in r.stations:
        frac = st.fractions()
        for state in STATES:
            names.append(st.name)
            states.append(state)
            seconds.append(float(st.state_seconds.get(state, 0.0)))
            fractions.append(float(frac.get(state, 0.0)))
    return {
        "station": np.array(names, dtype=str),
        "state": np.array(states, dtype=str),
        "seconds": np.array(seconds, dtype=np.float64),
        "fraction": np.array(fractions, dtype=np.float64),
    }


def buffer_table(r: RunResult) -> Table:
    """Capacity (inf when unlimited), mean and max level per buffer."""
    return {
        "buffer": np.array([b.name for b in r.buffers], dtype=str),
        "capacity": np.array([b.capacity for b in r.buffers], dtype=np.float64),
        "mean_level": np.array([b.mean_level for b in r.buffers], dtype=np.float64),
        "max_level": np.array([b.max_level for b in r.buffers], dtype=np.int64),
    }


def trace_table(r: RunResult) -> Table:
    """Level changes of the traced buffers: buffer, t_s, level (whole run)."""
    traced = [(b.name, b.trace_t, b.trace_level) for b in r.buffers
              if b.trace_t is not None and b.trace_level is not None]
    if not traced:
        return {"buffer": np.zeros(0, str), "t_s": np.zeros(0), "level": np.zeros(0, np.int64)}
    return {
        "buffer": np.concatenate([np.full(len(t), name) for name, t, _ in traced]),
        "t_s": np.concatenate([np.asarray(t, np.float64) for _, t, _ in traced]),
        "level": np.concatenate([np.asarray(lv, np.int64) for _, _, lv in traced]),
    }
