"""Analytic results of queueing and production-line theory.

Why: a simulator is only believable once it reproduces the cases where the answer is known
exactly. This module holds those answers as pure functions (no engine imports), each with
its source, so that `sim.verify.cases` can run the matching scenario in `sim/verify/scenarios/` and
compare. Rates are per second (or any consistent unit); times are in the reciprocal unit.

Counting convention for lines (docs/design.md §4): a buffer of capacity B holds up to B parts
*between* two stations; each station additionally holds the one part it works on, and a
station blocked after service keeps its finished part (that part is not in the buffer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state metrics of a queue; `L = throughput * W` holds by construction."""

    throughput: float
    utilisation: float
    L: float
    Lq: float
    W: float
    Wq: float
    p_block: float


@dataclass(frozen=True)
class LineMetrics:
    """Two-station line: throughput, mean buffer content, starvation and blocking."""

    throughput: float
    mean_buffer: float
    p_starved2: float
    p_blocked1: float


@dataclass(frozen=True)
class PacedMetrics:
    """Paced segment: throughput (parts per time unit) and expected time in the segment."""

    throughput: float
    mean_lead: float


def availability(mtbf: float, mttr: float) -> float:
    """Long-run fraction of time up, MTBF / (MTBF + MTTR) (alternating renewal process).

    Source: e.g. Buzacott & Shanthikumar, *Stochastic Models of Manufacturing Systems*
    (1993), §2. Holds for any up/repair distributions with these means. For a saturated,
    never-blocked single machine it is the fraction of time up under both failure modes
    (operation- and time-dependent), because such a machine works whenever it is up.
    """
    if mtbf <= 0 or mttr < 0:
        raise ValueError("mtbf must be > 0 and mttr >= 0")
    if math.isinf(mtbf):
        return 1.0
    return mtbf / (mtbf + mttr)


def saturated_machine_throughput(cycle: float, mtbf: float, mttr: float) -> float:
    """Throughput of a saturated, never-blocked machine with failures: availability / cycle.

    `cycle` is the mean work per part (any distribution; failures preempt and resume).
    """
    return availability(mtbf, mttr) / cycle


def littles_law(L: float, lam: float, W: float) -> float:
    """Relative gap |L - lam W| / max(|L|, |lam W|) of Little's law (Little 1961); 0 if both 0."""
    scale = max(abs(L), abs(lam * W))
    return 0.0 if scale == 0 else abs(L - lam * W) / scale


def mm1(lam: float, mu: float) -> QueueMetrics:
    """M/M/1 with infinite waiting room: L = rho/(1-rho), W = 1/(mu-lam).

    Source: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory*, §2.2.
    """
    if lam <= 0 or mu <= 0 or lam >= mu:
        raise ValueError("M/M/1 needs 0 < lam < mu")
    rho = lam / mu
    L = rho / (1 - rho)
    W = 1 / (mu - lam)
    Lq = rho * rho / (1 - rho)
    return QueueMetrics(lam, rho, L, Lq, W, Lq / lam, 0.0)


def mm1k_probabilities(lam: float, mu: float, K: int) -> np.ndarray:
    """Stationary p_0..p_K of M/M/1/K: truncated geometric, p_n ∝ (lam/mu)^n."""
    if lam <= 0 or mu <= 0 or K < 1:
        raise ValueError("M/M/1/K needs lam, mu > 0 and K >= 1")
    logw = np.arange(K + 1) * (math.log(lam) - math.log(mu))
    w = np.exp(logw - logw.max())
    return w / w.sum()


def mm1k(lam: float, mu: float, K: int) -> QueueMetrics:
    """M/M/1/K: at most K in system (incl. the one in service); arrivals to a full system lost.

    throughput = lam (1 - p_K), p_block = p_K (PASTA), W = L / throughput.
    Source: Gross et al., *Fundamentals of Queueing Theory*, §2.5.
    """
    p = mm1k_probabilities(lam, mu, K)
    n = np.arange(K + 1)
    L = float(np.dot(n, p))
    Lq = float(np.dot(np.maximum(n - 1, 0), p))
    throughput = lam * (1 - float(p[K]))
    return QueueMetrics(throughput, 1 - float(p[0]), L, Lq, L / throughput,
                        Lq / throughput, float(p[K]))


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lam/mu < c (Erlang C).

    Computed from the Erlang B recursion B_k = a B_{k-1} / (k + a B_{k-1}), which is stable
    for large c; then C = c B / (c - a (1 - B)).
    """
    if c < 1 or a <= 0 or a >= c:
        raise ValueError("Erlang C needs c >= 1 and 0 < a < c")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1 - b))


def mmc(lam: float, mu: float, c: int) -> QueueMetrics:
    """M/M/c with infinite waiting room (Erlang C): Wq = C / (c mu - lam), W = Wq + 1/mu.

    Source: Erlang (1917); Gross et al., *Fundamentals of Queueing Theory*, §2.3.
    """
    if lam <= 0 or mu <= 0:
        raise ValueError("M/M/c needs lam, mu > 0")
    a = lam / mu
    C = erlang_c(c, a)
    Wq = C / (c * mu - lam)
    W = Wq + 1 / mu
    return QueueMetrics(lam, a / c, lam * W, lam * Wq, W, Wq, 0.0)


def _two_station_generator(mu1: float, mu2: float, B: int) -> np.ndarray:
    """Generator of the two-station line; states n = 0..B+1 parts in buffer + station 2,
    and state B+2 = station 1 blocked holding a finished part (buffer full, station 2 busy)."""
    m = B + 3
    Q = np.zeros((m, m))
    for n in range(B + 2):
        Q[n, n + 1] += mu1          # station 1 finishes: hand-over, into buffer, or blocked
    for n in range(1, B + 3):
        Q[n, n - 1] += mu2          # station 2 finishes (from blocked: the held part moves in)
    Q -= np.diag(Q.sum(axis=1))
    return Q


def _stationary(Q: Any) -> np.ndarray:
    """Solve pi Q = 0, sum(pi) = 1 by replacing one balance equation with normalisation."""
    import scipy.sparse as sp  # lazy: scipy (0.4 s) only for the chains `validate` solves
    import scipy.sparse.linalg as spla  # lazy: scipy (0.4 s), only for the chains `validate` solves

    A = sp.csr_matrix(Q).transpose().tolil()
    A[0, :] = 1.0
    rhs = np.zeros(A.shape[0])
    rhs[0] = 1.0
    pi = spla.spsolve(A.tocsc(), rhs)
    return np.asarray(pi, dtype=float)


def two_station_line(mu1: float, mu2: float, B: int) -> LineMetrics:
    """Two exponential reliable stations, intermediate buffer of capacity B, solved as a CTMC.

    Station 1 is saturated (never starved), station 2 never blocked; blocking after service.
    `mean_buffer` counts parts between the stations only (not in service, not the part
    held by a blocked station 1). Source: Buzacott & Shanthikumar (1993), §5.2; Gershwin,
    *Manufacturing Systems Engineering* (1994), §3.
    """
    if mu1 <= 0 or mu2 <= 0 or B < 0:
        raise ValueError("two_station_line needs mu1, mu2 > 0 and B >= 0")
    pi = _stationary(_two_station_generator(mu1, mu2, B))
    content = np.array([0] + list(range(B + 1)) + [B], dtype=float)
    return LineMetrics(
        throughput=mu2 * float(1 - pi[0]),
        mean_buffer=float(np.dot(content, pi)),
        p_starved2=float(pi[0]),
        p_blocked1=float(pi[B + 2]),
    )


def two_station_line_closed_form(mu1: float, mu2: float, B: int) -> LineMetrics:
    """Closed form of `two_station_line`: the chain is birth-death on 0..M, M = B + 2.

    With r = mu1/mu2, pi_n = r^n (1-r)/(1-r^(M+1)) (r != 1) or 1/(M+1) (r = 1), so
    throughput = mu2 (1 - pi_0) and mean_buffer = E[N] - (1 - pi_0) - pi_M. Written with
    x = ln r and expm1 so it neither overflows nor cancels for r far from 1; for r within
    ~1e-6 of 1 (but not equal) E[N] loses digits: prefer `two_station_line` there.
    Source: Buzacott & Shanthikumar (1993), §5.2 (two-stage line, exponential stages).
    """
    if mu1 <= 0 or mu2 <= 0 or B < 0:
        raise ValueError("two_station_line needs mu1, mu2 > 0 and B >= 0")
    M = B + 2
    x = math.log(mu1) - math.log(mu2)
    if x == 0.0:
        p0 = pM = 1.0 / (M + 1)
        mean_n = M / 2
    else:
        p0 = _expm1_ratio(x, (M + 1) * x)
        pM = _expm1_ratio(-x, -(M + 1) * x)
        mean_n = 1 / _safe_expm1(-x) - (M + 1) / _safe_expm1(-(M + 1) * x)
    return LineMetrics(mu2 * (1 - p0), max(0.0, mean_n - (1 - p0) - pM), p0, pM)


def _safe_expm1(x: float) -> float:
    """expm1 that returns inf instead of raising on overflow."""
    return math.inf if x > 700 else math.expm1(x)


def _expm1_ratio(a: float, b: float) -> float:
    """expm1(a) / expm1(b) for a, b of the same sign with |b| > |a|, overflow-safe."""
    if b > 700:
        return math.exp(a - b) * (-math.expm1(-a)) / (-math.expm1(-b))
    return math.expm1(a) / math.expm1(b)


WORKING, BLOCKED, STARVED = 0, 1, 2   # station codes in the states of `line_chain`


def _pull(s: list[int], q: list[int], i: int) -> None:
    """Station i has just become empty: take a part from upstream, cascading unblocking."""
    if i == 0:
        s[0] = WORKING                           # saturated first station
    elif q[i - 1] > 0:
        q[i - 1] -= 1
        s[i] = WORKING
        if s[i - 1] == BLOCKED:                  # the held part drops into the freed slot
            q[i - 1] += 1
            _pull(s, q, i - 1)
    elif s[i - 1] == BLOCKED:                    # zero buffer: direct hand-over
        s[i] = WORKING
        _pull(s, q, i - 1)
    else:
        s[i] = STARVED


def _complete(s: list[int], q: list[int], caps: Sequence[int], i: int) -> None:
    """Station i finishes a part (blocking after service)."""
    last = len(s) - 1
    if i == last:
        _pull(s, q, i)
    elif s[i + 1] == STARVED:                    # starved neighbour takes it directly
        s[i + 1] = WORKING
        _pull(s, q, i)
    elif q[i] < caps[i]:
        q[i] += 1
        _pull(s, q, i)
    else:
        s[i] = BLOCKED


def line_chain(rates: Sequence[float], buffers: Sequence[int]
               ) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """States (station states then buffer levels) and stationary distribution of a saturated
    serial line of exponential reliable stations, blocking after service.

    States are enumerated by search from the empty line; the generator is sparse.
    """
    n = len(rates)
    if n < 1 or len(buffers) != n - 1:
        raise ValueError("need len(buffers) == len(rates) - 1 and at least one station")
    if any(r <= 0 for r in rates) or any(b < 0 or math.isinf(b) for b in buffers):
        raise ValueError("rates must be > 0 and buffers finite integers >= 0")
    caps = [int(b) for b in buffers]
    start = tuple([WORKING] + [STARVED] * (n - 1) + [0] * (n - 1))
    index = {start: 0}
    states = [start]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    k = 0
    while k < len(states):
        state = states[k]
        for i in range(n):
            if state[i] != WORKING:
                continue
            s, q = list(state[:n]), list(state[n:])
            _complete(s, q, caps, i)
            nxt = tuple(s + q)
            if nxt not in index:
                index[nxt] = len(states)
                states.append(nxt)
            rows.append(k)
            cols.append(index[nxt])
            vals.append(float(rates[i]))
        k += 1
    m = len(states)
    import scipy.sparse as sp  # lazy: as in _stationary

    Q = sp.coo_matrix((vals, (rows, cols)), shape=(m, m)).tocsr()
    Q = Q - sp.diags(np.asarray(Q.sum(axis=1)).ravel())
    return states, _stationary(Q)


def exponential_line_throughput(rates: Sequence[float], buffers: Sequence[int]) -> float:
    """Exact throughput of a saturated serial line of exponential reliable stations with finite
    buffers (blocking after service): rate of the last station times P(it works).

    Source: the CTMC of Hillier & Boling (1967); Altiok, *Performance Analysis of
    Manufacturing Systems* (1997), ch. 4. Practical up to ~5 stations with small buffers.
    """
    states, pi = line_chain(rates, buffers)
    last = len(rates) - 1
    working = np.array([st[last] == WORKING for st in states])
    return float(rates[last] * pi[working].sum())


def hillier_boling(n: int) -> float:
    """Throughput of a balanced line of n exponential stations (mu = 1) with zero buffers.

    Published (Hillier & Boling 1967, Management Science 13(9); also Muth 1973, Altiok 1997):
    n = 2: 0.6667, 3: 0.5641, 4: 0.5148, 5: 0.4858. Computed here with `line_chain`.
    """
    return exponential_line_throughput([1.0] * n, [0] * (n - 1))


def paced_line(takt: float, positions: int, mtbf: float, mttr: float) -> PacedMetrics:
    """Paced moving line of `positions` positions that fails as one (operation-dependent).

    Saturated input, never-blocked output, so the line only stops for repairs and moves a
    fraction A = MTBF/(MTBF+MTTR) of the time: throughput = A / takt. A part needs
    positions*takt of movement inside; failures are Poisson in movement time (rate 1/MTBF),
    each adding a repair of mean MTTR, so E[time in segment] = positions*takt*(1+MTTR/MTBF)
    = positions*takt/A. This is entry-to-exit of the segment, not release-to-exit (waiting
    in front of the line is extra). Source: alternating renewal + Wald's identity.
    """
    if takt <= 0 or positions < 1:
        raise ValueError("paced_line needs takt > 0 and positions >= 1")
    a = availability(mtbf, mttr)
    return PacedMetrics(a / takt, positions * takt / a)


def calendar_output(scheduled_seconds: float, cycle: float) -> int:
    """Parts made by a saturated, never-blocked, reliable machine with a deterministic cycle
    that works exactly during `scheduled_seconds` of on-shift time (preempt-resume)."""
    return math.floor(scheduled_seconds / cycle + 1e-9)


def evaluate(params: Mapping[str, object]) -> object:
    """Evaluate a scenario's `meta.theory` mapping: `case` names a function of this module,
    the other keys are its keyword arguments (as written in `sim/verify/scenarios/*.yaml`)."""
    cases: dict[str, Callable[..., Any]] = {
        "availability": availability,
        "saturated_machine_throughput": saturated_machine_throughput,
        "mm1": mm1,
        "mm1k": mm1k,
        "mmc": mmc,
        "two_station_line": two_station_line,
        "exponential_line_throughput": exponential_line_throughput,
        "hillier_boling": hillier_boling,
        "paced_line": paced_line,
        "calendar_output": calendar_output,
    }
    kwargs = dict(params)
    case = kwargs.pop("case", None)
    if case not in cases:
        raise ValueError(f"unknown theory case {case!r}; expected one of {sorted(cases)}")
    return cases[str(case)](**kwargs)
