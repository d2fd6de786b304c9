"""Processes and folders a dead run leaves behind: workers exit, stale folders go.

A planner's run can be killed (`kill -9`, an out-of-memory kill, a CI timeout). Its
worker processes must not keep running, and the next run removes the hidden temporary
folder it was writing, but never a complete result nor the folder of a live writer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from paths import ROOT
from processes import alive, children

from sim.results.folder import prepare_dir

CHILD = """
import sys
from sim.spec.loader import load_scenario
from sim.experiments.replications import run_replications
sc = load_scenario(sys.argv[1], ["run.duration=3650 d"])
run_replications(sc, 2, workers=2, progress=False)
"""


def test_workers_exit_within_seconds_when_the_main_process_is_killed() -> None:
    scenario = str(ROOT / "bench" / "reference_line.yaml")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, scenario], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = children(proc.pid)
        assert len(workers) >= 2, "the pool did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(w) for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_next_run_removes_only_the_temporary_folders_of_dead_writers(tmp_path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".douai.tmp-{dead_pid}"
    old = tmp_path / f".douai.old-{dead_pid}"
    live = tmp_path / f".other.tmp-{os.getpid()}"
    complete = tmp_path / "douai"
    for folder in (stale, old, live, complete):
        folder.mkdir()
        (folder / "summary.json").write_text("{}")
    assert prepare_dir(tmp_path, "new") == tmp_path / "new"
    assert not stale.exists() and not old.exists()
    assert live.exists() and complete.exists()
