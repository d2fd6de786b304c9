"""Which station holds the plant back: the active-period method (Roser, Nakano, Tanaka).

At every instant, the bottleneck is the station whose current *active period* (an
uninterrupted span of work, repairs included, without waiting for parts or for room,
`sim.engine.activity`) is the longest. Where the active periods of one bottleneck and
the next overlap, the bottleneck is *shifting* between them, and the overlap counts as
shifting for both; the rest of a bottleneck's time is *sole*. A station's sole and
shifting shares of the observed time say how often it limits output: the sole share is
where a euro of capacity goes first. (Roser C., Nakano M., Tanaka M., "Shifting
bottleneck detection", Proc. Winter Simulation Conference 2002, pp. 1079-1086.)

Time is the run calendar's on-shift clock (off shift takes no time), so a job that spans
a night does not make a night-long active period; the bins (shifts, months) are spans
of that clock. Ties between periods of equal length go to the station written first.
Pure functions of records: nothing here runs a simulation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.engine.activity import merged
from sim.engine.records import ActivityRecord, BottleneckRecord, RunResult

CHUNK = 65536  # elementary spans examined at once (memory: stations x CHUNK floats)


def with_bottleneck(r: RunResult) -> RunResult:
    """The run with its active periods analysed and dropped (they are large: a period per
    job of a station that waits between jobs; the analysis is a few numbers)."""
    if r.activity is None:
        return r
    return dataclasses.replace(r, activity=None, bottleneck=analyse(r.activity))


def shares(b: BottleneckRecord) -> dict[str, tuple[float, float]]:
    """Station -> (sole, shifting) share of the observed on-shift time."""
    obs = b.observed
    return {n: ((float(b.sole[i] / obs), float(b.shifting[i] / obs)) if obs > 0
                else (float("nan"), float("nan"))) for i, n in enumerate(b.stations)}


def rank(shares: dict[str, tuple[float, float]]) -> list[str]:
    """Stations by sole share, then shifting share (Roser's order), largest first; an
    undefined share (nan, None) counts as 0."""
    def known(x: float | None) -> float:
        return 0.0 if x is None or math.isnan(x) else x

    return sorted(shares, key=lambda st: (-known(shares[st][0]), -known(shares[st][1])))


def kpi_shares(kpis: dict[str, Any], mean: Callable[[Any], float]) -> dict[str, tuple[float, float]]:
    """Station -> (sole, shifting) from KPI entries `bottleneck.<station>.sole|shifting`
    (`mean` reads an entry's mean: an Estimate or a summary.json dict)."""
    out = {}
    for k, e in kpis.items():
        if k.startswith("bottleneck.") and k.endswith(".sole"):
            st = k[len("bottleneck."):-len(".sole")]
            other = kpis.get(f"bottleneck.{st}.shifting")
            if other is not None:
                out[st] = (mean(e), mean(other))
    return out


def analyse(act: ActivityRecord) -> BottleneckRecord:
    """Sole and shifting bottleneck seconds of each station, in all and per bin."""
    k_n = len(act.stations)
    lo, hi = act.observed
    k, ps, pe, a, b = _bottleneck_runs(act.starts, act.ends)
    sole, shift = _sole_and_shifting(k_n, k, ps, pe, a, b)
    labels, bins = _bins(act)
    n_bins = len(labels)
    sole_s = np.zeros(k_n)
    shift_s = np.zeros(k_n)
    sole_b = np.zeros((k_n, n_bins))
    shift_b = np.zeros((k_n, n_bins))
    for i in range(k_n):
        for (s0, s1), total, by in ((sole[i], sole_s, sole_b), (shift[i], shift_s, shift_b)):
            s, e = _disjoint(s0, s1)
            total[i] = _measure(s, e, np.array([lo]), np.array([hi]))[0]
            for j, (u, v) in enumerate(bins):
                by[i, j] = _measure(s, e, np.maximum(u, lo), np.minimum(v, hi)).sum()
    span_s, span_e = merged(a.astype(float), b.astype(float)) if len(k) else (
        np.zeros(0), np.zeros(0))
    idle = (hi - lo) - _measure(span_s, span_e, np.array([lo]), np.array([hi]))[0]
    idle_b = [float((np.minimum(v, hi) - np.maximum(u, lo)).clip(0).sum()
                    - _measure(span_s, span_e, np.maximum(u, lo), np.minimum(v, hi)).sum())
              for u, v in bins]
    bin_seconds = np.array([np.clip(np.minimum(v, hi) - np.maximum(u, lo), 0.0, None).sum()
                            for u, v in bins])
    return BottleneckRecord(act.stations, max(hi - lo, 0.0), sole_s, shift_s, labels,
                            bin_seconds, sole_b, shift_b, max(float(idle), 0.0),
                            np.maximum(np.array(idle_b), 0.0))


def _bottleneck_runs(starts, ends) -> tuple[np.ndarray, ...]:
    """Spans with one bottleneck period: (station, period start, period end, span start,
    span end), in time order; spans where no station is active are left out."""
    if not any(len(s) for s in starts):
        return tuple(np.zeros(0) for _ in range(5))
    cuts = np.unique(np.concatenate([*starts, *ends]))
    k_all, id_all = [], []
    for c0 in range(0, len(cuts) - 1, CHUNK):
        t = cuts[c0:min(c0 + CHUNK, len(cuts) - 1)]
        best = np.full(len(t), -1.0)
        who = np.full(len(t), -1, dtype=np.int64)
        pid = np.full(len(t), -1, dtype=np.int64)
        for k, (s, e) in enumerate(zip(starts, ends)):
            if not len(s):
                continue
            i = np.searchsorted(s, t, side="right") - 1
            j = np.maximum(i, 0)
            dur = np.where((i >= 0) & (e[j] > t), e[j] - s[j], -1.0)
            better = dur > best
            best = np.where(better, dur, best)
            who = np.where(better, k, who)
            pid = np.where(better, j, pid)
        k_all.append(who)
        id_all.append(pid)
    who = np.concatenate(k_all)
    pid = np.concatenate(id_all)
    span_a, span_b = cuts[:-1], cuts[1:]
    new = np.ones(len(who), dtype=bool)
    new[1:] = (who[1:] != who[:-1]) | (pid[1:] != pid[:-1])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(who) - 1)
    keep = who[first] >= 0
    first, last = first[keep], last[keep]
    station = who[first]
    period = pid[first]
    ps = np.array([starts[kk][pp] for kk, pp in zip(station, period)])
    pe = np.array([ends[kk][pp] for kk, pp in zip(station, period)])
    return station, ps, pe, span_a[first], span_b[last]


def _sole_and_shifting(k_n: int, k: np.ndarray, ps: np.ndarray, pe: np.ndarray,
                       a: np.ndarray, b: np.ndarray) -> tuple[list, list]:
    """Per station, the (starts, ends) of its sole and its shifting bottleneck spans.

    Where the bottleneck passes from one station to the next and their active periods
    overlap, the overlap is shifting for both, and not sole for either; the rest of a
    run is sole (Roser et al.). Arrays throughout: a long run has a span per hand-over."""
    k = k.astype(np.int64)
    change = k[1:] != k[:-1]  # between run r and r + 1
    o0, o1 = np.maximum(ps[:-1], ps[1:]), np.minimum(pe[:-1], pe[1:])
    overlap = change & (o1 > o0)
    s0, s1 = a.copy(), b.copy()
    s0[1:] = np.where(overlap, np.maximum(a[1:], o1), a[1:])
    s1[:-1] = np.where(overlap, np.minimum(b[:-1], o0), b[:-1])
    is_sole = s1 > s0
    sole = [(s0[is_sole & (k == i)], s1[is_sole & (k == i)]) for i in range(k_n)]
    at = np.flatnonzero(overlap)  # each overlap is shifting for both stations
    owner = np.concatenate([k[at + 1], k[at]])
    os_, oe = np.concatenate([o0[at], o0[at]]), np.concatenate([o1[at], o1[at]])
    shift = [(os_[owner == i], oe[owner == i]) for i in range(k_n)]
    return sole, shift


def _disjoint(s: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of spans (s, e) as sorted disjoint spans."""
    if not len(s):
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((e, s))  # by start, then end: as sorting the pairs
    return merged(s[order], np.maximum.accumulate(e[order]))


def _measure(s: np.ndarray, e: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Length of the disjoint sorted spans (s, e) inside each window [u, v] (vectorised
    over windows: the difference of the cumulative covered length at v and at u)."""
    if not len(s):
        return np.zeros(len(u))
    length = e - s
    before = np.concatenate([[0.0], np.cumsum(length)])

    def covered(x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(s, x, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip(x - s[j], 0.0, length[j])
        return np.where(i < 0, 0.0, before[j] + inside)

    return np.maximum(covered(v) - covered(u), 0.0)


def _bins(act: ActivityRecord) -> tuple[tuple[str, ...], list[tuple[np.ndarray, np.ndarray]]]:
    """Bin labels (`shift:<name>` in first-seen order, then `month:<YYYY-MM>`) and the
    spans (starts, ends) of the on-shift clock each covers."""
    groups: dict[str, list[tuple[float, float]]] = {}
    for name, a, b in act.shift_bins:
        groups.setdefault(f"shift:{name}", []).append((a, b))
    for label, a, b in act.month_bins:
        groups.setdefault(f"month:{label}", []).append((a, b))
    return tuple(groups), [(np.array([a for a, _ in g]), np.array([b for _, b in g]))
                           for g in groups.values()]
