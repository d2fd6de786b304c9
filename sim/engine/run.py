"""Run one replication and turn the model's state into immutable records.

The hot loop is SimPy's own `Environment.run`; the only generator processes are on the
cold path (the warm-up reset and progress reports), per DESIGN.md §5 rule 8.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from heapq import heappop, heappush

import numpy as np

from sim.engine.buffer import Buffer
from sim.engine.model import Model, build
from sim.engine.paced import PacedLine
from sim.engine.stalls import find_stalls
from sim.engine.station import LineServer, Server, Station
from sim.engine.stock import Stock
from sim.records import (
    STATES,
    BufferRecord,
    Completions,
    DemandRecord,
    Milestone,
    ReportWindow,
    RunResult,
    StationRecord,
    frozen_array,
)


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


def _run_until(env, until: float) -> None:
    """`Environment.run(until)` with SimPy's own `step` semantics written inline.

    Same queue, same order (time, priority, insertion), same callback and failure
    handling as `simpy.Environment.step`; only the per-event method call is saved, which
    is a measurable share of a line whose events each do little work."""
    queue = env._queue
    pop = heappop
    servers = (Server, LineServer)
    while queue:
        t, prio, eid, event = pop(queue)
        if t >= until:
            heappush(queue, (t, prio, eid, event))  # not due: back where it was
            break
        env._now = t
        if event.__class__ in servers:  # a job end: dispatched straight to its server
            event.job_end(t)
            continue
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            raise event._value
    env._now = until


def run_once(scenario, replication: int = 0,
             progress: Callable[[float], None] | None = None,
             model: Model | None = None) -> RunResult:
    """Simulate one replication of `scenario` with the stream set of `replication`.

    `model`: the not-yet-run model `build(scenario, replication)` made earlier (a caller
    that built it as a check need not build twice)."""
    wall0 = time.perf_counter()
    if (model is None or model.scenario is not scenario or model.replication != replication
            or model.env.now != 0):
        model = build(scenario, replication)
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
    _run_until(env, horizon)
    result = _records(model, base, time.perf_counter() - wall0)
    if progress is not None:
        progress(1.0)
    return result


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
        if not isinstance(b, (Buffer, Stock)):
            continue
        traced = b.trace_t is not None
        buffers.append(BufferRecord(
            name, b.cap, b.mean_level(horizon), b.max_level,
            frozen_array(b.trace_t, "f8") if traced else None,
            frozen_array(b.trace_l, "i4") if traced else None,
            "stock" if isinstance(b, Stock) else "parts"))
    log = model.log
    t_done = frozen_array(log.t_done, "f8")
    cal = model.calendars.get(sc.run.calendar) if sc.run.calendar else None
    shift_names, shift = _shifts(cal, t_done)
    completions = Completions(frozen_array(log.part, "i8"), frozen_array(log.order, "i8"),
                              frozen_array(log.type, "i4"), frozen_array(log.sink, "i2"),
                              frozen_array(log.t_release, "f8"), t_done, shift)
    counters = {k: v - base.get(k, 0) for k, v in model.counters.items()}
    scrap = [s.scrap for s in model.sinks.values()]
    warmup = sc.run.warmup
    done = completions.t_done >= warmup
    is_scrap = frozen_array(scrap, "?")[completions.sink] if len(completions) else done
    counters["scrapped"] = int((done & is_scrap).sum())
    counters["completed"] = int((done & ~is_scrap).sum())
    jobs = sum(s.jobs for s in stations)
    return RunResult(
        scenario=sc.name, replication=model.replication, seed=sc.run.seed,
        start=sc.run.start, warmup=warmup, horizon=horizon,
        types=tuple(f"{p}/{v}" for p, v, _ in model.types),
        type_product=tuple(p for p, _, _ in model.types),
        sinks=tuple(model.sinks), sink_scrap=tuple(scrap), completions=completions,
        stations=tuple(stations), buffers=tuple(buffers),
        released=counters["released"], lost=counters["lost"],
        wip_mean=model.wip.mean(horizon), wip_end=model.wip.n,
        events=jobs + counters["released"], wall_seconds=wall, counters=counters,
        shift_names=shift_names,
        scheduled_seconds=(cal.on_between(warmup, horizon) if cal is not None
                           else horizon - warmup),
        working_days=_working_days(cal, warmup, horizon),
        shift_seconds=_shift_seconds(cal, warmup, horizon),
        shift_capacity=_shift_capacity(model, cal, warmup, horizon),
        lead_on_shift=(None if cal is None or cal.always_on else frozen_array(
            cal.on_upto(t_done) - cal.on_upto(completions.t_release), "f8")),
        demand=tuple(_demand(name, port, horizon) for name, port in model.demand.items()),
        built_before={p: s.built_before for p, s in sc.products.items() if s.built_before},
        milestones=tuple(Milestone(n, m.product, m.count) for n, m in sc.milestones.items()),
        reporting=_windows(sc, cal, horizon),
        **_stall_fields(model, completions, cal))


def _stall_fields(model: Model, c: Completions, cal) -> dict:
    """Stalls and lock-up, gaps measured on the run calendar, or else on the calendar of
    the first station that delivers to a sink (the plant's output works its hours)."""
    if cal is None:
        sc = model.scenario
        last = next((n for n, s in sc.stations.items()
                     if any(sc.buffers[b].to in sc.sinks for b in sc.outputs(n))), None)
        if last is not None:
            cal = model.stations[last].machines()[0].cal
    stalls, lockup = find_stalls(model, c.t_done, c.t_release, cal,
                                 model.scenario.run.stall_after)
    return {"stalls": stalls, "lockup": lockup}


def _shift_seconds(cal, warmup: float, horizon: float) -> dict[str, float]:
    """On-shift seconds of each named shift of the run calendar in [warmup, horizon]."""
    if cal is None or cal.always_on:
        return {}
    out: dict[str, float] = {}
    for a, b, name in zip(*cal.shift_spans()):
        if b > warmup and a < horizon:
            out[name] = out.get(name, 0.0) + cal.on_between(max(a, warmup), min(b, horizon))
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
            out[name] = out.get(name, 0.0) + cap
    return out


def _working_days(cal, warmup: float, horizon: float) -> int:
    """Days of the statistics window with on-shift time (every day without a calendar)."""
    first, last = int(warmup // 86400.0), int(np.ceil(horizon / 86400.0))
    if cal is None or cal.always_on:
        return last - first
    return int((cal.on_per_day(last)[first:] > 0).sum())


def _windows(sc, cal, horizon: float) -> tuple[ReportWindow, ...]:
    """Reporting windows in seconds, with their working days on the run calendar."""
    out = []
    per_day = None
    if sc.reporting and cal is not None:
        per_day = cal.on_per_day(int(np.ceil(horizon / 86400.0)))
    for name, w in sc.reporting.items():
        a = (w.from_ - sc.run.start).days
        b = (w.to - sc.run.start).days + 1
        days = b - a if per_day is None else int((per_day[a:b] > 0).sum())
        days = w.days if w.days is not None else days
        out.append(ReportWindow(name, a * 86400.0, min(b * 86400.0, horizon), days,
                                w.products))
    return tuple(out)


def _demand(name: str, port, horizon: float) -> DemandRecord:
    """What the order book of a demand source planned, released and still owed."""
    due_end = [int(np.searchsorted(d, horizon, side="left")) for d in port.due]
    return DemandRecord(
        name, tuple(port.products), tuple(a for a, _ in port.period_bounds),
        tuple(b for _, b in port.period_bounds), frozen_array(port.planned, "i8"),
        frozen_array(port.rel_t, "f8"), frozen_array(port.rel_p, "i4"),
        frozen_array(due_end, "i8"))


def _shifts(cal, t_done: np.ndarray) -> tuple[tuple[str, ...], np.ndarray | None]:
    """The run calendar's shift in which each completion happened (-1: off shift).

    Spans are closed at their end: a part finished exactly when a shift ends was made in
    that shift, not in the one starting at the same instant."""
    if cal is None or cal.always_on:
        return (), None
    starts, ends, names = cal.shift_spans()
    labels = tuple(dict.fromkeys(names))
    code = np.array([labels.index(n) for n in names], dtype="i1")
    i = np.searchsorted(starts, t_done, side="left") - 1
    ok = (i >= 0) & (t_done <= ends[np.maximum(i, 0)])
    shift = np.where(ok, code[np.maximum(i, 0)] if len(code) else -1, -1).astype("i1")
    shift.setflags(write=False)
    return labels, shift
