"""Means and 95% confidence intervals across independent replications.

A single run of a stochastic model is one draw; a planner needs to know how far the mean
of a few replications can be from the long-run value. Replications are independent and
identically distributed, so the Student t interval with n - 1 degrees of freedom is the
textbook answer (exact for normal KPIs, good for sums over long runs by the CLT).
Comparisons of two scenarios run with common random numbers use the paired interval on
replication-by-replication differences, which is far narrower when the runs are correlated.

Conventions: ``sd`` is the sample standard deviation (ddof = 1); with n == 1 the ``sd`` and
``half_width`` are nan (no spread can be estimated); with n == 0 everything is nan. A nan
value among the inputs propagates to the estimate (a KPI undefined in one replication,
e.g. a lead time without completions, makes the mean undefined: nothing is silently dropped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEVEL = 0.95


def t_quantile(q: float, df: float) -> float:
    """Student t quantile; `scipy.special` is imported on first use (0.3 s, against 0.9 s
    for `scipy.stats`, whose `t.ppf` returns the same floats)."""
    return float(t_quantiles(q, np.asarray(df, dtype=float)))


def t_quantiles(q: float, df: np.ndarray) -> np.ndarray:
    """Student t quantiles for an array of degrees of freedom (Welch intervals per day)."""
    from scipy.special import stdtrit  # lazy: scipy (0.3 s) only when an interval is made

    return np.asarray(stdtrit(df, q))


def t_tail(x: float, df: float) -> float:
    """P(T > x) for Student t with `df` degrees of freedom (`scipy.stats.t.sf`)."""
    from scipy.special import stdtr  # lazy: scipy (0.3 s) only when a test is made

    return float(stdtr(df, -x))


@dataclass(frozen=True)
class Estimate:
    """Mean of n values with its two-sided 95% t confidence interval."""

    mean: float
    half_width: float
    low: float
    high: float
    sd: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        """Plain dict (for JSON)."""
        return {"mean": self.mean, "half_width": self.half_width, "low": self.low,
                "high": self.high, "sd": self.sd, "n": self.n}


def ci95(values: Sequence[float] | np.ndarray) -> Estimate:
    """Mean and 95% t interval (n - 1 degrees of freedom) of independent values."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, nan, nan, 0)
    mean = float(x.mean())
    if n == 1:
        nan = float("nan")
        return Estimate(mean, nan, nan, nan, nan, 1)
    sd = float(x.std(ddof=1))
    half = t_quantile(0.5 + LEVEL / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(mean, half, mean - half, mean + half, sd, n)


def summarise(kpis: list[dict[str, float]]) -> dict[str, Estimate]:
    """Estimate per KPI across replications (keys in order of first appearance).

    A KPI missing from some replications is estimated from those that have it (its ``n``
    says how many).
    """
    keys = dict.fromkeys(k for run in kpis for k in run)
    return {k: ci95([run[k] for run in kpis if k in run]) for k in keys}


def paired_diff(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> Estimate:
    """Estimate of mean(a - b) from paired replications (same index, common random numbers)."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired_diff needs equally many values (got {xa.size} and {xb.size})")
    return ci95(xa - xb)


def unpaired_half_width(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray
                        ) -> float:
    """95% half-width of mean(a) - mean(b) for independent samples (Welch's t interval).

    What the interval of a difference would be without common random numbers: the yardstick
    that shows how much pairing narrowed it."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.size < 2 or xb.size < 2:
        return float("nan")
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    se2 = va + vb
    if se2 == 0:
        return 0.0
    df = se2**2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    return t_quantile(0.5 + LEVEL / 2, df) * math.sqrt(se2)


def paired_p_value(diffs: Sequence[float] | np.ndarray) -> float:
    """Two-sided p-value of the paired t test that the mean difference is 0.

    Differences that are all equal give 1 when they are 0 (no difference at all) and 0
    otherwise (a constant shift is certain); nan with fewer than two values."""
    x = np.asarray(diffs, dtype=np.float64).ravel()
    if x.size < 2 or np.isnan(x).any():
        return float("nan")
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return 1.0 if float(x.mean()) == 0.0 else 0.0
    t = float(x.mean()) / (sd / math.sqrt(x.size))
    return 2 * t_tail(abs(t), x.size - 1)


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: test i is significant at family level alpha
    exactly when its adjusted p-value is <= alpha.

    The k-th smallest of m p-values becomes max over j <= k of min(1, (m - j + 1) p_(j)).
    Uniformly more powerful than Bonferroni, same guarantee (family-wise error <= alpha).
    A nan p-value stays nan and does not count towards m."""
    order = sorted((p, i) for i, p in enumerate(p_values) if not math.isnan(p))
    m = len(order)
    out = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


def holm(p_values: Sequence[float], alpha: float = 1 - LEVEL) -> list[bool]:
    """Which of m tests are significant at family level alpha (Holm's step-down)."""
    return [not math.isnan(p) and p <= alpha for p in holm_adjusted(p_values)]


def working_day_mean(values: np.ndarray, working: np.ndarray, window: int = 7) -> np.ndarray:
    """The mean of `values` over the last `window` working days, at each working day; nan
    on other days (a weekend or a shutdown is a gap, not a dip of the average).

    `values` and the boolean `working` are per calendar day; the first window - 1 working
    days average what there is so far."""
    values = np.asarray(values, dtype=np.float64)
    working = np.asarray(working, dtype=bool)[:len(values)]
    out = np.full(len(values), np.nan)
    days = np.flatnonzero(working)
    if not len(days):
        return out
    on = values[days]
    cum = np.concatenate([[0.0], np.cumsum(on)])
    k = np.arange(1, len(on) + 1)
    lo = np.maximum(k - window, 0)
    out[days] = (cum[k] - cum[lo]) / (k - lo)
    return out


def working_line(x: np.ndarray, values: np.ndarray, working: np.ndarray,
                 max_gap: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a per-working-day series for a line plot: only the working days, joined
    across weekends and bridges, broken (a nan) where working days lie more than
    `max_gap` days apart (a shutdown is a gap, not a straight line across it)."""
    days = np.flatnonzero(np.asarray(working, dtype=bool)[:len(values)])
    xs, ys = np.asarray(x, dtype=np.float64)[days], np.asarray(values, dtype=np.float64)[days]
    breaks = np.flatnonzero(np.diff(days) > max_gap) + 1
    return np.insert(xs, breaks, np.nan), np.insert(ys, breaks, np.nan)
