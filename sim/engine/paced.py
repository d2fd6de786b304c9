"""A paced segment: a moving line of N positions that moves as one.

It is one server with a lead time (docs/design.md §5 rule 5), not N stations. The line moves
in steps of one takt of work; at each step boundary at most one part enters at the head
and the part that has made N steps leaves at the tail. Steps where nothing enters or
leaves cost no event: with nobody waiting at the entrance the line moves straight to the
tail part's exit, and a part arriving meanwhile gets an event at the next boundary. A part arriving while the line
moves waits for the next boundary; an empty line stands still and starts at once when a
part arrives. A failure, the calendar (off shift, or `rate` < 1) or a tail part that
cannot leave (blocked) stops the whole line. Capacity: one part per takt; lead time:
N x takt of movement. The step is the line's "job", so failures and shifts are handled by
the same lazy `Machine` clock as any station.

Work content per model (`paced.content`): a step begun with a part waiting at the entrance
lasts `takt x content` of the part that entered at that step, so a saturated line moves
one part per `takt x mean content`; steps begun with the entrance empty last one takt
(the free pitch absorbs the difference). `speed` divides the takt.
"""

from __future__ import annotations

from collections import deque

from sim.engine.buffer import Buffer, Consumer, Part
from sim.engine.kernel import Wakeup
from sim.engine.machine import BLOCKED, STARVED, WORKING, Machine
from sim.engine.percls import own_methods
from sim.engine.routing import Router


class PacedLine(Machine, Consumer):
    """A moving line of `positions` positions at `takt` seconds of work per step."""

    __slots__ = (
        "content",
        "entry_step",
        "env",
        "ev",
        "ev_in",
        "exits",
        "inp",
        "jump_fails",
        "jump_step",
        "jump_t",
        "last_entry",
        "load_area",
        "moving",
        "out",
        "part",
        "part_entered",
        "parts",
        "positions",
        "router",
        "step",
        "takt",
        "target",
    )

    def __init__(self, name: str, env, cal, fm, positions: int, takt: float, inp: Buffer,
                 router: Router | None, out: Buffer | None,
                 content: list[float] | None = None) -> None:
        super().__init__(name, cal, fm)
        self.env = env
        self.positions = positions
        self.takt = takt
        self.inp = inp
        self.router = router
        self.out = out
        self.parts: deque[tuple[int, Part, float]] = deque()  # (exit step, part, entered)
        self.step = 0
        self.last_entry = -1
        self.moving = False
        self.part: Part | None = None
        self.ev = Wakeup(env, self._step_done)
        self.ev_in = Wakeup(env, self._entry_due)
        self.entry_step = -1  # boundary of a scheduled mid-jump entry, -1 if none
        self.jump_t = 0.0
        self.jump_step = 0
        self.jump_fails: list[tuple[float, float]] = []
        self.target = 0
        self.exits = 0
        self.load_area = 0.0
        self.part_entered = 0.0
        self.content = content  # per type: work content in takts (None: one takt each)

    @property
    def servers(self) -> list[Machine]:
        return [self]

    def machines(self) -> list[Machine]:
        return [self]

    def on_input(self, t: float) -> None:
        if self.moving:
            if self.entry_step < 0:
                self._plan_entry(t)
            return
        if self.last_entry >= self.step:
            return
        self._enter(t)
        if not self.moving and self.part is None and self.parts:
            self._move(t)

    def _enter(self, t: float) -> None:
        inp = self.inp
        if self.last_entry < self.step and (inp.items or inp.blocked):
            self.last_entry = self.step  # before take: taking may wake upstream, re-entering
            part = inp.take(t)
            self.parts.append((self.step + self.positions, part, t))

    def _move(self, t: float) -> None:
        """Move to the next boundary where something happens: the next step if a part
        waits at the entrance, else straight to the tail part's exit (one event)."""
        inp = self.inp
        waiting = bool(inp.items or inp.blocked)
        self.target = self.step + 1 if waiting else self.parts[0][0]
        if self.act is not None:  # active: a part enters at every step (module docstring
            if waiting:           # of sim.engine.activity)
                self.act.on(t)
            else:
                self.act.off(t)
        w = (self.target - self.step) * self.takt
        content = self.content
        if content is not None and waiting and self.last_entry == self.step:
            w *= content[self.parts[-1][1].type]  # the step of the part that just entered
        end = self.begin(t, w)
        self.jump_t, self.jump_step = t, self.step
        self.jump_fails = list(self.fails)
        self.moving = True
        self.ev.after(end - t)

    def _step_done(self, t: float) -> None:
        self.moving = False
        self.step = self.target
        self.finish(t, STARVED)
        if self.act is not None:
            self.act.off(t)  # a move begun at t with a part waiting extends the period
        self._boundary(t)

    # -- entries during a multi-step move -------------------------------------------------

    def _plan_entry(self, t: float) -> None:
        """A part arrived mid-move: it enters at the next step boundary before the target."""
        done = self._work_done(t)
        j = self.jump_step + int(done / self.takt + 1e-9) + 1
        if j >= self.target or self.last_entry >= j:
            return
        self.entry_step = j
        due = self._time_at_work((j - self.jump_step) * self.takt)
        self.ev_in.after(max(due - t, 0.0))

    def _entry_due(self, t: float) -> None:
        j = self.entry_step
        self.entry_step = -1
        inp = self.inp
        if self.last_entry < j and (inp.items or inp.blocked):
            self.last_entry = j
            part = inp.take(t)
            self.parts.append((j + self.positions, part, t))
            if self.act is not None:  # parts entering mid-move: loaded at the head
                if inp.items or inp.blocked:
                    self.act.on(t)
                else:
                    self.act.off(t)
        if (inp.items or inp.blocked) and j + 1 < self.target and self.entry_step < 0:
            self.entry_step = j + 1
            due = self._time_at_work((j + 1 - self.jump_step) * self.takt)
            self.ev_in.after(max(due - t, 0.0))

    def _work_done(self, t: float) -> float:
        """Line movement (work) since the move began at `jump_t`, up to `t`."""
        cal, x, done = self.cal, self.jump_t, 0.0
        for f, r in self.jump_fails:
            if r <= x:
                continue
            if f >= t:
                break
            if f > x:
                done += cal.work_between(x, f)
            x = max(x, r)
            if x >= t:
                return done
        return done + cal.work_between(x, t) if t > x else done

    def _time_at_work(self, w: float) -> float:
        """When the move begun at `jump_t` has done `w` of movement."""
        cal, x, done = self.cal, self.jump_t, 0.0
        for f, r in self.jump_fails:
            if r <= x:
                continue
            if f > x:
                seg = cal.work_between(x, f)
                if done + seg >= w:
                    return cal.advance_work(x, w - done)
                done += seg
            x = max(x, r)
        return cal.advance_work(x, w - done)

    def _boundary(self, t: float) -> None:
        """Entry at the head, then the exit at the tail; move on unless blocked or empty."""
        self._enter(t)
        parts = self.parts
        if parts and parts[0][0] <= self.step:
            _, part, entered = parts.popleft()
            out = self.out
            if out is None:  # routed: a line without one output has a router
                router = self.router
                assert router is not None
                out = router.choose(part.type, t)
            self.exits += 1
            if out.has_space():
                self._unload(entered, t)
                out.put(part, t)
            else:
                self.part = part
                self.part_entered = entered
                self.idle_to(t, BLOCKED)
                out.block(self, t)
                return
        if parts and not self.moving and self.part is None:
            self._move(t)

    def released(self, t: float) -> None:
        """Downstream took the tail part: the line may move again."""
        self.part = None
        self._unload(self.part_entered, t)
        self.idle_to(t, STARVED)
        self._enter(t)
        if self.parts and not self.moving:
            self._move(t)

    def _unload(self, entered: float, t: float) -> None:
        """A part leaves the line: add its on-shift time on it (since the statistics
        start). The sum over parts is the integral of the parts on the line over on-shift
        time, one calendar query per part instead of one per change."""
        self.load_area += self.cal.on_between(max(entered, self.stat_from), t)

    def loaded_share(self, t: float) -> float:
        """Mean share of positions holding a part (the blocked tail part included) over the
        on-shift time since the statistics start, up to t."""
        area = self.load_area + sum(self.cal.on_between(max(e, self.stat_from), t)
                                    for _, _, e in self.parts)
        if self.part is not None:
            area += self.cal.on_between(max(self.part_entered, self.stat_from), t)
        on = self.cal.on_between(self.stat_from, t)
        return area / (on * self.positions) if on > 0 else float("nan")

    def reset(self) -> None:
        super().reset()
        self.exits = 0
        self.load_area = 0.0

    @property
    def is_working(self) -> bool:
        return self.state == WORKING


# Each class its own copy of the methods it inherits (a statement, not a decorator:
# mypyc compiles a decorated class as a plain Python class).
own_methods(PacedLine)
