"""Draw a run's figures on two cores: a forked child draws a share while this process
writes the tables and draws the rest.

Figures are the slowest part of writing a run: about 1.5 s for a Douai year, against
0.3 s for every table. Each is drawn from records already in memory and none depends on
another. A child forked after the simulation inherits those records without pickling, so
splitting the figures between two processes saves about half their time on a 2-core
machine.

Everything is drawn here, in order, when the platform cannot fork, when there is one CPU,
when another thread runs in this process, or when there are fewer than two figures. The files are the same either way: each figure
is one function of the records.

A failure in the child is reported as one line, with no traceback, and the caller's
results writer then removes the whole temporary folder. On any exit the child is stopped
before the caller removes the folder it writes into; if the parent is killed outright
(SIGKILL), the child dies with it (`die_with_parent`) and the next run removes the
temporary folder (`sim.results.folder.remove_stale`).
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

Job = Callable[[], Any]


def die_with_parent(parent: int) -> None:
    """Make this (forked) process end when `parent` does, even by SIGKILL.

    On Linux the kernel sends SIGKILL at the parent's death (`prctl(PR_SET_PDEATHSIG)`);
    the check of the parent id after it covers a parent that died before the call.
    Elsewhere a daemon thread polls the parent id. The parent's SIGTERM handler is
    reset: here SIGTERM ends the process at once, as `Process.terminate` expects."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.2)
            os._exit(1)

        threading.Thread(target=watch, name="watch-parent", daemon=True).start()


PR_SET_PDEATHSIG = 1


def _child(jobs: Sequence[Job], conn: Connection, parent: int) -> None:
    """Draw `jobs`; report the first failure as one line and exit 1."""
    die_with_parent(parent)
    try:
        for job in jobs:
            job()
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(f"{type(e).__name__}: {e}")
        raise SystemExit(1) from None
    conn.send("")


class Drawing:
    """Figure jobs split between a forked child (odd ones) and this process (even ones).

    `start()` forks; `finish()` draws this process's share and waits for the child;
    `stop()` (always, e.g. in a `finally`) ends a child still running."""

    def __init__(self, jobs: Sequence[Job]) -> None:
        self.jobs = list(jobs)
        self.child: Any = None
        self.conn: Connection | None = None

    @staticmethod
    def can_fork() -> bool:
        """Fork only where it is safe and pays: a platform that forks, two CPUs or more,
        and no other thread here (a child forked from a threaded process can deadlock)."""
        return ("fork" in mp.get_all_start_methods() and (os.cpu_count() or 1) >= 2
                and threading.active_count() == 1)

    def start(self) -> None:
        if len(self.jobs) < 2 or not self.can_fork():
            return
        ctx = mp.get_context("fork")
        here, there = ctx.Pipe(duplex=False)
        self.child = ctx.Process(target=_child, args=(self.jobs[1::2], there, os.getpid()),
                                 daemon=True)
        self.child.start()
        there.close()
        self.conn = here

    def finish(self) -> None:
        """Draw this process's share; wait for the child's; raise if it failed."""
        if self.child is None:
            for job in self.jobs:
                job()
            return
        for job in self.jobs[::2]:
            job()
        assert self.conn is not None
        try:
            message = self.conn.recv()
        except EOFError:  # the child died without a word (killed)
            message = "the figure process ended unexpectedly"
        self.child.join()  # it has said its word: let it exit by itself
        self.stop()
        if message:
            raise RuntimeError(f"drawing figures: {message}")

    def stop(self) -> None:
        """End the child if it still runs (after an error or an interrupt here)."""
        if self.child is not None:
            self.child.terminate()
            self.child.join()
            self.child = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None
