"""Numbers as a planner reads them: one formatter for every table, page and message.

Four significant figures where the value is everyday (0.0001 to 9,999), whole numbers
with thousands separators above, scientific notation only at the extremes; a missing or
undefined value reads "n/a". `mean_pm` writes an estimate with its 95% half-width to the
interval's own precision, so no table shows digits that the replications do not support.
Machine-read files (CSV, JSON) keep exact floats and do not come here.
"""

from __future__ import annotations

import math
from typing import Any


def format_number(x: float | None, digits: int = 4) -> str:
    """`digits` significant figures below 10**digits, whole numbers with separators above;
    scientific beyond 1e7 or below 1e-4; "n/a" for None or nan."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-4):
        return f"{x:.{digits - 1}e}"
    return f"{x:,.{digits}g}" if abs(x) < 10**digits else f"{x:,.0f}"


def format_signed(x: float | None, digits: int = 4) -> str:
    """`format_number` with the sign always written (differences)."""
    text = format_number(x, digits)
    return "+" + text if x is not None and x > 0 else text


def mean_pm(e: dict[str, Any]) -> str:
    """`mean ± half-width`, thousands separated, to the interval's precision."""
    mean, half = e["mean"], e["half_width"]
    if mean is None or math.isnan(mean):
        return "n/a"
    if half is None or math.isnan(half):
        return f"{mean:,.4g}"
    if half == 0:
        return f"{mean:,.6g} ± 0"
    digits = max(0, min(4, 1 - math.floor(math.log10(half))))
    if abs(mean) >= 1000:
        digits = min(digits, 0)
    return f"{mean:,.{digits}f} ± {half:,.{digits}f}"
