"""Where sweep runs execute: this process, local worker processes, or a Dask cluster.

Why one small interface: a sweep does not care who simulates a (point, replication);
it needs each finished record back as soon as it exists, to store it at once. Every
executor maps `run_task` over the same tasks and yields records in completion order;
since a run depends only on (scenario, replication), the records are the same bit for
bit whichever executor produced them. In-flight work is bounded (twice the workers), so
the parent's memory does not grow with the size of the sweep.

Dask: `--cluster tcp://host:8786` connects to a running scheduler (`dask scheduler` and
`dask worker` started by hand, dask-jobqueue on SLURM...); `--cluster local:N` starts a
`LocalCluster` of N single-threaded worker processes on this machine for the run.
"""

from __future__ import annotations

import fnmatch
import itertools
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.analysis import kpi
from sim.engine.run import run_once
from sim.errors import UsageError
from sim.experiments.replications import _abandon, process_pool

Task = tuple[Any, int, int, tuple[str, ...]]   # (scenario, point, replication, KPI patterns)


def run_task(scenario: Any, point: int, replication: int,
             patterns: tuple[str, ...]) -> dict[str, Any]:
    """Simulate one (point, replication) and return its stored record.

    Never raises for a failing run: an engine error or a lock-up is a record with status
    "failed" and its message, so one bad point cannot stop a sweep."""

    wall0 = time.perf_counter()
    record: dict[str, Any] = {"point": point, "replication": replication,
                              "seed": scenario.run.seed, "status": "ok", "message": ""}
    try:
        result = run_once(scenario, replication, vehicles=False)  # KPIs only: no rows
        values = kpi.run_kpis(result)
    except Exception as exc:  # noqa: BLE001 - isolation is the point
        message = " ".join(str(exc).split()) or "(no message)"
        record.update(status="failed", message=f"{type(exc).__name__}: {message}", kpis={})
    else:
        record["kpis"] = {k: float(v) for k, v in values.items()
                          if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
        record["events"] = result.events
        if result.lockup is not None:
            lock = result.lockup
            record.update(status="failed", message=(
                f"locked up: no completion for the last {lock.hours:.0f} on-shift hours "
                f"with {lock.wip} parts inside; stuck: {'; '.join(lock.stuck[:3])}"))
    record["wall_seconds"] = time.perf_counter() - wall0
    return record


def run_serial(tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
    """Every task in this process, in order (workers = 1)."""
    for task in tasks:
        yield run_task(*task)


def run_local(tasks: Iterable[Task], workers: int) -> Iterator[dict[str, Any]]:
    """Tasks on a pool of local processes that die with this one.

    A worker killed from outside (the OS out of memory, a signal) breaks the whole pool:
    every run in flight is then recorded as failed (which one killed it cannot be told),
    a new pool is started and the sweep goes on; `--retry-failed` reruns them."""


    if workers <= 1:
        yield from run_serial(tasks)
        return
    pool = process_pool(workers)
    queue = iter(tasks)
    pending: dict[Future[dict[str, Any]], Task] = {}

    def fill() -> None:
        for task in itertools.islice(queue, 2 * workers - len(pending)):
            pending[pool.submit(run_task, *task)] = task

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task = pending.pop(future)
                try:
                    record = future.result()
                except BrokenProcessPool:
                    broken = True
                    record = _lost(task)
                yield record
            if broken:
                for task in pending.values():
                    yield _lost(task)
                pending.clear()
                _abandon(pool)
                pool = process_pool(workers)
            fill()
    except BaseException:
        _abandon(pool)
        raise
    pool.shutdown(wait=True)


def _lost(task: Task) -> dict[str, Any]:
    """The record of a run lost with a worker process that died."""
    scenario, point, replication, _ = task
    return {"point": point, "replication": replication, "seed": scenario.run.seed,
            "status": "failed", "kpis": {}, "wall_seconds": 0.0,
            "message": ("a worker process died while this run was in flight (killed from "
                        "outside, e.g. out of memory); rerun with --retry-failed")}


def connect(address: str) -> tuple[Any, Any]:
    """(client, cluster or None) for `--cluster`: `local:N` or a scheduler address."""
    try:
        from dask.distributed import (  # lazy: dask.distributed (0.7 s), only for a cluster
            Client,
            LocalCluster,
        )
    except ImportError:  # pragma: no cover - dask is a dependency
        raise UsageError("--cluster needs dask[distributed] installed") from None
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise UsageError(f"--cluster {address}: expected local:N with N >= 1 workers")
        cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="15s"), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--cluster {address}: cannot reach the Dask scheduler "
                         f"({' '.join(str(exc).split())})") from None


def run_dask(tasks: Iterable[Task], client: Any) -> Iterator[dict[str, Any]]:
    """Tasks on a Dask distributed cluster; each point's scenario is sent once.

    Dask reruns a task whose worker died; one that keeps killing workers (KilledWorker)
    or fails on the cluster's side is recorded as a failed run, and the sweep goes on."""
    from dask.distributed import as_completed  # lazy: dask.distributed (0.7 s), only for a cluster

    workers = max(1, sum(client.nthreads().values()))
    shared: dict[int, Any] = {}
    of: dict[str, Task] = {}

    def submit(task: Task) -> Any:
        scenario, point, replication, patterns = task
        if point not in shared:
            shared[point] = client.scatter(scenario, hash=False)
        future = client.submit(run_task, shared[point], point, replication, patterns,
                               pure=False,
                               key=f"sweep-p{point}-r{replication}-{time.time_ns()}")
        of[future.key] = task
        return future

    queue = iter(tasks)
    first = [submit(t) for t in itertools.islice(queue, 2 * workers)]
    running = as_completed(first)
    try:
        for future in running:
            task = of.pop(future.key)
            try:
                record = future.result()
            except Exception as exc:  # noqa: BLE001 - the cluster lost or refused the task
                message = " ".join(str(exc).split()) or "(no message)"
                record = {**_lost(task), "message": f"the Dask task failed: "
                          f"{type(exc).__name__}: {message}; rerun with --retry-failed"}
            future.release()
            following = next(queue, None)
            if following is not None:
                running.add(submit(following))
            yield record
    except BaseException:
        client.cancel(list(running.futures))
        raise
