"""A run's planner tables as one Excel workbook (`run --excel`), a sheet a table.

Why: planners share results as spreadsheets. The workbook holds what the CSV files and
summary.json hold, reshaped as a planner reads it (months or periods down, products
across, replication means); nothing in it is computed anywhere else, so it cannot
disagree with the folder's other files. Written with openpyxl in write-only mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import kpi
from sim.analysis.catalogue import is_headline, kpi_unit
from sim.analysis.production import monthly_table
from sim.engine.records import RunResult


def write_workbook(path: Path, results: Sequence[RunResult], kpis: dict[str, Any]) -> Path:
    """The workbook: KPIs (`kpis` as in summary.json), completions by month, and the order
    books by period."""
    from openpyxl import Workbook  # lazy: openpyxl (0.3 s), only for Excel files

    book = Workbook(write_only=True)
    sheet = book.create_sheet("KPIs")
    sheet.append(["KPI", "mean", "± 95%", "unit"])
    for name, e in kpis.items():
        if is_headline(name):
            sheet.append([name, _cell(e["mean"]), _cell(e["half_width"]), kpi_unit(name)])
    _grid(book, "completed by month", *_monthly(results))
    if results[0].demand:
        for measure in ("planned", "released", "completed"):
            _grid(book, f"orders {measure}", *_orders(results, measure))
    book.save(path)
    return path


def _cell(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _grid(book: Any, title: str, rows: list[str], columns: list[str],
          values: np.ndarray) -> None:
    sheet = book.create_sheet(title)
    sheet.append(["", *columns])
    for label, row in zip(rows, values):
        sheet.append([label, *(round(float(v), 2) for v in row)])


def _monthly(results: Sequence[RunResult]) -> tuple[list[str], list[str], np.ndarray]:
    """Months x products (and the total): mean good completions over replications."""

    table = monthly_table(results)
    months = list(dict.fromkeys(table["month"].tolist()))
    names = list(dict.fromkeys(table["product"].tolist()))
    values = np.asarray(table["mean"], dtype=float).reshape(len(months), len(names))
    return months, names, values


def _orders(results: Sequence[RunResult], measure: str
            ) -> tuple[list[str], list[str], np.ndarray]:
    """Periods x products of an order-book measure, mean over replications."""
    tables = [kpi.demand_table(r) for r in results]
    first = tables[0]
    periods = list(dict.fromkeys(f"{a} .. {b}" for a, b in zip(first["period_from"],
                                                                 first["period_to"])))
    names = list(dict.fromkeys(first["product"].tolist()))
    values = np.zeros((len(periods), len(names)))
    for t in tables:
        for a, b, p, v in zip(t["period_from"], t["period_to"], t["product"], t[measure]):
            values[periods.index(f"{a} .. {b}"), names.index(p)] += float(v) / len(tables)
    return periods, names, values
