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
from scipy import stats as _st

LEVEL = 0.95


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
    half = float(_st.t.ppf(0.5 + LEVEL / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(mean, half, mean - half, mean + half, sd, n)


def summarise(kpis: list[dict[str, float]]) -> dict[str, Estimate]:
    """Estimate per KPI across replications (keys in order of first appearance).

    A KPI missing from some replications is estimated from those that have it (its ``n``
    says how many).
    """
    keys = dict.fromkeys(k for run in kpis for k in run)
    return {k: ci95([run[k] for run in kpis if k in run]) for k in keys}


def paired_diff(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """Estimate of mean(a - b) from paired replications (same index, common random numbers)."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired_diff needs equally many values (got {xa.size} and {xb.size})")
    return ci95(xa - xb)
