"""Active periods of each station, for the active-period bottleneck method (Roser et al.).

A station is *active* while it holds the flow up: a server is active from the start of a
job until it ends (failures and repairs inside the job included), and inactive while it
waits for a part (starved) or for room downstream (blocked). A station of several servers
is active while every server is active: only then does a part wait because of it. A paced
segment is active while it moves with a part waiting at its entrance (a part enters at
every step: the segment is loaded at its head and sets the pace); a segment that moves
with an empty entrance only carries what it holds, and judging it on moving would make
every moving line a bottleneck.

The log is off unless a run asks for it (`build(..., activity=True)`): the hot path pays
one `is not None` test per state change. A job that follows a job at the same instant
extends the period instead of opening a new one, so a busy station has few long periods.
"""

from __future__ import annotations

from array import array

import numpy as np


class Activity:
    """The active periods of one server or paced segment, as two growing arrays."""

    __slots__ = ("ends", "open", "starts")

    def __init__(self) -> None:
        self.starts = array("d")
        self.ends = array("d")
        self.open = False

    def on(self, t: float) -> None:
        """Becomes active at `t` (no-op if active); resuming at the instant it stopped
        extends the last period."""
        if self.open:
            return
        self.open = True
        ends = self.ends
        if ends and ends[-1] == t:
            ends.pop()
        else:
            self.starts.append(t)

    def off(self, t: float) -> None:
        """Becomes inactive at `t` (no-op if inactive)."""
        if self.open:
            self.open = False
            self.ends.append(t)

    def periods(self, horizon: float) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) with a period still open closed at `horizon`."""
        s = np.frombuffer(self.starts, dtype="f8").copy() if self.starts else np.zeros(0)
        e = np.frombuffer(self.ends, dtype="f8").copy() if self.ends else np.zeros(0)
        if self.open:
            e = np.append(e, horizon)
        return s, e


def all_busy(logs: list[Activity], horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Periods in which every one of `logs` is active (a station of parallel servers)."""
    if len(logs) == 1:
        return logs[0].periods(horizon)
    starts, ends = zip(*(a.periods(horizon) for a in logs))
    t = np.concatenate([*starts, *ends])
    step = np.concatenate([np.ones(sum(len(s) for s in starts), dtype=np.int64),
                           -np.ones(sum(len(e) for e in ends), dtype=np.int64)])
    order = np.lexsort((step, t))  # at one instant, ends before starts: no zero-length gaps
    t, count = t[order], np.cumsum(step[order])
    n = len(logs)
    full = count == n
    was = np.concatenate([[False], full[:-1]])
    s, e = t[full & ~was], t[~full & was]
    if len(e) < len(s):
        e = np.append(e, horizon)
    return merged(s, e)


def merged(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted disjoint periods with those that touch joined and empty ones dropped."""
    keep = e > s
    s, e = s[keep], e[keep]
    if len(s) < 2:
        return s, e
    join = s[1:] <= e[:-1]
    first = np.concatenate([[True], ~join])
    last = np.concatenate([~join, [True]])
    return s[first], e[last]


def to_on_shift(periods: tuple[np.ndarray, np.ndarray], on_upto) -> tuple[np.ndarray, np.ndarray]:
    """Periods mapped to the plant's on-shift clock (`on_upto`: calendar time -> on-shift
    seconds since the start); what lies off shift shrinks to nothing and is dropped."""
    s, e = periods
    if not len(s):
        return s, e
    return merged(on_upto(s), on_upto(e))
