"""The active-period bottleneck method, on lines whose bottleneck is known by construction
and on hand-made periods whose sole and shifting shares can be worked out on paper."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_builder import line, scenario

from sim.analysis.bottleneck import analyse, shares, with_bottleneck
from sim.engine.activity import Activity, all_busy, merged
from sim.engine.records import ActivityRecord
from sim.engine.run import run_once


def _record(periods: dict[str, list[tuple[float, float]]], lo: float, hi: float,
            months: tuple = ()) -> ActivityRecord:
    names = tuple(periods)
    return ActivityRecord(names, tuple(np.array([a for a, _ in p], dtype=float) for p in periods.values()),
                          tuple(np.array([b for _, b in p], dtype=float) for p in periods.values()),
                          (lo, hi), (), months)


def test_paper_example_sole_and_shifting() -> None:
    """A active [0, 10], B active [8, 20], C active [20, 22]: A (10 long) leads until 8,
    where B (12 long) takes over; their periods overlap on [8, 10] (shifting for both);
    C's period does not overlap B's. Sole: A [0, 8], B [10, 20], C [20, 22]."""
    b = analyse(_record({"A": [(0, 10)], "B": [(8, 20)], "C": [(20, 22)]}, 0, 22))
    got = {n: (b.sole[i], b.shifting[i]) for i, n in enumerate(b.stations)}
    assert got == {"A": (8.0, 2.0), "B": (10.0, 2.0), "C": (2.0, 0.0)}


def test_time_outside_the_observed_window_is_not_counted_but_periods_keep_their_length() -> None:
    """Observed [5, 22]: A's period [0, 10] is still 10 long (it began before warm-up)."""
    b = analyse(_record({"A": [(0, 10)], "B": [(8, 20)]}, 5, 22))
    assert b.observed == 17.0
    assert (b.sole[0], b.shifting[0], b.sole[1], b.shifting[1]) == (3.0, 2.0, 10.0, 2.0)


def test_bins_split_the_shares() -> None:
    months = (("m1", 0.0, 10.0), ("m2", 10.0, 22.0))
    b = analyse(_record({"A": [(0, 10)], "B": [(8, 20)]}, 0, 22, months))
    assert b.bins == ("month:m1", "month:m2")
    assert list(b.bin_seconds) == [10.0, 12.0]
    assert list(b.sole_by_bin[0]) == [8.0, 0.0] and list(b.sole_by_bin[1]) == [0.0, 10.0]
    assert list(b.shifting_by_bin[1]) == [2.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 50), st.integers(1, 10)), max_size=6),
                min_size=1, max_size=4))
def test_sole_shares_never_overlap_and_fit_in_the_time_some_station_is_active(raw) -> None:
    """Sole spans of different stations are disjoint and lie where some station is
    active: their sum is at most the union of all active periods."""
    periods = {}
    for k, spans in enumerate(raw):
        s = np.array(sorted(a for a, _ in spans), dtype=float)
        e = s + np.array([d for _, d in sorted(spans)], dtype=float)
        s, e = merged(s, np.maximum.accumulate(e)) if len(s) else (s, e)
        periods[f"s{k}"] = list(zip(s, e))
    b = analyse(_record(periods, 0, 100))
    every = sorted(p for ps in periods.values() for p in ps)
    if every:
        s, e = merged(np.array([a for a, _ in every]), np.maximum.accumulate(
            np.array([x for _, x in every])))
        union = float((e - s).sum())
    else:
        union = 0.0
    assert b.sole.sum() <= union + 1e-9
    assert np.all(b.sole >= 0) and np.all(b.shifting >= 0)


def test_activity_log_merges_back_to_back_jobs() -> None:
    a = Activity()
    for t0, t1 in ((0, 5), (5, 9), (12, 15)):
        a.on(t0)
        a.off(t1)
    a.on(20)
    s, e = a.periods(30.0)
    assert list(s) == [0, 12, 20] and list(e) == [9, 15, 30]


def test_a_station_of_several_servers_is_active_while_all_are() -> None:
    x, y = Activity(), Activity()
    x.on(0), x.off(10), y.on(4), y.off(6), y.on(6), y.off(12)
    s, e = all_busy([x, y], 20.0)
    assert list(zip(s, e)) == [(4.0, 10.0)]


def _bottleneck(d: dict, **kw) -> dict[str, tuple[float, float]]:
    r = with_bottleneck(run_once(scenario(d), 0, activity=True, **kw))
    assert r.bottleneck is not None and r.activity is None
    return shares(r.bottleneck)


def test_the_slowest_station_of_a_deterministic_line_is_the_sole_bottleneck() -> None:
    """s2 (60 s) behind s1 (50 s) and before s3 (40 s): s2 never waits, so its one active
    period spans the run after its first part (50 s); s1 and s3 wait between jobs. The
    only shared time is the start: s1 works unblocked until its 14th part finds b1 full
    (s1 has made 13 by 650 s, s2 has taken 11 by then: starts at 50 + 60 k), at 700 s;
    s2's period began at 50 s, so [50, 700] is shifting; after that s2 is the sole
    bottleneck."""
    got = _bottleneck(line(["50 s", "60 s", "40 s"], duration="10 h"))
    assert got["s2"][0] + got["s2"][1] > 0.998
    assert got["s2"][1] == pytest.approx(650 / 36000, abs=1e-9)
    assert got["s1"][0] < 0.01 and got["s3"][0] < 0.01


def test_the_slowest_station_of_a_random_line_leads_by_far() -> None:
    """Exponential cycles 40 / 60 / 45 s with buffers of 5: s2 holds the largest sole
    share by far (its mean is 1.33x the next); upstream and downstream share the rest."""
    exp = [{"cycle": {"dist": "exponential", "mean": m}} for m in ("40 s", "60 s", "45 s")]
    got = _bottleneck(line(exp, 5, duration="200 h"))
    assert got["s2"][0] > 0.6
    assert got["s2"][0] > 3 * max(got["s1"][0], got["s3"][0])


def test_a_bottleneck_that_moves_mid_run_is_found_in_each_half() -> None:
    """s1 is slow (60 s vs 40 s) in the first half, s2 in the second (a dated change of
    both cycles at midnight of day 2): each is the sole bottleneck half the time, to the
    few cycles around the swap."""
    d = line(["60 s", "40 s"], duration="2 d", start="2024-01-01")
    d["changes"] = {"swap": {"from": "2024-01-02", "set": {"stations.s1.cycle": "40 s",
                                                           "stations.s2.cycle": "60 s"}}}
    got = _bottleneck(d)
    assert got["s1"][0] == pytest.approx(0.5, abs=0.01)
    assert got["s2"][0] == pytest.approx(0.5, abs=0.01)


def test_a_paced_segment_is_judged_on_parts_waiting_at_its_entrance_not_on_moving() -> None:
    """A paced line of takt 30 s fed by a 60 s station moves all the time (half its
    positions empty) but never has a part waiting: the station is the bottleneck. With
    the takt at 90 s the paced line is."""
    fast = line(["60 s", {"paced": {"positions": 10, "takt": "30 s"}}], duration="10 h")
    got = _bottleneck(fast)
    assert got["s1"][0] > 0.95 and got["s2"][0] < 0.05
    slow = line(["60 s", {"paced": {"positions": 10, "takt": "90 s"}}], duration="10 h")
    got = _bottleneck(slow)
    assert got["s2"][0] > 0.95 and got["s1"][0] < 0.05


def test_activity_logging_changes_nothing_in_the_run() -> None:
    """The log only watches: the same completions with and without it."""
    exp = [{"cycle": {"dist": "exponential", "mean": m}} for m in ("40 s", "60 s", "45 s")]
    d = line(exp, 3, duration="20 h")
    a, b = run_once(scenario(d), 0), run_once(scenario(d), 0, activity=True)
    assert np.array_equal(a.completions.t_done, b.completions.t_done)
    assert a.activity is None and b.activity is not None
