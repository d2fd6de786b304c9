"""PNG figures of a run's replications, drawn from records only.

Planners look at pictures first, so each figure must stand on its own: a title saying what
and over how many replications, axis labels with units, a legend, readable dates. Every
quantity shown is also in a CSV table (sim.analysis.kpi builds both), so a figure never holds data
that cannot be checked.

Headless by construction: figures are ``matplotlib.figure.Figure`` objects rendered by the
Agg canvas; pyplot is never imported, so no display, no global figure registry (no leaks
in long sweeps) and no change to the backend of a program that imports this module.
Each ``plot_*(results, path)`` works on its own so scenario-specific plots can reuse them.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.analysis.kpi import daily_counts, products
from sim.analysis.stats import working_day_mean, working_line
from sim.engine.records import STATES, BufferRecord, RunResult
from sim.spec.units import DAY, HOUR

DPI = 110
MAX_TRACE_POINTS = 5000
STATE_COLOURS: dict[str, str] = {
    "working": "#2ca02c",
    "blocked": "#ff7f0e",
    "starved": "#e6c229",
    "failed": "#d62728",
    "off_shift": "#d3d3d3",
}


def _figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure on the Agg canvas with `rows` stacked axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, list(np.atleast_1d(fig.subplots(rows, 1)))


def _save(fig: Figure, path: Path) -> Path:
    """Write the figure; every numeric axis first gets thousands separators."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if _numeric(axis):
                axis.set_major_formatter(FuncFormatter(_thousands))
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path


def _numeric(axis: Any) -> bool:
    """A linear axis of numbers (not dates, categories or a formatter set on purpose)."""
    return (axis.get_scale() == "linear" and axis.units is None
            and type(axis.get_major_formatter()).__name__ == "ScalarFormatter")


def _thousands(value: float, _: Any = None) -> str:
    """`89,527`, `2.5`, `0.25`: separators from a thousand on, no needless decimals."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.6g}"


def _date_axis(ax: Axes) -> None:
    """Readable dates on the x axis, whatever the span."""
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def datenum(start: datetime.date, t_s: np.ndarray | float) -> np.ndarray:
    """Matplotlib date numbers of simulation times (seconds from `start` at 00:00)."""
    origin = mdates.date2num(datetime.datetime.combine(start, datetime.time()))
    return origin + np.asarray(t_s, dtype=np.float64) / DAY


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _colours(n: int) -> list[tuple[float, ...]]:
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _warmup_line(ax: Axes, r: RunResult) -> None:
    if r.warmup > 0:
        ax.axvline(float(datenum(r.start, r.warmup)), color="0.3", ls=":", lw=1.2,
                   label="end of warm-up")


def _reps(results: Sequence[RunResult]) -> str:
    n = len(results)
    return f"{n} replication{'s' if n != 1 else ''}"


def _daily_stack(results: Sequence[RunResult]) -> np.ndarray:
    """Good completions per day and product, stacked over replications: [reps, days, prods]."""
    counts = [daily_counts(r) for r in results]
    days = min(c.shape[0] for c in counts)
    return np.stack([c[:days] for c in counts]).astype(np.float64)


def daily_bars(ax: Axes, x: np.ndarray, bottom: np.ndarray, values: np.ndarray,
               colour: Any, label: str) -> None:
    """One stacked layer of per-day bars, drawn as a single filled step outline.

    A year of days as separate bars is hundreds of rectangles per layer, most of the
    figure's drawing time; one outline per layer looks the same at this scale (days
    abut) and draws in a fraction of it."""
    edges = np.append(x, x[-1] + 1.0) if len(x) else np.zeros(1)
    ax.stairs(bottom + values, edges, baseline=bottom.copy(), fill=True, color=colour,
              label=label, linewidth=0)


def plot_throughput(results: Sequence[RunResult], path: Path) -> Path:
    """Good completions per day by product (stacked, replication mean) and 7-day average."""
    fig, (ax,) = _figure(11, 5)
    r0 = results[0]
    mean = _daily_stack(results).mean(axis=0)
    x = datenum(r0.start, np.arange(mean.shape[0]) * DAY)
    bottom = np.zeros(mean.shape[0])
    built = mean.any(axis=0)
    for j, (name, colour) in enumerate(zip(products(r0), _colours(mean.shape[1]))):
        if built.any() and not built[j]:
            continue  # products that build nothing (purchased modules) stay out of the legend
        daily_bars(ax, x, bottom, mean[:, j], colour, name)
        bottom += mean[:, j]
    working = r0.working_mask if r0.working_mask is not None else np.ones(len(bottom), bool)
    ax.plot(*working_line(x + 0.5, working_day_mean(bottom, working[:len(bottom)]), working),
            color="black", lw=1.8, label="total, mean of the last 7 working days")
    _warmup_line(ax, r0)
    _date_axis(ax)
    ax.set_title(f"{r0.scenario}: good completions per day by product (mean of {_reps(results)})")
    ax.set_xlabel("date")
    ax.set_ylabel("parts per day")
    ax.legend(loc="upper left", fontsize=9, ncols=2)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def plot_cumulative(results: Sequence[RunResult], path: Path) -> Path:
    """Cumulative good completions at each day's end: mean and min-max band."""
    fig, (ax,) = _figure(11, 5)
    r0 = results[0]
    totals = _daily_stack(results).sum(axis=2)
    cum = np.concatenate([np.zeros((totals.shape[0], 1)), np.cumsum(totals, axis=1)], axis=1)
    x = datenum(r0.start, np.arange(cum.shape[1]) * DAY)
    ax.fill_between(x, cum.min(axis=0), cum.max(axis=0), color="tab:blue", alpha=0.25,
                    step="post", label="min-max across replications")
    ax.step(x, cum.mean(axis=0), where="post", color="tab:blue", lw=2, label="mean")
    _warmup_line(ax, r0)
    _date_axis(ax)
    ax.set_title(f"{r0.scenario}: cumulative good completions ({_reps(results)})")
    ax.set_xlabel("date")
    ax.set_ylabel("parts (cumulative)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_station_states(results: Sequence[RunResult], path: Path) -> Path:
    """Horizontal stacked bars of the state shares of each station on its on-shift time
    (replication mean), so that nights and weekends do not hide a bottleneck; the
    off-shift share of all time is written at the end of each bar."""
    names = [s.name for s in results[0].stations]
    fig, (ax,) = _figure(11, 1.8 + 0.38 * max(len(names), 1))
    if not names:
        _empty(ax, "no stations")
        ax.set_title(f"{results[0].scenario}: station states")
        return _save(fig, path)
    on_states = [s for s in STATES if s != "off_shift"]
    share = np.zeros((len(names), len(STATES)))
    for r in results:
        by_name = {s.name: s.fractions() for s in r.stations}
        for i, name in enumerate(names):
            f = by_name.get(name, {})
            share[i] += [f.get(state, 0.0) for state in STATES]
    share *= 100.0 / len(results)
    off = share[:, STATES.index("off_shift")]
    on = np.where(100.0 - off > 0, 100.0 - off, np.nan)
    y = np.arange(len(names))
    left = np.zeros(len(names))
    for state in on_states:
        part = np.nan_to_num(100.0 * share[:, STATES.index(state)] / on)
        ax.barh(y, part, left=left, color=STATE_COLOURS[state], label=state.replace("_", " "),
                edgecolor="white", linewidth=0.5)
        left += part
    if off.any():
        for yi, o in zip(y, off):
            ax.text(101, float(yi), f"off shift {o:.0f}% of all time", va="center", fontsize=7)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 125 if off.any() else 100)
    ax.set_xlabel("share of on-shift time after warm-up (%)")
    ax.set_title(f"{results[0].scenario}: station states on on-shift time "
                 f"(mean of {_reps(results)})")
    fig.legend(loc="outside lower center", ncols=len(on_states), fontsize=9, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def downsample_steps(
    t: np.ndarray, level: np.ndarray, max_points: int = MAX_TRACE_POINTS
) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points keeping each time bin's min and max (the visual envelope)."""
    t = np.asarray(t, dtype=np.float64)
    level = np.asarray(level, dtype=np.float64)
    if len(t) <= max_points:
        return t, level
    edges = np.linspace(t[0], t[-1], max_points // 2, endpoint=False)
    starts = np.unique(np.searchsorted(t, edges, side="left"))
    lo = np.minimum.reduceat(level, starts)
    hi = np.maximum.reduceat(level, starts)
    return np.repeat(t[starts], 2), np.column_stack([lo, hi]).ravel()


def plot_buffers(results: Sequence[RunResult], path: Path) -> Path:
    """Mean level per buffer (bars, min-max across replications) with capacity and max
    marks, stocks of purchased units on an axis of their own (they count thousands of
    units where buffers hold a few parts); below, level over time of the traced buffers of
    replication 0."""
    r0 = results[0]
    names = [b.name for b in r0.buffers if b.kind != "stock"]
    stocks = [b.name for b in r0.buffers if b.kind == "stock"]
    traced = [b for b in r0.buffers if b.trace_t is not None and len(b.trace_t)]
    rows = 1 + bool(stocks) + bool(traced)
    fig, axes = _figure(11, 1.8 + 0.38 * max(len(names) + len(stocks), 1)
                        + (3.5 if traced else 0) + (1.2 if stocks else 0), rows=rows)
    axes[0].set_title(f"{r0.scenario}: buffer levels after warm-up ({_reps(results)})")
    if not names and not stocks:
        _empty(axes[0], "no buffers")
        return _save(fig, path)
    _levels(axes[0], results, names, "parts in buffer")
    if stocks:
        _levels(axes[1], results, stocks, "units in stock (purchased units, counted)")
    if traced:
        _plot_traces(axes[-1], r0, traced)
    return _save(fig, path)


def _levels(ax: Axes, results: Sequence[RunResult], names: list[str], unit: str) -> None:
    """Bars of mean level (min-max whiskers), max marks and capacities for `names`."""
    if not names:
        _empty(ax, "no buffers of parts")
        return
    r0 = results[0]
    means = np.array([[_buffer(r, n).mean_level for n in names] for r in results])
    peaks = np.array([[_buffer(r, n).max_level for n in names] for r in results]).max(axis=0)
    caps = np.array([_buffer(r0, n).capacity for n in names], dtype=np.float64)
    y = np.arange(len(names))
    m = means.mean(axis=0)
    err = np.vstack([m - means.min(axis=0), means.max(axis=0) - m])
    ax.barh(y, m, xerr=err if len(results) > 1 else None, color="tab:blue", alpha=0.8,
            capsize=3, label="mean level")
    ax.scatter(peaks, y, marker="x", color="black", zorder=3, label="max level")
    finite = np.isfinite(caps)
    ax.scatter(caps[finite], y[finite], marker="|", s=400, linewidths=2.5, color="tab:red",
               zorder=3, label="capacity")
    for i in np.flatnonzero(~finite):
        ax.annotate("unlimited", (max(peaks[i], m[i]), y[i]), xytext=(8, -4),
                    textcoords="offset points", fontsize=8, color="tab:red")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.grid(axis="x", alpha=0.3)


def _buffer(r: RunResult, name: str) -> BufferRecord:
    return next(b for b in r.buffers if b.name == name)


def _plot_traces(ax: Axes, r: RunResult, traced: list[BufferRecord]) -> None:
    """Level over time of traced buffers (replication 0), downsampled for display."""
    for b, colour in zip(traced, _colours(len(traced))):
        levels = np.asarray(b.trace_level)
        t = np.append(np.asarray(b.trace_t, np.float64), r.horizon)
        lv = np.append(levels, levels[-1])
        if len(t) <= MAX_TRACE_POINTS:
            ax.plot(datenum(r.start, t), lv, color=colour, lw=0.8, drawstyle="steps-post",
                    label=b.name)
        else:
            ts, ls = downsample_steps(t, lv)
            ax.fill_between(datenum(r.start, ts[::2]), ls[::2], ls[1::2], step="post",
                            color=colour, alpha=0.7, lw=0.6, label=f"{b.name} (min-max per bin)")
        if np.isfinite(b.capacity):
            ax.axhline(b.capacity, color=colour, ls="--", lw=1, label=f"{b.name} capacity")
    _warmup_line(ax, r)
    _date_axis(ax)
    ax.set_title(f"level over time, replication {r.replication}")
    ax.set_xlabel("date")
    ax.set_ylabel("parts in buffer")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9)
    ax.grid(alpha=0.3)


def lead_times_h(results: Sequence[RunResult]) -> np.ndarray:
    """Lead times (h) of the good completions after warm-up, all replications."""
    parts = []
    for r in results:
        c, mask = r.completions, r.done_mask()
        parts.append((c.t_done[mask] - c.t_release[mask]) / HOUR)
        c.release()  # rows kept on disk: let the pages read go
    return np.concatenate(parts) if parts else np.zeros(0)


def plot_lead_time(results: Sequence[RunResult], path: Path) -> Path:
    """Histogram of lead times with mean, median and 95th percentile lines."""
    fig, (ax,) = _figure(10, 5)
    lead = lead_times_h(results)
    ax.set_title(f"{results[0].scenario}: lead time of good completions after warm-up "
                 f"({_reps(results)}, {len(lead):,} parts)")
    if not len(lead):
        _empty(ax, "no completions after warm-up")
        return _save(fig, path)
    p50, p95 = np.percentile(lead, [50.0, 95.0])
    low = float(lead[lead > 0].min()) if (lead > 0).any() else 0.0
    if low > 0 and lead.max() > 20 * max(p50, low):  # long tail (nights, weekends): log x
        edges = np.geomspace(low, float(lead.max()), 80)
        ax.hist(np.maximum(lead, low), bins=edges.tolist(), color="tab:blue", alpha=0.75,
                label="parts")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        edges = np.histogram_bin_edges(lead, bins="auto")
        ax.hist(lead, bins=edges.tolist() if len(edges) <= 101 else 100, color="tab:blue",
                alpha=0.75, label="parts")
    for value, name, style in ((lead.mean(), "mean", "-"), (p50, "median", "--"),
                               (p95, "95th percentile", ":")):
        ax.axvline(value, color="black", ls=style, lw=1.6, label=f"{name} {value:.2f} h")
    log = ax.get_xscale() == "log"
    ax.set_xlabel("lead time, release to sink (h" + (", log scale)" if log else ")"))
    ax.set_ylabel("parts (all replications)")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def standard_plots() -> dict[str, Callable[[Sequence[RunResult], Path], Path]]:
    """File name -> plot function of every standard figure (looked up at call time)."""
    return {
        "throughput.png": plot_throughput,
        "cumulative.png": plot_cumulative,
        "station_states.png": plot_station_states,
        "buffers.png": plot_buffers,
        "lead_time.png": plot_lead_time,
    }


def plot_jobs(out_dir: Path, results: Sequence[RunResult]) -> list[Callable[[], Path]]:
    """One call per standard figure, drawing it into `out_dir` (`sim.report.drawing`)."""
    if not results:
        raise ValueError("write_plots needs at least one replication")
    out_dir = Path(out_dir)
    return [functools.partial(plot, results, out_dir / name)
            for name, plot in standard_plots().items()]


def write_plots(out_dir: Path, results: Sequence[RunResult]) -> list[Path]:
    """Write every standard figure into `out_dir`; returns the paths written."""
    return [job() for job in plot_jobs(out_dir, results)]
