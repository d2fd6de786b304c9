"""`sim.engine.kernel.run_until` against SimPy's own `Environment.run`, event by event.

Two copies of a model are built from the same scenario and replication; one is advanced
by `env.run(until=u)`, the other by `run_until(env, u)`, for `u` at every distinct event
time in turn. After each advance both heaps must hold the same entries in the same order
(time, priority, kind of event) and both clocks read the same: the loop processes the same events in
the same order, and the results of whole runs are identical."""

from __future__ import annotations

import pytest
import simpy
from scenario_builder import line, scenario
from simpy.core import NORMAL, URGENT

from sim.engine.kernel import Wakeup, run_until
from sim.engine.model import build


def _exp(mean: str) -> dict:
    return {"dist": "exponential", "mean": mean}


LINE = line([{"cycle": _exp("50 s")},
             {"cycle": _exp("55 s"), "servers": 2,
              "failures": {"uptime": _exp("20 min"), "repair": _exp("2 min"), "mode": "time"}},
             {"cycle": _exp("40 s")}], caps=[2, 1, 2], duration="2 h", seed=7,
            source={"kind": "arrivals", "interarrival": _exp("45 s")})


def _heap(env) -> list[tuple]:
    """The heap in pop order, without ids (SimPy's stop takes two per run, the kernel's
    one) and without the spent stop event SimPy leaves behind (priority -1, no callbacks)."""
    return [(t, p, type(e).__name__) for t, p, _, e in sorted(env._queue, key=lambda x: x[:3])
            if not (p == -1 and not e.callbacks)]


def _start(model) -> None:
    for port in model.ports:
        port.start()


def test_run_until_equals_simpy_run_event_by_event() -> None:
    sc = scenario(LINE)
    a, b = build(sc, 0), build(sc, 0)
    _start(a)
    _start(b)
    steps = 0
    while b.env._queue and b.env.peek() < b.horizon:
        u = b.env.peek() + 1e-9  # just past the next event time: one instant at a time
        a.env.run(until=u)
        run_until(b.env, u)
        assert a.env.now == b.env.now == u
        assert _heap(a.env) == _heap(b.env), f"heaps differ after t = {u}"
        steps += 1
    assert steps > 200  # ~160 arrivals in 2 h, each with three job ends: events enough
    assert a.counters == b.counters
    for sa, sb in zip(a.stations.values(), b.stations.values(), strict=True):
        for ma, mb in zip(sa.machines(), sb.machines(), strict=True):
            assert ma.jobs == mb.jobs and ma.acc == mb.acc


def test_a_whole_run_is_the_same_either_way() -> None:
    sc = scenario(LINE)
    a, b = build(sc, 3), build(sc, 3)
    _start(a)
    _start(b)
    a.env.run(until=a.horizon)
    run_until(b.env, b.horizon)
    assert _heap(a.env) == _heap(b.env) and a.env.now == b.env.now
    assert len(a.log.t_done) > 100
    assert a.log.t_done == b.log.t_done and a.log.part == b.log.part


def _order_env() -> tuple[simpy.Environment, list[str]]:
    env = simpy.Environment()
    seen: list[str] = []
    for name, at, prio in (("urgent@5", 5.0, URGENT), ("normal@5", 5.0, NORMAL),
                           ("normal@4", 4.0, NORMAL)):
        ev = env.event()
        ev._ok, ev._value = True, None
        ev.callbacks.append(lambda _e, n=name: seen.append(n))
        env.schedule(ev, prio, at)
    return env, seen


def test_the_stop_stands_where_simpys_urgent_stop_event_does() -> None:
    """An URGENT event at `until` pushed before the run is processed; a NORMAL one is not."""
    ea, sa = _order_env()
    eb, sb = _order_env()
    ea.run(until=5.0)
    run_until(eb, 5.0)
    assert sa == sb == ["normal@4", "urgent@5"]
    assert ea.now == eb.now == 5.0


def test_a_failed_event_raises_a_copy_chained_to_the_original() -> None:
    for runner in (lambda e: e.run(until=10.0), lambda e: run_until(e, 10.0)):
        env = simpy.Environment()
        original = KeyError("part 7")
        env.event().fail(original)
        with pytest.raises(KeyError) as info:
            runner(env)
        assert info.value is not original and info.value.__cause__ is original


def test_a_defused_failure_does_not_raise() -> None:
    env = simpy.Environment()
    ev = env.event()
    ev.fail(ValueError("handled"))
    ev.defused = True
    run_until(env, 1.0)
    assert env.now == 1.0


def test_stop_simulation_from_a_callback_ends_the_run_there() -> None:
    for runner in (lambda e: e.run(until=10.0), lambda e: run_until(e, 10.0)):
        env = simpy.Environment()
        ev = env.timeout(3.0)
        ev.callbacks.append(simpy.core.StopSimulation.callback)
        runner(env)
        assert env.now == 3.0


def test_until_must_lie_ahead() -> None:
    env = simpy.Environment()
    run_until(env, 2.0)
    with pytest.raises(ValueError, match="greater than the current"):
        run_until(env, 2.0)


def test_a_renewed_wakeup_leaves_its_old_entry_inert() -> None:
    env = simpy.Environment()
    seen: list[float] = []
    wake = Wakeup(env, seen.append)
    wake.after(5.0)
    assert wake.pending
    wake = wake.renew()
    wake.after(7.0)
    run_until(env, 10.0)
    assert seen == [7.0] and not wake.pending
