"""A paced segment: a moving line of N positions that moves as one.

It is one server with a lead time (DESIGN.md §5 rule 5), not N stations. The line moves
in steps of one takt of work; at each step boundary at most one part enters at the head
and the part that has made N steps leaves at the tail. A part arriving while the line
moves waits for the next boundary; an empty line stands still and starts at once when a
part arrives. A failure, the calendar (off shift, or `rate` < 1) or a tail part that
cannot leave (blocked) stops the whole line. Capacity: one part per takt; lead time:
N x takt of movement. The step is the line's "job", so failures and shifts are handled by
the same lazy `Machine` clock as any station, at one event per takt while moving.
"""

from __future__ import annotations

from collections import deque

from simpy.core import NORMAL

from sim.engine.buffer import Part
from sim.engine.machine import BLOCKED, STARVED, WORKING, Machine, reusable_event


class PacedLine(Machine):
    """A moving line of `positions` positions at `takt` seconds of work per step."""

    __slots__ = (
        "cb",
        "env",
        "ev",
        "exits",
        "inp",
        "last_entry",
        "moving",
        "out",
        "part",
        "parts",
        "positions",
        "router",
        "step",
        "takt",
    )

    def __init__(self, name: str, env, cal, fm, positions: int, takt: float, inp,
                 router, out) -> None:
        super().__init__(name, cal, fm)
        self.env = env
        self.positions = positions
        self.takt = takt
        self.inp = inp
        self.router = router
        self.out = out
        self.parts: deque[tuple[int, Part]] = deque()
        self.step = 0
        self.last_entry = -1
        self.moving = False
        self.part: Part | None = None
        self.ev = reusable_event(env)
        self.cb = [self._step_done]
        self.exits = 0

    @property
    def servers(self) -> list[Machine]:
        return [self]

    def machines(self) -> list[Machine]:
        return [self]

    def on_input(self, t: float) -> None:
        if self.moving or self.last_entry >= self.step:
            return
        self._enter(t)
        if not self.moving and self.part is None and self.parts:
            self._move(t)

    def _enter(self, t: float) -> None:
        inp = self.inp
        if self.last_entry < self.step and (inp.items or inp.blocked):
            self.last_entry = self.step  # before take: taking may wake upstream, re-entering
            part = inp.take(t)
            self.parts.append((self.step + self.positions, part))

    def _move(self, t: float) -> None:
        end = self.begin(t, self.takt)
        self.moving = True
        ev = self.ev
        ev.callbacks = self.cb
        self.env.schedule(ev, NORMAL, end - t)

    def _step_done(self, _ev) -> None:
        t = self.env._now
        self.moving = False
        self.step += 1
        self.finish(t, STARVED)
        self._boundary(t)

    def _boundary(self, t: float) -> None:
        """Entry at the head, then the exit at the tail; move on unless blocked or empty."""
        self._enter(t)
        parts = self.parts
        if parts and parts[0][0] <= self.step:
            part = parts.popleft()[1]
            out = self.out if self.out is not None else self.router.choose(part.type, t)
            self.exits += 1
            if out.has_space():
                out.put(part, t)
            else:
                self.part = part
                self.idle_to(t, BLOCKED)
                out.block(self, t)
                return
        if parts and not self.moving and self.part is None:
            self._move(t)

    def released(self, t: float) -> None:
        """Downstream took the tail part: the line may move again."""
        self.part = None
        self.idle_to(t, STARVED)
        self._enter(t)
        if self.parts and not self.moving:
            self._move(t)

    def reset(self) -> None:
        super().reset()
        self.exits = 0

    @property
    def is_working(self) -> bool:
        return self.state == WORKING
