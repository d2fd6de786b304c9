"""Comparison figures: what a planner puts side by side to choose between options.

Every figure is drawn from the `Comparison` records (`sim.experiments.compare`), whose
numbers are also in comparison.csv / periods.csv / comparison.json, so nothing a figure
shows is missing from a table. Headless (Agg canvas, no pyplot).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from sim.analysis.stats import working_day_mean, working_line
from sim.engine.records import STATES
from sim.experiments.compare import Comparison, on_shift_shares
from sim.report.plots import STATE_COLOURS, _colours, _date_axis, _figure, _save, datenum
from sim.spec.units import DAY

FIGURES = {
    "compare_monthly.png": "good completions per month, one bar per scenario (mean) with "
                           "its 95% interval as a whisker (periods.csv)",
    "compare_cumulative.png": "cumulative good completions per scenario with 95% bands, "
                              "and the baseline's meta.targets.completed when given",
    "compare_difference.png": "cumulative difference to the baseline over time: paired 95% "
                              "band (filled) and the unpaired band it would have without "
                              "common random numbers (dashed)",
    "compare_daily.png": "good completions per day, 7-day moving average, per scenario",
    "compare_stations.png": "state shares of each station on its on-shift time, scenarios "
                            "side by side; the bottleneck (largest sole share, active-period method) marked",
    "compare_shifts.png": "output per on-shift hour of each shift (JPH) per scenario with "
                          "95% whiskers, and its share of the shift's takt capacity (only "
                          "for runs with a shift calendar)",
}


def write_comparison_plots(folder: Path, c: Comparison) -> list[Path]:
    """Write every comparison figure into `folder`."""
    paths = [_monthly(c, folder / "compare_monthly.png"),
             _cumulative(c, folder / "compare_cumulative.png"),
             _difference(c, folder / "compare_difference.png"),
             _daily(c, folder / "compare_daily.png"),
             _stations(c, folder / "compare_stations.png"),
             _shifts(c, folder / "compare_shifts.png")]
    return [p for p in paths if p is not None]


def _shifts(c: Comparison, path: Path) -> Path | None:
    rows = [r for r in c.kpis if r.kpi.startswith("shift.") and r.kpi.endswith((".jph",
                                                                               ".load"))]
    names = list(dict.fromkeys(r.kpi.split(".")[1] for r in rows))
    if not names:
        return None
    fig, axes = _figure(11, 7, rows=2)
    width = 0.8 / len(c.scenarios)
    x = np.arange(len(names))
    for ax, what, label in ((axes[0], "jph", "parts per on-shift hour"),
                            (axes[1], "load", "% of the shift's takt capacity")):
        scale = 100.0 if what == "load" else 1.0
        for k, (name, colour) in enumerate(zip(c.scenarios, _colours(len(c.scenarios)))):
            mine = {r.kpi.split(".")[1]: r for r in rows
                    if r.scenario == name and r.kpi.endswith("." + what)}
            ax.bar(x + (k - (len(c.scenarios) - 1) / 2) * width,
                   [scale * mine[s].mean if s in mine else 0.0 for s in names], width,
                   yerr=[scale * mine[s].half_width if s in mine else 0.0 for s in names],
                   color=colour, label=name, capsize=2)
        ax.set_xticks(x, names)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("output by shift: JPH on shift and load, mean and 95% interval")
    axes[0].legend(fontsize=8)
    return _save(fig, path)


def _monthly(c: Comparison, path: Path) -> Path:
    fig, (ax,) = _figure(12, 5)
    rows = [p for p in c.periods if p.period == "month"]
    labels = list(dict.fromkeys(p.label for p in rows))
    x = np.arange(len(labels))
    width = 0.8 / len(c.scenarios)
    for k, (name, colour) in enumerate(zip(c.scenarios, _colours(len(c.scenarios)))):
        mine = {p.label: p for p in rows if p.scenario == name}
        means = [mine[lab].mean for lab in labels]
        errs = [mine[lab].half_width for lab in labels]
        ax.bar(x + (k - (len(c.scenarios) - 1) / 2) * width, means, width, color=colour,
               label=name, yerr=errs, capsize=2)
    ax.set_xticks(x, labels, rotation=45, ha="right")
    ax.set_ylabel("good completions per month")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title(f"monthly output, mean and 95% interval of {c.replications} replications")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def _dated(ax, fig, path: Path, ylabel: str, title: str, legend: bool = True) -> Path:
    """The common end of the figures over dates: axis, labels, legend, grid, file."""
    _date_axis(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if legend:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _days(c: Comparison) -> np.ndarray:
    n = len(c.curves[0].mean)
    return datenum(c.start, np.arange(1, n + 1) * DAY)


def _cumulative(c: Comparison, path: Path) -> Path:
    fig, (ax,) = _figure(12, 5)
    x = _days(c)
    for curve, colour in zip(c.curves, _colours(len(c.curves))):
        ax.step(x, curve.mean, where="post", color=colour, label=curve.scenario)
        ax.fill_between(x, curve.mean - curve.half_width, curve.mean + curve.half_width,
                        color=colour, alpha=0.2, step="post", label=f"{curve.scenario}, 95% band")
    if "completed" in c.targets:
        ax.axhline(c.targets["completed"], color="0.3", ls=":",
                   label=f"target {c.targets['completed']:,.0f} (baseline meta.targets)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return _dated(ax, fig, path, "cumulative good completions",
                  "cumulative output, mean and 95% band")


def _difference(c: Comparison, path: Path) -> Path:
    fig, (ax,) = _figure(12, 5)
    x = _days(c)
    for curve, colour in zip(c.curves[1:], _colours(len(c.curves))[1:]):
        ax.plot(x, curve.diff, color=colour, label=f"{curve.scenario} - {c.baseline}")
        ax.fill_between(x, curve.diff - curve.diff_half_width,
                        curve.diff + curve.diff_half_width, color=colour, alpha=0.25,
                        label="paired 95% band (common random numbers)")
        for sign in (-1, 1):
            ax.plot(x, curve.diff + sign * curve.unpaired_half_width, color=colour, lw=0.7,
                    ls="--", label="unpaired 95% band (independent runs)" if sign < 0 else None)
    ax.axhline(0, color="0.3", lw=0.8)
    return _dated(ax, fig, path, "cumulative difference (parts)",
                  "difference to the baseline: paired 95% band (filled), unpaired (dashed)",
                  legend=len(c.curves) > 1)


def _daily(c: Comparison, path: Path) -> Path:
    """Output per working day, averaged over the last 7 working days; weekends and
    shutdowns are gaps in the line, not dips of the average."""
    fig, (ax,) = _figure(12, 4.5)
    x = _days(c)
    for curve, colour in zip(c.curves, _colours(len(c.curves))):
        n = len(curve.daily_mean)
        working = np.ones(n, dtype=bool) if curve.working is None else curve.working[:n]
        ax.plot(*working_line(x[:n], working_day_mean(curve.daily_mean, working), working),
                color=colour, label=curve.scenario)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    return _dated(ax, fig, path, "good completions per working day (mean of the last 7)",
                  "daily output per scenario (replication mean; gaps: shutdowns)")


def _stations(c: Comparison, path: Path) -> Path:
    shares = {name: on_shift_shares(c, name) for name in c.scenarios}
    stations = list(dict.fromkeys(st for s in shares.values() for st in s))
    n = len(c.scenarios)
    fig, (ax,) = _figure(12, max(3.0, 0.28 * len(stations) * n + 1.5))
    bottleneck = c.bottlenecks()
    height = 0.8 / n
    states = [s for s in STATES if s != "off_shift"]
    labels, ys = [], []
    for i, st in enumerate(stations):
        for k, name in enumerate(c.scenarios):
            y = i + (k - (n - 1) / 2) * height
            left = 0.0
            for state in states:
                v = 100 * shares[name].get(st, {}).get(state, 0.0)
                ax.barh(y, v, height * 0.9, left=left, color=STATE_COLOURS[state],
                        label=state if (i, k) == (0, 0) else None)
                left += v
            if bottleneck.get(name, ("",))[0] == st:
                ax.text(left + 0.5, y, f"bottleneck of {name}", va="center", fontsize=7)
        labels.append(st)
        ys.append(i)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 125)
    ax.set_xlabel("% of on-shift time (bars per station in the order: "
                  + ", ".join(c.scenarios) + ")")
    ax.set_title("station states on on-shift time")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)

