"""Census of a scenario's events: what each vehicle costs, and what a merge could save.

The speed issue asks for fewer events in the Douai model "where semantics allow", e.g. stations
that never block or fail merged into a delay. This script measures what that could buy.
It runs one replication with the run loop's heap pop and the job ends wrapped for
counting. Wrapping changes nothing in the run: same events, same order, same result.

It prints two tables and a bound.

* **Events by kind.** Station job ends, paced-line steps and mid-move entries, source
  releases and the rest, per vehicle completed.
* **Multi-server stations.** The bound on any merge of a station into a lazy delay. A delay
  can skip the event at a job end only when nobody would act on it at that instant. That
  means the part lands in a buffer that already holds parts, so the consumer is busy or has
  work, and no part waits for the freed server. The table counts those job ends ("could
  skip"). It also counts those where the station was full with work waiting, and those
  that blocked (a pure delay would be wrong there).
* **What skipping them could save.** A skipped event saves the run loop's work for it:
  pop, dispatch, push. The script times that loop alone, on a heap of 200 no-op job ends,
  and times the replication unwrapped. The product of the loop's cost and the skippable
  count bounds the gain: a deferred job end still does all of its own work.

    python bench/bench_events.py [scenario.yaml ...] [--replication 0]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import time
from heapq import heappop, heappush
from pathlib import Path

import sim.engine.run as engine_run
from sim.engine import kernel
from sim.engine.buffer import Buffer, SinkPort
from sim.engine.kernel import Wakeup
from sim.engine.station import LineServer, Server
from sim.spec.loader import load_scenario

ROOT = Path(__file__).resolve().parent.parent

DEFAULT = [str(ROOT / "scenarios/douai/2024.yaml"), str(ROOT / "scenarios/douai/2025.yaml")]


def _kind(event) -> str:
    """A readable name for what an event does: the owner and method of its callback."""
    if isinstance(event, Wakeup):
        cb = event.fn
        owner = getattr(cb, "__self__", None)
        name = getattr(owner, "name", None) or type(owner).__name__
        return f"{type(owner).__name__}.{cb.__name__.lstrip('_')} [{name}]"
    for cb in event.callbacks or ():
        owner = getattr(cb, "__self__", None)
        name = getattr(owner, "name", None) or type(owner).__name__
        return f"{type(owner).__name__}.{cb.__name__.lstrip('_')} [{name}]"
    return type(event).__name__


def census(path: str, replication: int) -> tuple[collections.Counter, dict, int]:
    """Run one replication and count its events by kind, and the merge bound per station."""
    events: collections.Counter = collections.Counter()
    ends: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    sc = load_scenario(path)
    horizon = sc.run.horizon

    def pop(queue: list) -> tuple:
        """`heappop` for the run loop (`sim.engine.kernel.run_until`), counting the events it
        runs (not the one it pops at the horizon and puts back)."""
        item = heappop(queue)
        event = item[3]
        if item[0] >= horizon:
            pass
        elif event.__class__ in (Server, LineServer):
            events[f"job end [{event.station.name}]"] += 1
        else:
            events[_kind(event)] += 1
        return item

    plain_end = Server.fire

    def quiet(dest, full: bool) -> bool:
        """Nobody acts on a part put into `dest` now: it joins parts already waiting in a
        plain buffer (the consumer is busy or has work) or leaves through a sink, and no
        work waits for the server it frees. A call-off buffer acts on every put (it calls
        off the pack order), so it never counts as quiet."""
        return not full and (isinstance(dest, SinkPort) or (
            dest.__class__ is Buffer and bool(dest.items) and len(dest.items) < dest.cap))

    class Chooser:
        """A station's router, noting whether the part it routes could skip its event."""

        def __init__(self, router, c: collections.Counter) -> None:
            self.router, self.c, self.full = router, c, False

        def choose(self, ptype: int, t: float):
            dest = self.router.choose(ptype, t)
            self.c["could skip"] += quiet(dest, self.full)
            self.c["blocked"] += len(dest.items) >= dest.cap
            return dest

    def fire(self: Server, t: float) -> None:
        st = self.station
        if len(st.servers) > 1:
            c = ends[st.name]
            c["job ends"] += 1
            inp = st.inp
            full = not st.idle and inp is not None and bool(inp.items or inp.blocked)
            c["full, work waiting"] += full
            if st.out is not None:
                c["could skip"] += quiet(st.out, full)
                c["blocked"] += len(st.out.items) >= st.out.cap
            else:
                if not isinstance(st.router, Chooser):
                    st.router = Chooser(st.router, c)
                st.router.full = full
        plain_end(self, t)

    kernel.heappop = pop  # type: ignore[attr-defined]
    Server.fire = fire  # type: ignore[method-assign]
    try:
        result = engine_run.run_once(sc, replication, vehicles=False)
    finally:
        kernel.heappop = heappop  # type: ignore[attr-defined]
        Server.fire = plain_end  # type: ignore[method-assign]
    return events, ends, result.counters["completed"]


class _Tick:
    """A job end that only schedules the next: what the run loop costs per event."""

    __slots__ = ("eid", "queue", "step")

    def __init__(self, queue: list, eid, step: float) -> None:
        self.queue, self.eid, self.step = queue, eid, step

    def fire(self, t: float) -> None:
        heappush(self.queue, (t + self.step, 1, next(self.eid), self))


def dispatch_seconds(events: int = 1_000_000, live: int = 200) -> float:
    """Seconds per event of `sim.engine.kernel.run_until`'s timed path alone (pop, test,
    call, push with SimPy's ids) on a heap of `live` entries: what skipping one saves."""
    queue: list = []
    eid = itertools.count()
    for i in range(live):
        tick = _Tick(queue, eid, 60.0 + i * 0.37)
        heappush(queue, (tick.step, 1, next(eid), tick))
    kinds = (_Tick, Server)
    t0 = time.perf_counter()
    for _ in range(events):  # the loop's server branch, as written there
        t, _prio, _eid, event = heappop(queue)
        if event.__class__ in kinds:
            event.fire(t)
            continue
    return (time.perf_counter() - t0) / events


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=DEFAULT)
    ap.add_argument("--replication", type=int, default=0)
    args = ap.parse_args()
    for path in args.scenarios:
        events, ends, done = census(path, args.replication)
        total = sum(events.values())
        print(f"\n{Path(path).name}, replication {args.replication}: {total:,} events, "
              f"{done:,} vehicles, {total / max(done, 1):.2f} events per vehicle")
        for kind, n in events.most_common():
            print(f"  {n:>9,}  {n / max(done, 1):5.2f}/vehicle  {kind}")
        print("  multi-server stations: the bound on a lazy delay")
        for name, c in ends.items():
            n = c["job ends"]
            print(f"  {name:>14}: {n:>8,} job ends; could skip {c['could skip']:>8,} "
                  f"({c['could skip'] / n:.0%}, {c['could skip'] / total:.1%} of all events);"
                  f" full with work waiting {c['full, work waiting']:,}; blocked "
                  f"{c['blocked']:,}")
        skip = sum(c["could skip"] for c in ends.values())
        sc = load_scenario(path)
        t0 = time.perf_counter()
        engine_run.run_once(sc, args.replication, vehicles=False)
        wall = time.perf_counter() - t0
        per = dispatch_seconds()
        print(f"  the run loop costs {per * 1e6:.2f} us per event of the {wall / total * 1e6:.2f}"
              f" us an event costs on average ({wall:.2f} s unwrapped): skipping all"
              f" {skip:,} would save at most {skip * per:.3f} s ({skip * per / wall:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
