"""Order-book and plan periods read from a spreadsheet (CSV or Excel) a planner keeps.

Why: a planning department's order book lives in a spreadsheet, not in YAML. A scenario
may write `periods: {table: orders-2025.xlsx}` (or `.csv`; `sheet:` picks an Excel sheet,
default the first) and the loader turns the table into the same list of periods a YAML
file would hold, before validation, so every check and error applies unchanged.

The table has a header row: `from` and `to` (ISO dates, or Excel dates), an optional
`note`, then one column per product: a column named `R5` holds the period's quantity of
R5, a column named `R5 per day` its rate per working day (order books only). Empty cells
are left out. Row r of the table (after the header) becomes `periods.(r - 1)`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from sim.errors import ScenarioError

PER_DAY = " per day"
MAX_ROWS = 10_000


def read_periods(raw: bytes, path: str, sheet: str | None = None) -> list[dict[str, Any]]:
    """The periods of a table file's bytes (CSV by default, Excel for .xlsx / .xlsm)."""
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        rows = _excel_rows(raw, path, sheet)
    else:
        if sheet is not None:
            raise ScenarioError(path, "sheet", "a CSV file has no sheets (drop 'sheet')")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioError(path, "", f"not UTF-8 text (byte {exc.start}); save the "
                                          "table as UTF-8 CSV") from None
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
    rows = [r for r in rows if any(_blank(c) is False for c in r)]
    if not rows:
        raise ScenarioError(path, "", "the table is empty (expected a header row: from, to, "
                                      "then one column per product)")
    if len(rows) > MAX_ROWS + 1:
        raise ScenarioError(path, "", f"more than {MAX_ROWS:,} periods")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    for need in ("from", "to"):
        if need not in header:
            raise ScenarioError(path, "row 1", f"no column {need!r} in the header "
                                               f"({', '.join(h for h in header if h)})")
    periods = []
    for r, row in enumerate(rows[1:], 2):
        period: dict[str, Any] = {}
        for name, cell in zip(header, row):
            if _blank(cell) or not name:
                continue
            where = f"row {r}, column {name!r}"
            if name in ("from", "to"):
                period[name] = _date(cell, path, where)
            elif name == "note":
                period["note"] = str(cell)
            elif name.endswith(PER_DAY):
                period.setdefault("per_day", {})[name[:-len(PER_DAY)].strip()] = _number(
                    cell, path, where)
            else:
                period.setdefault("quantities", {})[name] = _number(cell, path, where)
        periods.append(period)
    return periods


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _date(cell: Any, path: str, where: str) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        return dt.date.fromisoformat(str(cell).strip())
    except ValueError:
        raise ScenarioError(path, where, f"expected an ISO date like 2025-01-31 (got "
                                         f"{cell!r})") from None


def _number(cell: Any, path: str, where: str) -> int | float:
    value = cell
    if isinstance(cell, str):
        try:
            value = float(cell.replace(",", "").strip())
        except ValueError:
            raise ScenarioError(path, where, f"expected a number (got {cell!r})") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise ScenarioError(path, where, f"expected a finite number (got {cell!r})")
    return int(value) if float(value).is_integer() else float(value)


def _excel_rows(raw: bytes, path: str, sheet: str | None) -> list[list[Any]]:

    from openpyxl import load_workbook  # lazy: openpyxl (0.3 s), only for Excel files

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (BadZipFile, OSError, ValueError, KeyError) as exc:
        raise ScenarioError(path, "", f"not a readable Excel workbook ({exc})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ScenarioError(path, "sheet", f"no sheet {sheet!r} (sheets: "
                                               f"{', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        rows = []
        for row in ws.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()
