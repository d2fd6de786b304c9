"""Sweep figures: main effects with 95% bands, a two-factor heatmap, a factor ranking.

Drawn from the same functions as effects.csv and ranking.csv (`sim.analysis.effects`),
so every number a figure shows is in a table. Headless (Agg canvas, no pyplot).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.analysis import effects
from sim.analysis.numbers import format_number
from sim.report.plots import _save


def _grid(rows: int, cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, np.atleast_2d(fig.subplots(rows, cols, squeeze=False))


def main_effects(path: Path, state: dict[str, Any], values: dict[str, np.ndarray]) -> Path:
    """One panel per (KPI, factor): mean per level with its 95% band or whiskers."""
    factors, kpis = state["factors"], list(values)
    fig, axes = _grid(len(kpis), len(factors), 3.6 * len(factors) + 0.6, 2.9 * len(kpis) + 0.6)
    for i, name in enumerate(kpis):
        for j, f in enumerate(factors):
            ax = axes[i, j]
            levels = effects.main_effects(state["points"], values[name], f)
            mean = np.array([lv.mean for lv in levels])
            low = np.array([lv.low for lv in levels])
            high = np.array([lv.high for lv in levels])
            if levels and all(lv.x is not None for lv in levels):
                x = np.array([lv.x for lv in levels], dtype=float)
                ax.fill_between(x, low, high, alpha=0.25, color="C0", label="95% interval")
                ax.plot(x, mean, "o-", color="C0", label="mean")
                ax.set_xticks(x, [lv.label for lv in levels], rotation=30, fontsize=8)
            else:
                x = np.arange(len(levels), dtype=float)
                ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", capsize=4,
                            color="C0", label="mean, 95% interval")
                ax.set_xticks(x, [lv.label for lv in levels], rotation=30, fontsize=8)
            ax.set_xlabel(f)
            if j == 0:
                ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    fig.suptitle(f"Main effects, sweep {state['name']}: {len(state['points'])} points x "
                 f"{state['replications']} replications\nmean over each level's points per "
                 "replication, 95% t interval over replications", fontsize=9)
    return _save(fig, path)


def heatmap(path: Path, state: dict[str, Any], values: np.ndarray, kpi: str,
            rows_factor: str, cols_factor: str) -> Path:
    """Mean KPI per cell of two factors, averaged over the other factors, annotated."""
    row_labels, col_labels, table = effects.two_way(state["points"], values, rows_factor,
                                                    cols_factor)
    fig, axes = _grid(1, 1, 1.1 * len(col_labels) + 3.0, 0.55 * len(row_labels) + 2.2)
    ax = axes[0, 0]
    image = ax.imshow(table, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=30, fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.set_xlabel(cols_factor)
    ax.set_ylabel(rows_factor)
    finite = table[np.isfinite(table)]
    middle = float(np.median(finite)) if finite.size else 0.0
    for (i, j), v in np.ndenumerate(table):
        if np.isfinite(v):
            ax.text(j, i, format_number(v), ha="center", va="center", fontsize=7,
                    color="black" if v > middle else "white")
    fig.colorbar(image, ax=ax, label=kpi)
    others = [f for f in state["factors"] if f not in (rows_factor, cols_factor)]
    extra = f", averaged over {', '.join(others)}" if others else ""
    ax.set_title(f"{kpi}: mean per cell{extra}", fontsize=10)
    return _save(fig, path)


def ranking(path: Path, state: dict[str, Any], values: np.ndarray, kpi: str) -> Path:
    """Horizontal bars: each factor's effect size (range of its main-effect means)."""
    ranked = effects.ranking(state["points"], values, state["factors"])
    fig, axes = _grid(1, 1, 6.4, 0.5 * len(ranked) + 1.6)
    ax = axes[0, 0]
    names = [f for f, _ in ranked][::-1]
    sizes = [0.0 if np.isnan(s) else s for _, s in ranked][::-1]
    ax.barh(names, sizes, color="C0")
    for y, s in enumerate(sizes):
        ax.text(s, y, " " + format_number(s), va="center", fontsize=8)
    ax.set_xlabel(f"effect on {kpi} (largest minus smallest main-effect mean)")
    ax.set_title(f"Factors ranked by effect size, sweep {state['name']}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def write_sweep_plots(folder: Path, state: dict[str, Any],
                      runs: dict[tuple[int, int], dict[str, Any]], kpis: list[str]
                      ) -> list[Path]:
    """Every sweep figure for the plotted KPIs (nothing when no run succeeded)."""
    if not kpis:
        return []
    values = {k: effects.matrix(state["points"], runs, k, state["replications"]) for k in kpis}
    paths = [main_effects(folder / "main_effects.png", state, values)]
    first = kpis[0]
    paths.append(ranking(folder / "factor_ranking.png", state, values[first], first))
    if state["design"] == "grid" and len(state["factors"]) >= 2:
        top = [f for f, _ in effects.ranking(state["points"], values[first], state["factors"])]
        paths.append(heatmap(folder / "heatmap.png", state, values[first], first, top[0],
                             top[1]))
    return paths
