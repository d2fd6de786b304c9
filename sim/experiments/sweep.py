"""Run a sweep into a folder that survives crashes: one file per finished run.

Why a file per (point, replication): a sweep is hours of work and must lose none of it to
a `kill -9`, a preempted CI job or a cluster node going away. Each record is written to a
temporary name and renamed into `runs/` the moment its run finishes (a rename is atomic on
POSIX), so the store only ever holds whole records, and a rerun of the same command finds
them and runs the rest. The store is append-only; `--retry-failed` replaces only failure
records. The folder's `sweep.json` (the plan and its fingerprint) is written first and
`manifest.json` last: a folder without a manifest is a sweep in progress, and a rerun
resumes it only when the fingerprint and shard match (otherwise a new folder is used,
never an overwrite).

Shards: `--shard i/N` runs every N-th run starting at the i-th (point-major order), which
spreads points evenly; `merge` joins N complete shards of one fingerprint into a folder
equal to the unsharded sweep's, bit for bit.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sim.errors import UsageError
from sim.experiments.design import Plan
from sim.experiments.executors import run_dask, run_local
from sim.results.seal import check_seal, plan_digest, seal
from sim.results.stored import RunRecord, SweepState, read_checked

STATE, MANIFEST, RUNS = "sweep.json", "manifest.json", "runs"


@dataclass(frozen=True)
class Shard:
    """Slice i of n (1-based)."""

    index: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`i/N` with 1 <= i <= N."""
        parts = text.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise UsageError(f"--shard {text}: expected i/N, e.g. 2/4")
        i, n = (int(p) for p in parts)
        if not 1 <= i <= n:
            raise UsageError(f"--shard {text}: i must be between 1 and N")
        return cls(i, n)

    def take(self, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """This shard's runs: every `count`-th from the `index`-th."""
        return runs[self.index - 1::self.count]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def key(point: int, replication: int) -> str:
    """File stem of a run record."""
    return f"p{point:05d}-r{replication:04d}"


def read_state(path: Path) -> dict[str, Any]:
    """A sweep folder's plan record (`sweep.json`), its shape checked."""
    return read_checked(SweepState, path)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write to a temporary sibling, flush to disk, then rename over `path`."""
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, allow_nan=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def records(folder: Path, state: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """Every whole run record stored in `folder/runs` (temporary files ignored), each
    checked: its shape, its file name, and its seal against the plan `state`
    (UsageError naming the first bad file)."""
    plan = plan_digest(state)
    out = {}
    for path in sorted((folder / RUNS).glob("p*-r*.json")):
        record = read_checked(RunRecord, path)
        run = (record["point"], record["replication"])
        if path.name != f"{key(*run)}.json":
            raise UsageError(f"{path}: holds the record of {key(*run)} (moved or renamed)")
        check_seal(record, plan, path)
        out[run] = record
    return out


class Workspace:
    """The folder of one sweep (or shard), locked by this process while it writes."""

    def __init__(self, folder: Path, state: dict[str, Any], resumed: bool) -> None:
        self.folder, self.state, self.resumed = folder, state, resumed
        self.plan = plan_digest(state)
        self._lock: TextIO | None = None

    def lock(self, wait: float = 3.0) -> None:
        """Refuse a second process writing the same sweep.

        A POSIX record lock (`lockf`) belongs to this process alone: worker processes
        forked later do not hold it, so it is released the moment this process dies,
        even by SIGKILL while its workers are still finishing."""
        self._lock = open(self.folder / ".lock", "w")  # noqa: SIM115 - held for the run
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError:
                if time.monotonic() >= deadline:
                    raise UsageError(f"{self.folder}: another process is running this "
                                     "sweep") from None
                time.sleep(0.1)

    def store(self, record: dict[str, Any]) -> None:
        """Keep one finished run, atomically, sealed to its content and this sweep's plan."""
        write_json_atomic(self.folder / RUNS / f"{key(record['point'], record['replication'])}"
                          ".json", seal(record, self.plan))

    @property
    def complete(self) -> bool:
        """True once the manifest is written."""
        return (self.folder / MANIFEST).is_file()


def _state(plan: Plan, shard: Shard) -> dict[str, Any]:
    return {**plan.record(), "shard": {"index": shard.index, "count": shard.count}}


def _matches(folder: Path, plan: Plan, shard: Shard) -> bool:
    path = folder / STATE
    if not path.is_file():
        return False
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (state.get("fingerprint") == plan.fingerprint
            and state.get("shard") == {"index": shard.index, "count": shard.count})


def open_workspace(base: Path, name: str, plan: Plan, shard: Shard,
                   retry_failed: bool = False, stream: TextIO | None = None) -> Workspace:
    """Resume `base/name` when it is this sweep in progress, else start a new folder.

    With `retry_failed`, `base/name` must be this sweep (complete or not)."""
    target = base / name
    if retry_failed:
        if not _matches(target, plan, shard):
            raise UsageError(f"{target}: not a folder of this sweep (same file, scenarios "
                             f"and shard) to retry")
        ws = Workspace(target, read_state(target / STATE), True)
        ws.lock()
        return ws
    base.mkdir(parents=True, exist_ok=True)
    candidate, k = target, 1
    while candidate.exists():
        if _matches(candidate, plan, shard) and not (candidate / MANIFEST).exists():
            ws = Workspace(candidate, read_state(candidate / STATE), True)
            ws.lock()
            return ws
        k += 1
        candidate = base / f"{name}-{k}"
    if candidate != target:
        print(f"{target} exists (a finished or different sweep); writing to {candidate}",
              file=stream or sys.stderr)
    (candidate / RUNS).mkdir(parents=True)
    ws = Workspace(candidate, _state(plan, shard), False)
    ws.lock()
    write_json_atomic(candidate / STATE, ws.state)
    return ws


def todo(plan: Plan, ws: Workspace, shard: Shard, retry_failed: bool) -> list[tuple[int, int]]:
    """The runs of this shard still to do: not stored, or stored as failed on a retry."""
    stored = records(ws.folder, ws.state)
    out = []
    for run in shard.take(plan.runs):
        record = stored.get(run)
        if record is None or (retry_failed and record.get("status") != "ok"):
            out.append(run)
    return out


def execute(plan: Plan, ws: Workspace, runs: list[tuple[int, int]], *, workers: int = 1,
            client: Any = None) -> Iterator[dict[str, Any]]:
    """Run `runs` on the chosen executor, storing each record as it arrives."""

    patterns = tuple(plan.spec.kpis)
    tasks = ((plan.scenarios[p], p, r, patterns) for p, r in runs)
    stream = run_dask(tasks, client) if client is not None else run_local(tasks, workers)
    for record in stream:
        ws.store(record)
        yield record


def merge_inputs(folders: list[Path]) -> tuple[dict[str, Any], dict[tuple[int, int],
                                                                       dict[str, Any]]]:
    """(plan record, all run records) of N complete shards of one sweep, checked."""
    if not folders:
        raise UsageError("merge needs the shard folders")
    states = []
    for folder in folders:
        if not (folder / STATE).is_file():
            raise UsageError(f"{folder}: not a sweep shard folder (no {STATE})")
        if not (folder / MANIFEST).is_file():
            raise UsageError(f"{folder}: an unfinished shard (no {MANIFEST}); rerun its "
                             "sweep command to complete it")
        states.append(read_state(folder / STATE))
    first = states[0]
    for folder, state in zip(folders, states):
        if state.get("fingerprint") != first.get("fingerprint"):
            raise UsageError(f"{folder}: a shard of another sweep (fingerprint "
                             f"{str(state.get('fingerprint'))[:12]}, expected "
                             f"{str(first.get('fingerprint'))[:12]})")
        if plan_digest(state) != plan_digest(first):
            raise UsageError(f"{folder / STATE}: the same fingerprint as {folders[0]} but "
                             "another plan (an edited sweep.json?)")
    count = int(first["shard"]["count"])
    seen: dict[int, Path] = {}
    for folder, state in zip(folders, states):
        index, n = int(state["shard"]["index"]), int(state["shard"]["count"])
        if n != count:
            raise UsageError(f"{folder}: shard {index}/{n}, but {folders[0]} is one of "
                             f"{count} shards")
        if index in seen:
            raise UsageError(f"shard {index}/{count} given twice: {seen[index]} and {folder}")
        seen[index] = folder
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise UsageError(f"missing shard(s) {', '.join(f'{i}/{count}' for i in missing)} "
                         f"of {count}")
    merged: dict[tuple[int, int], dict[str, Any]] = {}
    for folder, state in zip(folders, states):
        merged.update(records(folder, state))
    expected = {(p["point"], r) for p in first["points"] for r in range(first["replications"])}
    if set(merged) != expected:
        lost = sorted(expected - set(merged))[:3]
        raise UsageError(f"the shards hold {len(merged)} of {len(expected)} runs "
                         f"(missing e.g. {', '.join(key(*k) for k in lost)})")
    state = {**first, "shard": {"index": 1, "count": 1}}
    return state, merged


def copy_runs(runs: dict[tuple[int, int], dict[str, Any]], state: dict[str, Any],
              target: Path) -> None:
    """Write the checked run records into `target/runs`: copies of what was verified, not
    links to the shards' files (a later edit there must not change this folder)."""
    (target / RUNS).mkdir(parents=True, exist_ok=True)
    plan = plan_digest(state)
    for run in sorted(runs):
        write_json_atomic(target / RUNS / f"{key(*run)}.json", seal(runs[run], plan))
