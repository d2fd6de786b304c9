"""Run one replication and turn the model's state into immutable records.

The hot loop is SimPy's own `Environment.run`; the only generator processes are on the
cold path (the warm-up reset and progress reports), per docs/design.md §5 rule 8.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from sim.engine.activity import all_busy, to_on_shift
from sim.engine.buffer import Buffer, CompletionLog, SinkPort
from sim.engine.kernel import run_until
from sim.engine.model import Model, build
from sim.engine.paced import PacedLine
from sim.engine.records import (
    STATES,
    ActivityRecord,
    BufferRecord,
    Completions,
    DemandRecord,
    Milestone,
    RunResult,
    StationRecord,
    frozen_array,
    mapped_completions,
)
from sim.engine.stalls import lockup
from sim.engine.station import Station
from sim.engine.stock import Stock
from sim.engine.tally import CHUNK, SpillLog, TallyLog, fold_rows, shift_codes
from sim.spec.clock import seconds_at
from sim.spec.units import DAY


def _machines(model: Model):
    for st in model.stations.values():
        yield from st.machines()


def _reset(model: Model, t: float) -> dict[str, int]:
    for m in _machines(model):
        m.flush(t)
        m.reset()
    for st in model.stations.values():
        if isinstance(st, Station):
            st.flush_waiting(t)
            st.waited = [0.0] * len(st.waited)
    for b in model.buffers.values():
        b.reset(t)
    model.wip.reset(t)
    return dict(model.counters)


def _warmup(env, model: Model, t: float, box: dict):
    yield env.timeout(t)
    box.update(_reset(model, t))


def _progress(env, horizon: float, report: Callable[[float], None]):
    step = horizon / 100.0
    while True:
        yield env.timeout(step)
        report(min(env.now / horizon, 1.0))


def run_once(scenario, replication: int = 0,
             progress: Callable[[float], None] | None = None,
             model: Model | None = None, vehicles: bool = True,
             activity: bool = False, rows: str | None = None) -> RunResult:
    """Simulate one replication of `scenario` with the stream set of `replication`.

    `model`: the not-yet-run model `build(scenario, replication)` made earlier (a caller
    that built it as a check need not build twice). `vehicles=False` keeps no
    per-vehicle rows, only their tally: every KPI, in memory flat in the horizon.
    `rows`: a folder to keep the per-vehicle rows in, on disk, mapped back when read
    (`Completions.spilled`; the caller removes the folder). `activity=True` also logs
    every station's active periods (`RunResult.activity`)."""
    wall0 = time.perf_counter()
    if (model is None or model.scenario is not scenario or model.replication != replication
            or model.env.now != 0 or _log_kind(model.log) != _log_kind(vehicles, rows)
            or _logs_activity(model) != activity):
        model = build(scenario, replication, vehicles=vehicles, activity=activity, rows=rows)
    env = model.env
    horizon = model.horizon
    warmup = scenario.run.warmup
    base = dict.fromkeys(model.counters, 0)
    if warmup > 0:
        env.process(_warmup(env, model, warmup, base))
    if progress is not None:
        env.process(_progress(env, horizon, progress))
    for port in model.ports:
        port.start()
    if model.changes is not None:
        model.changes.start()
    run_until(env, horizon)
    result = _records(model, base, time.perf_counter() - wall0)
    if progress is not None:
        progress(1.0)
    return result


def _log_kind(log: CompletionLog | bool, rows: str | None = None) -> str:
    """What a model's log keeps ("rows", "spilled", "tally"), or what a run asks for."""
    if isinstance(log, bool):
        return "tally" if not log else "rows" if rows is None else "spilled"
    return ("spilled" if isinstance(log, SpillLog) else "tally" if isinstance(log, TallyLog)
            else "rows")


def _logs_activity(model: Model) -> bool:
    return any(m.act is not None for st in model.stations.values() for m in st.machines())


def _activity(model: Model, cal) -> ActivityRecord | None:
    """Every station's active periods on the run calendar's on-shift clock."""
    if not _logs_activity(model):
        return None
    horizon, warmup = model.horizon, model.scenario.run.warmup
    on_upto = (lambda ts: np.asarray(ts, dtype=float)) if cal is None else cal.on_upto
    names, starts, ends = [], [], []
    for name, st in model.stations.items():
        logs = [m.act for m in st.machines() if m.act is not None]
        s, e = to_on_shift(all_busy(logs, horizon), on_upto)
        names.append(name)
        starts.append(frozen_array(s, "f8"))
        ends.append(frozen_array(e, "f8"))
    lo, hi = (float(x) for x in on_upto(np.array([warmup, horizon])))
    shifts: list[tuple[str, float, float]] = []
    if cal is not None and not cal.always_on:
        a, b, labels = cal.shift_spans()
        for x, y, n in zip(on_upto(a), on_upto(b), labels):
            if y > x:
                shifts.append((str(n), float(x), float(y)))
    start = model.scenario.run.start
    months = []
    first = dt.date(start.year, start.month, 1)
    while seconds_at(start, first) < horizon:
        nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        a_, b_ = on_upto(np.array([max((first - start).days, 0) * DAY,
                                   min(seconds_at(start, nxt), horizon)]))
        months.append((f"{first:%Y-%m}", float(a_), float(b_)))
        first = nxt
    return ActivityRecord(tuple(names), tuple(starts), tuple(ends), (lo, hi), tuple(shifts),
                          tuple(months))


def _records(model: Model, base: dict[str, int], wall: float) -> RunResult:
    sc = model.scenario
    horizon = model.horizon
    stations = []
    for name, st in model.stations.items():
        ms = st.machines()
        for m in ms:
            m.flush(horizon)
        per = [m.totals(horizon) for m in ms]
        acc = [sum(p[i] for p in per) for i in range(len(STATES))]
        jobs = st.exits if isinstance(st, PacedLine) else sum(m.jobs for m in ms)
        waiting: dict[str, float] = {}
        if isinstance(st, Station) and len(st.inputs) > 1:
            st.flush_waiting(horizon)
            waiting = {b.name: w for b, w in zip(st.inputs, st.waited)}
            carrier = st.inputs[st.carrier_index].name
            starved = acc[STATES.index("starved")] / len(ms)
            waiting[carrier] = max(starved - sum(waiting.values()), 0.0)
        stations.append(StationRecord(name, len(ms), dict(zip(STATES, acc)), jobs,
                                      sum(m.n_fail for m in ms), sc.stations[name].group,
                                      waiting, st.loaded_share(horizon)
                                      if isinstance(st, PacedLine) else None))
    buffers = []
    for name, b in model.buffers.items():
        if isinstance(b, SinkPort) or not isinstance(b, (Buffer, Stock)):
            continue  # a sink's port holds nothing: not a buffer of the line
        traced = b.trace_t is not None
        buffers.append(BufferRecord(
            name, b.cap, b.mean_level(horizon), b.max_level,
            frozen_array(b.trace_t, "f8") if traced else None,
            frozen_array(b.trace_l, "i4") if traced else None,
            "stock" if isinstance(b, Stock) else "parts"))
    log, folder = model.log, model.folder
    assert folder is not None, "build attaches the folder"
    cal = model.calendars.get(sc.run.calendar) if sc.run.calendar else None
    completions = None
    lead_on_shift = None
    if isinstance(log, SpillLog):  # rows on disk: already folded slice by slice
        completions = mapped_completions(log.close())
    elif isinstance(log, TallyLog):  # no rows: folded slice by slice, the last one now
        log.spill()
    else:
        completions = Completions(frozen_array(log.part, "i8"), frozen_array(log.order, "i8"),
                                  frozen_array(log.type, "i4"), frozen_array(log.sink, "i2"),
                                  frozen_array(log.t_release, "f8"),
                                  frozen_array(log.t_done, "f8"))
        fold_rows(folder, completions.type, completions.sink, completions.t_release,
                  completions.t_done)
    if completions is not None and cal is not None and not cal.always_on:
        c = completions
        completions = replace(c, shift=_by_slices(
            c, lambda a, b: shift_codes(cal, c.t_done[a:b])[1], "i1"))
        lead_on_shift = _by_slices(c, lambda a, b: cal.on_upto(c.t_done[a:b])
                                   - cal.on_upto(c.t_release[a:b]), "f8")
    tally = folder.record()
    counters = {k: v - base.get(k, 0) for k, v in model.counters.items()}
    scrap = [s.scrap for s in model.sinks.values()]
    warmup = sc.run.warmup
    counters["scrapped"] = tally.scrapped
    counters["completed"] = int(tally.good_by_type.sum())
    jobs = sum(s.jobs for s in stations)
    mask = working_mask(cal, horizon)  # production days: a Sunday-evening night is Monday's
    return RunResult(
        scenario=sc.name, replication=model.replication, seed=sc.run.seed,
        start=sc.run.start, warmup=warmup, horizon=horizon,
        types=tuple(t.name for t in model.types),
        type_product=tuple(t.product for t in model.types),
        sinks=tuple(model.sinks), sink_scrap=tuple(scrap), log=completions,
        stations=tuple(stations), buffers=tuple(buffers),
        released=counters["released"], lost=counters["lost"],
        wip_mean=model.wip.mean(horizon), wip_end=model.wip.n,
        events=jobs + counters["released"], wall_seconds=wall, counters=counters,
        shift_names=folder.shift_labels,
        scheduled_seconds=(cal.on_between(warmup, horizon) if cal is not None
                           else horizon - warmup),
        working_days=int(mask[int(warmup // DAY):].sum()),
        working_mask=frozen_array(mask, "?"),
        shift_seconds=_shift_seconds(cal, warmup, horizon),
        shift_capacity=_shift_capacity(model, cal, warmup, horizon),
        lead_on_shift=lead_on_shift,
        demand=tuple(_demand(name, port, horizon) for name, port in model.demand.items()),
        built_before={p: s.built_before for p, s in sc.products.items() if s.built_before},
        milestones=tuple(Milestone(n, m.product, m.count) for n, m in sc.milestones.items()),
        reporting=folder.reports,
        stalls=tuple(folder.stalls.stalls),
        lockup=lockup(model, folder.stalls, tally.last_done),
        tally=tally, activity=_activity(model, cal))


def _by_slices(c: Completions, column: Callable[[int, int], Any], dtype: str) -> np.ndarray:
    """A column computed from the rows slice by slice, the pages of rows kept on disk let
    go after each (the same values as computed on the whole: every function here works
    row by row)."""
    parts = []
    for a in range(0, len(c), CHUNK):
        parts.append(column(a, min(a + CHUNK, len(c))))
        c.release()
    out = np.concatenate(parts) if parts else np.zeros(0, dtype)
    out.setflags(write=False)
    return out


def _shift_seconds(cal, warmup: float, horizon: float) -> dict[str, float]:
    """On-shift seconds of each named shift of the run calendar in [warmup, horizon]."""
    if cal is None or cal.always_on:
        return {}
    out: dict[str, float] = {}
    for a, b, name in zip(*cal.shift_spans()):
        if b > warmup and a < horizon:
            on = cal.on_between(max(a, warmup), min(b, horizon))
            out[name] = out.get(name, 0.0) + float(on)  # a float, not numpy's, compiled or not
    return out


def _shift_capacity(model: Model, cal, warmup: float, horizon: float) -> dict[str, float]:
    """Per named shift of the run calendar, the parts the paced segments could move in it
    at their takt (their own calendars: speed changes and shift rates included), the
    least of the segments: the takt capacity a shift's output is a share of."""
    paced = [st for st in model.stations.values() if isinstance(st, PacedLine)]
    if cal is None or cal.always_on or not paced:
        return {}
    out: dict[str, float] = {}
    for a, b, name in zip(*cal.shift_spans()):
        if b > warmup and a < horizon:
            lo, hi = max(a, warmup), min(b, horizon)
            cap = min(p.cal.work_between(lo, hi) / p.takt for p in paced)
            out[name] = out.get(name, 0.0) + float(cap)
    return out


def working_mask(cal, horizon: float) -> np.ndarray:
    """Per calendar day of the run: is it a production day (every day without a calendar)."""
    days = int(np.ceil(horizon / DAY))
    if cal is None or cal.always_on:
        return np.ones(days, dtype=bool)
    return cal.production_days(days)


def _demand(name: str, port, horizon: float) -> DemandRecord:
    """What the order book of a demand source planned, released and still owed."""
    due_end = [int(np.searchsorted(d, horizon, side="left")) for d in port.due]
    return DemandRecord(
        name, tuple(port.products), tuple(a for a, _ in port.period_bounds),
        tuple(b for _, b in port.period_bounds), frozen_array(port.planned, "i8"),
        frozen_array(port.rel_t, "f8"), frozen_array(port.rel_p, "i4"),
        frozen_array(due_end, "i8"))


