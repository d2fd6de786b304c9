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
    runs = _bottleneck_runs(act.starts, act.ends)
    sole: list[list[tuple[float, float]]] = [[] for _ in range(k_n)]
    shift: list[list[tuple[float, float]]] = [[] for _ in range(k_n)]
    k, ps, pe, a, b = runs
    for r in range(len(k)):
        s0, s1 = a[r], b[r]
        if r > 0 and k[r - 1] != k[r]:
            o0, o1 = max(ps[r - 1], ps[r]), min(pe[r - 1], pe[r])
            if o1 > o0:
                shift[k[r]].append((o0, o1))
                shift[k[r - 1]].append((o0, o1))
                s0 = max(s0, o1)
        if r + 1 < len(k) and k[r + 1] != k[r]:
            o0 = max(ps[r + 1], ps[r])
            if min(pe[r + 1], pe[r]) > o0:
                s1 = min(s1, o0)
        if s1 > s0:
            sole[k[r]].append((s0, s1))
    labels, bins = _bins(act)
    n_bins = len(labels)
    sole_s = np.zeros(k_n)
    shift_s = np.zeros(k_n)
    sole_b = np.zeros((k_n, n_bins))
    shift_b = np.zeros((k_n, n_bins))
    for i in range(k_n):
        for spans, total, by in ((sole[i], sole_s, sole_b), (shift[i], shift_s, shift_b)):
            s, e = _disjoint(spans)
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


def _disjoint(spans: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    if not spans:
        return np.zeros(0), np.zeros(0)
    arr = np.array(sorted(spans))
    s, e = arr[:, 0], np.maximum.accumulate(arr[:, 1])
    return merged(s, e)


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
