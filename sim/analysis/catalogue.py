"""The KPI catalogue: what each KPI name means to a reader, written once.

A run's KPIs are a flat dict of names (`sim.analysis.kpi`, whose docstring defines each
value). What a *reader* needs to know of a name is here, and nowhere else: its unit, which
way is better, whether it is a headline (printed tables, the HTML page's tables, the default
family of `compare`'s significance tests), whether it stays a detail (in summary.json but
not in the printed summary) and, for the answers a planner asks first, the question it
answers. The CLI, the HTML page, the workbook, comparisons and gates all read this table.

A name matches the first entry whose pattern fits; ``<x>`` stands for one dotted part
(a product, a station, a shift), ``<xs>`` for one or more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache


@dataclass(frozen=True)
class KpiKind:
    """What one family of KPI names means: pattern, unit, direction, role."""

    pattern: str
    unit: str
    better: str | None = None  # "higher", "lower" or None (neither: a description)
    headline: bool = False
    detail: bool = False       # kept in summary.json, left out of the printed summary
    answer: str | None = None  # the planner's question it answers ({1}: first <x>)

    def label(self, name: str) -> str | None:
        """The answer label of `name` (None when the KPI answers no headline question)."""
        if self.answer is None:
            return None
        m = _regex(self.pattern).fullmatch(name)
        return self.answer.format(name, *(m.groups() if m else ()))


CATALOGUE: tuple[KpiKind, ...] = (
    KpiKind("completed", "parts", "higher", True, answer="vehicles built"),
    KpiKind("completed.<x>", "parts", "higher", True, answer="built: {1}"),
    KpiKind("per_day", "parts/working day", "higher", True, answer="vehicles per working day"),
    KpiKind("jph_on_shift", "parts/on-shift h", "higher", True,
            answer="vehicles per on-shift hour"),
    KpiKind("throughput_per_hour", "1/h", "higher"),
    KpiKind("lead_time_p50_h", "h", "lower", True),
    KpiKind("lead_time_on_shift_p50_h", "h", "lower", True),
    KpiKind("lead_time<xs>_h", "h", "lower"),
    KpiKind("lead_time.<x>.p50_h", "h", "lower"),
    KpiKind("wip_mean", "parts", None, True),
    KpiKind("scrapped", "parts", "lower"),
    KpiKind("released", "parts (each part of a kit)"),
    KpiKind("lost", "parts", "lower"),
    KpiKind("little_gap", "ratio", "lower", detail=True),
    KpiKind("shift.<x>.jph", "parts/on-shift h", "higher", True),
    KpiKind("shift.<x>.load", "share of takt capacity", None, True),
    KpiKind("shift.<x>.completed", "parts", "higher"),
    KpiKind("station.<x>.<xs>", "fraction", detail=True),
    KpiKind("bottleneck<xs>", "fraction", detail=True),
    KpiKind("buffer.<x>.mean_level", "parts", detail=True),
    KpiKind("demand.backlog_end", "orders", "lower", True,
            answer="orders not built at the end"),
    KpiKind("demand.backlog_end.<x>", "orders", "lower",
            answer="orders not built at the end: {1}"),
    KpiKind("demand.<xs>", "orders"),
    KpiKind("milestone.<xs>.day", "days from start", "lower", True,
            answer="date of milestone {1}"),
    KpiKind("milestone.<xs>.reached", "share of runs", "higher"),
    KpiKind("reporting.<xs>.per_day", "parts/working day", "higher", True,
            answer="{1}: per working day"),
    KpiKind("reporting.<xs>.completed", "parts", "higher", True, answer="{1}: built"),
    KpiKind("reporting.<xs>", "parts", "higher", True),
    KpiKind("lockup", "", "lower"),
    KpiKind("stall.count", "", "lower"),
    KpiKind("stall.hours", "h", "lower"),
    KpiKind("counter.units_<xs>", "stock units"),
    KpiKind("counter.consumed", "parts absorbed in assembly"),
    KpiKind("counter.<xs>", "parts"),
)

UNKNOWN = KpiKind("*", "")


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    out = re.escape(pattern)
    out = out.replace(re.escape("<xs>"), r"(.+)").replace(re.escape("<x>"), r"([^.]+)")
    return re.compile(out)


@lru_cache(maxsize=4096)
def kind_of(name: str) -> KpiKind:
    """The catalogue entry of a KPI name (the first that matches; `UNKNOWN` if none)."""
    for kind in CATALOGUE:
        if _regex(kind.pattern).fullmatch(name):
            return kind
    return UNKNOWN


def kpi_unit(name: str) -> str:
    """Unit of a KPI."""
    return kind_of(name).unit


def is_headline(name: str) -> bool:
    """A KPI a planner reads first: totals and rates, output per product, milestones,
    reporting windows, the shifts' rates and loads."""
    return kind_of(name).headline


def in_summary(name: str, mean: float | None, half_width: float | None) -> bool:
    """Whether a KPI belongs in a printed or HTML summary table: not a detail, and not a
    product or counter that stayed at zero in every replication (purchased modules build
    nothing; a counter that never moved is noise)."""
    if kind_of(name).detail:
        return False
    return not (mean == 0 and not half_width and name.startswith(("counter.", "completed.")))


def lower_is_better(name: str) -> bool:
    """Whether a smaller value of the KPI is the better one (gates, comparisons)."""
    return kind_of(name).better == "lower"
