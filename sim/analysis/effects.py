"""Main effects, two-factor tables and a ranking of factors, with honest intervals.

Why per replication: with common random numbers, replication r of every point shares its
random streams, so the average of a KPI over the points at one level of a factor, taken
replication by replication, is one value per replication; the t interval over those
values (n = replications) is the interval of that main effect, and it already carries the
correlation the shared streams create. (Without common random numbers the same values
are independent and the interval is the plain one.) A factor with more than `MAX_LEVELS`
distinct levels (a Latin hypercube's continuous factor) is grouped into `BINS` quantile
bins, each shown at the mean of its values.

A factor's effect size is the range of its main-effect means (largest minus smallest);
the ranking orders factors by it. Failed runs are left out (NaN) and counted in `n`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.stats import ci95

MAX_LEVELS = 8
BINS = 5


@dataclass(frozen=True)
class Level:
    """The main effect of one level (or bin) of a factor on one KPI."""

    factor: str
    label: str
    x: float | None       # numeric position (None for a categorical level)
    mean: float
    low: float
    high: float
    n: int                # replications with a value


def matrix(points: list[dict[str, Any]], runs: dict[tuple[int, int], dict[str, Any]],
           kpi: str, replications: int) -> np.ndarray:
    """[point, replication] values of `kpi` (NaN where the run failed or lacks it)."""
    out = np.full((len(points), replications), np.nan)
    for i, p in enumerate(points):
        for r in range(replications):
            record = runs.get((p["point"], r))
            if record is not None and record.get("status") == "ok":
                value = record.get("kpis", {}).get(kpi)
                if value is not None:
                    out[i, r] = float(value)
    return out


Group = tuple[str, float | None, np.ndarray]


def groups(points: list[dict[str, Any]], factor: str) -> list[Group]:
    """(label, x, point rows) per level of the factor, in level order."""
    labels = [p["labels"][factor] for p in points]
    numbers = [p["numbers"].get(factor) for p in points]
    distinct = list(dict.fromkeys(labels))
    numeric = all(x is not None for x in numbers)
    if len(distinct) > MAX_LEVELS and numeric:
        x = np.asarray(numbers, dtype=float)
        edges = np.quantile(x, np.linspace(0, 1, BINS + 1))
        which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, BINS - 1)
        out: list[Group] = []
        for b in range(BINS):
            rows = np.flatnonzero(which == b)
            if rows.size:
                out.append((f"{edges[b]:.4g}-{edges[b + 1]:.4g}", float(x[rows].mean()), rows))
        return out
    levels: list[Group] = []
    for label in distinct:
        rows = np.asarray([i for i, lab in enumerate(labels) if lab == label])
        levels.append((label, numbers[int(rows[0])] if numeric else None, rows))
    if numeric:
        levels.sort(key=lambda g: float(g[1] or 0.0))
    return levels


def _per_replication(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean over the rows' points, one value per replication that has any."""
    block = values[rows]
    has = ~np.isnan(block).all(axis=0)
    with np.errstate(invalid="ignore"):
        means = np.nanmean(block[:, has], axis=0) if has.any() else np.empty(0)
    return means


def main_effects(points: list[dict[str, Any]], values: np.ndarray, factor: str) -> list[Level]:
    """The factor's main effect on the KPI of `values` ([point, replication])."""
    out = []
    for label, x, rows in groups(points, factor):
        e = ci95(_per_replication(values, rows))
        out.append(Level(factor, label, x, e.mean, e.low, e.high, e.n))
    return out


def effect_size(levels: list[Level]) -> float:
    """Largest minus smallest main-effect mean (NaN when fewer than two levels have one)."""
    means = [lv.mean for lv in levels if not np.isnan(lv.mean)]
    return float(max(means) - min(means)) if len(means) >= 2 else float("nan")


def ranking(points: list[dict[str, Any]], values: np.ndarray, factors: list[str]
            ) -> list[tuple[str, float]]:
    """(factor, effect size), largest first (NaN last), ties in the factors' order."""
    sizes = [(f, effect_size(main_effects(points, values, f))) for f in factors]
    return sorted(sizes, key=lambda fs: (np.isnan(fs[1]), -np.nan_to_num(fs[1])))


def two_way(points: list[dict[str, Any]], values: np.ndarray, rows_factor: str,
            cols_factor: str) -> tuple[list[str], list[str], np.ndarray]:
    """(row labels, column labels, mean KPI per cell averaged over the other factors)."""
    row_groups = groups(points, rows_factor)
    col_groups = groups(points, cols_factor)
    point_means = np.full(len(points), np.nan)
    has = ~np.isnan(values).all(axis=1)
    point_means[has] = np.nanmean(values[has], axis=1)
    table = np.full((len(row_groups), len(col_groups)), np.nan)
    for i, (_, _, r_rows) in enumerate(row_groups):
        for j, (_, _, c_rows) in enumerate(col_groups):
            cell = np.intersect1d(r_rows, c_rows)
            cell_means = point_means[cell]
            if cell.size and not np.isnan(cell_means).all():
                table[i, j] = float(np.nanmean(cell_means))
    return [g[0] for g in row_groups], [g[0] for g in col_groups], table
