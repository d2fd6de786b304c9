"""Replications of one scenario, in parallel processes, reproducible bit for bit.

Why: confidence intervals need several independent replications, and on a multi-core
machine they should run side by side (docs/design.md §5 rule 9: parallelise replications, not
the model). Replication *r* draws its random numbers from the streams derived from
(root seed, r) (docs/design.md §6), so the same scenario and seed give the same results
whether run serially or in parallel, in any order. This module also records *how* an
experiment was run (the manifest written next to its results).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Self

import numpy as np
from tqdm import tqdm

from sim.analysis.bottleneck import with_bottleneck
from sim.engine.records import RunResult
from sim.engine.run import run_once
from sim.experiments.progress import Progress
from sim.results.manifest import git_revision, package_versions
from sim.spec.loader import Source


def with_seed(scenario: Any, seed: int | None) -> Any:
    """The scenario with `run.seed` replaced (the same object when nothing changes)."""
    if seed is None or seed == scenario.run.seed:
        return scenario
    run = scenario.run.model_copy(update={"seed": seed})
    return scenario.model_copy(update={"run": run})


def default_workers(replications: int) -> int:
    """One process per replication, at most one per usable CPU."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, replications))


def _run_one(scenario: Any, replication: int, bottleneck: bool = False,
             rows: str | None = None) -> RunResult:
    """Worker entry point (top level, so that process pools can pickle it). With
    `bottleneck`, the run logs active periods and comes back with their analysis; with
    `rows`, its per-vehicle rows stay on disk there (the result carries their place)."""

    return with_bottleneck(run_once(scenario, replication, activity=bottleneck, rows=rows))


def _show_progress(progress: bool | None) -> bool:
    """True forces a bar, None shows one only on a terminal, False never."""
    if progress is None:
        return sys.stderr.isatty()
    return progress


class _Lines:
    """Progress as dated lines (a tenth of the work at a time, with an ETA) where no
    terminal shows a bar: a CI log or `make run` redirected to a file. The interface of
    the tqdm bar that the runners use (`n`, `update`, `disable`, a context)."""

    disable = False

    def __init__(self, label: str, total: int) -> None:

        self.progress = Progress(label, total, tty=False, unit="replications")

    @property
    def n(self) -> float:
        return self.progress.done

    def update(self, amount: float) -> None:
        self.progress.advance(amount)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.progress.close()


def run_replications(
    scenario: Any,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: bool | None = False,
    first: Any = None,
    bottleneck: bool = False,
    rows: str | None = None,
) -> list[RunResult]:
    """Run replications 0..n-1 of `scenario` and return their results sorted by replication.

    `replications` and `seed` default to the scenario's `run` section; `workers` defaults to
    one process per replication up to the CPU count, and `workers=1` runs in this process.
    `progress`: True forces a tqdm bar on stderr; None shows it on a terminal and prints a
    line at each tenth of the work elsewhere (a log); False shows nothing.
    `first`: a model already built for replication 0 of this scenario (the caller's
    structural check), run instead of building it again when running in this process.
    `bottleneck`: log active periods and analyse them (`sim.analysis.bottleneck`): the
    `bottleneck.*` KPIs, at ~15% more run time.
    `rows`: a folder (the caller's, removed by it) where each run keeps its per-vehicle
    rows on disk: memory flat in the horizon and in the replications.
    """
    n = scenario.run.replications if replications is None else replications
    if n < 1:
        raise ValueError(f"replications must be >= 1 (got {n})")
    workers = default_workers(n) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be >= 1 (got {workers})")
    scenario = with_seed(scenario, seed)
    done = "{n:.2f}" if workers == 1 else "{n:.0f}"
    bar: tqdm | _Lines
    if progress is None and not sys.stderr.isatty():
        bar = _Lines(str(scenario.name), n)
    else:
        bar = _Bar(total=n, disable=not _show_progress(progress), file=sys.stderr,
                   desc=str(scenario.name), unit="rep",
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| " + done + "/{total} rep "
                   "[{elapsed}<{remaining}]")
    with bar:
        if workers == 1:
            own = first if getattr(first, "scenario", None) is scenario else None
            return _run_serial(scenario, n, bar, own, bottleneck, rows)
        return _run_parallel(scenario, n, min(workers, n), bar, bottleneck, rows)


class _Bar(tqdm):
    """tqdm without its monitor thread: the bar is updated often enough, and a process
    without threads may fork (`sim.report.drawing` draws figures in a forked child)."""

    monitor_interval = 0


def _run_serial(scenario: Any, n: int, bar: tqdm | _Lines, first: Any = None,
                bottleneck: bool = False, rows: str | None = None) -> list[RunResult]:
    """In-process runs; the bar also moves within a replication (engine callback)."""

    results = []
    for r in range(n):
        results.append(with_bottleneck(run_once(
            scenario, r, _within(bar, r) if not bar.disable else None,
            model=first if r == 0 else None, activity=bottleneck, rows=rows)))
        bar.update(r + 1 - bar.n)
    return results


def _within(bar: tqdm | _Lines, r: int) -> Callable[[float], None]:
    """An engine progress callback moving the bar to r + fraction."""

    def report(fraction: float) -> None:
        target = r + min(max(fraction, 0.0), 1.0)
        if target > bar.n:
            bar.update(target - bar.n)

    return report


def watch_parent(parent: int, every: float = 0.5) -> None:
    """Worker initializer: exit as soon as the parent process is gone.

    A parent killed with SIGKILL cannot tell its pool to stop; its workers, re-parented,
    would wait on the task queue forever. A daemon thread notices the new parent id and
    ends the worker within `every` seconds."""

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # terminate() ends a worker at once

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with the process that made it."""
    return ProcessPoolExecutor(max_workers=workers, initializer=watch_parent,
                               initargs=(os.getpid(),))


def _run_parallel(scenario: Any, n: int, workers: int, bar: tqdm | _Lines,
                  bottleneck: bool = False, rows: str | None = None) -> list[RunResult]:
    """One task per replication in a process pool; pending tasks are cancelled on error."""
    results: list[RunResult] = []
    pool = process_pool(workers)
    try:
        pending: set[Future[RunResult]] = {
            pool.submit(_run_one, scenario, r, bottleneck, rows) for r in range(n)
        }
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                results.append(_refreeze(future.result()))
                bar.update(1)
    except BaseException:
        _abandon(pool)
        raise
    pool.shutdown(wait=True)
    return sorted(results, key=lambda res: res.replication)


def _refreeze(value: Any) -> Any:
    """Make the numpy arrays of a record read-only again (unpickling makes them writable)."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, tuple):
        for item in value:
            _refreeze(item)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _refreeze(getattr(value, f.name))
    return value


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Cancel queued tasks and stop running workers now (on error or Ctrl-C), not at exit."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()


def run_manifest(
    scenario: Any,
    sources: Sequence[Source],
    results: list[RunResult],
    *,
    overrides: list[str] | None = None,
    workers: int | None = None,
    wall_seconds: float | None = None,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """How an experiment was run: scenario files and hashes, seeds, versions, git, wall time.

    `sources` are the files' bytes as the loader read them (`load_with_sources`), so the
    hashes are those of what ran, not of the files as they are when the run ends."""
    return {
        "scenario": scenario.name,
        "files": [source.record() for source in sources],
        "overrides": list(overrides or []),
        "root_seed": scenario.run.seed,
        "replications": len(results),
        "seeds": [{"replication": r.replication, "seed": r.seed} for r in results],
        "workers": workers,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_seconds": wall_seconds,
        "run_wall_seconds": [r.wall_seconds for r in results],
        "events": sum(r.events for r in results),
        "versions": package_versions(),
        "git": git_revision(Path(__file__).resolve().parent),
        "argv": list(argv) if argv is not None else None,
    }
