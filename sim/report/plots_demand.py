"""The order book as a planner reads it: planned, released and built per period, and the
backlog the line carries from one period to the next.

Why a figure of its own: with demand above capacity, the monthly output alone does not
say whether a month was limited by the orders or by the line; the gap between the orders
and the releases (the backlog) does. Drawn from `backlog_table`, itself the replication
mean of `sim.analysis.kpi.demand_table`, so every bar and point can be found in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from sim.analysis.kpi import Table, demand_table
from sim.engine.records import RunResult
from sim.report.plots import _figure, _reps, _save

BARS = (("planned", "0.75"), ("released", "tab:blue"), ("completed", "tab:green"))


def backlog_table(results: Sequence[RunResult]) -> Table:
    """Per period (all products, all order books): planned, released and built orders,
    replication mean, and the backlog at the period's end (cumulative planned minus
    cumulative released). Columns: period_from, period_to, planned, released, completed,
    backlog."""
    tables = [demand_table(r) for r in results]
    first = tables[0]
    periods, index = np.unique(first["period_from"], return_inverse=True)
    out: Table = {"period_from": periods,
                  "period_to": np.array([first["period_to"][index == i].max()
                                         for i in range(len(periods))])}
    for col in ("planned", "released", "completed"):
        per_rep = [np.bincount(np.unique(t["period_from"], return_inverse=True)[1],
                               weights=t[col], minlength=len(periods)) for t in tables]
        out[col] = np.mean(per_rep, axis=0)
    out["backlog"] = np.cumsum(out["planned"]) - np.cumsum(out["released"])
    return out


def cumulative_due(r: RunResult, days: int) -> np.ndarray | None:
    """Orders of every order book due by the end of each day 0 .. days - 1: each
    period's planned orders spread evenly over its working days, as they fall due
    (`sim.engine.demand.due_times`). None when the run has no order book."""
    if not r.demand:
        return None
    working = (r.working_mask if r.working_mask is not None
               else np.ones(days, dtype=bool))[:days]
    per_day = np.zeros(days)
    for book in r.demand:
        for j, (a, b) in enumerate(zip(book.period_from, book.period_to)):
            lo = max((a - r.start).days, 0)
            hi = min((b - r.start).days + 1, days)
            on = np.flatnonzero(working[lo:hi]) + lo
            if len(on):
                per_day[on] += float(np.sum(book.planned[j])) / len(on)
    return np.cumsum(per_day)


def plot_demand(results: Sequence[RunResult], path: Path) -> Path | None:
    """Grouped bars per period (planned / released / built) and the backlog line."""
    if not results or not results[0].demand:
        return None
    t = backlog_table(results)
    labels = [p.item().strftime("%b %Y") for p in t["period_from"]]
    x = np.arange(len(labels))
    fig, (ax,) = _figure(12, 5)
    for k, (col, colour) in enumerate(BARS):
        ax.bar(x + (k - 1) * 0.27, t[col], width=0.27, color=colour, label=col)
    ax.plot(x, t["backlog"], color="tab:red", marker="o", label="backlog at period end")
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel("orders (vehicles)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title(f"{results[0].scenario}: order book per period (mean of {_reps(results)}; "
                 f"backlog at the end {t['backlog'][-1]:,.0f})")
    ax.legend(loc="upper left", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
