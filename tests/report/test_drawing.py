"""Figures drawn on two processes are the files drawn on one; a child's failure is one
clear error, and a child still drawing is stopped before its folder is removed."""

from __future__ import annotations

import time

import pytest
from factories import random_result
from paths import ROOT
from processes import alive

from sim.report import plots
from sim.report.drawing import Drawing

needs_fork = pytest.mark.skipif(not Drawing.can_fork(),
                                reason="this platform cannot fork or has one CPU")


def _draw(folder, parallel: bool, monkeypatch) -> dict[str, bytes]:
    results = [random_result(r, n=800, days=10) for r in range(2)]
    folder.mkdir()
    with monkeypatch.context() as m:
        if not parallel:
            m.setattr(Drawing, "can_fork", staticmethod(lambda: False))
        d = Drawing(plots.plot_jobs(folder, results))
        d.start()
        assert (d.child is not None) == parallel
        try:
            d.finish()
        finally:
            d.stop()
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@needs_fork
def test_two_processes_draw_the_same_files_as_one(tmp_path, monkeypatch):
    one = _draw(tmp_path / "one", False, monkeypatch)
    two = _draw(tmp_path / "two", True, monkeypatch)
    assert list(one) == ["buffers.png", "cumulative.png", "lead_time.png",
                         "station_states.png", "throughput.png"]
    assert two == one


def _fails() -> None:
    raise ValueError("no data for this figure")


def _ok() -> None:
    pass


@needs_fork
def test_a_failure_in_the_child_is_one_clear_error(capfd):
    d = Drawing([_ok, _fails])  # the child draws the odd jobs
    d.start()
    try:
        with pytest.raises(RuntimeError, match="drawing figures: ValueError: no data"):
            d.finish()
    finally:
        d.stop()
    assert "Traceback" not in capfd.readouterr().err


def test_a_failure_here_raises_as_it_is():
    d = Drawing([_fails, _ok])
    d.start()
    try:
        with pytest.raises(ValueError, match="no data"):
            d.finish()
    finally:
        d.stop()
    assert d.child is None


@needs_fork
def test_stop_ends_a_child_still_drawing():
    d = Drawing([_ok, lambda: time.sleep(60)])
    d.start()
    child = d.child
    d.stop()  # returns once the child is joined: it was stopped, not waited for
    assert not child.is_alive() and child.exitcode == -15  # ended by SIGTERM, not by its job
    assert d.child is None and d.conn is None


def test_one_job_is_drawn_here():
    seen = []
    d = Drawing([lambda: seen.append(1)])
    d.start()
    assert d.child is None
    d.finish()
    assert seen == [1]


def test_no_fork_while_another_thread_runs():
    import threading

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not Drawing.can_fork()
        d = Drawing([_ok, _ok])
        d.start()
        assert d.child is None  # drawn here, in order
        d.finish()
    finally:
        stop.set()
        t.join()


def test_replications_leave_no_thread_behind():
    """tqdm's monitor thread would forbid the fork after a run with a progress bar."""
    import threading

    from sim.experiments.replications import run_replications
    from sim.spec.loader import load_scenario

    sc = load_scenario(ROOT / "scenarios/examples/two_stations.yaml")
    run_replications(sc, 2, workers=1, progress=True)
    assert threading.active_count() == 1


ORPHAN = """
import os, sys, time
from pathlib import Path
from sim.report.drawing import Drawing

flag = Path(sys.argv[1])

def parent_share():
    pass

def child_share():
    flag.write_text(str(os.getpid()))  # the child says it is drawing
    time.sleep(60)

d = Drawing([parent_share, child_share])
d.start()
time.sleep(60)
"""


@needs_fork
def test_the_figure_process_dies_with_a_killed_parent(tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys

    flag = tmp_path / "child.pid"
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN, str(flag)])
    try:
        deadline = time.monotonic() + 60
        while not flag.exists() or not flag.read_text():
            assert time.monotonic() < deadline and proc.poll() is None, "no child started"
            time.sleep(0.05)
        child = int(flag.read_text())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30
        while alive(child):
            assert time.monotonic() < deadline, "the figure process outlived its parent"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()

