"""Production tables a planner reads: by month, cumulative, by day and shift, by shop.

Plain numpy columns from the records of a run's replications (mean, min and max across
them), so every figure of `sim.report.plots_plan` and every sheet of the workbook shows a
table that can be tested without pixels, and a table needs no plotting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.analysis.kpi import Table, daily_counts, day_dates, products
from sim.engine.records import STATES, RunResult
from sim.spec.units import DAY

ALL = "(all)"  # the total row of a per-product table (not a valid product name)
OFF_SHIFT = "(off shift)"


def _daily(results: Sequence[RunResult]) -> np.ndarray:
    """Good completions per replication, day and product: [reps, days, products]."""
    counts = [daily_counts(r) for r in results]
    days = min(c.shape[0] for c in counts)
    return np.stack([c[:days] for c in counts]).astype(np.float64)


def _months(r: RunResult, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct calendar months (datetime64[M]) of the first `days` days, and their first day."""
    month = day_dates(r)[:days].astype("datetime64[M]")
    starts = np.flatnonzero(np.r_[True, month[1:] != month[:-1]])
    return month[starts], starts


def _long(labels: Sequence[Any] | np.ndarray, names: Sequence[str], per_rep: np.ndarray
          ) -> Table:
    """Long table of label x name from [reps, labels, names] values: mean, min, max."""
    n_lab, n_names = per_rep.shape[1], per_rep.shape[2]
    return {
        "label": np.repeat(np.asarray(labels), n_names),
        "product": np.tile(np.array(names, dtype=str), n_lab),
        "mean": per_rep.mean(axis=0).ravel(),
        "min": per_rep.min(axis=0).ravel(),
        "max": per_rep.max(axis=0).ravel(),
    }


def monthly_table(results: Sequence[RunResult]) -> Table:
    """Good completions per calendar month and product (whole run), and their total
    (product ``(all)``): mean, min and max across replications. Columns: month
    ('YYYY-MM'), product, mean, min, max; rows by month, products then the total."""
    daily = _daily(results)
    months, starts = _months(results[0], daily.shape[1])
    per = np.add.reduceat(daily, starts, axis=1)
    per = np.concatenate([per, per.sum(axis=2, keepdims=True)], axis=2)
    table = _long(months.astype(str), [*products(results[0]), ALL], per)
    return {"month": table.pop("label"), **table}


def cumulative_table(results: Sequence[RunResult]) -> Table:
    """Cumulative good completions at the end of each day, per product and in total
    (``(all)``): mean, min, max across replications. Columns: date, product, mean, min, max."""
    daily = _daily(results)
    daily = np.concatenate([daily, daily.sum(axis=2, keepdims=True)], axis=2)
    table = _long(day_dates(results[0])[:daily.shape[1]], [*products(results[0]), ALL],
                  np.cumsum(daily, axis=1))
    return {"date": table.pop("label"), **table}


def shift_table(r: RunResult) -> Table:
    """Good completions per day and shift of one replication (``(off shift)`` for those
    outside every shift). Columns: date, shift, completed. Empty without shift labels."""
    c = r.completions
    if c.shift is None or not r.shift_names:
        return {"date": np.zeros(0, "datetime64[D]"), "shift": np.zeros(0, str),
                "completed": np.zeros(0, np.int64)}
    dates = day_dates(r)
    good = ~np.array(r.sink_scrap, dtype=bool)[c.sink] if len(c) else np.zeros(0, bool)
    day = np.clip(np.floor(c.t_done[good] / DAY).astype(np.int64), 0, len(dates) - 1)
    code = np.asarray(c.shift[good], np.int64)
    names = list(r.shift_names) + ([OFF_SHIFT] if (code < 0).any() else [])
    code = np.where(code < 0, len(r.shift_names), code)
    c.release()  # rows kept on disk: let the pages read go
    counts = np.bincount(day * len(names) + code, minlength=len(dates) * len(names))
    return {"date": np.repeat(dates, len(names)),
            "shift": np.tile(np.array(names, dtype=str), len(dates)),
            "completed": counts.astype(np.int64)}


def group_of(station: Any) -> str:
    """A station's group, or its own name when it has none."""
    return station.group or station.name


def group_table(results: Sequence[RunResult]) -> Table:
    """State shares per station group (server-seconds after warm-up summed over the group's
    stations), mean across replications. Columns: group, stations, state, fraction."""
    groups = list(dict.fromkeys(group_of(s) for s in results[0].stations))
    share = np.zeros((len(results), len(groups), len(STATES)))
    for i, r in enumerate(results):
        for s in r.stations:
            g = groups.index(group_of(s))
            share[i, g] += [s.state_seconds.get(state, 0.0) for state in STATES]
    total = share.sum(axis=2, keepdims=True)
    share = np.divide(share, total, out=np.zeros_like(share), where=total > 0).mean(axis=0)
    sizes = [sum(group_of(s) == g for s in results[0].stations) for g in groups]
    return {"group": np.repeat(np.array(groups, dtype=str), len(STATES)),
            "stations": np.repeat(np.array(sizes, dtype=np.int64), len(STATES)),
            "state": np.tile(np.array(STATES, dtype=str), len(groups)),
            "fraction": share.ravel()}
