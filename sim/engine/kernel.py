"""The engine's one door into SimPy's internals: the clock, the heap, timed objects, the loop.

SimPy keeps its future events on a heap of ``(time, priority, id, event)`` tuples
(`Environment._queue`, ids from `Environment._eid`) and processes them one by one in
`Environment.step`. For speed the engine does three things SimPy's public API does not
offer, and this module is the only place that knows how they touch SimPy:

* **Timed objects.** A component's recurring wake-up (a server's job end, a paced line's
  step, a source's next release) is one long-lived object that goes on the heap again and
  again instead of a new event each time (docs/internals.md, speed rule 8). A `Timed`
  object has a ``fire(t)`` method; it also reads as a processed-OK SimPy event, so
  `Environment.step` handles it the same way (tests/engine/test_kernel.py runs whole
  models both ways, event by event).
* **Direct pushes.** The hottest path (a server's job end) pushes its heap entry itself;
  `heap(env)` hands out the queue and id counter once, at build time, and the pushes are
  labelled inlines of `Wakeup.after`.
* **The loop.** `run_until` is `Environment.run(until)` with `step` written inline: same
  order (the stop comes before every event at `until` pushed after the run began, as
  SimPy's URGENT stop event does), same failure handling (a failed event that nobody
  defused raises a copy whose ``__cause__`` is the original), same `StopSimulation`.
  Timed objects are dispatched by the protocol: ``event.fire(t)``, no callbacks list.

Everything here depends on SimPy 4.1's layout, pinned in pyproject.toml;
tests/engine/test_simpy_internals.py fails loudly if a release changes it.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count
from typing import Any, Final, cast

from mypy_extensions import trait
from simpy import Environment
from simpy.core import StopSimulation

__all__ = ["NORMAL", "URGENT", "Environment", "Timed", "Wakeup", "heap", "new_env",
           "run_until", "timed"]

URGENT: Final = 0  # SimPy's priorities (simpy.core; tests/engine/test_simpy_internals.py),
NORMAL: Final = 1  # Final so that compiled code uses the constants
TIMED: set[type[Timed]] = set()  # every subclass of `Timed`: the loop's dispatch table


def new_env() -> Environment:
    """A fresh SimPy environment at time 0."""
    return Environment()


def heap(env: Environment) -> tuple[list, count]:
    """The environment's event heap and id counter, for a component that pushes its own
    entries (the same tuples as `Environment.schedule`)."""
    return env._queue, env._eid


@trait
class Timed:
    """A reusable timed object: it is its own event on SimPy's heap.

    Subclasses define ``fire(t)`` and an ``env`` attribute, and are registered with
    `timed` (the loop's dispatch table). SimPy sees a triggered, OK event whose callbacks
    call ``fire(env.now)``; `Environment.step`'s clearing of the callbacks is ignored,
    since the object is scheduled again later. A trait, so that a compiled class can
    derive from it and from its own base (`Server` from `Machine`)."""

    __slots__ = ()
    _ok = True
    _value = None
    env: Any

    def fire(self, t: float) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def callbacks(self) -> list[Callable[[Any], None]]:
        return [self._by_simpy]

    @callbacks.setter
    def callbacks(self, _value: object) -> None:
        """`Environment.step` sets None after processing; a timed object stays reusable."""

    def _by_simpy(self, _event: object) -> None:
        self.fire(self.env._now)


def timed(cls: type[Timed]) -> None:
    """Register a `Timed` class: `run_until` calls `fire(t)` on its instances."""
    TIMED.add(cls)


def _nothing(_t: float) -> None:
    """What a cancelled wake-up does when its heap entry comes due."""


class Wakeup(Timed):
    """One component's reusable timer: ``fire(t)`` calls ``fn(t)``.

    `after` schedules it exactly as `Environment.schedule` would (``now + delay``, the
    same float); `renew` cancels an entry already on the heap (it will do nothing) and
    returns a fresh timer with the same function."""

    __slots__ = ("env", "fn", "pending", "prio")

    def __init__(self, env: Environment, fn: Callable[[float], None],
                 prio: int = NORMAL) -> None:
        self.env = env
        self.fn = fn
        self.prio = prio
        self.pending = False

    def after(self, delay: float) -> None:
        """Put the timer on the heap to fire `delay` after now."""
        self.pending = True
        env = self.env
        heappush(env._queue, (env._now + delay, self.prio, next(env._eid), self))

    def fire(self, t: float) -> None:
        self.pending = False
        self.fn(t)

    def renew(self) -> Wakeup:
        """Cancel the entry on the heap, if any, and return a fresh timer."""
        fn, self.fn = self.fn, _nothing
        self.pending = False
        return Wakeup(self.env, fn, self.prio)


timed(Wakeup)


def run_until(env: Environment, until: float) -> None:
    """`env.run(until=until)`, event for event, with `Environment.step` inline.

    Only the per-event method call and the callbacks list of timed objects are saved,
    which is a measurable share of a line whose events each do little work."""
    if until <= env._now:
        raise ValueError(f"until ({until}) must be greater than the current simulation time")
    # Untyped on purpose: typed, compiled code unboxes each time and boxes it again for
    # `env._now` (measured slower: bench/README.md).
    queue: list[Any] = env._queue
    stop_id = next(env._eid)  # where SimPy's URGENT stop event would stand in the order
    pop = heappop
    timed = TIMED
    try:
        while queue:
            entry = pop(queue)
            t, prio, eid, event = entry
            if t >= until and (t > until or prio > URGENT or (prio == URGENT and eid > stop_id)):
                heappush(queue, entry)  # not due: back where it was
                break
            env._now = t
            if event.__class__ in timed:
                cast(Timed, event).fire(t)  # compiled: a call through the trait's table
                continue
            callbacks, event.callbacks = event.callbacks, None
            try:
                for callback in callbacks:
                    callback(event)
            except StopSimulation:
                event.callbacks = callbacks[callbacks.index(callback) + 1:]
                env.schedule(event, -1)  # type: ignore[arg-type]  # as Environment.step does
                raise
            if not event._ok and not hasattr(event, "_defused"):
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
    except StopSimulation:
        return
    env._now = until
