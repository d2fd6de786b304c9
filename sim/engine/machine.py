"""One machine's clock: work content -> calendar time, through failures and shifts.

Every server of a station and every paced line owns a `Machine`. It is the heart of the
speed rules (docs/design.md §5, rules 2 and 7): a job's end time is computed once, at its start,
as `start + work + the repairs and off-shift time that overlap it`. Failures are lazy:

* operation-dependent: the machine holds an up-time *budget* of work; a job that would
  cross it is cut there, the repair is added, a new budget is drawn. Idle machines never
  fail and cost nothing.
* time-dependent: failure instants form a timeline in on-shift time (the clock freezes off
  shift); it is advanced only when the machine next starts work or is flushed.

A failure interrupts the job: by default it resumes after the repair with the work left
(preempt-resume); with ``after_failure: repeat`` the work done is lost and the whole job
starts again after the repair (preempt-repeat, same work content).
Repairs run in real time; with ``repair_off_shift: false`` they progress only on shift.
Time is accounted per state at state changes (rule 4): working, blocked, starved, failed,
off shift. Off shift overrides working, blocked and starved; a repair that continues off
shift counts as failed.

Statistics by remainder: each machine leaves its commonest state unsummed and derives it
in `totals` as what remains of the time. A machine that never stops (no calendar) derives
*working*: a job that follows a job costs no accounting at all, which is what makes a busy
line cheap. A machine on a calendar derives *starved*, since summing its working time is
needed anyway to split out off-shift time, and idle spans would cost a calendar query each.
Derived totals equal summed ones to rounding (the golden tests hold them to 1e-12).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from sim.engine.activity import Activity
from sim.engine.calendar import Calendar

# Final: compiled (mypyc), each use is a constant rather than a module-dict lookup
WORKING: Final = 0
BLOCKED: Final = 1
STARVED: Final = 2
FAILED: Final = 3
OFF: Final = 4
INF: Final = math.inf


class FailureModel:
    """Samplers and options of one machine's failures."""

    __slots__ = ("repair", "repair_off_shift", "repeat", "time_mode", "uptime")

    def __init__(self, uptime, repair, time_mode: bool, repair_off_shift: bool,
                 repeat: bool = False) -> None:
        self.uptime = uptime
        self.repair = repair
        self.time_mode = time_mode
        self.repair_off_shift = repair_off_shift
        self.repeat = repeat  # preempt-repeat: a failure loses the job's work done so far


class Machine:
    """Clock and state accounting of one server; subclasses add what it works on."""

    __slots__ = (
        "acc",
        "act",
        "always_on",
        "budget",
        "cal",
        "f_off",
        "fails",
        "fm",
        "jobs",
        "n_fail",
        "name",
        "simple",
        "since",
        "stat_from",
        "state",
        "td",
        "td_next",
        "unit_rate",
        "w_left",
    )

    def __init__(self, name: str, cal: Calendar, fm: FailureModel | None) -> None:
        self.name = name
        self.cal = cal
        self.fm = fm
        self.acc = [0.0, 0.0, 0.0, 0.0, 0.0]
        self.state = STARVED
        self.since = 0.0
        self.fails: list[tuple[float, float]] = []
        self.jobs = 0
        self.n_fail = 0
        self.always_on = cal.always_on
        time_mode = fm is not None and fm.time_mode
        self.budget = INF
        self.td_next = INF
        if fm is not None:
            if time_mode:
                self.td_next = cal.advance_on(0.0, fm.uptime.draw())
            else:
                self.budget = fm.uptime.draw()
        # Time-dependent failures; fixed for the run (a dated change may alter a failure
        # model's numbers, never its mode: sim/spec/changes.py refuses that).
        self.td = time_mode
        self.simple = cal.always_on and not time_mode
        self.unit_rate = cal.always_on or bool(np.all(cal.rates() == 1.0))
        self.w_left = -1.0
        self.f_off = 0.0
        self.stat_from = 0.0
        self.act: Activity | None = None  # active periods, when a run logs them

    # -- the hot path -------------------------------------------------------------------

    def begin(self, t: float, w: float) -> float:
        """Start `w` seconds of work at `t`; return the calendar time it ends."""
        if self.simple:
            self.acc[self.state] += t - self.since
            self.state = WORKING
            self.since = t
            b = self.budget
            if w < b:
                self.budget = b - w
                return t + w
            return self._walk_operation(t, w)
        if self.td:
            self._catch_up(t)
        if self.state != STARVED or self.fails or self.always_on:
            self._account(self.state, self.since, t)
        self.state = WORKING
        self.since = t
        self.w_left = w
        if self.td:
            return self._walk_time(t, w)
        b = self.budget
        if w < b:
            self.budget = b - w
            return self.cal.advance_work(t, w)
        return self._walk_operation(t, w)

    def finish(self, t: float, state: int) -> None:
        """The job begun last ends at `t`; the machine enters `state` (starved/blocked)."""
        self.jobs += 1
        if self.fails:
            self._account(WORKING, self.since, t)
        elif self.always_on:
            pass  # working time is the remainder (see `totals`)
        elif self.unit_rate and self.w_left >= 0.0:
            self.acc[WORKING] += self.w_left  # on-shift time of a failure-free job at rate 1
        else:  # `_account` without failures, inlined: the job's on-shift time
            self.acc[WORKING] += self.cal.on_between(self.since, t)
        self.state = state
        self.since = t

    def idle_to(self, t: float, state: int) -> None:
        """Switch between idle states (blocked <-> starved) at `t`."""
        if state == self.state:
            return
        if self.simple:
            self.acc[self.state] += t - self.since
        else:
            if self.td:
                self._catch_up(t)
            self._account(self.state, self.since, t)
        self.state = state
        self.since = t

    # -- failures -----------------------------------------------------------------------

    def _failures(self) -> FailureModel:
        """The failure model (only called on paths that a failure put the machine on)."""
        assert self.fm is not None, "a failure path on a machine without failures"
        return self.fm

    def _repair_end(self, f: float) -> float:
        fm = self._failures()
        d = fm.repair.draw()
        if self.always_on or fm.repair_off_shift:
            return f + d
        return self.cal.advance_on(f, d)

    def _walk_operation(self, t: float, w: float) -> float:
        cal, fm, fails = self.cal, self._failures(), self.fails
        x, b = t, self.budget
        while w > b:
            f = x + b if self.always_on else cal.advance_work(x, b)
            if not fm.repeat:  # preempt-resume: the work done before the failure counts
                w -= b
            x = self._repair_end(f)
            fails.append((f, x))
            b = fm.uptime.draw()
        self.budget = b - w
        return x + w if self.always_on else cal.advance_work(x, w)

    def _catch_up(self, t: float) -> None:
        """Draw the time-dependent failures that begin before `t`."""
        while self.td_next < t:
            f = self.td_next
            r = self._repair_end(f)
            self.fails.append((f, r))
            self.td_next = self.cal.advance_on(r, self._failures().uptime.draw())

    def _walk_time(self, t: float, w: float) -> float:
        cal = self.cal
        x = t
        if self.fails and self.fails[-1][1] > x:
            x = self.fails[-1][1]
        while True:
            e = cal.advance_work(x, w)
            nf = self.td_next
            if e <= nf:
                return e
            if not self._failures().repeat:
                w -= cal.work_between(x, nf)
            r = self._repair_end(nf)
            self.fails.append((nf, r))
            self.td_next = cal.advance_on(r, self._failures().uptime.draw())
            x = r

    # -- accounting ---------------------------------------------------------------------

    def _account(self, state: int, a: float, b: float) -> None:
        """Add [a, b] spent in `state`, splitting out failures and off-shift time."""
        if b <= a:
            return
        acc = self.acc
        fails = self.fails
        x = a
        if fails:
            keep = []
            for f, r in fails:
                if f >= b:
                    keep.append((f, r))
                    continue
                if r <= x:
                    continue
                f0 = max(x, f)
                if f0 > x:
                    self._split(state, x, f0)
                if f >= a:
                    self.n_fail += 1
                r1 = min(b, r)
                if self.always_on:
                    acc[FAILED] += r1 - f0
                elif self._failures().repair_off_shift:
                    acc[FAILED] += r1 - f0
                    self.f_off += (r1 - f0) - self.cal.on_between(f0, r1)
                else:
                    acc[FAILED] += self.cal.on_between(f0, r1)
                x = r1
                if r > b:
                    keep.append((f, r))
            self.fails = keep
        if b > x:
            self._split(state, x, b)

    def _split(self, state: int, a: float, b: float) -> None:
        """On-shift time of [a, b] in `state`. The remainder state is not summed span by
        span: working without a calendar, starved and off shift on one (see `totals`)."""
        if self.always_on:
            if state != WORKING:
                self.acc[state] += b - a
        elif state != STARVED:
            self.acc[state] += self.cal.on_between(a, b)

    def totals(self, t: float) -> list[float]:
        """Seconds per state in [stat_from, t] (after `flush(t)`)."""
        if self.always_on:
            _, b, s, f, _ = self.acc
            return [max((t - self.stat_from) - b - s - f, 0.0), b, s, f, 0.0]
        w, b, _, f, _ = self.acc
        on = self.cal.on_between(self.stat_from, t)
        starved = max(on - w - b - (f - self.f_off), 0.0)
        off = max((t - self.stat_from) - on - self.f_off, 0.0)
        return [w, b, starved, f, off]

    def flush(self, t: float) -> None:
        """Account everything up to `t` (warm-up end, run end) without changing state."""
        if t <= self.since:
            return
        if self.state != WORKING and self.td:
            self._catch_up(t)
        self._account(self.state, self.since, t)
        self.since = t
        self.w_left = -1.0

    def reset(self) -> None:
        """Forget statistics (at the end of warm-up, after `flush`); the clock's state is kept."""
        self.acc = [0.0, 0.0, 0.0, 0.0, 0.0]
        self.f_off = 0.0
        self.stat_from = self.since
        self.jobs = 0
        self.n_fail = 0
