"""The figures a production planner asks for, from records only (plus published targets).

A planner reads a year in months, checks the cumulative output against the published
figure, looks at what each shift delivered, how busy each shop was and how full the stores
ran. These figures are generic: any run of any scenario (with a plan, typically) has
completions by date and product, shift labels, station groups and buffer traces.

Every figure is drawn from a table function returning plain numpy columns
(`sim.analysis.production`: `monthly_table`, `cumulative_table`, `shift_table`,
`group_table`; `sim.analysis.kpi.trace_table` for the buffer levels), so everything a plot shows can be found in a table and tested
without pixels. Targets come from `meta.targets` of the scenario: `{kpi: value}` or
`{kpi: {value, source}}`. Drawing reuses the helpers of `sim.report.plots` (Agg canvas, no pyplot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from sim.analysis.kpi import Table
from sim.analysis.production import (
    ALL,
    OFF_SHIFT,
    cumulative_table,
    group_table,
    monthly_table,
    shift_table,
)
from sim.engine.records import STATES, RunResult
from sim.report.plots import (
    STATE_COLOURS,
    _colours,
    _date_axis,
    _figure,
    _plot_traces,
    _reps,
    _save,
    _warmup_line,
    daily_bars,
    datenum,
)
from sim.report.plots_demand import cumulative_due
from sim.spec.targets import parse_targets
from sim.spec.units import DAY

MAX_TABLE_MONTHS = 18
THOUSANDS = "{x:,.0f}"


def _rows(table: Table, key: str, value: str = "mean") -> tuple[list[Any], dict[str, np.ndarray]]:
    """Pivot a long table: distinct `key` values and, per product, its `value` column."""
    keys = list(dict.fromkeys(table[key].tolist()))
    names = list(dict.fromkeys(table["product"].tolist()))
    grid = np.asarray(table[value]).reshape(len(keys), len(names))
    return keys, {n: grid[:, j] for j, n in enumerate(names)}


def _shown(by: dict[str, np.ndarray]) -> tuple[list[str], dict[str, Any]]:
    """Products with some completions (in table order) and a colour per product that does
    not depend on which products are shown."""
    names = [n for n in by if n != ALL]
    colours = dict(zip(names, _colours(len(names))))
    return [n for n in names if by[n].any()], colours


def plot_production_by_month(results: Sequence[RunResult], path: Path) -> Path:
    """Stacked monthly bars by product (replication mean) with a table of the numbers."""
    months, by = _rows(monthly_table(results), "month")
    names, colours = _shown(by)
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax, tab = fig.subplots(2, 1, height_ratios=[3, 1])
    x = np.arange(len(months))
    bottom = np.zeros(len(months))
    for name in names:
        ax.bar(x, by[name], bottom=bottom, color=colours[name], label=name, width=0.75)
        bottom += by[name]
    for xi, total in zip(x, by[ALL]):
        ax.annotate(f"{total:,.0f}", (xi, total), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
    labels = [np.datetime64(m, "M").astype("datetime64[D]").item().strftime("%b\n%Y")
              for m in months]
    ax.set_xticks(x, labels)
    ax.set_ylabel("good completions per month (parts)")
    ax.yaxis.set_major_formatter(StrMethodFormatter(THOUSANDS))
    ax.set_title(f"{results[0].scenario}: production by month and product "
                 f"(mean of {_reps(results)}; total {by[ALL].sum():,.0f})")
    if names:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    else:
        ax.text(0.5, 0.5, "no good completions", ha="center", transform=ax.transAxes)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(0, max(float(by[ALL].max()), 1.0) * 1.12)
    tab.axis("off")
    if len(months) <= MAX_TABLE_MONTHS:
        short = [m.replace("\n", " ") for m in labels]
        cells = [[f"{v:,.0f}" for v in [*by[n], by[n].sum()]] for n in [*names, ALL]]
        table = tab.table(cellText=cells, rowLabels=[*names, "total"],
                          colLabels=[*short, "all"], loc="center", cellLoc="right")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
    else:
        tab.text(0.5, 0.5, "numbers: monthly_table (too many months for a table here)",
                 ha="center", va="center", transform=tab.transAxes)
    return _save(fig, path)


def plot_cumulative_vs_target(results: Sequence[RunResult], path: Path,
                              meta: dict[str, Any] | None = None) -> Path:
    """Cumulative good completions (mean, min-max band) against `meta.targets`."""
    r0 = results[0]
    table = cumulative_table(results)
    dates, mean = _rows(table, "date")
    low, high = _rows(table, "date", "min")[1], _rows(table, "date", "max")[1]
    goals = parse_targets(meta)
    fig, (ax,) = _figure(12, 6)
    x = datenum(r0.start, (np.arange(len(dates)) + 1) * DAY)
    ax.fill_between(x, low[ALL], high[ALL], color="0.5", alpha=0.3, step="post",
                    label="all products, min-max across replications")
    ax.step(x, mean[ALL], where="post", color="black", lw=2.2, label="all products, mean")
    due = cumulative_due(r0, len(dates))
    if due is not None:
        ax.step(x, due, where="post", color="darkred", ls="--", lw=1.5,
                label=f"order book: orders due, cumulative ({due[-1]:,.0f} by the end)")
    end = float(mean[ALL][-1]) if len(dates) else 0.0
    if "completed" in goals:
        value, source = goals["completed"].value, goals["completed"].source
        label = f"target {value:,.0f}" + (f" ({_short(source)})" if source else "")
        ax.axhline(value, color="tab:red", ls="--", lw=1.5, label=label)
        ax.text(0.99, 0.03, f"end of run: simulated {end:,.0f}, {end / value - 1:+.2%} vs "
                f"target {value:,.0f}", transform=ax.transAxes, ha="right", fontsize=10,
                bbox={"facecolor": "white", "edgecolor": "0.7"})
    names, colours = _shown(mean)
    for name in names:
        colour = colours[name]
        if f"completed.{name}" in goals or len(names) > 1:
            ax.plot(x, mean[name], color=colour, lw=1.2, label=f"{name}, mean")
        if f"completed.{name}" in goals:
            ax.plot([x[-1]], [goals[f"completed.{name}"].value], marker="D", color=colour,
                    ls="none", label=f"{name} target {goals[f'completed.{name}'].value:,.0f}")
    _warmup_line(ax, r0)
    _date_axis(ax)
    ax.set_title(f"{r0.scenario}: cumulative good completions vs target ({_reps(results)})")
    ax.set_xlabel("date")
    ax.set_ylabel("parts (cumulative, end of day)")
    ax.yaxis.set_major_formatter(StrMethodFormatter(THOUSANDS))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 3] + "..."


def plot_daily_by_shift(results: Sequence[RunResult], path: Path) -> Path | None:
    """Daily good completions stacked by shift, replication 0 (None without shifts)."""
    r0 = results[0]
    table = shift_table(r0)
    if not len(table["date"]):
        return None
    shifts = list(dict.fromkeys(table["shift"].tolist()))
    counts = table["completed"].reshape(-1, len(shifts))
    x = datenum(r0.start, np.arange(counts.shape[0]) * DAY)
    fig, (ax,) = _figure(12, 5)
    bottom = np.zeros(counts.shape[0])
    for j, (name, shade) in enumerate(zip(shifts, _colours(len(shifts)))):
        colour: str | tuple[float, ...] = "0.6" if name == OFF_SHIFT else shade
        daily_bars(ax, x, bottom, counts[:, j].astype(float), colour, name)
        bottom += counts[:, j]
    _date_axis(ax)
    ax.set_title(f"{r0.scenario}: good completions per day by shift "
                 f"(replication {r0.replication}; total {int(counts.sum()):,})")
    ax.set_xlabel("date")
    ax.set_ylabel("parts per day")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_group_utilisation(results: Sequence[RunResult], path: Path) -> Path | None:
    """State shares per station group (None when no station has a group)."""
    if not any(s.group for s in results[0].stations):
        return None
    table = group_table(results)
    groups = list(dict.fromkeys(table["group"].tolist()))
    share = 100.0 * table["fraction"].reshape(len(groups), len(STATES))
    sizes = table["stations"][::len(STATES)]
    fig, (ax,) = _figure(11, 1.8 + 0.45 * len(groups))
    y = np.arange(len(groups))
    left = np.zeros(len(groups))
    for j, state in enumerate(STATES):
        ax.barh(y, share[:, j], left=left, color=STATE_COLOURS[state],
                label=state.replace("_", " "), edgecolor="white", linewidth=0.5)
        left += share[:, j]
    for yi, working in zip(y, share[:, 0]):
        ax.text(1, float(yi), f"working {working:.1f}%", va="center", fontsize=8)
    ax.set_yticks(y, [f"{g} ({n} station{'s' if n != 1 else ''})"
                      for g, n in zip(groups, sizes)])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of server time after warm-up (%)")
    ax.set_title(f"{results[0].scenario}: utilisation by station group "
                 f"(mean of {_reps(results)})")
    fig.legend(loc="outside lower center", ncols=len(STATES), fontsize=9, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def plot_buffer_levels(results: Sequence[RunResult], path: Path) -> Path | None:
    """Level over time of each traced buffer, one panel each, replication 0 (None if none)."""
    r0 = results[0]
    traced = [b for b in r0.buffers if b.trace_t is not None and len(b.trace_t)]
    if not traced:
        return None
    fig, axes = _figure(12, 0.6 + 2.6 * len(traced), rows=len(traced))
    for ax, b in zip(axes, traced):
        _plot_traces(ax, r0, [b])
        ax.set_title(f"{b.name}: parts in buffer (replication {r0.replication}, mean "
                     f"{b.mean_level:,.2f}, max {b.max_level:,})", fontsize=10)
    fig.suptitle(f"{r0.scenario}: buffer levels over time")
    return _save(fig, path)


def write_plan_plots(out_dir: Path, results: Sequence[RunResult],
                     meta: dict[str, Any] | None = None) -> list[Path]:
    """Write the planner figures into `out_dir` (those that apply); returns the paths."""
    return [p for p in (job() for job in plan_jobs(out_dir, results, meta)) if p is not None]


def plan_jobs(out_dir: Path, results: Sequence[RunResult],
              meta: dict[str, Any] | None = None) -> list[Callable[[], Path | None]]:
    """One call per planner figure, drawing it into `out_dir` (`sim.report.drawing`)."""
    if not results:
        raise ValueError("write_plan_plots needs at least one replication")
    out = Path(out_dir)
    return [partial(plot_production_by_month, results, out / "production_by_month.png"),
            partial(plot_cumulative_vs_target, results, out / "cumulative_vs_target.png",
                    meta),
            partial(plot_daily_by_shift, results, out / "daily_by_shift.png"),
            partial(plot_group_utilisation, results, out / "group_utilisation.png"),
            partial(plot_buffer_levels, results, out / "buffer_levels.png")]


def has_plan(resolved: dict[str, Any]) -> bool:
    """True when a scenario (plain data) releases parts from a plan or an order book."""
    sources = resolved.get("sources") or {}
    return any(isinstance(s, dict) and s.get("kind") in ("plan", "demand")
               for s in sources.values())
