"""Stalls and lock-ups: when the plant's answer is meaningless, the run says so.

Why from the completions, not from the stations: a lock-up (every station blocked or
starved, or an assembly waiting for a part that can never come) leaves the event queue
without anything that could move the parts inside, so the run simply ends with fewer
completions, which reads like a low forecast. Watching for it during the run would cost
events; instead the gaps between completions are measured as the tally folds them
(`StallFold`, fed by `sim.engine.tally`), and the lock-up is read at the horizon:

* a **stall** is a stretch of at least `run.stall_after` on-shift time (default 8 h)
  without a completion while the plant held work: between two consecutive completions,
  from the later of the first completion and the release of the part completed next,
  to that next completion (an empty plant waiting for orders is not a stall);
* a **lock-up** is a stall that lasts to the horizon: no completion during the last
  `stall_after` of on-shift time while parts are still inside. It is reported with the
  time of the last completion and, for every station and buffer, what it is stuck on at
  the horizon (blocked on which full buffer, starved for which input, holding which part).

Gaps are measured in on-shift time of the run calendar (or, without one, of the station
that delivers to a sink), so nights, weekends and shutdowns are never stalls.
"""

from __future__ import annotations

import numpy as np

from sim.engine.machine import BLOCKED, FAILED, STARVED
from sim.engine.paced import PacedLine
from sim.engine.records import LockUp, Stall
from sim.engine.station import Station
from sim.spec.units import HOUR


class StallFold:
    """Gaps of at least `threshold` on-shift seconds between consecutive completions while
    the plant held work, fed slice by slice in time order (`sim.engine.tally`)."""

    def __init__(self, cal, threshold: float) -> None:
        self.on = ((lambda ts: np.asarray(ts, dtype=np.float64))
                   if cal is None or cal.always_on else cal.on_upto)
        self.threshold = threshold
        self.prev: float | None = None  # the last completion of the slices before
        self.stalls: list[Stall] = []

    def add(self, t_done: np.ndarray, t_release: np.ndarray) -> None:
        if not len(t_done):
            return
        if self.prev is None:
            done, nxt, rel = t_done[:-1], t_done[1:], t_release[1:]
        else:
            done, nxt, rel = np.concatenate(([self.prev], t_done[:-1])), t_done, t_release
        held_from = np.maximum(done, rel)  # the next part is inside from then
        gaps = self.on(nxt) - self.on(held_from)
        for i in np.flatnonzero(gaps >= self.threshold):
            self.stalls.append(Stall(float(held_from[i]), float(nxt[i]),
                                     float(gaps[i]) / HOUR))
        self.prev = float(t_done[-1])


def stall_calendar(model):
    """The calendar gaps are measured on: the run calendar, or else that of the first
    station that delivers to a sink (the plant's output works its hours); None: 24/7."""
    sc = model.scenario
    if sc.run.calendar:
        return model.calendars.get(sc.run.calendar)
    last = next((n for n, s in sc.stations.items()
                 if any(sc.buffers[b].to in sc.sinks for b in sc.outputs(n))), None)
    return model.stations[last].machines()[0].cal if last is not None else None


def lockup(model, fold: StallFold, last: float) -> LockUp | None:
    """The lock-up at the horizon: parts inside and no completion since `last` for at
    least the threshold of on-shift time."""
    on = fold.on
    tail = float(on(np.array([model.horizon]))[0] - on(np.array([last]))[0])
    if model.wip.n > 0 and tail >= fold.threshold:
        return LockUp(last, tail / HOUR, int(model.wip.n), tuple(_stuck(model)))
    return None


def _stuck(model) -> list[str]:
    """What every station and buffer holding parts is stuck on at the end of the run."""
    out = []
    blocked_on = {id(f): name for name, b in model.buffers.items()
                  for f in getattr(b, "blocked", ())}
    for name, st in model.stations.items():
        for m in st.machines():
            who = m.name
            if m.state == BLOCKED:
                out.append(f"{who}: blocked, holding a finished part for the full buffer "
                           f"{blocked_on.get(id(m), '?')}")
            elif m.state == FAILED:
                out.append(f"{who}: failed")
            elif isinstance(st, Station) and m.state == STARVED and len(st.inputs) > 1:
                miss = st._missing()
                if miss >= 0:
                    head = st.carrier.peek() if st.carrier.available() else None
                    order = f" (order {head.order})" if head is not None and \
                        st.match_order and miss != st.carrier_index else ""
                    out.append(f"{who}: starved, waiting for {st.inputs[miss].name}{order}")
            elif isinstance(st, PacedLine) and st.parts and m.state == STARVED:
                out.append(f"{who}: stopped with {len(st.parts)} parts on it")
    for name, b in model.buffers.items():
        items = getattr(b, "items", None)
        if items and len(items) >= b.cap:
            out.append(f"buffer {name}: full ({len(items)} of {b.cap:g})")
    return out
