"""The printed summary of a run: the KPI table, the stations' states, the bottleneck.

What `run` prints after the replications, from the summary alone (estimates across
replications), so the same text can be produced again from a results folder. Which KPIs
appear, and in which unit, is the catalogue's (`sim.analysis.catalogue`): details (station,
buffer and bottleneck shares) stay in summary.json, products and counters that stayed at
zero in every replication are left out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sim.analysis.bottleneck import kpi_shares, rank
from sim.analysis.catalogue import in_summary, kind_of
from sim.analysis.numbers import format_number
from sim.engine.records import STATES
from sim.spec.clock import date_after


def format_summary(summary: dict[str, Any], start: Any = None) -> str:
    """Headline KPI table (mean, ± 95% half-width, unit) and one state row per station;
    with the run's start date, milestone days are also given as dates.

    Buffer levels and the per-station KPIs in full are in summary.json.
    """
    head = [(name, e) for name, e in summary.items()
            if in_summary(name, e.mean, e.half_width)]
    rows = [("KPI", "mean", "± 95%", "unit")]
    rows += [(name, format_number(e.mean), "± " + format_number(e.half_width),
              kind_of(name).unit) for name, e in head]
    text = columns(rows, right={1})
    if start is not None:
        for name, e in head:
            if name.startswith("milestone.") and name.endswith(".day"):
                text += "\n" + _milestone_line(name, e, start)
    stations = _station_rows(summary)
    if stations:
        text += "\n\n" + columns(stations, right=set(range(1, len(STATES) + 1)))
    waits: dict[str, list[str]] = {}
    for name, e in summary.items():
        parts = name.split(".", 3)
        if len(parts) == 4 and parts[0] == "station" and parts[2] == "waiting_for":
            waits.setdefault(parts[1], []).append(f"{parts[3]} {100 * e.mean:.1f}%")
    for station, items in waits.items():
        text += f"\n{station} waited (% of on-shift time) for: {', '.join(items)}"
    for name, e in summary.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "station" and parts[2] == "loaded":
            text += (f"\n{parts[1]}: {100 * e.mean:.1f}% of its positions loaded on shift "
                     "(a paced segment 'works' whenever it moves)")
    ranked = bottleneck_ranking(summary)
    if ranked:
        text += ("\n\nbottleneck (active-period method, % of on-shift time; "
                 "`bottleneck RUN_DIR` by shift and month):")
        for station, sole, shifting in ranked[:5]:
            text += (f"\n  {station:<22} sole {_pct(sole)}  shifting {_pct(shifting)}")
        if "bottleneck_none" in summary:
            text += (f"\n  {'(none active)':<22} {_pct(summary['bottleneck_none'])} "
                     "(the plan or the supply holds output back)")
    return text


def _pct(e: Any) -> str:
    hw = "" if e.half_width is None or math.isnan(e.half_width) else f" ± {100 * e.half_width:.1f}"
    return f"{100 * e.mean:5.1f}%{hw}"


def bottleneck_ranking(summary: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Stations by sole bottleneck share, then shifting (Roser's ranking), largest first."""
    order = rank(kpi_shares(summary, lambda e: e.mean))
    return [(st, summary[f"bottleneck.{st}.sole"], summary[f"bottleneck.{st}.shifting"])
            for st in order]


def _milestone_line(name: str, e: Any, start: Any) -> str:
    """`milestone r5_100k: 2025-11-21 (95% CI 2025-11-20 .. 2025-11-22)`, or why not."""
    label = name[len("milestone."):-len(".day")]
    if e.mean is None or math.isnan(e.mean):
        return f"milestone {label}: not reached in every replication"

    def date(days: float) -> str:
        return date_after(start, days).isoformat()
    if e.half_width is None or math.isnan(e.half_width):
        return f"milestone {label}: {date(e.mean)}"
    return f"milestone {label}: {date(e.mean)} (95% CI {date(e.low)} .. {date(e.high)})"


def _station_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    """Station x state table of mean percentages of the station's *on-shift* time (so a
    bottleneck is not hidden by nights and weekends), then the off-shift share of all time
    (empty when no station KPIs)."""
    names = dict.fromkeys(k.split(".")[1] for k in summary
                          if k.startswith("station.") and k.count(".") == 2)
    if not names:
        return []
    on_states = [s for s in STATES if s != "off_shift"]
    rows = [("station (% of on-shift time)", *on_states, "off shift (% of all)")]
    for name in names:
        off = summary.get(f"station.{name}.off_shift")
        on = 1.0 - (off.mean if off is not None else 0.0)
        cells = []
        for state in on_states:
            est = summary.get(f"station.{name}.{state}")
            cells.append("" if est is None or on <= 0 else f"{100 * est.mean / on:.1f}")
        cells.append("" if off is None else f"{100 * off.mean:.1f}")
        rows.append((name, *cells))
    return rows


def columns(rows: Sequence[tuple[str, ...]], right: set[int]) -> str:
    """Rows as aligned text columns (numbers right-aligned)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
